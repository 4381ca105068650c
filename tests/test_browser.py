"""The chat page and the embedded widget in Debian's chromium (Playwright drives it; never a
downloaded browser). The pipeline is the real one (store, Kiwi BM25, extractive answers) with the
hashing embedder; the `slow` test uses the packaged models.

Set RAG_SCREENSHOTS=docs to refresh the README screenshots (default: the test's tmp folder).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from rag.config import Settings, load_settings
from rag.types import Article
from rag.web import render
from rag.web.feedback import FeedbackStore
from rag.web.server import create_app
from tests.fakes import HashingEmbedder
from test_app import FakePipeline, LiveServer, free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUESTION = "LG이노텍의 동반성장 펀드 규모는?"
GOLD_DOC = "001_d5bd6796c56307a8.txt"
OFF_TOPIC = "비트코인 가격 전망은?"
EXAMPLE_KT = "KT가 중소 협력사와 공동 R&D에 출연하기로 한 금액은?"  # the chat page's second example question
# A hostile page that still answers a question: the answer layer never cites a command ("…를 누르세요"),
# so the markup sits around a plain statement of fact that the answer must cite.
BROWSER_POISON = ('협력사 지원 공지 <script>alert("xss")</script> 독초물산은 협력사 17곳에 <img src=x onerror="alert(1)"> '
                  '지원금 9억 원을 [지급했다](javascript:alert(2)). ${7*7} {{constructor}}')
POISON_QUESTION = "독초물산이 지원금을 지급한 협력사는 몇 곳인가?"
# LG이노텍 is named in its own article, but the early payment is LG유플러스's: an answer that must say so
UNNAMED_QUESTION = "LG이노텍이 설 명절에 조기 지급한 납품대금은 얼마인가?"
# a question in two parts whose answer cites two sentences of one article (LGU+'s early payment, far apart in it)
TWO_SENTENCES_QUESTION = "KT와 LG유플러스가 조기 지급한 납품대금은 각각 얼마인가?"
TWO_SENTENCES_DOC = "002_2b509c53194e2463.txt"

if not CHROMIUM.exists():  # CI installs it: apt-get install -y chromium chromium-driver fonts-nanum
    pytest.skip("Debian chromium is not installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


class StaticSite:
    """A one-page site on its own localhost port (another origin than the app)."""

    def __init__(self, html: str) -> None:
        body = html.encode("utf-8")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def embed_page(app_url: str, title: str) -> str:
    return (
        f'<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>{title}</title></head>'
        '<body style="font-family: NanumGothic, sans-serif; background:#f4f4f5; margin:0; padding:24px">'
        f"<h1>{title}</h1><p>협력사 포털 예시 페이지: 오른쪽 아래 버튼이 상생협력 Q&amp;A 위젯입니다.</p>"
        f'<script src="{app_url}/widget.js" data-mode="extractive" data-open="true" defer></script></body></html>'
    )


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("RAG_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("shots")


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, StaticSite]]:
    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    made = {
        "allowed": StaticSite(embed_page(app_url, "협력사 포털 (허용된 사이트)")),
        "evil": StaticSite(embed_page(app_url, "허용되지 않은 사이트")),
    }
    made["app_port"] = app_port  # type: ignore[assignment]
    yield made
    for site in made.values():
        if isinstance(site, StaticSite):
            site.stop()


def web_settings(tmp: Path, allowed: tuple[str, ...], backend: str = "extractive") -> Settings:
    settings = load_settings(None, env={})
    return replace(
        settings,
        paths=replace(settings.paths, data_dir=tmp, cache_dir=tmp / "cache"),
        store=replace(settings.store, dir=tmp / "store"),
        generation=replace(settings.generation, backend=backend),
        app=replace(settings.app, allowed_origins=allowed, rate_limit_per_minute=1000),
    )


def corpus_with_poison(seeds_dir: Path) -> list[Article]:
    from rag.corpus import load_corpus

    poison = Article(doc_id="999_poison.txt", text=BROWSER_POISON, title='<img src=x onerror="alert(9)">독 기사', date="2024-01-01", publisher="<b>악성</b>")
    return [*load_corpus([seeds_dir]).articles, poison]


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory, sites: dict, seeds_dir_module: Path) -> Iterator[LiveServer]:
    from rag.pipeline import build_pipeline

    tmp = tmp_path_factory.mktemp("web")
    settings = web_settings(tmp, allowed=(sites["allowed"].url,))
    # answers from articles that never name the asked subject are shown with their caution, not refused (the
    # refusal's words come from the same code -> text map as a name no article mentions: tested with it)
    settings = replace(settings, answer=replace(settings.answer, refuse_unnamed=False))
    pipe = build_pipeline(settings, embedder=HashingEmbedder())
    pipe.ingest_articles(corpus_with_poison(seeds_dir_module))
    app = create_app(settings, lambda: pipe, public_url=f"http://127.0.0.1:{sites['app_port']}")
    app.state.service.start(background=False)
    server = LiveServer(app, port=sites["app_port"])
    server.data_dir = tmp  # type: ignore[attr-defined]
    yield server
    server.stop()
    pipe.close()


@pytest.fixture(scope="module")
def seeds_dir_module() -> Path:
    from rag.config import PROJECT_ROOT

    return PROJECT_ROOT / "seeds"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    """A fresh page that records every request (iframes included) and every JS dialog."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="ko-KR")
    page = context.new_page()
    page.requests = []  # type: ignore[attr-defined]
    page.dialogs = []  # type: ignore[attr-defined]
    context.on("request", lambda request: page.requests.append(request.url))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def assert_local_only(urls: list[str]) -> None:
    """Nothing the browser fetched left 127.0.0.1 (no CDN, fonts, analytics)."""
    remote = [u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).hostname != "127.0.0.1"]
    assert urls and not remote, remote


def record_bot_messages(page) -> None:
    """Keep every distinct text the last bot message shows, to prove the answer streamed in."""
    page.evaluate(
        """() => {
        window.__botStates = [];
        const chat = document.querySelector('#chat');
        new MutationObserver(() => {
            const bots = chat.querySelectorAll('[data-testid="bot"]');
            if (!bots.length) return;
            const text = bots[bots.length - 1].innerText;
            const states = window.__botStates;
            if (!states.length || states[states.length - 1] !== text) states.push(text);
        }).observe(chat, {subtree: true, childList: true, characterData: true});
    }"""
    )


def ask_in_chat(page, question: str) -> None:
    page.fill("#question textarea", question)
    page.click("#send")


