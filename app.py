"""Serve the chat page, the embeddable widget and the HTTP API.

    python app.py [--host H] [--port N] [--store DIR]

The page is up within seconds; the pipeline (store, models) loads in the background with a status
line on the page, and the first question waits for it. An empty store gets the seeds on first start.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace

from rag.config import SettingsError, apply_offline_env, load_settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="sangsaeng-qa web chat, widget and API")
    parser.add_argument("--host", help="address to listen on (default: settings app.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: settings app.port, 7860)")
    parser.add_argument("--store", help="store folder (default: settings store.dir)")
    parser.add_argument("--config", help="a rag.toml to read instead of the project's")
    parser.add_argument("--public-url", help="the URL other sites use to reach this server (embed snippet)")
    parser.add_argument("--no-ingest", action="store_true", help="do not ingest the seeds into an empty store")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    apply_offline_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(args.config) if args.config else load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = settings.with_store(args.store)
    app_settings = settings.app
    if args.host:
        app_settings = replace(app_settings, host=args.host)
    if args.port:
        app_settings = replace(app_settings, port=args.port)
    settings = replace(settings, app=app_settings)

    import uvicorn  # imported here: `python app.py --help` stays instant

    from rag.web.server import create_app, uvicorn_config

    def build():  # runs in the start-up thread: rag.pipeline's imports are the slow part
        from rag.pipeline import build_pipeline

        return build_pipeline(settings)

    try:
        app = create_app(settings, build, public_url=args.public_url, ingest_if_empty=not args.no_ingest)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app.state.service.start(background=True)
    print(f"sangsaeng-qa: http://{settings.app.host}:{settings.app.port}  (widget: /widget, API: /api/ask, /v1/chat/completions)", flush=True)
    try:
        uvicorn.Server(uvicorn_config(app, settings.app.host, settings.app.port)).run()
    finally:
        app.state.service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
