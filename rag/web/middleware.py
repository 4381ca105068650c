"""One ASGI layer in front of everything (Gradio included). Each request passes, in order:

1. the Host allow-list (421): DNS-rebinding pages and misrouted requests stop here;
2. the client address: X-Forwarded-For counts only from `app.trusted_proxies`;
3. the Origin check (403): a browser page from an origin that is neither ours nor allowed;
4. admin paths: 429 while the client is over the rate limit (whatever its token), then 404 / 403 / 401
   (see rag.web.admin) — before a byte of their body is read; a wrong token spends the limit;
5. CORS preflight for the allowed origins (never for admin paths);
6. the route: 405 (with `Allow`) when the path exists but takes other methods; 404 for a path under
   /api/ or /v1/ that no route takes (Gradio's own 404 is not the API's error shape);
7. the body size (413): a declared Content-Length over the limit is refused unread, a streamed body
   is cut off where it passes the limit, so a 200 MB body costs nothing;
8. the rate limit (429) on POSTs to the API;
then `frame-ancestors` / nosniff (and CORS) headers on every response: the allowed origins may frame
the widget only, every other page `frame-ancestors 'self'`.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable, Sequence

from starlette.routing import BaseRoute, Match

from rag.web.admin import GRADIO_UPLOAD_PATHS, AdminDenied, AdminGuard, is_admin_path
from rag.web.errors import Headers, send_empty, send_error
from rag.web.hosts import ClientAddress, HostPolicy
from rag.web.methods import allowed_methods, route_match
from rag.web.security import OriginPolicy, RateLimiter

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

API_PREFIXES = ("/api/", "/v1/")
CORS_PREFIXES = ("/api/", "/v1/", "/health", "/widget")
WIDGET_FRAME_PATHS = ("/widget", "/widget.js")
WIDGET_FRAME_PREFIXES = ("/widget/",)


class BodyTooLarge(Exception):
    """Raised into the app's `receive` when a streamed body passes the limit."""


class SecurityMiddleware:
    def __init__(
        self,
        app: Callable,
        policy: OriginPolicy,
        limiter: RateLimiter,
        hosts: HostPolicy,
        clients: ClientAddress,
        admin: AdminGuard,
        routes: Callable[[], Sequence[BaseRoute]],
        max_body_bytes: int,
        max_upload_bytes: int,
    ) -> None:
        self.app = app
        self.policy, self.limiter, self.hosts, self.clients, self.admin = policy, limiter, hosts, clients, admin
        self.routes = routes
        self.max_body_bytes, self.max_upload_bytes = max_body_bytes, max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = headers.get("host")
        if not self.hosts.is_allowed(host):
            await self._refuse(scope, send, 421, "host not allowed: this server does not answer to that name", "host_not_allowed")
            return
        peer, port = scope.get("client") or ("unknown", 0)
        scope = {**scope, "client": (self.clients.resolve(peer, headers.get("x-forwarded-for")), port)}
        origin = headers.get("origin")
        if not self.policy.is_allowed(origin, host):
            await self._refuse(scope, send, 403, origin_refusal(origin or ""), "forbidden")
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        admin_path = is_admin_path(path)
        if admin_path:
            # a client over the limit is refused before its token is looked at: 429 for a wrong token
            # but 200 for the right one would tell a guesser which guess was right
            retry = self.limiter.retry_after(scope["client"][0]) if self.admin.enabled else 0.0
            if retry:
                await send_error(send, 429, "rate limit exceeded", "rate_limited", [(b"retry-after", str(int(retry) + 1).encode())])
                return
            try:
                self.admin.check(headers, host)
            except AdminDenied as denied:
                await self._deny_admin(scope, send, denied)
                return
        cors = not admin_path and _is_cross(origin, host) and path.startswith(CORS_PREFIXES)
        # every answer to an allowed origin carries CORS, errors included: without it the partner
        # page's script sees a network error instead of the JSON that says what went wrong
        cors_headers = _cors_headers(origin or "") if cors else []
        if scope["method"] == "OPTIONS" and cors:
            asked = headers.get("access-control-request-headers")
            await send_empty(send, 204, _cors_headers(origin or "", preflight=True, asked=asked))
            return
        # OPTIONS is CORS's own business (Gradio's CORS layer answers it for its paths)
        match = route_match(self.routes(), scope) if scope["method"] != "OPTIONS" else Match.FULL
        if match == Match.PARTIAL:
            allow = ", ".join(allowed_methods(self.routes(), scope))
            await send_error(send, 405, f"method {scope['method']} not allowed here; use {allow}", "method_not_allowed", [(b"allow", allow.encode())] + cors_headers)
            return
        if match == Match.NONE and path.startswith(API_PREFIXES):
            # else Gradio, mounted at "/", answers its own {"detail": "Not Found"}: API clients read our shape
            await send_error(send, 404, f"no such route: {scope['method']} {path}", "not_found", cors_headers)
            return
        limit = self.max_upload_bytes if admin_path or path in GRADIO_UPLOAD_PATHS else self.max_body_bytes
        declared = _int(headers.get("content-length"))
        if declared is not None and declared > limit:
            await send_error(send, 413, f"request body too large (limit {limit} bytes)", "request_too_large", cors_headers)
            return
        if path.startswith(API_PREFIXES) and scope["method"] == "POST":
            retry = self.limiter.check(scope["client"][0])
            if retry:
                extra = [(b"retry-after", str(int(retry) + 1).encode())] + cors_headers
                await send_error(send, 429, "rate limit exceeded", "rate_limited", extra)
                return
        extra = [(b"content-security-policy", self._frame_ancestors(path).encode()), (b"x-content-type-options", b"nosniff")]
        extra += cors_headers
        await self._call_limited(scope, receive, send, limit, extra, cors_headers)

    def _frame_ancestors(self, path: str) -> str:
        """Partner origins may frame the widget only: the chat page (it has the admin tab) and the
        article manager would let a partner page overlay our controls (clickjacking)."""
        if path in WIDGET_FRAME_PATHS or path.startswith(WIDGET_FRAME_PREFIXES):
            return self.policy.frame_ancestors()
        return "frame-ancestors 'self'"

    async def _call_limited(self, scope: Scope, receive: Receive, send: Send, limit: int, extra: Headers, cors_headers: Headers) -> None:
        """Run the app with the body counted as it arrives; past `limit` the app's response becomes a 413."""
        state = {"received": 0, "exceeded": False, "started": False}

        async def counted_receive() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["exceeded"] = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if state["exceeded"]:  # whatever the app made of the cut-off body, the client gets the 413
                if message["type"] == "http.response.start" and not state["started"]:
                    state["started"] = True
                    await send_error(send, 413, f"request body too large (limit {limit} bytes)", "request_too_large", cors_headers)
                return
            if message["type"] == "http.response.start":
                state["started"] = True
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": list(message.get("headers", [])) + [(k, v) for k, v in extra if k not in names]}
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if not state["started"]:
                state["started"] = True
                await send_error(send, 413, f"request body too large (limit {limit} bytes)", "request_too_large", cors_headers)

    async def _deny_admin(self, scope: Scope, send: Send, denied: AdminDenied) -> None:
        headers: Headers = []
        if denied.status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="sangsaeng-qa"'))
            self.limiter.check(scope["client"][0])  # failed tokens spend the rate limit: no brute force
        await send_error(send, denied.status, denied.message, denied.kind, headers)

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str, kind: str) -> None:
        if scope["type"] == "websocket":  # closing before accept makes the server answer 403
            await send({"type": "websocket.close", "code": 1008})
            return
        await send_error(send, status, message, kind)