def open_chat(page, url: str) -> None:
    page.goto(url + "/")
    page.wait_for_selector("#question textarea", timeout=60_000)
    page.wait_for_function("() => document.querySelector('#model-status').innerText.includes('준비됨')", timeout=60_000)


def test_chat_streams_an_answer_with_a_highlighted_source(app_server: LiveServer, page, shots: Path) -> None:
    open_chat(page, app_server.url)
    record_bot_messages(page)
    ask_in_chat(page, QUESTION)
    card = page.wait_for_selector(f'#sources .source-card[data-source="{GOLD_DOC}"]', timeout=60_000)
    bot = page.locator('#chat [data-testid="bot"]').last
    assert "1,030억" in bot.inner_text()
    assert bot.locator(".short-answer").inner_text() == "1,030억 원"  # the asked value leads the answer
    assert "1,030억" in card.query_selector("mark.span").inner_text()
    assert "LG이노텍" in card.query_selector(".title").inner_text()
    states = page.evaluate("window.__botStates")
    assert len(states) >= 2 and "1,030억" not in states[0], states  # a status/draft came before the answer
    page.locator("#chat a.cite").first.click()  # the [1] marker points at its card
    page.wait_for_selector("#sources .source-card.flash", timeout=5_000)
    page.wait_for_timeout(1_600)
    page.screenshot(path=str(shots / "chat_answer.png"))
    # thumbs up is stored with the question, the answer and its citations
    page.locator('#chat button[aria-label="좋아요"]').last.click()
    page.wait_for_function("() => document.querySelector('#feedback-note').innerText.includes('기록')", timeout=30_000)
    vote = FeedbackStore(app_server.data_dir / "feedback.sqlite3").recent(1)[0]
    assert vote["vote"] == "up" and vote["question"] == QUESTION and "1,030억" in vote["answer"]
    assert vote["citations"][0]["source"] == GOLD_DOC
    # a follow-up in the same conversation says what it was searched as; the first question did not
    assert bot.locator(".searched-as").count() == 0
    ask_in_chat(page, "그 펀드는 언제부터 증액됐나?")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length >= 2", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('#chat [data-testid=\"bot\"]:last-of-type .cursor')", timeout=60_000)
    searched = page.locator('#chat [data-testid="bot"]').last.locator(".searched-as")
    searched.wait_for(timeout=60_000)
    assert searched.inner_text() == "이렇게 찾았습니다: LG이노텍 그 펀드는 언제부터 증액됐나?"
    assert not page.dialogs
    assert_local_only(page.requests)


def test_a_citation_in_an_earlier_answer_opens_its_own_source(app_server: LiveServer, page) -> None:
    """After a second answer, [1] of the first answer shows the first answer's card [1], not the second's."""
    open_chat(page, app_server.url)
    ask_in_chat(page, QUESTION)
    page.wait_for_selector(f'#sources .source-card[data-source="{GOLD_DOC}"]', timeout=60_000)
    ask_in_chat(page, "KT가 중소 협력사와 공동 R&D에 출연하기로 한 금액은?")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"] .cite-list').length >= 2", timeout=60_000)
    newest = page.locator("#sources .source-card:visible").first
    assert newest.get_attribute("data-source") != GOLD_DOC  # the KT answer's sources are shown now
    page.locator('#chat [data-testid="bot"]').first.locator("a.cite").first.click()
    card = page.locator("#sources .source-card.flash")
    card.wait_for(timeout=5_000)
    assert card.get_attribute("data-source") == GOLD_DOC
    assert card.is_visible() and "1,030억" in card.locator("mark.span").inner_text()
    page.locator('#chat [data-testid="bot"]').last.locator("a.cite").first.click()  # and back to the newest answer's
    page.wait_for_timeout(300)
    assert page.locator("#sources .source-card:visible").first.get_attribute("data-source") != GOLD_DOC


def test_two_cited_sentences_of_one_article_are_one_card_each_opened_by_its_own_number(
        app_server: LiveServer, page) -> None:
    open_chat(page, app_server.url)
    ask_in_chat(page, TWO_SENTENCES_QUESTION)
    page.wait_for_selector('#chat [data-testid="bot"] .cite-list', timeout=60_000)
    bot = page.locator('#chat [data-testid="bot"]').last
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", bot.locator(".cite-list").inner_text())]
    cards = page.locator(f'#sources .source-card[data-source="{TWO_SENTENCES_DOC}"]')
    assert cards.count() == 1, bot.inner_text()  # one card for the article, however many sentences it gives
    marks = cards.locator("mark.span")
    assert marks.count() == 2 and all(marks.nth(i).inner_text().strip() for i in range(2))
    assert numbers == list(range(1, len(numbers) + 1))  # the sources line lists [1][2]…: no gap, in order
    assert bot.locator(".cite-list a.cite-title").count() == page.locator("#sources .source-card").count()
    for mark_index in (1, 0):  # each [n] of the answer opens its own sentence in the card
        mark_id = marks.nth(mark_index).get_attribute("id")
        bot.locator(f'a.cite[href="#{mark_id}"]').first.click()
        page.wait_for_selector(f'#sources mark.span.flash[id="{mark_id}"]', timeout=5_000)
        assert "flash" in (cards.get_attribute("class") or "")
        assert page.locator("#sources mark.span.flash").count() == 1
        page.wait_for_timeout(1_600)  # the flash fades before the next click


