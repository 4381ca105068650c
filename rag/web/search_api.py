"""`GET /api/search`: every article that matches a query, grouped, sorted, paged (rag.finder).

    curl -s 'localhost:7860/api/search?q=상생결제&sort=date&page=1&per_page=10&date_from=2023-01-01&publisher=새솔뉴스'

Not admin-only: it shows what the chat page can cite. Rate-limited per client like the answering
routes (the ASGI layer counts POSTs only, so this GET counts itself), and searched in worker threads
of its own (`app.concurrency` at once) so a burst of searches never occupies the answer slots.
File-system paths never leave the server: an article is named by its doc id.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Query, Request

from rag.filters import FilterError, make_filters
from rag.finder import FinderError, Match, MatchPage, SORTS
from rag.question import QuestionError
from rag.web.api import ApiError
from rag.web.security import RateLimiter
from rag.web.service import ChatService, NotReadyError


def match_to_dict(match: Match) -> dict[str, Any]:
    info, passage = match.info, match.passage
    return {
        "doc_id": info.doc_id,
        "title": info.title,
        "date": info.date,
        "publisher": info.publisher,
        "author": info.author,
        "score": round(match.score, 4),
        "coverage": round(match.coverage, 4),
        "passages": match.passages,
        "passage": {"chunk_id": passage.chunk_id, "text": passage.text, "start": passage.start, "end": passage.end,
                    "highlights": [list(span) for span in match.highlights]},
    }


def page_to_dict(page: MatchPage) -> dict[str, Any]:
    return {"query": page.query, "sort": page.sort, "page": page.page, "per_page": page.per_page,
            "pages": page.pages, "total": page.total, "terms": list(page.terms),
            "articles": [match_to_dict(m) for m in page.matches]}


def build_search_router(service: ChatService, limiter: RateLimiter, concurrency: int) -> APIRouter:
    router = APIRouter()
    threads = anyio.CapacityLimiter(concurrency)

    @router.get("/api/search")
    async def search(
        request: Request,
        q: str = Query(..., max_length=2000),
        sort: str = Query("relevance"),
        page: int = Query(1, ge=1, le=10_000),
        per_page: int = Query(10, ge=1, le=50),
        date_from: str | None = Query(None, max_length=10),
        date_to: str | None = Query(None, max_length=10),
        publisher: list[str] | None = Query(None, max_length=50),
        source: list[str] | None = Query(None, max_length=200),
    ) -> dict[str, Any]:
        client = request.client.host if request.client else ""
        retry = limiter.check(client)
        if retry:
            raise ApiError(429, "rate limit exceeded", "rate_limited", {"Retry-After": str(int(retry) + 1)})
        if sort not in SORTS:  # the finder checks it too; here a bad request is answered before any wait for the store
            raise ApiError(400, f"sort must be one of {', '.join(SORTS)}")
        try:
            filters = make_filters(date_from, date_to, publisher, source) or None
        except FilterError as exc:
            raise ApiError(400, f"filters: {exc}") from exc
        await _ready(service)

        def run() -> MatchPage:
            return service.find_articles(q, filters=filters, sort=sort, page=page, per_page=per_page)

        try:
            return page_to_dict(await anyio.to_thread.run_sync(run, limiter=threads))
        except (QuestionError, FinderError) as exc:
            raise ApiError(400, str(exc)) from exc
        except NotReadyError as exc:
            raise ApiError(503, f"not ready: {exc}", "unavailable") from exc

    return router


async def _ready(service: ChatService, timeout_s: float = 600.0) -> None:
    """A search while the store loads waits for it (as a question does), on the event loop."""
    with anyio.move_on_after(timeout_s):
        while not service.ready:
            await anyio.sleep(0.1)
    if not service.ready or service.error:
        raise ApiError(503, f"not ready: {service.error or 'the store is still loading'}", "unavailable")
