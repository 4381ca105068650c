"""The "검색 (Search)" tab: every matching article, grouped, with its best passage and the query's
words marked; sorted by relevance or date, paged, filtered. The same finder serves `GET /api/search`.

    build_search_tab(ctx)        # inside gr.Tabs(); ctx is the chat page's WebContext
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from rag.filters import FilterError
from rag.finder import FinderError, Match, MatchPage
from rag.question import QuestionError
from rag.store import StoreError
from rag.web import render
from rag.web.filter_controls import FilterControls, controls_filters, publisher_choices_update
from rag.web.service import NotReadyError, client_host, shown_to

log = logging.getLogger(__name__)

SORT_CHOICES = [("관련도순", "relevance"), ("최신순", "date"), ("오래된순", "date_asc")]
PER_PAGE = 10
PASSAGE_CHARS = 420  # of the best passage shown, around its first marked word


def build_search_tab(ctx: Any) -> None:
    service = ctx.service

    def run(query: str, sort: str, date_from: str, date_to: str, publishers: list[str], page: int,
            request: gr.Request) -> tuple[str, int, str]:
        query = (query or "").strip()
        if not query:
            return _notice("검색어를 입력하세요."), 1, ""
        if ctx.limiter.check(request.client.host if request and request.client else "local"):
            return _notice("요청이 너무 많습니다. 잠시 후 다시 시도해 주세요."), page, ""
        try:
            filters = controls_filters(date_from, date_to, publishers)
            result = service.find_articles(query, filters=filters, sort=sort, page=max(1, int(page)), per_page=PER_PAGE)
        except (FilterError, QuestionError, FinderError) as exc:
            return _notice(str(exc)), page, ""
        except NotReadyError as exc:
            said = shown_to(str(exc), client_host(request))
            return _notice(f"아직 준비되지 않았습니다: {said}"), page, ""
        except StoreError as exc:  # Chroma server down, store folder gone: the same words as the chat's
            log.warning("search %r: store unavailable: %s", query, exc)
            said = shown_to(str(exc), client_host(request))
            return _notice(render.STORE_UNAVAILABLE.format(message=said)), page, ""
        if result.total and result.page > result.pages:  # the filters shrank the list: back to its last page
            return run(query, sort, date_from, date_to, publishers, result.pages, request)
        return matches_html(result), result.page, _page_line(result)

    with gr.Tab("검색 (Search)", id="search") as tab:
        gr.Markdown("질문이나 낱말로 **모든** 관련 기사를 찾습니다 (답변에 쓰이는 상위 문단만이 아니라). "
                    "기사마다 가장 관련 있는 문단을 보여 주고 검색어를 표시합니다.")
        with gr.Row():
            query = gr.Textbox(placeholder="예: 상생결제, 납품대금 연동제, 기술나눔", show_label=False, scale=5,
                               max_lines=1, elem_id="search-query")
            go = gr.Button("검색", variant="primary", scale=1, elem_id="search-go")
        with gr.Row():
            sort = gr.Radio(SORT_CHOICES, value="relevance", label="정렬", elem_id="search-sort", scale=2)
        controls = FilterControls.build("search")
        page_line = gr.Markdown("", elem_id="search-page")
        results = gr.HTML(_notice("검색어를 입력하면 일치하는 기사가 모두 여기에 나옵니다."), elem_id="search-results",
                          js_on_load=None)
        with gr.Row():
            prev = gr.Button("← 이전", size="sm", elem_id="search-prev")
            next_ = gr.Button("다음 →", size="sm", elem_id="search-next")
        page = gr.State(1)

    # Gradio hands gr.Request only to a parameter annotated with it: one small function per button
    def first_page(q: str, s: str, df: str, dt: str, pubs: list[str], request: gr.Request) -> tuple[str, int, str]:
        return run(q, s, df, dt, pubs, 1, request)

    def previous_page(q: str, s: str, df: str, dt: str, pubs: list[str], at: int,
                      request: gr.Request) -> tuple[str, int, str]:
        return run(q, s, df, dt, pubs, max(1, at - 1), request)

    def next_page(q: str, s: str, df: str, dt: str, pubs: list[str], at: int, request: gr.Request) -> tuple[str, int, str]:
        return run(q, s, df, dt, pubs, at + 1, request)

    inputs = [query, sort, *controls.inputs]
    common = dict(outputs=[results, page, page_line], api_visibility="private", concurrency_limit=ctx.concurrency,
                  concurrency_id="search")
    for trigger in (go.click, query.submit, sort.change):
        trigger(first_page, inputs, **common)
    prev.click(previous_page, [*inputs, page], **common)
    next_.click(next_page, [*inputs, page], **common)
    tab.select(publisher_choices_update(service.articles), [controls.publisher], [controls.publisher],
               api_visibility="private", queue=False)


def matches_html(page: MatchPage) -> str:
    """One card per article: title, outlet · date · doc id, relevance, the best passage marked."""
    if not page.total:
        return _notice("일치하는 기사가 없습니다.")
    cards = []
    for match in page.matches:
        info = match.info
        meta = " · ".join(render.escape_text(x) for x in (info.publisher or "", info.date or "날짜 없음", info.doc_id) if x)
        cards.append(
            f'<div class="match" data-doc="{render.escape_attr(info.doc_id)}">'
            f'<div class="match-head"><span class="title">{render.escape_text(info.title or info.doc_id)}</span>'
            f'<span class="score" title="관련도 (0–1)">{match.score:.2f}</span></div>'
            f'<div class="meta">{meta} · 일치 문단 {match.passages}개</div>'
            f'<div class="passage">{passage_html(match)}</div></div>'
        )
    return f'<div class="matches">{"".join(cards)}</div>'


def passage_html(match: Match, limit: int = PASSAGE_CHARS) -> str:
    """The best passage (a window of it around its first marked word), the query's words in <mark>."""
    text, spans = match.passage.text, list(match.highlights)
    start = max(0, (spans[0][0] if spans else 0) - limit // 3)
    end = min(len(text), start + limit)
    out, pos = ["…" if start else ""], start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        out.append(render.escape_text(text[pos:a]) + f'<mark class="term">{render.escape_text(text[a:b])}</mark>')
        pos = b
    out.append(render.escape_text(text[pos:end]) + ("…" if end < len(text) else ""))
    return "".join(out)


def _page_line(page: MatchPage) -> str:
    return f"**{page.total}건** · {page.page} / {page.pages} 쪽"


def _notice(text: str) -> str:
    return f'<div class="matches empty">{render.escape_text(text)}</div>'