def test_copying_an_answer_copies_its_text_and_sources_not_html(app_server: LiveServer, browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="ko-KR",
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        open_chat(page, app_server.url)
        ask_in_chat(page, "KT가 중소 협력사와 공동 R&D에 출연하기로 한 금액은?")
        page.wait_for_selector('#chat [data-testid="bot"] .cite-list', timeout=60_000)
        copy_buttons = page.locator('#chat .message-buttons button[aria-label="메시지 복사"]')
        copy_buttons.last.click()
        page.wait_for_timeout(300)
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == page.locator('#chat [data-testid="bot"]').last.inner_text().strip()
        assert "R&D" in copied and "[1]" in copied and "출처: [1]" in copied
        assert "<" not in copied and "&#" not in copied, copied
        copy_buttons.first.click()  # the question too: "R&D", not "R&#38;D"
        page.wait_for_timeout(300)
        assert page.evaluate("navigator.clipboard.readText()") == "KT가 중소 협력사와 공동 R&D에 출연하기로 한 금액은?"
    finally:
        context.close()


def test_a_question_over_the_limit_stays_in_the_box_to_be_shortened(app_server: LiveServer, page) -> None:
    long_question = QUESTION + " 그리고 " + " ".join(["협력사 지원 내용을 자세히"] * 200)
    open_chat(page, app_server.url)
    ask_in_chat(page, long_question)
    page.locator('#chat [data-testid="bot"]').last.filter(has_text="질문이 너무 깁니다").wait_for(timeout=30_000)
    assert f"{len(long_question):,}자" in page.locator('#chat [data-testid="bot"]').last.inner_text()
    page.wait_for_selector("#chat .generating", state="detached", timeout=10_000)  # the event has ended: every update is in
    assert page.input_value("#question textarea") == long_question  # not thrown away


def test_chat_shows_the_refusal_state_without_cards(app_server: LiveServer, page, shots: Path) -> None:
    open_chat(page, app_server.url)
    ask_in_chat(page, OFF_TOPIC)
    page.wait_for_selector("#chat .refusal", timeout=60_000)
    assert "근거를 찾지 못했습니다" in page.locator("#chat .refusal").last.inner_text()
    assert "기사에 나오지 않는 말: 비트코인" in page.locator("#chat .refusal-why").last.inner_text()  # no seed names it
    assert page.locator("#sources .source-card").count() == 0
    assert "근거를 찾지 못했습니다" in page.locator("#sources").inner_text()
    page.screenshot(path=str(shots / "chat_refusal.png"))
    assert_local_only(page.requests)


def test_a_refusal_within_a_date_range_says_the_range_was_searched(app_server: LiveServer, page) -> None:
    """LG이노텍's article is from 2022: asked from 2025 on, "no article mentions LG이노텍" holds only in that range."""
    open_chat(page, app_server.url)
    page.click("#chat-filters button.label-wrap")
    page.fill("#chat-date-from input, #chat-date-from textarea", "2025-01-01")
    ask_in_chat(page, QUESTION)
    page.wait_for_selector("#chat .refusal", timeout=60_000)
    assert "검색 범위(기간·언론사·기사) 안에서만" in page.locator("#chat .refusal").last.inner_text()
    page.fill("#chat-date-from input, #chat-date-from textarea", "")
    ask_in_chat(page, OFF_TOPIC)  # no range: no such words
    page.wait_for_function("() => document.querySelectorAll('#chat .refusal').length >= 2", timeout=60_000)
    assert "검색 범위" not in page.locator("#chat .refusal").last.inner_text()


def test_chat_cautions_an_answer_whose_cited_articles_never_name_the_subject(app_server: LiveServer, page) -> None:
    open_chat(page, app_server.url)
    ask_in_chat(page, UNNAMED_QUESTION)
    page.wait_for_selector("#chat .answer-caution", timeout=60_000)
    assert page.locator("#chat .answer-caution").last.inner_text() == (
        "인용한 기사에 나오지 않는 말: LG이노텍 — 다른 대상에 관한 답일 수 있습니다")
    assert "160억" in page.locator("#chat [data-testid=\"bot\"]").last.inner_text()  # LG유플러스's figure, shown
    assert_local_only(page.requests)


DANGLING = "앞선 질문이 없어 ‘그 회사’의 대상을 알 수 없습니다. 이름을 넣어 다시 물어 보세요."


def test_a_first_question_opening_with_a_reference_word_is_cautioned_in_chat_and_widget(app_server: LiveServer,
                                                                                       page) -> None:
    """"그 회사의 …" asked first (a new chat, a new widget) stands for no company: the reader is told so."""
    open_chat(page, app_server.url)
    ask_in_chat(page, "그 회사의 동반성장 펀드 규모는?")
    page.wait_for_selector("#chat .answer-caution", timeout=60_000)
    assert page.locator("#chat .answer-caution").last.inner_text() == DANGLING
    page.goto(app_server.url + "/widget")
    page.fill("#qa-input", "그 회사의 동반성장 펀드 규모는?")
    page.click("#qa-send")
    page.locator(".qa-bot .qa-caution").wait_for(timeout=60_000)
    assert page.locator(".qa-bot .qa-caution").last.inner_text() == DANGLING
    page.fill("#qa-input", "그 회사의 동반성장 펀드 규모는?")  # asked again, it follows the first: no caution
    page.click("#qa-send")
    page.wait_for_function("() => document.querySelectorAll('.qa-bot .qa-feedback').length >= 2", timeout=60_000)
    assert page.locator(".qa-bot .qa-caution").count() == 1
    assert_local_only(page.requests)


def test_embed_tab_shows_the_snippet(app_server: LiveServer, page, shots: Path) -> None:
    open_chat(page, app_server.url)
    page.get_by_role("tab", name="임베드 (Embed)").click()
    snippet = page.locator("#embed-script").inner_text()
    assert f'<script src="{app_server.url}/widget.js" defer></script>' in snippet.replace("\n", "")
    assert "/widget" in page.locator("#embed-iframe").inner_text()
    page.screenshot(path=str(shots / "embed_tab.png"))


def test_poisoned_article_renders_inert(app_server: LiveServer, page) -> None:
    open_chat(page, app_server.url)
    ask_in_chat(page, POISON_QUESTION)
    card = page.wait_for_selector('#sources .source-card[data-source="999_poison.txt"]', timeout=60_000)
    page.wait_for_timeout(500)
    assert "<script>" in card.inner_text()  # shown as text...
    assert page.locator("#sources script, #sources img, #chat .message-wrap img, #sources b, #sources i").count() == 0
    hrefs = page.eval_on_selector_all("#chat a, #sources a", "els => els.map(e => e.getAttribute('href') || '')")
    assert not [h for h in hrefs if h.lower().startswith("javascript")]
    assert not page.dialogs  # ...and nothing ran
    assert page.evaluate("typeof window.x") == "undefined"


def test_widget_embedded_on_an_allowed_site_answers(app_server: LiveServer, sites: dict, page, shots: Path) -> None:
    page.goto(sites["allowed"].url)
    page.wait_for_selector("#sangsaeng-qa-frame", timeout=30_000)
    frame = page.frame_locator("#sangsaeng-qa-frame")
    frame.locator("#qa-input").fill(QUESTION)
    frame.locator("#qa-send").click()
    card = frame.locator(f'.qa-card[data-source="{GOLD_DOC}"]')
    card.wait_for(timeout=60_000)
    assert "1,030억" in frame.locator(".qa-bot .qa-text").last.inner_text()
    assert frame.locator(".qa-bot .qa-short").last.inner_text() == "1,030억 원"
    assert "1,030억" in card.locator("mark").inner_text()
    assert frame.locator(".qa-bot .qa-searched").count() == 0
    frame.locator("#qa-input").fill("그 펀드는 언제부터 증액됐나?")  # a follow-up says what it was searched as
    frame.locator("#qa-send").click()
    frame.locator(".qa-bot .qa-searched").wait_for(timeout=60_000)
    assert frame.locator(".qa-bot .qa-searched").last.inner_text() == "이렇게 찾았습니다: LG이노텍 그 펀드는 언제부터 증액됐나?"
    # a day the article wrote without its month ("지난 7일") is shown with the date its article's date makes of it
    shorts = frame.locator(".qa-bot .qa-short").count()
    frame.locator("#qa-input").fill("LG전자 협력회 워크숍은 언제 열렸어?")
    frame.locator("#qa-send").click()
    frame.locator(".qa-bot .qa-short").nth(shorts).wait_for(timeout=60_000)
    assert frame.locator(".qa-bot .qa-short").last.inner_text() == "7일 (2025년 11월 7일)"
    page.screenshot(path=str(shots / "widget_embedded.png"))
    frame.locator("#qa-input").fill(OFF_TOPIC)  # a refusal says what no article mentions
    frame.locator("#qa-send").click()
    frame.locator(".qa-refused .qa-why").wait_for(timeout=60_000)
    assert frame.locator(".qa-refused .qa-why").last.inner_text() == "기사에 나오지 않는 말: 비트코인"
    frame.locator("#qa-input").fill(UNNAMED_QUESTION)  # an answer from articles that never name the subject
    frame.locator("#qa-send").click()
    frame.locator(".qa-bot .qa-caution").wait_for(timeout=60_000)
    assert frame.locator(".qa-bot .qa-caution").last.inner_text() == (
        "인용한 기사에 나오지 않는 말: LG이노텍 — 다른 대상에 관한 답일 수 있습니다")
    assert not page.dialogs
    assert_local_only(page.requests)


def test_a_widget_refusal_under_the_sites_filters_says_only_that_range_was_searched(app_server: LiveServer, page) -> None:
    """A site that configured the widget with a date range: the refusal says what the chat's says, not that no
    article exists."""
    page.goto(app_server.url + "/widget?date_from=2025-01-01")  # what widget.js makes of data-date-from
    page.fill("#qa-input", QUESTION)  # answered from 2022's article, which the range leaves out
    page.click("#qa-send")
    page.locator(".qa-refused").wait_for(timeout=60_000)
    assert page.locator(".qa-refused .qa-scope").last.inner_text() == render.SCOPED_REFUSAL
    page.goto(app_server.url + "/widget")  # no range: no such words
    page.fill("#qa-input", OFF_TOPIC)
    page.click("#qa-send")
    page.locator(".qa-refused").wait_for(timeout=60_000)
    assert page.locator(".qa-refused .qa-scope").count() == 0


def test_widget_citations_open_their_card_from_the_keyboard(app_server: LiveServer, sites: dict, page) -> None:
    page.goto(sites["allowed"].url)
    page.wait_for_selector("#sangsaeng-qa-frame", timeout=30_000)
    frame = page.frame_locator("#sangsaeng-qa-frame")
    frame.locator("#qa-input").fill(QUESTION)
    frame.locator("#qa-input").press("Enter")
    frame.locator(".qa-bot .qa-feedback").first.wait_for(timeout=60_000)
    widget = next(f for f in page.frames if urlsplit(f.url).path == "/widget")
    widget.focus("#qa-input")
    for _ in range(12):  # Shift+Tab back from the question box to the answer's [1]
        page.keyboard.press("Shift+Tab")
        if widget.evaluate("document.activeElement.classList.contains('qa-cite')"):
            break
    target = widget.evaluate("document.activeElement.classList.contains('qa-cite') && document.activeElement.dataset.target")
    assert target, "no [n] of the answer is reachable by Tab"
    page.keyboard.press("Enter")
    flashed = frame.locator(".qa-card.qa-flash")
    flashed.wait_for(timeout=2_000)  # its cited sentence and the card holding it
    assert flashed.get_attribute("data-source") == GOLD_DOC
    assert flashed.locator("mark.qa-flash").get_attribute("id") == target


def test_widget_shows_one_card_for_two_sentences_of_one_article(app_server: LiveServer, sites: dict, page) -> None:
    page.goto(sites["allowed"].url)
    page.wait_for_selector("#sangsaeng-qa-frame", timeout=30_000)
    frame = page.frame_locator("#sangsaeng-qa-frame")
    frame.locator("#qa-input").fill(TWO_SENTENCES_QUESTION)
    frame.locator("#qa-send").click()
    frame.locator(".qa-bot .qa-feedback").first.wait_for(timeout=60_000)
    cards = frame.locator(f'.qa-card[data-source="{TWO_SENTENCES_DOC}"]')
    assert cards.count() == 1
    marks = cards.locator("mark")
    assert marks.count() == 2 and cards.locator(".qa-title").inner_text().startswith("[1][2] ")
    second = marks.nth(1).get_attribute("id")
    frame.locator(f'.qa-bot .qa-cite[data-target="{second}"]').click()
    frame.locator(f'mark.qa-flash[id="{second}"]').wait_for(timeout=2_000)  # [2] opens its own sentence
    assert frame.locator("mark.qa-flash").count() == 1


def test_widget_takes_a_long_pasted_question_whole_and_gives_it_back_when_refused(
        app_server: LiveServer, sites: dict, page) -> None:
    """The box cut a paste at 2,000 characters without a word; the server's limit says what is wrong instead."""
    long_question = QUESTION + " " + " ".join(["협력사 지원 내용을 자세히"] * 200)
    page.goto(sites["allowed"].url)
    page.wait_for_selector("#sangsaeng-qa-frame", timeout=30_000)
    frame = page.frame_locator("#sangsaeng-qa-frame")
    frame.locator("#qa-input").click()
    page.keyboard.insert_text(long_question)  # what a paste does
    assert len(frame.locator("#qa-input").input_value()) == len(long_question)
    frame.locator("#qa-input").press("Enter")
    said = frame.locator(".qa-bot .qa-text").last
    said.filter(has_text="질문이 너무 깁니다").wait_for(timeout=30_000)
    assert f"{len(long_question):,}자" in said.inner_text()
    assert frame.locator("#qa-input").input_value() == long_question  # back in the box, to be shortened


def test_disallowed_site_can_neither_frame_nor_call_the_app(app_server: LiveServer, sites: dict, page) -> None:
    # widget.js shows no bubble that would open a browser error page, and tells the site's developer why
    with page.expect_event("console", predicate=lambda m: m.type == "warning", timeout=30_000) as warned:
        page.goto(sites["evil"].url)
    said = warned.value.text
    assert f"origin {sites['evil'].url.rstrip('/')} is not in the server's allowed origins" in said, said
    assert "app.allowed_origins" in said
    assert page.locator("#sangsaeng-qa-bubble").count() == 0
    # the frame's load event fires once its document is in, the widget page or the browser's refusal: no fixed wait
    # that a slow page would outlast with nothing yet to find
    page.evaluate("""(src) => new Promise((loaded) => { const f = document.createElement('iframe'); f.id = 'framed';
                                f.onload = () => loaded(); f.src = src; document.body.appendChild(f); })""",
                  app_server.url + "/widget")
    assert page.frame_locator("#framed").locator("#qa-input").count() == 0  # frame-ancestors refused the embedding
    result = page.evaluate(
        """async (url) => {
            try {
                const r = await fetch(url + '/api/ask', {method: 'POST', headers: {'content-type': 'application/json'},
                                                         body: JSON.stringify({question: '펀드 규모는?'})});
                return 'status ' + r.status;
            } catch (e) { return 'blocked'; }
        }""",
        app_server.url,
    )
    assert result == "blocked"
    assert_local_only(page.requests)


def test_an_allowed_sites_script_calls_the_api_as_the_openai_js_package_does(app_server: LiveServer, sites: dict, page) -> None:
    """The package adds X-Stainless-* headers to every request; the preflight must let them through."""
    page.goto(sites["allowed"].url)
    result = page.evaluate(
        """async (url) => {
            try {
                const r = await fetch(url + '/v1/chat/completions', {method: 'POST', headers: {
                    'content-type': 'application/json', 'authorization': 'Bearer sk-anything',
                    'x-stainless-lang': 'js', 'x-stainless-runtime': 'browser:chrome', 'x-stainless-retry-count': '0'},
                    body: JSON.stringify({model: 'sangsaeng-qa-extractive', messages: [{role: 'user', content: '%s'}]})});
                return r.status + ' ' + (await r.json()).choices[0].message.content;
            } catch (e) { return 'blocked: ' + e; }
        }""" % QUESTION,
        app_server.url,
    )
    assert result.startswith("200 ") and "1,030억" in result, result


def test_a_rebound_name_cannot_use_the_app(app_server: LiveServer, browser) -> None:
    """DNS rebinding as the browser sees it: evil.example resolves to 127.0.0.1 (Chromium's resolver
    rules stand in for the attacker's DNS), so its pages are same-origin with the app's port."""
    port = app_server.port
    rules = "--host-resolver-rules=MAP evil.example 127.0.0.1"
    rebound = browser.browser_type.launch(executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_FLAGS, rules])
    try:
        page = rebound.new_page()
        response = page.goto(f"http://evil.example:{port}/")
        assert response is not None and response.status == 421
        result = page.evaluate(
            """async () => {
                const r = await fetch('/api/ask', {method: 'POST', headers: {'content-type': 'application/json'},
                                                   body: JSON.stringify({question: '펀드 규모는?'})});
                return [r.status, (await r.json()).error.type];
            }"""
        )
        assert result == [421, "host_not_allowed"]
        assert page.goto(f"http://evil.example:{port}/health").status == 421
    finally:
        rebound.close()


