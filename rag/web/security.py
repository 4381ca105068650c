"""Who may frame the widget and call the API (allowed origins), and how often (per-client rate limit)."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Sequence
from urllib.parse import urlsplit


def normalize_origin(origin: str) -> str:
    """'HTTP://Example.com:80/' -> 'http://example.com' (scheme://host[:port], default ports dropped)."""
    origin = origin.strip().rstrip("/")
    if origin in {"*", "null", ""}:
        return origin
    parts = urlsplit(origin if "://" in origin else f"http://{origin}")
    host = (parts.hostname or "").lower()
    port = parts.port
    scheme = (parts.scheme or "http").lower()
    if port is None or (scheme, port) in {("http", 80), ("https", 443)}:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class OriginPolicy:
    """Same-origin is always allowed; other origins only when listed ('*' allows any)."""

    def __init__(self, allowed_origins: Sequence[str]) -> None:
        self.allowed = {normalize_origin(o) for o in allowed_origins if o.strip()}

    @property
    def allow_any(self) -> bool:
        return "*" in self.allowed

    def is_allowed(self, origin: str | None, host_header: str | None) -> bool:
        """No Origin header (curl, server-to-server) is allowed; a browser's Origin must match."""
        if not origin:
            return True
        norm = normalize_origin(origin)
        if host_header and norm in {normalize_origin(f"http://{host_header}"), normalize_origin(f"https://{host_header}")}:
            return True
        return self.allow_any or norm in self.allowed

    def frame_ancestors(self) -> str:
        """The CSP header value that lets only us and the allowed origins frame our pages."""
        if self.allow_any:
            return "frame-ancestors *"
        return " ".join(["frame-ancestors 'self'", *sorted(o for o in self.allowed if o not in {"null", ""})])


class RateLimiter:
    """Sliding one-minute window per client key; `limit <= 0` disables it."""

    def __init__(self, limit_per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit_per_minute
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> float:
        """Like `check` without recording a request: 0 when the client is under the limit."""
        return self.check(client, record=False)

    def check(self, client: str, record: bool = True) -> float:
        """Record a request (unless `record` is false); return 0 when allowed, else the seconds until the
        client may retry."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            window = self._hits.get(client)
            if window is None:
                if not record:
                    return 0.0
                window = self._hits[client] = deque()
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= self.limit:
                return max(0.1, 60.0 - (now - window[0]))
            if not record:
                return 0.0
            window.append(now)
            if len(self._hits) > 10_000:  # forget idle clients so memory stays bounded
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= 60.0]:
                    del self._hits[key]
            return 0.0
