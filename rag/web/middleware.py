"""One ASGI layer in front of everything (Gradio included): Origin checks, CORS, rate limit, CSP.

- a browser request whose Origin is neither ours nor allowed gets 403 before any route runs;
- `frame-ancestors` on every response stops other sites from framing the chat or the widget;
- the API paths are rate-limited per client address.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from rag.web.security import OriginPolicy, RateLimiter

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

API_PREFIXES = ("/api/", "/v1/")
CORS_PREFIXES = ("/api/", "/v1/", "/health", "/widget")


class SecurityMiddleware:
    def __init__(self, app: Callable, policy: OriginPolicy, limiter: RateLimiter) -> None:
        self.app = app
        self.policy = policy
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get("origin")
        host = headers.get("host")
        path: str = scope.get("path", "")
        if not self.policy.is_allowed(origin, host):
            await _send_json(send, 403, {"error": {"message": "origin not allowed", "type": "forbidden", "code": 403}})
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        cross_origin = _is_cross(origin, host)
        cors = cross_origin and path.startswith(CORS_PREFIXES)
        if scope["method"] == "OPTIONS" and cors:
            await _send_empty(send, 204, _cors_headers(origin or "", preflight=True))
            return
        if path.startswith(API_PREFIXES) and scope["method"] == "POST":
            client = (scope.get("client") or ("unknown", 0))[0]
            retry = self.limiter.check(client)
            if retry:
                await _send_json(
                    send,
                    429,
                    {"error": {"message": "rate limit exceeded", "type": "rate_limited", "code": 429}},
                    [(b"retry-after", str(int(retry) + 1).encode())] + (_cors_headers(origin or "") if cors else []),
                )
                return
        extra = [(b"content-security-policy", self.policy.frame_ancestors().encode()), (b"x-content-type-options", b"nosniff")]
        if cors:
            extra += _cors_headers(origin or "")

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + [(k, v) for k, v in extra if k not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_cross(origin: str | None, host: str | None) -> bool:
    return bool(origin) and not OriginPolicy(()).is_allowed(origin, host)


def _cors_headers(origin: str, preflight: bool = False) -> list[tuple[bytes, bytes]]:
    headers = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
    if preflight:
        headers += [
            (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
            (b"access-control-allow-headers", b"content-type, authorization"),
            (b"access-control-max-age", b"600"),
        ]
    return headers


async def _send_json(send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())] + (headers or []),
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _send_empty(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers + [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