def fake_app(tmp_path: Path, seeds: Path) -> tuple[FakePipeline, Any]:
    """The chat app over the seeds' fake pipeline, started: a test sets `fake.gate` to hold its answers."""
    fake = FakePipeline.from_folder(seeds)
    app = create_app(web_settings(tmp_path, allowed=()), lambda: fake)
    app.state.service.start(background=False)
    return fake, app


def ask_and_stop(page, url: str) -> None:
    """Ask QUESTION in the chat and press 중지 once its answer has begun."""
    open_chat(page, url)
    ask_in_chat(page, QUESTION)
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length >= 1", timeout=30_000)
    page.click("#stop")
    page.wait_for_timeout(500)


def test_stop_button_cancels_an_answer(tmp_path: Path, seeds_dir_module: Path, page) -> None:
    fake, app = fake_app(tmp_path, seeds_dir_module)
    fake.gate = threading.Event()  # from now on an answer hangs until the test releases it
    server = LiveServer(app)
    try:
        ask_and_stop(page, server.url)
        fake.gate.set()  # had the answer not been cancelled, it would now arrive
        page.wait_for_timeout(2_000)
        assert "1,030억" not in page.locator("#chat").inner_text()
        assert page.locator("#sources .source-card").count() == 0
        stopped = page.locator('#chat [data-testid="bot"]').last.inner_text()  # not "질문을 받았습니다…" for ever
        assert "중지했습니다" in stopped and "질문을 받았습니다" not in stopped, stopped
        for _ in range(100):  # the cancelled answer gives its slot back (the gate would fill up otherwise)
            if app.state.gate.admitted == 0:
                break
            page.wait_for_timeout(100)
        assert app.state.gate.admitted == 0
    finally:
        server.stop()


