"""Assemble the web app: HTTP API + widget routes + Gradio chat at "/", behind the security layer.

    app = create_app(settings, lambda: build_pipeline(settings))
    app.state.service.start()           # background: ingest seeds if empty, load models
    uvicorn.run(app, host=..., port=...)
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import FileResponse, Response

from rag.config import Settings
from rag.web.api import build_api_router, install_error_handlers
from rag.web.chat import STATIC_DIR, WebContext, build_chat_blocks, chat_css, chat_head
from rag.web.middleware import SecurityMiddleware
from rag.web.security import OriginPolicy, RateLimiter
from rag.web.service import ChatService, FeedbackLog, PipelineLike

WIDGET_ASSETS = {"widget.css": "text/css", "widget-app.js": "text/javascript"}
FEEDBACK_FILE = "feedback.jsonl"


def default_mode(settings: Settings) -> str:
    """The answer mode the settings imply: 'local'/'openai' generators mean llm."""
    return "extractive" if settings.generation.backend == "extractive" else "llm"


def create_app(
    settings: Settings,
    build_pipeline: Callable[[], PipelineLike],
    public_url: str | None = None,
    ingest_if_empty: bool = True,
) -> FastAPI:
    """The whole web app; nothing is loaded until `app.state.service.start()`."""
    service = ChatService(build_pipeline, ingest_if_empty=ingest_if_empty, load_llm=default_mode(settings) == "llm")
    feedback = FeedbackLog(Path(settings.paths.data_dir) / FEEDBACK_FILE)
    limiter = RateLimiter(settings.app.rate_limit_per_minute)
    policy = OriginPolicy(settings.app.allowed_origins)
    url = public_url or f"http://{_display_host(settings.app.host)}:{settings.app.port}"

    app = FastAPI(title="sangsaeng-qa", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    install_error_handlers(app)
    app.include_router(build_api_router(service, feedback, settings.app.max_question_chars))

    @app.get("/widget", include_in_schema=False)
    def widget_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "widget.html", media_type="text/html; charset=utf-8")

    @app.get("/widget.js", include_in_schema=False)
    def widget_loader() -> FileResponse:
        return FileResponse(STATIC_DIR / "widget.js", media_type="text/javascript; charset=utf-8")

    @app.get("/widget/static/{name}", include_in_schema=False)
    def widget_asset(name: str) -> Response:
        if name not in WIDGET_ASSETS:  # a fixed list: no path from the URL ever reaches the disk
            return Response(status_code=404)
        return FileResponse(STATIC_DIR / name, media_type=f"{WIDGET_ASSETS[name]}; charset=utf-8")

    ctx = WebContext(
        service=service,
        feedback=feedback,
        limiter=limiter,
        public_url=url,
        default_mode=default_mode(settings),
        default_k=settings.retrieval.k,
        concurrency=settings.app.concurrency,
        max_question_chars=settings.app.max_question_chars,
    )
    blocks = build_chat_blocks(ctx)
    app = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        server_name=settings.app.host,
        server_port=settings.app.port,
        footer_links=["api"],
        run_history=False,
        ssr_mode=False,
        mcp_server=False,
        css=chat_css(),
        head=chat_head(),
        show_error=True,
    )
    app.add_middleware(SecurityMiddleware, policy=policy, limiter=limiter)
    app.state.service = service
    app.state.feedback = feedback
    app.state.limiter = limiter
    app.state.public_url = url
    return app


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in {"0.0.0.0", "", "::"} else host
