"""Assemble the web app: HTTP API + widget routes + Gradio chat at "/", behind the security layer.

    app = create_app(settings, lambda: build_pipeline(settings))
    app.state.service.start()           # background: ingest seeds if empty, load models
    uvicorn.Server(uvicorn_config(app, host, port)).run()

Routes of later features (the admin Articles routes) are included through `routers`: they must come
before the Gradio mount at "/", which matches every path. Admin routes declare
`dependencies=[Depends(app.state.admin)]` (or take `admin` from `create_app`'s caller).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Sequence

import gradio as gr
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, Response

from rag.config import Settings, SettingsError
from rag.web.admin import AdminGuard
from rag.web.api import build_api_router, install_error_handlers
from rag.web.bounds import RequestBounds
from rag.web.chat import STATIC_DIR, WebContext, build_chat_blocks, chat_css, chat_head, chat_i18n
from rag.web.feedback import FeedbackStore
from rag.web.gate import AnswerGate
from rag.web.hosts import ClientAddress, HostPolicy
from rag.web.middleware import SecurityMiddleware
from rag.web.articles import build_articles_page_router, build_articles_router
from rag.web.jobs import JobRunner
from rag.web.search_api import build_search_router
from rag.web.security import OriginPolicy, RateLimiter
from rag.web.service import ChatService, PipelineLike

WIDGET_ASSETS = {"widget.css": "text/css", "widget-app.js": "text/javascript"}
MULTIPART_MARGIN = 1 << 20  # headers of up to uploads.max_zip_entries parts, boundaries
FEEDBACK_FILE = "feedback.sqlite3"
log = logging.getLogger(__name__)


def default_mode(settings: Settings) -> str:
    """The answer mode the settings imply: 'local'/'openai' generators mean llm."""
    return "extractive" if settings.generation.backend == "extractive" else "llm"


def create_app(
    settings: Settings,
    build_pipeline: Callable[[], PipelineLike],
    public_url: str | None = None,
    ingest_if_empty: bool = True,
    routers: Sequence[Callable[[AdminGuard], APIRouter]] = (),
) -> FastAPI:
    """The whole web app; nothing is loaded until `app.state.service.start()`.

    `routers`: functions that build further routers given the admin guard (included before Gradio).
    """
    app_settings = settings.app
    # /health's counts follow another process's ingest as the answers' view does: every store.refresh_s
    service = ChatService(build_pipeline, ingest_if_empty=ingest_if_empty, load_llm=default_mode(settings) == "llm",
                          describe_every_s=settings.store.refresh_s)
    feedback = FeedbackStore(Path(settings.paths.data_dir) / FEEDBACK_FILE)
    limiter = RateLimiter(app_settings.rate_limit_per_minute)
    policy = OriginPolicy(app_settings.allowed_origins)
    gate = AnswerGate(app_settings.concurrency, app_settings.queue_size, app_settings.queue_timeout_s)
    admin = AdminGuard(app_settings.admin_token)
    url = public_url or f"http://{_display_host(app_settings.host)}:{app_settings.port}"
    try:
        hosts = HostPolicy(app_settings.host, app_settings.allowed_hosts, public_url=url)
        clients = ClientAddress(app_settings.trusted_proxies)
    except ValueError as exc:
        raise SettingsError(f"settings app.allowed_hosts / app.trusted_proxies: {exc}") from exc

    if admin.enabled:
        check_upload_settings(settings)
    jobs = JobRunner()

    app = FastAPI(title="sangsaeng-qa", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    install_error_handlers(app)
    app.include_router(build_api_router(service, feedback, gate, RequestBounds.from_settings(app_settings), admin))
    app.include_router(build_search_router(service, limiter, app_settings.concurrency))
    app.include_router(build_articles_router(admin, service, settings, jobs))
    app.include_router(build_articles_page_router())
    for make_router in routers:
        app.include_router(make_router(admin))

    @app.get("/widget", include_in_schema=False)
    async def widget_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "widget.html", media_type="text/html; charset=utf-8")

    @app.get("/widget.js", include_in_schema=False)
    async def widget_loader() -> FileResponse:
        return FileResponse(STATIC_DIR / "widget.js", media_type="text/javascript; charset=utf-8")

    @app.get("/widget/static/{name}", include_in_schema=False)
    async def widget_asset(name: str) -> Response:
        if name not in WIDGET_ASSETS:  # a fixed list: no path from the URL ever reaches the disk
            return Response(status_code=404)
        return FileResponse(STATIC_DIR / name, media_type=f"{WIDGET_ASSETS[name]}; charset=utf-8")

    ctx = WebContext(
        service=service,
        feedback=feedback,
        limiter=limiter,
        gate=gate,
        public_url=url,
        default_mode=default_mode(settings),
        default_k=settings.retrieval.k,
        max_question_chars=app_settings.max_question_chars,
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
        i18n=chat_i18n(),
        show_error=True,
    )
    app.add_middleware(
        SecurityMiddleware,
        policy=policy,
        limiter=limiter,
        hosts=hosts,
        clients=clients,
        admin=admin,
        routes=lambda: app.routes,
        max_body_bytes=app_settings.max_body_bytes,
        max_upload_bytes=app_settings.max_upload_bytes,
    )
    app.state.service = service
    app.state.feedback = feedback
    app.state.limiter = limiter
    app.state.gate = gate
    app.state.admin = admin
    app.state.jobs = jobs
    app.state.public_url = url
    return app


def check_upload_settings(settings: Settings) -> None:
    """The uploads folder must be a folder of its own (SettingsError); a body limit below what one
    upload may hold only turns the per-file messages into one 413, so it is a warning."""
    from rag.inbox import InboxError, check_folders

    try:
        check_folders(settings)
    except InboxError as exc:
        raise SettingsError(str(exc)) from exc
    if settings.app.max_upload_bytes < upload_bytes_needed(settings):
        log.warning("app.max_upload_bytes (%d) is below uploads.max_total_mb (%g MB): larger uploads get 413 "
                    "instead of a message per file", settings.app.max_upload_bytes, settings.uploads.max_total_mb)


def upload_bytes_needed(settings: Settings) -> int:
    """What `app.max_upload_bytes` must allow: a whole upload plus its multipart framing."""
    return int(settings.uploads.max_total_mb * (1 << 20)) + MULTIPART_MARGIN


def uvicorn_config(app: Any, host: str, port: int, **options: Any) -> Any:
    """How this app is served. `proxy_headers=False`: uvicorn would otherwise take X-Forwarded-For from
    any local peer as the client address (resetting the rate limit); the ASGI layer trusts it only
    from `app.trusted_proxies`."""
    import uvicorn

    defaults = dict(log_level="warning", timeout_graceful_shutdown=3, proxy_headers=False, server_header=False)
    return uvicorn.Config(app, host=host, port=port, **(defaults | options))


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in {"0.0.0.0", "", "::"} else host