def origin_refusal(origin: str) -> str:
    """What the web team testing a new partner page reads: which origin, and the setting that would allow it."""
    shown = origin if len(origin) <= 200 else origin[:200] + "…"
    return (f"origin {shown!r} is not allowed to use this server: list it in the setting app.allowed_origins "
            "(RAG_APP__ALLOWED_ORIGINS)")


def _headers(scope: Scope) -> dict[str, str]:
    """Lower-cased names; repeated headers (X-Forwarded-For from a chain of proxies) joined by commas."""
    out: dict[str, str] = {}
    for raw_key, raw_value in scope.get("headers", []):
        key, value = raw_key.decode("latin-1").lower(), raw_value.decode("latin-1")
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _is_cross(origin: str | None, host: str | None) -> bool:
    return bool(origin) and not OriginPolicy(()).is_allowed(origin, host)


# a header name as HTTP defines it (a "token"); a preflight asking for anything else gets our two only
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_MAX_ASKED_HEADERS = 32
_BASE_ALLOWED_HEADERS = ("content-type", "authorization")


def _allowed_headers(asked: str | None) -> bytes:
    """What a preflight may send: content-type and authorization (OpenAI client libraries send their key), and
    whatever else it asks for — the openai JS package adds its own X-Stainless-* headers to every call, and a
    fixed list refused them, so a partner page using it saw only "Failed to fetch". Only allowed origins get
    here, and admin paths never get CORS at all."""
    names = [name.strip().lower() for name in (asked or "").split(",") if name.strip()]
    if len(names) > _MAX_ASKED_HEADERS or not all(_HEADER_NAME.fullmatch(name) for name in names):
        names = []
    return ", ".join(dict.fromkeys([*_BASE_ALLOWED_HEADERS, *names])).encode("latin-1")


def _cors_headers(origin: str, preflight: bool = False, asked: str | None = None) -> Headers:
    headers = [(b"access-control-allow-origin", origin.encode("latin-1"))]
    if preflight:
        headers += [
            (b"vary", b"Origin, Access-Control-Request-Headers"),
            (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
            (b"access-control-allow-headers", _allowed_headers(asked)),
            (b"access-control-max-age", b"600"),
        ]
    else:
        # a script on the partner page may read only "safelisted" response headers unless told: without this
        # it could not read how long a 429 or a busy 503 asks it to wait
        headers += [(b"vary", b"Origin"), (b"access-control-expose-headers", b"Retry-After")]
    return headers