def test_stop_stops_the_model_of_an_llm_answer_at_its_next_piece(tmp_path: Path, seeds_dir_module: Path, page) -> None:
    """중지 while the model writes a sentence held for verification: Gradio cancels the answer, but the model went on
    until the sentence ended (the whole answer, on a 2-core machine many seconds the next question waited for)."""
    from test_web_limits import WritingPipeline

    pipe = WritingPipeline.from_folder(seeds_dir_module)  # one sentence of 1000 pieces, 20 ms each
    app = create_app(web_settings(tmp_path, allowed=()), lambda: pipe)
    app.state.service.start(background=False)
    server = LiveServer(app)
    try:
        open_chat(page, server.url)
        page.check("#mode input[value='llm']")
        ask_in_chat(page, QUESTION)
        page.locator('#chat [data-testid="bot"]').last.filter(has_text="초안").wait_for(timeout=30_000)
        page.click("#stop")
        assert pipe.closed.wait(10), f"the model went on writing: {pipe.written} pieces"
        assert pipe.written < pipe.pieces
        for _ in range(100):  # and its slot is back
            if app.state.gate.admitted == 0:
                break
            page.wait_for_timeout(100)
        assert app.state.gate.admitted == 0
    finally:
        server.stop()


def test_the_chats_trash_button_starts_a_new_conversation(tmp_path: Path, seeds_dir_module: Path, page) -> None:
    """After the chat's own 🗑, a follow-up is not read with the cleared conversation and no old card stays."""
    fake, app = fake_app(tmp_path, seeds_dir_module)
    server = LiveServer(app)
    try:
        open_chat(page, server.url)
        ask_in_chat(page, QUESTION)
        page.wait_for_selector(f'#sources .source-card[data-source="{GOLD_DOC}"]', timeout=30_000)
        page.click('#chat button[aria-label="대화 지우기"]')
        page.wait_for_function("() => !document.querySelector('#sources .source-card')", timeout=10_000)
        assert "질문하면 근거 기사가 여기에 표시됩니다" in page.locator("#sources").inner_text()
        ask_in_chat(page, "그 펀드는 언제부터 증액됐나?")
        page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"] .cite-list, #chat .refusal').length >= 1",
                               timeout=30_000)
        assert fake.calls[-1][0] == "그 펀드는 언제부터 증액됐나?" and fake.calls[-1][1] == ()  # no history
    finally:
        server.stop()


