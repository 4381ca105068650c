"""The one error shape of the web app, `{"error": {"message", "type", "code"}}`, for routes and the ASGI layer.

Every refusal a client can meet, by status:

    400 invalid_request_error   bad JSON (or not UTF-8), a field out of bounds, a lone surrogate, a too-long question
    401 unauthorized            admin route without a valid `Authorization: Bearer <token>`
    403 forbidden               a browser Origin that is not ours or allowed; admin route from another origin
    404 not_found               no such route under /api/ or /v1/ (admin routes when no admin token is set);
                                model_not_found
    405 method_not_allowed      the route exists, the method does not (an `Allow` header lists the others)
    413 request_too_large       a body over `app.max_body_bytes` (uploads: `app.max_upload_bytes`)
    421 host_not_allowed        a Host header that is not ours (DNS rebinding, misrouted request)
    429 rate_limited            over `app.rate_limit_per_minute` (`Retry-After`)
    500 server_error            a bug: the log has the trace, the client gets no detail
    503 busy / unavailable      every answer slot and the queue are taken (`Retry-After`); models not loaded
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable

from fastapi.responses import JSONResponse

Send = Callable[[dict[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


def error_payload(status: int, message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": status}}


def error_response(status: int, message: str, kind: str = "invalid_request_error", headers: dict | None = None) -> JSONResponse:
    """The error as a FastAPI response (inside routes and exception handlers)."""
    return JSONResponse(error_payload(status, message, kind), status_code=status, headers=headers)


async def send_error(send: Send, status: int, message: str, kind: str, headers: Headers | None = None) -> None:
    """The error as raw ASGI messages (the middleware answers before any route runs)."""
    data = json.dumps(error_payload(status, message, kind)).encode()
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": base + (headers or [])})
    await send({"type": "http.response.body", "body": data})


async def send_empty(send: Send, status: int, headers: Headers) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers + [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
