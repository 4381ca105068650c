"""The article manager, the search view and the filters in Debian's chromium (Playwright drives it).
The pipeline is the real one (store, Kiwi BM25, extractive answers) with the hashing embedder.

Set RAG_SCREENSHOTS=docs to refresh the README screenshots (default: the test's tmp folder).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from rag.config import PROJECT_ROOT
from tests.fakes import HashingEmbedder
from tests.realapp import SEEDS, TOKEN, real_settings
from test_app import LiveServer, free_port
from test_browser import StaticSite, assert_local_only, ask_in_chat, browser, open_chat, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

HTML = PROJECT_ROOT / "tests" / "data" / "html"
NOTE = "온새물산 협력사 기술지원 발표\n\n온새물산은 협력사 38곳에 스마트공장 구축 비용 72억 원을 지원한다고 밝혔다.\n"
HANBIT_QUESTION = "한빛전자가 납품대금 연동 약정을 맺은 1차 협력사는 몇 곳인가?"
BROAD = "협력사와 상생협력 동반성장 지원"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("RAG_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("shots")


@pytest.fixture(scope="module")
def server(tmp_path_factory, korean) -> Iterator[LiveServer]:
    """Seeds and two saved news pages from a corpus folder; uploads go to their own folder."""
    from rag.pipeline import build_pipeline
    from rag.web.server import create_app

    tmp = tmp_path_factory.mktemp("archive")
    extra = tmp / "extra"
    extra.mkdir()
    for name in ("daon_articlebody.html", "mirae_table_euckr.html"):
        shutil.copy(HTML / name, extra)
    port = free_port()
    settings = real_settings(tmp, admin_token=TOKEN, allowed_hosts=(), allowed_origins=("*",))
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest([SEEDS, extra])
    app = create_app(settings, lambda: pipe, public_url=f"http://127.0.0.1:{port}", ingest_if_empty=False)
    app.state.service.start(background=False)
    live = LiveServer(app, port=port)
    live.tmp = tmp  # type: ignore[attr-defined]
    live.settings = settings  # type: ignore[attr-defined]
    yield live
    live.stop()
    pipe.close()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def manager(page):
    open_tab(page, "기사 관리 (Articles)")
    page.wait_for_selector("#articles-frame", timeout=30_000)
    return page.frame_locator("#articles-frame")


def sign_in(frame, token: str) -> None:
    frame.locator("#am-token").fill(token)
    frame.locator("#am-login").click()


def row(frame, doc_id: str):
    return frame.locator(f'#am-rows tr[data-doc="{doc_id}"]')


def test_admin_uploads_sees_them_listed_asks_deletes_and_gets_the_refusal(server, page, shots, tmp_path) -> None:
    page.set_viewport_size({"width": 1280, "height": 1000})
    open_chat(page, server.url)
    frame = manager(page)
    sign_in(frame, TOKEN)
    frame.locator("#am-auth-state").filter(has_text="관리자로 연결됨").wait_for(timeout=30_000)
    note = tmp_path / "onsae.txt"
    note.write_text(NOTE, encoding="utf-8")
    frame.locator("#am-files").set_input_files([str(HTML / "hanbit_article.html"), str(HTML / "saesol_microdata.html"), str(note)])
    frame.locator("#am-send").click()
    frame.locator("#am-message").filter(has_text="색인 완료").wait_for(timeout=120_000)
    hanbit, saesol = row(frame, "hanbit_article.html"), row(frame, "saesol_microdata.html")
    assert "한빛전자, 협력사 납품대금 연동제 조기 도입" in hanbit.locator(".title").inner_text()
    assert hanbit.locator(".date").inner_text() == "2023-03-15" and hanbit.locator(".publisher").inner_text() == "한빛경제"
    assert saesol.locator(".date").inner_text() == "2024-11-28" and saesol.locator(".publisher").inner_text() == "새솔뉴스"
    assert row(frame, "onsae.txt").locator(".title").inner_text() == "온새물산 협력사 기술지원 발표"
    assert "업로드" in hanbit.locator(".doc").inner_text()
    frame.locator("#am-filter").fill("한빛")  # the list filters as one types
    assert frame.locator("#am-rows tr").count() == 1
    frame.locator("#am-filter").fill("")
    page.screenshot(path=str(shots / "articles_tab.png"))

    open_tab(page, "채팅")
    ask_in_chat(page, HANBIT_QUESTION)
    card = page.wait_for_selector('#sources .source-card[data-source="hanbit_article.html"]', timeout=60_000)
    assert "120곳" in page.locator('#chat [data-testid="bot"]').last.inner_text()
    assert "2023-03-15" in card.query_selector(".meta").inner_text()  # the answer says when its source was written
    assert "(2023-03-15)" in page.locator("#chat .cite-list").last.inner_text()

    frame = manager(page)
    delete = row(frame, "hanbit_article.html").locator("button.danger")
    delete.click()
    delete.click()  # the second click confirms
    frame.locator("#am-message").filter(has_text="삭제했습니다").wait_for(timeout=30_000)
    assert row(frame, "hanbit_article.html").count() == 0
    assert not (Path(server.settings.uploads.dir) / "hanbit_article.html").exists()

    open_tab(page, "채팅")
    ask_in_chat(page, HANBIT_QUESTION)
    page.wait_for_function("() => document.querySelectorAll('#chat .refusal').length >= 1", timeout=60_000)
    assert "근거를 찾지 못했습니다" in page.locator("#chat .refusal").last.inner_text()
    assert_local_only(page.requests)


def test_without_the_token_the_tab_and_the_api_refuse(server, page) -> None:
    open_chat(page, server.url)
    frame = manager(page)
    sign_in(frame, "not-the-admin-token-000")
    frame.locator("#am-message").filter(has_text="401").wait_for(timeout=30_000)
    assert frame.locator("#am-rows tr").count() == 0
    statuses = page.evaluate(
        """async () => {
            const plain = await fetch('/api/articles');
            const upload = await fetch('/api/articles', {method: 'POST', body: new FormData()});
            const remove = await fetch('/api/articles/001_d5bd6796c56307a8.txt', {method: 'DELETE'});
            return [plain.status, upload.status, remove.status];
        }"""
    )
    assert statuses == [401, 401, 401]


def test_the_widget_cannot_reach_the_article_routes_even_with_the_token(server, page) -> None:
    page.goto(server.url + "/widget")
    page.wait_for_selector("#qa-input", timeout=30_000)
    statuses = page.evaluate(
        """async (token) => {
            const auth = {headers: {Authorization: 'Bearer ' + token}};
            return [(await fetch('/api/articles', auth)).status,
                    (await fetch('/api/articles', {...auth, method: 'POST', body: new FormData()})).status];
        }""",
        TOKEN,
    )
    assert statuses == [403, 403]


def test_search_view_lists_every_match_sorted_and_paged(server, page, shots) -> None:
    page.set_viewport_size({"width": 1280, "height": 1000})
    open_chat(page, server.url)
    open_tab(page, "검색 (Search)")
    page.fill("#search-query input", "협력사")
    page.click("#search-go")
    page.wait_for_selector("#search-results .match", timeout=60_000)
    assert "건" in page.locator("#search-page").inner_text()
    first = page.locator("#search-results .match").first
    assert first.locator("mark.term").count() >= 1 and "협력사" in first.locator("mark.term").first.inner_text()
    page.get_by_label("최신순").check()
    page.wait_for_function(
        """() => { const d = [...document.querySelectorAll('#search-results .match .meta')]
                   .map(m => (m.innerText.match(/\\d{4}-\\d{2}-\\d{2}/) || [''])[0]).filter(Boolean);
                   return d.length > 2 && d.every((x, i) => i === 0 || d[i - 1] >= x); }""",
        timeout=30_000,
    )
    page.screenshot(path=str(shots / "search_view.png"))
    total = int(page.locator("#search-page").inner_text().split("건")[0].strip("* "))
    if total > 10:  # paging: the second page shows other articles
        shown = set(page.eval_on_selector_all("#search-results .match", "els => els.map(e => e.dataset.doc)"))
        page.click("#search-next")
        page.wait_for_function("() => document.querySelector('#search-page').innerText.includes('2 /')", timeout=30_000)
        later = set(page.eval_on_selector_all("#search-results .match", "els => els.map(e => e.dataset.doc)"))
        assert later and not (later & shown)


def test_chat_publisher_filter_restricts_the_sources(server, page) -> None:
    open_chat(page, server.url)
    page.click("#chat-filters")  # the accordion
    page.click("#chat-publisher input")
    page.get_by_role("option", name="중소벤처기업부").click()
    page.keyboard.press("Escape")
    ask_in_chat(page, BROAD)
    page.wait_for_selector("#sources .source-card", timeout=60_000)
    sources = page.eval_on_selector_all("#sources .source-card", "els => els.map(e => e.dataset.source)")
    assert sources and set(sources) == {"003_5b08162b347d2118.txt"}


def test_widget_data_attributes_restrict_what_it_cites(server, page) -> None:
    site = StaticSite(
        '<!doctype html><html lang="ko"><head><meta charset="utf-8"></head><body><h1>다온일보 독자 Q&amp;A</h1>'
        f'<script src="{server.url}/widget.js" data-mode="extractive" data-open="true" '
        'data-publisher="다온일보" data-date-from="2021-01-01" defer></script></body></html>'
    )
    try:
        page.goto(site.url)
        frame = page.frame_locator("#sangsaeng-qa-frame")
        frame.locator("#qa-input").fill("대기업 특허를 중소기업에 무상으로 이전한 건수는?")
        frame.locator("#qa-send").click()
        frame.locator(".qa-card").first.wait_for(timeout=60_000)
        cards = frame.locator(".qa-card")
        assert {cards.nth(i).get_attribute("data-source") for i in range(cards.count())} == {"daon_articlebody.html"}
        assert "(2021-06-08)" in cards.first.locator(".qa-title").inner_text()
        assert "다온일보" in frame.locator("#qa-status").inner_text()
    finally:
        site.stop()