def test_a_second_question_while_an_answer_streams_waits_instead_of_overwriting_it(
        tmp_path: Path, seeds_dir_module: Path, page) -> None:
    """Two answers at once in one tab each wrote their own copy of the chat: one of the two questions vanished."""
    fake, app = fake_app(tmp_path, seeds_dir_module)
    fake.gate = threading.Event()  # the first answer hangs until the test releases it
    server = LiveServer(app)
    users = '#chat [data-testid="user"]'
    try:
        open_chat(page, server.url)
        ask_in_chat(page, QUESTION)
        page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length >= 1", timeout=30_000)
        page.locator("#examples button").nth(1).click()  # another question while the first is being answered
        page.get_by_text("앞 질문의 답이 끝난 뒤에 보내 주세요").first.wait_for(timeout=10_000)
        assert page.locator(users).count() == 1
        assert "KT가" in page.input_value("#question textarea")  # kept for later
        fake.gate.set()
        page.locator('#chat [data-testid="bot"]').last.filter(has_text="1,030억").wait_for(timeout=30_000)
        assert "KT가" in page.input_value("#question textarea")  # the first answer's updates left the box alone
        page.wait_for_selector("#chat .generating", state="detached", timeout=10_000)
        page.click("#send")  # the kept question, now that the first answer is done
        page.wait_for_function("() => document.querySelectorAll('#chat .cite-list, #chat .refusal').length >= 2", timeout=30_000)
        assert [t.strip() for t in page.locator(users).all_inner_texts()] == [QUESTION, EXAMPLE_KT]
        assert "1,030억" in page.locator('#chat [data-testid="bot"]').first.inner_text()
    finally:
        fake.gate.set()
        server.stop()


def test_after_stop_the_next_question_is_answered_at_once(tmp_path: Path, seeds_dir_module: Path, page) -> None:
    """A stopped answer may still be computing in its thread (an LLM in the middle of a prompt): the tab asks on."""
    fake, app = fake_app(tmp_path, seeds_dir_module)
    held = fake.gate = threading.Event()  # the first answer's thread stays blocked until the test ends
    server = LiveServer(app)
    try:
        ask_and_stop(page, server.url)
        fake.gate = None  # the next answer is not held
        ask_in_chat(page, EXAMPLE_KT)
        page.wait_for_function("() => document.querySelectorAll('#chat .cite-list, #chat .refusal').length >= 1", timeout=30_000)
        assert page.get_by_text("앞 질문의 답이 끝난 뒤에").count() == 0
        assert EXAMPLE_KT in page.locator('#chat [data-testid="user"]').last.inner_text()
    finally:
        held.set()
        server.stop()


def test_page_is_served_while_loading_and_the_first_question_waits(tmp_path: Path, seeds_dir_module: Path, page) -> None:
    fake = FakePipeline.from_folder(seeds_dir_module)
    loaded = threading.Event()

    def slow_build() -> FakePipeline:
        loaded.wait(60)
        return fake

    app = create_app(web_settings(tmp_path, allowed=()), slow_build)
    app.state.service.start(background=True)
    server = LiveServer(app)
    try:
        page.goto(server.url + "/")
        page.wait_for_selector("#question textarea", timeout=60_000)
        assert "준비됨" not in page.locator("#model-status").inner_text()  # a visible loading status
        ask_in_chat(page, QUESTION)
        page.wait_for_timeout(1_000)
        loaded.set()
        page.wait_for_selector('#sources .source-card[data-source="001_d5bd6796c56307a8.txt"]', timeout=60_000)
        assert "1,030억" in page.locator('#chat [data-testid="bot"]').last.inner_text()
        page.wait_for_function("() => document.querySelector('#model-status').innerText.includes('준비됨')", timeout=10_000)
    finally:
        loaded.set()
        server.stop()


def local_llm_settings(tmp_path: Path, seeds_dir: Path) -> Settings:
    """Settings of the slow chat tests: the packaged LLM, the test cache (RAG_TEST_CACHE_DIR) and a copy of the seeds
    as the corpus an empty store ingests on first start."""
    settings = web_settings(tmp_path, allowed=(), backend="local")
    corpus = tmp_path / "corpus"
    shutil.copytree(seeds_dir, corpus)
    cache = Path(os.environ.get("RAG_TEST_CACHE_DIR", tmp_path / "cache"))
    return replace(settings, paths=replace(settings.paths, cache_dir=cache, corpus=(corpus,)))


@pytest.mark.slow
def test_llm_mode_streams_a_draft_then_the_model_answer(tmp_path: Path, real_embedder, seeds_dir: Path, browser) -> None:
    """The packaged embedder and LLM (~1-2 min on 2 cores): the extractive draft shows first."""
    pytest.importorskip("llama_cpp")
    from rag.pipeline import build_pipeline

    settings = local_llm_settings(tmp_path, seeds_dir)
    app = create_app(settings, lambda: build_pipeline(settings, embedder=real_embedder))
    app.state.service.start(background=True)  # ingests the empty store, as on a first start
    server = LiveServer(app)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    try:
        open_chat(page, server.url)
        page.check("#mode input[value='llm']")
        record_bot_messages(page)
        ask_in_chat(page, QUESTION)
        page.wait_for_selector(f'#sources .source-card[data-source="{GOLD_DOC}"]', timeout=300_000)
        states = page.evaluate("window.__botStates")
        assert any("초안" in s for s in states), states
        assert "1,030억" in page.locator('#chat [data-testid="bot"]').last.inner_text()
    finally:
        context.close()
        server.stop()


