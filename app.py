"""Serve the chat page, the embeddable widget and the HTTP API.

    python app.py [--host H] [--port N] [--store DIR]

The page is up within seconds; the pipeline (store, models) loads in the background with a status
line on the page, and the first question waits for it. An empty store gets the seeds on first start.
A port already in use is one line on stderr and exit status 1, before anything loads.
"""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import socket
import sys
from dataclasses import replace

from rag.config import Settings, SettingsError, apply_offline_env, load_settings


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
    from rag.store import StoreError, check_store_arg

    try:
        check_store_arg(settings.store, args.store)  # beside a Chroma server it would be ignored; a file is no store
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = settings.with_store(args.store)
    app_settings = settings.app
    if args.host:
        app_settings = replace(app_settings, host=args.host)
    if args.port is not None:  # --port 0: any free port, the banner says which
        app_settings = replace(app_settings, port=args.port)
    try:
        sockets = bind_sockets(app_settings.host, app_settings.port)
    except OSError as exc:
        print(f"error: {listen_error(app_settings.host, app_settings.port, exc)}", file=sys.stderr)
        return 1
    if sockets and app_settings.port == 0:
        app_settings = replace(app_settings, port=sockets[0].getsockname()[1])
    settings = replace(settings, app=app_settings)
    try:
        return serve(settings, args, sockets)
    finally:
        for sock in sockets:  # uvicorn closes those it served on; not those of a start that failed
            sock.close()


def serve(settings: Settings, args: argparse.Namespace, sockets: list[socket.socket]) -> int:
    """Builds the app, starts loading the pipeline and serves on `sockets` until stopped."""
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
    server = uvicorn.Server(uvicorn_config(app, settings.app.host, settings.app.port))
    # From the start-up thread's start, a Ctrl-C asks the server to stop instead of raising KeyboardInterrupt
    # wherever the main thread is: raised inside an import (uvicorn imports as it starts), it can leave that
    # module's import lock held, and the start-up thread importing it hung for ever while close() waited for it
    # (uvicorn takes the signal over while it serves, and gives it back here when it stops).
    interrupts: list[int] = []

    def interrupt(signum: int, frame: object) -> None:
        interrupts.append(signum)
        server.should_exit = True

    # a SIGTERM (systemd, docker stop, Kubernetes) stops it the same way: uvicorn re-raised it once it had
    # stopped, and its default action ended the process before close() ran
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        app.state.service.start(background=True)
        print(f"sangsaeng-qa: http://{settings.app.host}:{settings.app.port}  (widget: /widget, API: /api/ask, /v1/chat/completions)", flush=True)
        server.run(sockets=sockets)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        app.state.service.close()  # waits for the start-up step under way (see ChatService.close)
    if signal.SIGTERM in interrupts:
        stopped_by(signal.SIGTERM)
    if interrupts:
        raise KeyboardInterrupt
    return 0


def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """The listening addresses of host:port, bound now (uvicorn listens on them), as uvicorn's own
    binding (asyncio's create_server) would: every address the host resolves to, SO_REUSEADDR, IPv6
    sockets IPv6-only. Bound before anything loads because uvicorn, binding after the banner and the
    start-up thread, only logs the error and exits from inside its event loop."""
    if not 0 <= port <= 65535:  # getaddrinfo would take 70000 for 4464
        raise OSError(errno.EINVAL, "not a port number (0-65535)")
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):  # a host may resolve twice to one address
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # "::" beside "0.0.0.0" (host ""): each family its own socket
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def listen_error(host: str, port: int, exc: OSError) -> str:
    """One line for a port that cannot be listened on: the usual case (in use) says what to do."""
    where = host or "all addresses"
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use on {where} (another server?): stop it, or choose another with --port N"
    return f"cannot listen on {where} port {port}: {exc.strerror or exc}"


def interrupted() -> None:
    """Ctrl-C: one line instead of a traceback, then the default death by SIGINT, which a calling shell or
    supervisor reads as an interrupt. It arrives as KeyboardInterrupt: raised by Python while the app imports
    (Gradio: the first seconds), by `serve` once the server it asked to stop has stopped."""
    stopped_by(signal.SIGINT)


def stopped_by(sig: signal.Signals) -> None:
    """One line saying what stopped the app, then the signal's default death, which a calling shell or supervisor
    reads as that signal (not as a crash)."""
    print(f"sangsaeng-qa: stopped ({'Ctrl-C' if sig == signal.SIGINT else sig.name})", file=sys.stderr, flush=True)
    signal.signal(sig, signal.SIG_DFL)
    signal.raise_signal(sig)


if __name__ == "__main__":
    try:
        status = main()
    except KeyboardInterrupt:
        interrupted()
        raise  # where SIGINT does not end a process
    sys.exit(status)
