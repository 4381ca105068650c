"""Admin routes: a bearer token from the settings, checked on every call, and never from another origin.

    admin = AdminGuard(settings.app.admin_token)
    router = APIRouter(prefix="/api/articles", dependencies=[Depends(admin)])   # every route admin-only

The rules, in order (the first that applies answers):
- no `app.admin_token` set: the route does not exist (404) — admin features are off by default;
- a browser request from any other origin, even one in `app.allowed_origins` (those may embed the
  widget, not manage the archive), or from the widget page itself: 403;
- no `Authorization: Bearer <token>`, or a wrong one (constant-time compare): 401.
There are no cookies: a token is only ever sent by code that holds it, so another site cannot make a
browser send it for them (no CSRF), and CORS never opens admin paths (see rag.web.middleware).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import Request

from rag.web.security import OriginPolicy

ADMIN_PREFIXES = ("/api/admin", "/api/articles")
# Gradio's file upload: no feature of the chat page needs it, so only the admin may use it
GRADIO_UPLOAD_PATHS = ("/gradio_api/upload", "/upload")
WIDGET_PATHS = ("/widget",)


def is_admin_path(path: str) -> bool:
    """Paths the ASGI layer guards before reading a byte of the body (routes also declare the guard)."""
    return any(path == p or path.startswith(p + "/") for p in ADMIN_PREFIXES) or path in GRADIO_UPLOAD_PATHS


class AdminDenied(Exception):
    """Carries the status and message the boundary turns into the JSON error shape."""

    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


class AdminGuard:
    """A FastAPI dependency (and a plain check for the ASGI layer) that admits only the admin."""

    def __init__(self, token: str) -> None:
        self._token = token.encode("utf-8")

    @property
    def enabled(self) -> bool:
        return bool(self._token)

    def check(self, headers: dict[str, str], host: str | None) -> None:
        """Raise AdminDenied unless these (lower-cased) headers carry the admin token from our own origin."""
        if not self.enabled:
            raise AdminDenied(404, "not found", "not_found")
        origin = headers.get("origin")
        if origin and not OriginPolicy(()).is_allowed(origin, host):  # same-origin only: no allow-list
            raise AdminDenied(403, "admin routes are not available to other origins", "forbidden")
        if _is_widget_page(headers.get("referer", "")):
            raise AdminDenied(403, "admin routes are not available to the widget", "forbidden")
        scheme, _, supplied = headers.get("authorization", "").partition(" ")
        # compare_digest on bytes: the time taken says nothing about how much of the token matched
        if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip().encode("utf-8"), self._token):
            raise AdminDenied(401, "admin token missing or wrong (Authorization: Bearer <token>)", "unauthorized")

    def __call__(self, request: Request) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.check(headers, headers.get("host"))


def _is_widget_page(referer: str) -> bool:
    """/widget, or /qa/widget behind a proxy that serves the app under a path (the proxy strips /qa
    from the request's path, not from its Referer)."""
    path = _path_of(referer)
    return path.startswith(WIDGET_PATHS) or any(path.endswith(p) or p + "/" in path for p in WIDGET_PATHS)


def _path_of(url: str) -> str:
    try:
        return urlsplit(url).path if url else ""
    except ValueError:
        return ""