class CountingGenerator:
    """The packaged LLM, counting the pieces it writes and noting when its stream is closed."""

    def __init__(self, generator) -> None:
        self.generator, self.name = generator, generator.name
        self.pieces = 0
        self.closed = threading.Event()

    def prime(self, messages) -> None:
        self.generator.prime(messages)

    def stream(self, messages, max_tokens, stop=()):
        self.closed.clear()
        try:
            for piece in self.generator.stream(messages, max_tokens, stop):
                self.pieces += 1
                yield piece
        finally:
            self.closed.set()


@pytest.mark.slow
def test_stop_stops_the_packaged_llm_within_a_piece(tmp_path: Path, real_embedder, seeds_dir: Path, browser) -> None:
    """중지 while the packaged model writes: it stops at its next piece, not at the end of its sentence."""
    pytest.importorskip("llama_cpp")
    from rag.generation import load_generator
    from rag.pipeline import build_pipeline

    settings = local_llm_settings(tmp_path, seeds_dir)
    llm = CountingGenerator(load_generator(settings.generation, settings.paths.cache_dir))
    app = create_app(settings, lambda: build_pipeline(settings, embedder=real_embedder, generator=lambda: llm))
    app.state.service.start(background=True)
    server = LiveServer(app)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    try:
        open_chat(page, server.url)
        page.check("#mode input[value='llm']")
        ask_in_chat(page, QUESTION)
        page.locator('#chat [data-testid="bot"]').last.filter(has_text="답변을 작성하는 중").wait_for(timeout=300_000)
        for _ in range(1200):  # the prompt read, the model writes
            if llm.pieces >= 2:
                break
            page.wait_for_timeout(100)
        page.click("#stop")
        at_stop = llm.pieces
        assert llm.closed.wait(60)
        # a piece or a few are on their way while 중지 reaches the server (tens of ms, more on a busy machine); the
        # rest of the sentence was 32 more
        assert llm.pieces - at_stop <= 5, f"{llm.pieces - at_stop} pieces after 중지"
    finally:
        context.close()
        server.stop()


