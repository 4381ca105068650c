"""Which HTTP methods a path takes, asked of the app's own routes (the mounted Gradio app's too).

Starlette answers a known path with a wrong method by 405 only when no later route matches the path;
Gradio is mounted at "/" and matches every path, so `GET /api/ask` reached Gradio and got its 404.
The ASGI layer asks `route_match` first and answers 405 with the documented error shape.
"""

from __future__ import annotations

from typing import Any, Sequence

from starlette.routing import BaseRoute, Match, Mount

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def route_match(routes: Sequence[BaseRoute], scope: dict[str, Any]) -> Match:
    """FULL: a route takes this path and method; PARTIAL: only the method is wrong; NONE: unknown path."""
    best = Match.NONE
    for route in routes:
        # a copy: FastAPI's included routers note things in the scope while matching
        match, child = route.matches(dict(scope))
        if match == Match.FULL and isinstance(route, Mount):
            sub_routes = getattr(route, "routes", None)
            if not sub_routes:  # a static-file mount or a bare ASGI app: it takes what it takes
                return Match.FULL
            match = route_match(sub_routes, {**scope, **child})
        if match == Match.FULL:
            return Match.FULL
        if match == Match.PARTIAL:
            best = Match.PARTIAL
    return best


def allowed_methods(routes: Sequence[BaseRoute], scope: dict[str, Any]) -> list[str]:
    """The methods some route takes on this path (only asked once a request's own method failed)."""
    return [m for m in METHODS if route_match(routes, {**scope, "method": m}) == Match.FULL]