class PathPrefix:
    """What a reverse proxy serving the app at http://host/qa/ does: strips /qa; any other path is 404."""

    def __init__(self, app, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "lifespan" or path.startswith(self.prefix + "/"):
            if scope["type"] != "lifespan":
                inner = path[len(self.prefix):]
                scope = {**scope, "path": inner, "raw_path": inner.encode()}
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def test_widget_served_under_a_path_prefix_answers(tmp_path: Path, seeds_dir_module: Path, page) -> None:
    # --public-url https://host/qa/ behind a proxy: the iframe, its assets and its API calls must all keep /qa
    port = free_port()
    site = StaticSite(embed_page(f"http://127.0.0.1:{port}/qa", "접두사 뒤의 위젯"))
    pipe = FakePipeline.from_folder(seeds_dir_module)
    app = create_app(web_settings(tmp_path, allowed=(site.url,)), lambda: pipe, public_url=f"http://127.0.0.1:{port}/qa/")
    app.state.service.start(background=False)
    server = LiveServer(PathPrefix(app, "/qa"), port=port)
    try:
        page.goto(site.url)
        page.wait_for_selector("#sangsaeng-qa-frame", timeout=30_000)
        frame = page.frame_locator("#sangsaeng-qa-frame")
        frame.locator("#qa-input").fill(QUESTION)
        frame.locator("#qa-send").click()
        frame.locator(".qa-bot .qa-feedback button").first.wait_for(timeout=60_000)
        assert "1,030억" in frame.locator(".qa-bot .qa-text").last.inner_text()
        frame.locator(".qa-bot .qa-feedback button").first.click()
        frame.locator(".qa-bot .qa-feedback", has_text="고맙습니다").wait_for(timeout=10_000)
    finally:
        server.stop()
        site.stop()
    to_app = [urlsplit(u).path for u in page.requests if urlsplit(u).port == port]
    assert {"/qa/widget.js", "/qa/widget", "/qa/widget/static/widget-app.js", "/qa/v1/chat/completions",
            "/qa/api/feedback", "/qa/health"} <= set(to_app), to_app
    assert all(p.startswith("/qa/") for p in to_app), to_app


class CutStreams:
    """A proxy in front of the app that breaks every answer stream after its first piece: `end` closes the
    response as if it were complete (a proxy that gave up on a slow answer), `drop` breaks the connection."""

    def __init__(self, app, how: str) -> None:
        self.app, self.how = app, how

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("path") != "/v1/chat/completions":
            await self.app(scope, receive, send)
            return
        pieces = {"sent": 0, "cut": False}

        async def cutting_send(message) -> None:
            if pieces["cut"]:
                return
            if self.how == "after_final" and message["type"] == "http.response.body" and b"[DONE]" in message.get("body", b""):
                # everything up to the end mark reaches the page (the final chunk included), then the line breaks;
                # a browser drops what it has received but not yet read when a connection errors, so the page is
                # given ample time to read the final chunk first
                await send({"type": "http.response.body", "body": message["body"].split(b"data: [DONE]")[0],
                            "more_body": True})
                await asyncio.sleep(2)
                raise ConnectionAbortedError("the proxy broke the connection after the final chunk")
            if self.how == "after_final":
                await send(message)
                return
            if message["type"] == "http.response.body" and message.get("body"):
                pieces["sent"] += 1
                if pieces["sent"] > 1:
                    if self.how == "drop":
                        raise ConnectionAbortedError("the proxy broke the connection")
                    pieces["cut"] = True
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            await send(message)

        await self.app(scope, receive, cutting_send)


def widget_server(tmp_path: Path, seeds_dir: Path, wrap=lambda app: app, **app_settings: object) -> LiveServer:
    pipe = FakePipeline.from_folder(seeds_dir)
    settings = web_settings(tmp_path, allowed=())
    app = create_app(replace(settings, app=replace(settings.app, **app_settings)), lambda: pipe)
    app.state.service.start(background=False)
    return LiveServer(wrap(app))


def test_widget_says_the_server_cannot_be_reached_and_keeps_the_question(tmp_path: Path, seeds_dir_module: Path, page) -> None:
    """The server stopped after the widget loaded: the browser's "Failed to fetch" told the reader nothing, and
    the question was gone from the box."""
    server = widget_server(tmp_path, seeds_dir_module)
    try:
        page.goto(server.url + "/widget")
        page.wait_for_selector("#qa-input")
    finally:
        server.stop()
    page.fill("#qa-input", QUESTION)
    page.click("#qa-send")
    said = page.locator(".qa-bot .qa-text").last
    said.filter(has_text="서버에 연결할 수 없습니다").wait_for(timeout=30_000)
    assert "Failed to fetch" not in said.inner_text()
    assert page.input_value("#qa-input") == QUESTION  # back in the box, to be sent again


@pytest.mark.parametrize("how", ["end", "drop"])
def test_widget_says_an_answer_cut_off_midway_and_keeps_the_question(
        tmp_path: Path, seeds_dir_module: Path, page, how: str) -> None:
    """A stream that stopped before its last chunk: a clean end left "…" as if it were the answer, a broken
    connection said "오류: network error"; either way the question was gone."""
    server = widget_server(tmp_path, seeds_dir_module, lambda app: CutStreams(app, how))
    try:
        page.goto(server.url + "/widget")
        page.fill("#qa-input", QUESTION)
        page.click("#qa-send")
        said = page.locator(".qa-bot .qa-text").last
        said.filter(has_text="연결이 끊겼습니다").wait_for(timeout=30_000)
        assert "network error" not in said.inner_text()
        assert page.input_value("#qa-input") == QUESTION
        assert page.locator(".qa-feedback").count() == 0  # no votes on an answer that never came
    finally:
        server.stop()


def test_a_connection_broken_after_the_final_chunk_keeps_the_answer(tmp_path: Path, seeds_dir_module: Path,
                                                                   page) -> None:
    """The answer's final chunk arrived, then the connection broke before the end mark: nothing was lost, and the
    answer is shown as such (it said "연결이 끊겼습니다" and put the answered question back)."""
    server = widget_server(tmp_path, seeds_dir_module, lambda app: CutStreams(app, "after_final"))
    try:
        page.goto(server.url + "/widget")
        page.fill("#qa-input", QUESTION)
        page.click("#qa-send")
        page.locator(".qa-bot .qa-feedback").wait_for(timeout=30_000)  # a finished answer gets its vote buttons
        assert "연결이 끊겼습니다" not in page.locator(".qa-bot .qa-text").last.inner_text()
        assert page.input_value("#qa-input") == ""
    finally:
        server.stop()


def test_a_widget_vote_that_was_not_stored_says_so(tmp_path: Path, seeds_dir_module: Path, page) -> None:
    """Over the rate limit the vote got a 429 and the widget still said "피드백 고맙습니다": the vote was lost unseen."""
    server = widget_server(tmp_path, seeds_dir_module, rate_limit_per_minute=1)  # the question spends it
    try:
        page.goto(server.url + "/widget")
        page.fill("#qa-input", QUESTION)
        page.click("#qa-send")
        page.locator(".qa-bot .qa-feedback button").first.wait_for(timeout=60_000)
        page.locator(".qa-bot .qa-feedback button").first.click()
        bar = page.locator(".qa-bot .qa-feedback").last
        bar.filter(has_text="피드백을 보내지 못했습니다").wait_for(timeout=10_000)
        assert "고맙습니다" not in bar.inner_text() and "초 뒤에 다시 눌러 주세요" in bar.inner_text()
        assert bar.locator("button").count() == 2  # still there, to vote again
    finally:
        server.stop()
    assert FeedbackStore(tmp_path / "feedback.sqlite3").recent() == []


def test_chat_and_search_say_what_to_do_when_the_chroma_server_is_down(tmp_path: Path, seeds_dir_module: Path, page) -> None:
    """The page's words for a store that stopped answering are the HTTP API's 503 message, not a generic error."""
    from rag.pipeline import build_pipeline
    from test_server_mode import start_chroma, stop_chroma

    chroma_port = free_port()
    proc = start_chroma(tmp_path / "chroma", chroma_port)
    settings = web_settings(tmp_path, allowed=())
    settings = replace(settings, store=replace(settings.store, host="127.0.0.1", port=chroma_port, collection="chat"))
    pipe = build_pipeline(settings, embedder=HashingEmbedder())
    pipe.ingest([seeds_dir_module])
    app = create_app(settings, lambda: pipe, ingest_if_empty=False)
    app.state.service.start(background=False)
    server = LiveServer(app)
    try:
        open_chat(page, server.url)
        page.check("#mode input[value='extractive']")
        stop_chroma(proc)
        ask_in_chat(page, QUESTION)
        bot = page.locator('#chat [data-testid="bot"]').last
        bot.filter(has_text="기사 저장소를 쓸 수 없습니다").wait_for(timeout=60_000)
        said = bot.inner_text()
        assert f"cannot reach the Chroma server at 127.0.0.1:{chroma_port}" in said and "chroma run" in said, said
        assert "오류가 발생했습니다" not in said
        page.get_by_role("tab", name="검색 (Search)").click()
        page.fill("#search-query textarea, #search-query input", "동반성장 펀드")
        page.click("#search-go")
        results = page.locator("#search-results")
        results.filter(has_text="기사 저장소를 쓸 수 없습니다").wait_for(timeout=60_000)
        assert "chroma run" in results.inner_text()
    finally:
        server.stop()
        stop_chroma(proc)
        pipe.close()


def test_widget_and_chat_say_why_when_start_up_failed_not_that_they_are_busy(tmp_path: Path, page) -> None:
    """A 503 "unavailable" (here: the store folder held by another process) is not "too many requests"."""
    from rag.store import StoreBusyError

    held = "the store folder /srv/qa/store is already open in another process (pid 4242)"

    def build():
        raise StoreBusyError(held)

    port = free_port()
    site = StaticSite(embed_page(f"http://127.0.0.1:{port}", "시작 실패"))
    app = create_app(web_settings(tmp_path, allowed=(site.url,)), build, public_url=f"http://127.0.0.1:{port}")
    app.state.service.start(background=False)
    server = LiveServer(app, port=port)
    try:
        page.goto(site.url)
        page.wait_for_selector("#sangsaeng-qa-frame", timeout=30_000)
        frame = page.frame_locator("#sangsaeng-qa-frame")
        frame.locator("#qa-input").fill(QUESTION)
        frame.locator("#qa-send").click()
        said = frame.locator(".qa-bot .qa-text").last
        said.filter(has_text="pid 4242").wait_for(timeout=30_000)
        assert "요청이 너무 많습니다" not in said.inner_text() and "답할 수 없습니다" in said.inner_text()
        page.goto(server.url + "/")
        page.wait_for_selector("#question textarea", timeout=60_000)
        ask_in_chat(page, QUESTION)
        bot = page.locator('#chat [data-testid="bot"]').last
        bot.filter(has_text="pid 4242").wait_for(timeout=30_000)
        assert "모델" not in bot.inner_text()  # it was the store, not the models
    finally:
        server.stop()
        site.stop()
