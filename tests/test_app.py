"""The web layer against a small deterministic fake pipeline: HTTP API, security, rendering, Gradio.

`FakePipeline` and `LiveServer` are also used by tests/test_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Sequence

import pytest
from fastapi.testclient import TestClient

from rag.config import Settings, load_settings
from rag.serialize import answer_to_dict
from rag.types import Answer, Article, Chunk, Citation, Event, Filters, Hit, IngestReport, Turn
from rag.web import render
from rag.web.security import OriginPolicy, RateLimiter, normalize_origin
from rag.web.server import create_app

POISON = (
    '협력사 지원 공지 <script>alert("xss")</script> 자세한 내용은 '
    '<img src=x onerror="alert(1)"> 그리고 [여기](javascript:alert(2)) 를 누르세요. ${7*7} {{constructor}}'
)


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in re.finditer(r"(?<=[.!?다])\s+|\n+", text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _bigrams(text: str) -> set[str]:
    compact = "".join(text.split())
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


class FakePipeline:
    """Answers with the article sentence sharing the most character bigrams with the question.

    Refuses below `min_overlap`. `mode="llm"` streams the answer word by word after a draft.
    `gate` (optional) blocks every answer until set; `barrier` makes N answers wait for each other.
    """

    def __init__(self, articles: Sequence[Article], min_overlap: float = 0.35) -> None:
        self.articles = {a.doc_id: a for a in articles}
        self.min_overlap = min_overlap
        self.ingested = False
        self.warmed = False
        self.calls: list[tuple[str, tuple[Turn, ...], str | None, int | None]] = []
        self.filters_seen: list[Filters | None] = []
        self.gate: threading.Event | None = None
        self.barrier: threading.Barrier | None = None

    @classmethod
    def from_folder(cls, folder: Path, extra: Sequence[Article] = ()) -> "FakePipeline":
        articles = []
        for path in sorted(folder.glob("*.txt")):
            text = path.read_text(encoding="utf-8", errors="replace")
            title = next((line.strip() for line in text.splitlines() if len(line.strip()) > 12), path.name)
            articles.append(Article(doc_id=path.name, text=text, title=title, date="2022-03-21", publisher="테스트일보"))
        return cls([*articles, *extra])

    # the pipeline contract -------------------------------------------------------------------
    def describe(self) -> dict:
        return {"store": "fake", "n_docs": len(self.articles) if self.ingested else 0, "n_chunks": 0}

    def ingest(self, paths: Sequence[Path] | None = None, progress: bool = False) -> IngestReport:
        self.ingested = True
        return IngestReport(added=tuple(self.articles))

    def warm_up(self) -> None:
        self.warmed = True

    def article(self, doc_id: str) -> Article | None:
        return self.articles.get(doc_id)

    def close(self) -> None:
        pass

    def ask(self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None,
            filters: Filters | None = None) -> Answer:
        final = None
        for event in self.stream(question, history, mode, k, filters):
            final = event.answer or final
        assert final is not None
        return final

    def stream(
        self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None,
        filters: Filters | None = None,
    ) -> Iterator[Event]:
        self.calls.append((question, tuple(history), mode, k))
        self.filters_seen.append(filters)
        if self.gate is not None:
            self.gate.wait(30)
        if self.barrier is not None:
            self.barrier.wait(30)
        yield Event("status", "검색 중…")
        best = self._best(question)
        mode = mode or "extractive"
        if best is None:
            yield Event("final", answer=Answer(question=question, text="근거를 찾지 못했습니다.", refused=True, mode=mode))
            return
        article, (start, end), score = best
        quote = article.text[start:end]
        citation = Citation(1, article.doc_id, quote, start, end, article.title, article.date, article.publisher)
        chunk = Chunk(f"{article.doc_id}#0", article.doc_id, quote, start, end, article.title, article.date, article.publisher)
        text = f"{quote} [1]"
        yield Event("draft", text=text)
        if mode == "llm":
            for word in text.split(" "):
                yield Event("token", text=word + " ")
        timings = {"retrieval": 1.0, "first_token": 2.0, "total": 3.0}
        yield Event(
            "final",
            answer=Answer(question, text, False, (citation,), (Hit(chunk, score),), mode=mode, timings=timings),
        )

    def _best(self, question: str) -> tuple[Article, tuple[int, int], float] | None:
        wanted = _bigrams(question)
        best = None
        for article in self.articles.values():
            for span in _sentences(article.text):
                got = len(wanted & _bigrams(article.text[span[0] : span[1]])) / max(1, len(wanted))
                if best is None or got > best[2]:
                    best = (article, span, got)
        return best if best is not None and best[2] >= self.min_overlap else None


def poisoned_article() -> Article:
    return Article(doc_id="999_poison.txt", text=POISON, title='<b onmouseover="x()">독</b> 기사', date="2024-01-01", publisher="<i>악성</i>")


def make_settings(tmp_path: Path, **app: object) -> Settings:
    settings = load_settings(None, env={})
    settings = replace(settings, paths=replace(settings.paths, data_dir=tmp_path / "data"))
    # "testserver" is the Host header of Starlette's TestClient
    defaults = {"allowed_origins": ("http://allowed.example:8080",), "rate_limit_per_minute": 1000, "allowed_hosts": ("testserver",)}
    defaults.update(app)
    return replace(settings, app=replace(settings.app, **defaults), generation=replace(settings.generation, backend="extractive"))


@pytest.fixture
def fake(seeds_dir: Path) -> FakePipeline:
    return FakePipeline.from_folder(seeds_dir, extra=[poisoned_article()])


@pytest.fixture
def client(tmp_path: Path, fake: FakePipeline) -> TestClient:
    app = create_app(make_settings(tmp_path), lambda: fake)
    app.state.service.start(background=False)
    return TestClient(app)


# --- serialization ------------------------------------------------------------------------------


def test_answer_to_dict_has_the_cli_fields(fake: FakePipeline) -> None:
    data = answer_to_dict(fake.ask("LG이노텍의 동반성장 펀드 규모는?"))
    assert {"answer", "refused", "citations", "hits", "timings", "notice", "notice_code"} <= set(data)
    assert data["notice"] == data["notice_code"] == ""  # no LLM was asked for: nothing fell back
    assert set(data["citations"][0]) >= {"n", "source", "title", "date", "quote", "start", "end"}
    assert set(data["hits"][0]) >= {"source", "score"}
    assert set(data["timings"]) >= {"retrieval", "first_token", "total"}
    json.dumps(data)


# --- HTTP API -------------------------------------------------------------------------------------


def test_api_ask_answers_with_citation_offsets(client: TestClient, fake: FakePipeline) -> None:
    response = client.post("/api/ask", json={"question": "LG이노텍의 동반성장 펀드 규모는?", "mode": "extractive"})
    assert response.status_code == 200
    data = response.json()
    assert "1,030억" in data["answer"] and not data["refused"]
    citation = data["citations"][0]
    assert citation["source"] == "001_d5bd6796c56307a8.txt"
    text = fake.article(citation["source"]).text
    assert text[citation["start"] : citation["end"]] == citation["quote"]


def test_api_ask_passes_history_mode_and_k(client: TestClient, fake: FakePipeline) -> None:
    history = [{"role": "user", "content": "LG이노텍 펀드?"}, {"role": "assistant", "content": "1,030억 원 [1]"}]
    client.post("/api/ask", json={"question": "그 펀드는 누가 운영하나?", "mode": "llm", "history": history, "k": 3})
    question, turns, mode, k = fake.calls[-1]
    assert turns == (Turn("user", "LG이노텍 펀드?"), Turn("assistant", "1,030억 원 [1]")) and mode == "llm" and k == 3


def test_api_ask_refusal_has_no_citations(client: TestClient) -> None:
    data = client.post("/api/ask", json={"question": "화성 탐사선의 연료는 무엇인가?"}).json()
    assert data["refused"] is True and data["citations"] == []
    assert set(data["grounding"]) == {"probability", "threshold", "code", "reason", "missing", "unnamed", "dangling"}


@pytest.mark.parametrize(
    "body",
    [
        {"question": ""},
        {"question": "   "},
        {"question": "x", "mode": "poetry"},
        {"question": "x", "k": 0},
        {"question": "x", "surprise": 1},
        {"mode": "llm"},
        {"question": "가" * 5000},
        {"question": "x", "history": [{"role": "wizard", "content": "hi"}]},
    ],
)
def test_api_bad_requests_get_json_4xx(client: TestClient, body: dict) -> None:
    response = client.post("/api/ask", json=body)
    assert 400 <= response.status_code < 500
    assert "error" in response.json() and "Traceback" not in response.text


def test_an_empty_question_gets_one_message_on_every_surface(client: TestClient) -> None:
    """"" and "   " are the same empty question: /api/ask and /v1 say so in the same words (not pydantic's English
    "String should have at least 1 character" for one of them)."""
    said = set()
    for question in ("", "   "):
        ask = client.post("/api/ask", json={"question": question})
        chat = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]})
        assert ask.status_code == chat.status_code == 400
        said |= {ask.json()["error"]["message"], chat.json()["error"]["message"]}
    assert len(said) == 1 and "질문이 비어 있습니다" in said.pop()


@pytest.mark.parametrize("stream", ["yes", "false", 1])
def test_a_streaming_flag_that_is_not_a_boolean_is_refused(client: TestClient, stream) -> None:
    """"stream": "false" must not be taken for true (nor "yes", nor 1): a 400 naming the field."""
    response = client.post("/v1/chat/completions", json={"stream": stream, "messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 400 and "stream" in response.text


@pytest.mark.parametrize("n", [2, 0])
def test_v1_refuses_more_than_one_choice_instead_of_giving_one(client: TestClient, n: int) -> None:
    """n=2 was answered with one choice, without a word: a client reading choices[1] crashed."""
    body = {"n": n, "messages": [{"role": "user", "content": "LG이노텍의 동반성장 펀드 규모는?"}]}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400 and response.json()["error"]["message"].startswith(f"n: {n}; "), response.text
    assert client.post("/v1/chat/completions", json={**body, "n": 1}).status_code == 200


def test_api_malformed_json_is_a_json_400(client: TestClient) -> None:
    response = client.post("/api/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions", "/api/feedback"])
@pytest.mark.parametrize(
    "body,content_type,said",
    [
        (b'{"question": ', "application/json", "the body is not valid JSON (Expecting value at character 13)"),
        (b'{"question": "x"}', "text/plain", "send the body as JSON with Content-Type: application/json (it came as text/plain)"),
        (b"question=x", "application/x-www-form-urlencoded", "Content-Type: application/json (it came as application/x-www-form-urlencoded)"),
        (b'{"question": "x"}', None, "Content-Type: application/json (it came without a Content-Type)"),
        (b"", "application/json", "the body is empty: send a JSON object"),
        (b'[{"question": "x"}]', "application/json", "the body must be a JSON object ({...}), not an array"),
        (b'"x"', "application/json", "the body must be a JSON object ({...}), not a string"),
    ],
)
def test_a_body_that_is_no_json_object_says_what_to_send(client: TestClient, path: str, body: bytes,
                                                          content_type: str | None, said: str) -> None:
    """Pydantic's words named nothing a client could act on: "39: JSON decode error", "Input should be a valid
    dictionary or object to extract fields from" (a form post, text/plain), "Field required" (no body)."""
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"
    assert said in response.json()["error"]["message"], response.json()


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions", "/api/feedback"])
def test_a_body_in_another_encoding_is_an_invalid_request(client: TestClient, path: str) -> None:
    body = {"question": "펀드 규모는?", "messages": [{"role": "user", "content": "펀드 규모는?"}], "vote": "up", "answer": {}}
    response = client.post(path, content=json.dumps(body, ensure_ascii=False).encode("cp949"),
                           headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"  # the README's row for bad JSON, not a bare http_error
    assert "UTF-8" in error["message"] and "position" in error["message"]


def test_api_internal_error_is_json_without_trace(tmp_path: Path, fake: FakePipeline) -> None:
    class Broken(FakePipeline):
        def stream(self, *args, **kwargs):  # type: ignore[override]
            raise KeyError("secret internal detail")

    app = create_app(make_settings(tmp_path), lambda: Broken(list(fake.articles.values())))
    app.state.service.start(background=False)
    response = TestClient(app, raise_server_exceptions=False).post("/api/ask", json={"question": "LG이노텍 펀드"})
    assert response.status_code == 500
    assert response.json()["error"]["message"] == "internal error" and "secret" not in response.text


def test_openai_chat_completions_returns_answer_and_reference(client: TestClient) -> None:
    body = {"model": "sangsaeng-qa", "messages": [{"role": "user", "content": "LG이노텍의 동반성장 펀드 규모는?"}]}
    data = client.post("/v1/chat/completions", json=body).json()
    message = data["choices"][0]["message"]
    assert data["object"] == "chat.completion" and message["role"] == "assistant"
    assert "1,030억" in message["content"]
    assert message["reference"]["chunks"][0]["document_id"] == "001_d5bd6796c56307a8.txt"
    assert data["citations"][0]["source"] == "001_d5bd6796c56307a8.txt"
    assert set(data["grounding"]) == {"probability", "threshold", "code", "reason", "missing", "unnamed", "dangling"}  # as /api/ask gives it


def test_openai_stream_is_sse_with_tokens_and_final_reference(client: TestClient) -> None:
    body = {
        "model": "sangsaeng-qa-llm",
        "stream": True,
        "messages": [{"role": "system", "content": "be nice"}, {"role": "user", "content": "LG이노텍의 동반성장 펀드 규모는?"}],
    }
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "1,030억" in content and len(chunks) > 4  # streamed word by word
    draft = next(c for c in chunks if "draft" in c)  # the instant draft comes before the first token
    assert chunks.index(draft) < next(i for i, c in enumerate(chunks) if c["choices"][0]["delta"].get("content"))
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["reference"]["chunks"][0]["document_id"] == "001_d5bd6796c56307a8.txt"
    assert set(chunks[-1]["grounding"]) == {"probability", "threshold", "code", "reason", "missing", "unnamed", "dangling"}
    assert chunks[-1]["short_date"] == ""  # the final chunk carries it (this answer has no short value)


@pytest.mark.parametrize(
    "body,status",
    [
        ({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]}, 404),
        ({"messages": []}, 400),
        ({"messages": [{"role": "assistant", "content": "x"}]}, 400),
        ({"messages": "hello"}, 400),
    ],
)
def test_openai_bad_requests(client: TestClient, body: dict, status: int) -> None:
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == status and "error" in response.json()


def test_health_reports_loading_then_ready(tmp_path: Path, fake: FakePipeline) -> None:
    gate = threading.Event()

    def slow_build() -> FakePipeline:
        gate.wait(10)
        return fake

    app = create_app(make_settings(tmp_path), slow_build)
    http = TestClient(app)
    app.state.service.start(background=True)
    assert http.get("/health").json()["ready"] is False
    gate.set()
    app.state.service.wait_ready(10)
    health = http.get("/health").json()
    assert health["ready"] is True and health["pipeline"]["n_docs"] == len(fake.articles)
    assert fake.ingested and fake.warmed  # the empty store got the seeds on first start


class IngestedElsewhere(FakePipeline):
    """A store another process ingests into: `describe()` counts what it holds, and says when it is called."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.described = threading.Event()

    def describe(self) -> dict:
        self.described.set()
        return super().describe()


class CountsDescriptions(FakePipeline):
    """A pipeline that counts how often the store is described."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.descriptions = 0

    def describe(self) -> dict:
        self.descriptions += 1
        return super().describe()


def test_a_zero_refresh_does_not_describe_the_store_in_a_busy_loop(fake: FakePipeline) -> None:
    """store.refresh_s = 0 (re-check the store before each question) made the /health describer describe the
    store back to back, keeping a core busy for as long as the app ran."""
    from rag.web.service import ChatService

    pipe = CountsDescriptions(list(fake.articles.values()))
    service = ChatService(lambda: pipe, describe_every_s=0)
    service.start(background=False)
    try:
        time.sleep(0.5)
        assert pipe.descriptions <= 3  # the one at start-up, and at most a couple of the describer's
    finally:
        service.close()


def test_health_counts_another_process_ingest_without_waiting_for_a_poll(fake: FakePipeline) -> None:
    """/health described the store when it was polled and answered with the description it had: a load balancer
    polling each minute read another process's ingest a minute late, in the poll after the one that saw it."""
    from rag.web.service import ChatService

    pipe = IngestedElsewhere(list(fake.articles.values()))
    service = ChatService(lambda: pipe, describe_every_s=0.05)
    service.start(background=False)
    try:
        n = service.health()["pipeline"]["n_docs"]
        pipe.articles["elsewhere.txt"] = Article(doc_id="elsewhere.txt", text="다른 프로세스가 넣은 기사.")
        # no /health request in between: the describer's first description after the change is stored before
        # it starts the next one (describe() says when it starts, not when the service has stored what it said)
        for _ in range(2):
            pipe.described.clear()
            assert pipe.described.wait(30)
        assert service.health()["pipeline"]["n_docs"] == n + 1  # the first poll after it
    finally:
        service.close()


def test_first_question_waits_for_the_models(tmp_path: Path, fake: FakePipeline) -> None:
    gate = threading.Event()

    def slow_build() -> FakePipeline:
        gate.wait(10)
        return fake

    app = create_app(make_settings(tmp_path), slow_build)
    app.state.service.start(background=True)
    results: list[int] = []
    asker = threading.Thread(target=lambda: results.append(TestClient(app).post("/api/ask", json={"question": "LG이노텍 동반성장 펀드"}).status_code))
    asker.start()
    time.sleep(0.3)
    assert not results  # still waiting, not failed
    gate.set()
    asker.join(10)
    assert results == [200]


def test_api_serves_concurrent_requests(tmp_path: Path, fake: FakePipeline) -> None:
    app = create_app(make_settings(tmp_path), lambda: fake)
    app.state.service.start(background=False)
    fake.barrier = threading.Barrier(4)  # deadlocks (times out) unless 4 answers run at once
    http = TestClient(app)
    codes: list[int] = []
    threads = [
        threading.Thread(target=lambda: codes.append(http.post("/api/ask", json={"question": "LG이노텍 펀드"}).status_code))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert codes == [200] * 4 and not fake.barrier.broken


def test_feedback_is_stored_in_sqlite(client: TestClient, tmp_path: Path) -> None:
    from rag.web.feedback import FeedbackStore

    answer = client.post("/api/ask", json={"question": "LG이노텍의 동반성장 펀드 규모는?"}).json()
    assert client.post("/api/feedback", json={"vote": "up", "answer": answer}).status_code == 200
    assert client.post("/api/feedback", json={"vote": "meh", "answer": answer}).status_code == 400
    votes = FeedbackStore(tmp_path / "data" / "feedback.sqlite3").recent()
    entry = votes[0]
    assert len(votes) == 1 and entry["vote"] == "up" and "1,030억" in entry["answer"]
    assert entry["question"] and entry["citations"][0]["source"] == "001_d5bd6796c56307a8.txt"


# --- origins, CSP, rate limit ---------------------------------------------------------------------


def test_disallowed_origin_cannot_call_the_api(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "LG이노텍 펀드"}, headers={"Origin": "http://evil.example:9999"})
    assert response.status_code == 403 and response.json()["error"]["type"] == "forbidden"
    assert "access-control-allow-origin" not in response.headers
    # the web team trying a new partner page reads which origin was refused and which setting allows it
    message = response.json()["error"]["message"]
    assert "'http://evil.example:9999'" in message and "app.allowed_origins" in message, message


def test_disallowed_origin_cannot_use_gradio_routes_either(client: TestClient) -> None:
    evil = {"Origin": "http://127.0.0.1:9"}  # another localhost port is another origin
    assert client.post("/gradio_api/queue/join", json={}, headers=evil).status_code == 403
    assert client.get("/config", headers=evil).status_code == 403


def test_allowed_origin_gets_cors_headers(client: TestClient) -> None:
    origin = "http://allowed.example:8080"
    preflight = client.options(
        "/api/ask", headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    )
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == origin
    response = client.post("/api/ask", json={"question": "LG이노텍 펀드"}, headers={"Origin": origin})
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == origin


def test_a_preflight_allows_the_headers_a_client_library_adds(client: TestClient) -> None:
    """The openai JS package sends X-Stainless-* headers on every call: a fixed allow-list failed its preflight,
    and the partner page's script saw only "Failed to fetch"."""
    origin = "http://allowed.example:8080"
    asked = "authorization,content-type,x-stainless-lang,x-stainless-retry-count"
    preflight = client.options("/v1/chat/completions", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": asked})
    assert preflight.status_code == 204
    allowed = {h.strip() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert set(asked.split(",")) <= allowed
    assert "Access-Control-Request-Headers" in preflight.headers["vary"]
    odd = client.options("/v1/chat/completions", headers={  # not header names: only our own two
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-a, <b>"})
    assert odd.headers["access-control-allow-headers"] == "content-type, authorization"


def test_a_partner_page_may_read_how_long_to_wait(tmp_path: Path, fake: FakePipeline) -> None:
    """Retry-After is no CORS-safelisted header: unless exposed, a partner page's script reads null on a 429."""
    app = create_app(make_settings(tmp_path, rate_limit_per_minute=1), lambda: fake)
    app.state.service.start(background=False)
    http = TestClient(app)
    origin = {"Origin": "http://allowed.example:8080"}
    assert http.post("/api/ask", json={"question": "LG이노텍 펀드"}, headers=origin).status_code == 200
    limited = http.post("/api/ask", json={"question": "LG이노텍 펀드"}, headers=origin)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert limited.headers["access-control-expose-headers"] == "Retry-After"


def test_same_origin_is_always_allowed(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "LG이노텍 펀드"}, headers={"Origin": "http://testserver"})
    assert response.status_code == 200


def test_widget_may_only_be_framed_by_allowed_origins(client: TestClient) -> None:
    response = client.get("/widget")
    assert response.status_code == 200 and "qa-widget" in response.text
    csp = response.headers["content-security-policy"]
    assert csp == "frame-ancestors 'self' http://allowed.example:8080"
    assert client.get("/widget/static/widget-app.js").headers["content-security-policy"] == csp
    assert client.get("/widget.js").status_code == 200
    assert client.get("/widget/static/widget-app.js").status_code == 200
    assert client.get("/widget/static/..%2Fchat.py").status_code == 404


@pytest.mark.parametrize("path", ["/", "/articles", "/health", "/widgetx"])
def test_only_the_widget_may_be_framed_by_partners(tmp_path: Path, fake: FakePipeline, path: str) -> None:
    # the chat page has the admin tab and /articles is the article manager: a partner page framing
    # them could overlay our buttons (clickjacking); partners are allowed to embed the widget, no more
    app = create_app(make_settings(tmp_path, admin_token="s3cret-admin-token-0123456789"), lambda: fake)
    app.state.service.start(background=False)
    response = TestClient(app).get(path)
    assert response.headers["content-security-policy"] == "frame-ancestors 'self'", response.status_code


def test_rate_limit_per_client(tmp_path: Path, fake: FakePipeline) -> None:
    app = create_app(make_settings(tmp_path, rate_limit_per_minute=3), lambda: fake)
    app.state.service.start(background=False)
    http = TestClient(app)
    codes = [http.post("/api/ask", json={"question": "LG이노텍 펀드"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}]})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert http.get("/health").status_code == 200  # reads are not limited


def test_rate_limiter_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.check("a"), limiter.check("a")] == [0.0, 0.0]
    assert limiter.check("a") > 0 and limiter.check("b") == 0.0
    now[0] = 61.0
    assert limiter.check("a") == 0.0


def test_origin_policy() -> None:
    policy = OriginPolicy(["http://Site.example:80/", "https://b.example:8443"])
    assert normalize_origin("HTTP://Site.example:80/") == "http://site.example"
    assert policy.is_allowed("http://site.example", "127.0.0.1:7860")
    assert policy.is_allowed("https://b.example:8443", None)
    assert not policy.is_allowed("http://b.example:8443", None)
    assert not policy.is_allowed("null", "127.0.0.1:7860")
    assert policy.is_allowed(None, None) and policy.is_allowed("http://127.0.0.1:7860", "127.0.0.1:7860")
    assert OriginPolicy(["*"]).is_allowed("http://anything.example", None)


# --- rendering untrusted text ---------------------------------------------------------------------

DANGER = re.compile(r"<script|<img|onerror\s*=|onmouseover\s*=|javascript:|<i>|<b\b|\$\{", re.IGNORECASE)


def test_escape_text_neutralizes_markup() -> None:
    html = render.escape_text(POISON)
    assert not DANGER.search(html)
    assert "협력사 지원 공지" in html


def test_answer_html_links_only_known_markers() -> None:
    citation = Citation(1, "a.txt", "q", 0, 1)
    html = render.answer_html("펀드는 1,030억 원이다 [1][7].", [citation])
    assert html.count('class="cite"') == 1 and 'href="#src-1"' in html and "&#91;7&#93;" in html


def test_poisoned_article_and_model_output_render_inert(fake: FakePipeline) -> None:
    answer = fake.ask("협력사 지원 공지 자세한 내용은 여기를 누르세요")
    assert answer.citations[0].source == "999_poison.txt"
    poisoned = replace(answer, text=answer.text + ' <a href="javascript:alert(3)">x</a> <svg onload=alert(4)>',
                       short='<img src=x onerror=alert(5)>')
    for html in (render.chat_message_html(poisoned), render.source_cards_html(poisoned, fake.article), render.draft_html(poisoned.text)):
        assert not DANGER.search(html) and "onload=" not in html and "<svg" not in html
    cards = render.source_cards_html(poisoned, fake.article)
    assert '<mark class="span" id="src-1">' in cards and 'id="src-card-1"' in cards


def test_source_card_highlights_the_cited_span(fake: FakePipeline) -> None:
    answer = fake.ask("LG이노텍의 동반성장 펀드 규모는?")
    cards = render.source_cards_html(answer, fake.article)
    marked = re.search(r'<mark class="span" id="src-1">(.*?)</mark>', cards).group(1)
    assert "1&#44;030" in marked or "1,030" in marked
    assert 'data-source="001_d5bd6796c56307a8.txt"' in cards and "테스트일보" in cards


def test_the_short_answer_leads_the_chat_bubble() -> None:
    answer = Answer(question="펀드 규모는?", text="펀드는 1,030억 원이다 [1].", refused=False,
                    citations=(Citation(1, "a.txt", "펀드는 1,030억 원이다.", 0, 14),), short="1,030억 원")
    html = render.chat_message_html(answer)
    assert html.startswith('<div class="short-answer">1&#44;030억 원</div>') or html.startswith(
        '<div class="short-answer">1,030억 원</div>')
    assert 'class="short-answer"' not in render.chat_message_html(replace(answer, short=""))


def test_a_short_answers_date_is_on_every_surface() -> None:
    """A short "7일" of "지난 7일" carries the date its article's date makes of it: after the value in the chat bubble,
    as `short_date` (ISO) in /api/ask and /v1; a short answer that is no such word shows no date."""
    from rag.web.completions import completion_dict

    answer = Answer(question="워크숍은 언제 열렸어?", text="LG전자는 지난 7일 워크숍을 열었다 [1].", refused=False,
                    citations=(Citation(1, "a.txt", "LG전자는 지난 7일 워크숍을 열었다.", 0, 20, date="2025-11-09"),),
                    short="7일", short_date="2025-11-07")
    html = render.chat_message_html(answer)
    assert '<div class="short-answer">7일 <span class="short-date"' in html and "(2025년 11월 7일)</span></div>" in html
    assert answer_to_dict(answer)["short_date"] == "2025-11-07"
    assert completion_dict(answer, "c1", "m")["short_date"] == "2025-11-07"
    plain = replace(answer, short_date="")
    assert "short-date" not in render.chat_message_html(plain) and answer_to_dict(plain)["short_date"] == ""


def test_a_follow_up_says_what_it_was_searched_as_on_every_surface() -> None:
    """A follow-up is searched standalone: the chat bubble (answer or refusal), /api/ask and /v1 say as what, so a
    reader whose conversation was taken the wrong way can ask in full; a question searched as asked says nothing."""
    from rag.web.completions import completion_dict

    answer = Answer(question="그 펀드는 언제 늘었어?", text="2020년에 증액됐다 [1].", refused=False,
                    citations=(Citation(1, "a.txt", "2020년에 증액됐다.", 0, 10),),
                    standalone_question="LG이노텍 그 펀드는 언제 늘었어?", searched_question="LG이노텍 그 펀드는 언제 늘었어?")
    line = '<div class="searched-as">이렇게 찾았습니다&#58; LG이노텍 그 펀드는 언제 늘었어?</div>'
    assert answer.searched_as == "LG이노텍 그 펀드는 언제 늘었어?"
    assert render.chat_message_html(answer).startswith(line)
    refused = replace(answer, refused=True, text="", citations=())
    assert render.chat_message_html(refused).startswith(line + '<div class="refusal">')
    assert answer_to_dict(answer)["searched_as"] == answer.searched_as
    assert completion_dict(answer, "c1", "m")["searched_as"] == answer.searched_as
    # searched as asked (spacing aside), or never rewritten: no line, an empty field
    for same in (replace(answer, standalone_question=" 그 펀드는  언제 늘었어?", searched_question=""),
                 replace(answer, standalone_question="", searched_question="")):
        assert same.searched_as == "" and "searched-as" not in render.chat_message_html(same)
        assert answer_to_dict(same)["searched_as"] == ""
    # an English question's Korean form is what was searched
    english = replace(answer, question="When did the fund grow?", standalone_question="When did the fund grow?",
                      searched_question="펀드는 언제 늘었어?")
    assert english.searched_as == "펀드는 언제 늘었어?"
    hostile = replace(answer, searched_question="<img src=x onerror=alert(1)>")
    assert "<img" not in render.chat_message_html(hostile)


def test_refusal_renders_the_no_evidence_state(fake: FakePipeline) -> None:
    answer = fake.ask("화성 탐사선의 연료는 무엇인가?")
    assert render.REFUSAL_TITLE in render.chat_message_html(answer)
    cards = render.source_cards_html(answer, fake.article)
    assert "source-card" not in cards and render.REFUSAL_TITLE in cards


def test_a_refusal_names_what_no_article_mentions_and_escapes_it() -> None:
    from rag.types import GroundingReport

    refused = Answer(question="삼성의 펀드 규모는?", text="찾을 수 없습니다.", refused=True,
                     grounding=GroundingReport(0.4, 0.07, "names_missing", ("삼성",)))
    assert '<div class="refusal-why">기사에 나오지 않는 말&#58; 삼성</div>' in render.chat_message_html(refused)  # (escaped)
    hostile = replace(refused, grounding=replace(refused.grounding, missing=("<img src=x onerror=alert(1)>",)))
    assert not DANGER.search(render.chat_message_html(hostile)) and "<img" not in render.chat_message_html(hostile)
    cited = replace(refused, grounding=GroundingReport(0.9, 0.07, "names_not_cited", ("대성반도체",)))
    assert '<div class="refusal-why">답할 문장의 기사에 나오지 않는 말&#58; 대성반도체</div>' in render.chat_message_html(cited)
    judged = replace(refused, grounding=GroundingReport(0.01, 0.07, "not_answered"))
    assert "refusal-why" not in render.chat_message_html(judged)  # nothing to look for: the title says it all


def test_a_first_questions_reference_word_that_points_at_nothing_is_cautioned_escaped() -> None:
    from rag.types import GroundingReport

    answered = Answer(question="그 회사의 펀드 규모는?", text="1,030억 원 규모다 [1].", refused=False,
                      grounding=GroundingReport(0.85, 0.07, dangling="그 회사"))
    caution = '<div class="answer-caution">앞선 질문이 없어 ‘그 회사’의 대상을 알 수 없습니다&#46;'
    assert caution in render.chat_message_html(answered)
    refused = replace(answered, refused=True, text="", grounding=GroundingReport(0.01, 0.07, "not_answered",
                                                                                dangling="그 회사"))
    assert caution in render.chat_message_html(refused)  # a refusal of such a question says it too
    hostile = replace(answered, grounding=GroundingReport(0.85, 0.07, dangling="<img src=x onerror=alert(1)>"))
    assert not DANGER.search(render.chat_message_html(hostile)) and "<img" not in render.chat_message_html(hostile)
    assert "answer-caution" not in render.chat_message_html(replace(answered, grounding=GroundingReport(0.85, 0.07)))


def test_an_answer_whose_cited_articles_never_name_the_subject_shows_a_caution_escaped() -> None:
    from rag.types import GroundingReport

    answered = Answer(question="대성반도체의 납품대금은?", text="한빛전자는 160억원을 지급했다 [1].", refused=False,
                      grounding=GroundingReport(0.85, 0.07, unnamed=("대성반도체",)))
    html_out = render.chat_message_html(answered)
    assert '<div class="answer-caution">인용한 기사에 나오지 않는 말&#58; 대성반도체' in html_out
    hostile = replace(answered, grounding=replace(answered.grounding, unnamed=("<img src=x onerror=alert(1)>",)))
    assert not DANGER.search(render.chat_message_html(hostile)) and "<img" not in render.chat_message_html(hostile)
    assert "answer-caution" not in render.chat_message_html(replace(answered, grounding=GroundingReport(0.85, 0.07)))


def test_the_widget_explains_a_refusal_in_the_chats_words() -> None:
    import re

    from rag.config import PROJECT_ROOT

    script = (PROJECT_ROOT / "rag" / "web" / "static" / "widget-app.js").read_text(encoding="utf-8")
    block = script[script.index("var REFUSAL_WHY = {"):]
    block = block[:block.index("};")]
    assert dict(re.findall(r'(\w+): "([^"]*)"', block)) == render.REFUSAL_WHY


@pytest.mark.parametrize("name", ["widget.js", "widget.html", "widget-app.js"])
def test_the_widget_names_no_root_absolute_url(name: str) -> None:
    # behind a proxy at https://host/qa/ a "/v1/...", "/widget/static/..." or origin + "/widget" misses
    # the prefix: every URL is relative to where widget.js / widget.html were loaded from
    # (tests/test_browser.py serves the widget under /qa/ in chromium)
    from rag.config import PROJECT_ROOT

    text = (PROJECT_ROOT / "rag" / "web" / "static" / name).read_text(encoding="utf-8")
    assert not re.findall(r"""(?:src|href)=["']/|fetch\(\s*["']/|\.origin\b""", text)


def test_locate_span_falls_back_to_the_quote() -> None:
    text = "가나다. 펀드는 1,030억 원이다. 라마바."
    good = Citation(1, "a", "펀드는 1,030억 원이다.", 5, 20)
    assert render.locate_span(text, good) == (5, 20)
    shifted = Citation(1, "a", "펀드는 1,030억 원이다.", 0, 3)
    assert render.locate_span(text, shifted) == (5, 20)


# --- Gradio: concurrency and the Python client ------------------------------------------------------


class LiveServer:
    """The app served by uvicorn in a thread on a free localhost port (stopped by `stop()`),
    configured as app.py serves it."""

    def __init__(self, app, port: int | None = None) -> None:
        import uvicorn

        from rag.web.server import uvicorn_config

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", self.port))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gradio_concurrency_is_set(tmp_path: Path, fake: FakePipeline) -> None:
    from rag.web.chat import WebContext, build_chat_blocks
    from rag.web.feedback import FeedbackStore
    from rag.web.gate import AnswerGate
    from rag.web.service import ChatService

    gate = AnswerGate(concurrency=6, queue_size=4, timeout_s=5)
    ctx = WebContext(ChatService(lambda: fake), FeedbackStore(tmp_path / "f.sqlite3"), RateLimiter(0), gate, "http://x")
    blocks = build_chat_blocks(ctx)
    answering = [fn for fn in blocks.fns.values() if getattr(fn.fn, "__name__", "") in {"respond", "api_ask"}]
    assert answering and all(fn.concurrency_limit == 6 for fn in answering)
    assert blocks._queue.max_size == 10  # Gradio's queue is bounded by the gate's capacity too


@contextmanager
def gradio_client(tmp_path: Path, fake: FakePipeline) -> Iterator[Any]:
    """A gradio_client Client of the app (the fake pipeline, started) served on loopback; closed and stopped after."""
    from gradio_client import Client

    app = create_app(make_settings(tmp_path), lambda: fake)
    app.state.service.start(background=False)
    server = LiveServer(app)
    try:
        client = Client(server.url + "/", verbose=False)
        yield client
        client.close()
    finally:
        server.stop()


def test_gradio_client_asks_through_the_app(tmp_path: Path, fake: FakePipeline) -> None:
    with gradio_client(tmp_path, fake) as client:
        fake.barrier = threading.Barrier(2)  # two jobs through Gradio's queue must run at once
        jobs = [client.submit("LG이노텍의 동반성장 펀드 규모는?", "extractive", 5, api_name="/ask") for _ in range(2)]
        results = [job.result(timeout=60) for job in jobs]
    for result in results:
        assert "1,030억" in result["answer"] and result["citations"][0]["source"] == "001_d5bd6796c56307a8.txt"


def test_gradio_ask_holds_k_to_1_to_20_as_the_http_api_does(tmp_path: Path, fake: FakePipeline) -> None:
    # k=500 read 500 passages, k=-3 sliced 31, k=2.5 was read as 2 and "abc" answered int()'s own words
    from gradio_client.exceptions import AppError

    with gradio_client(tmp_path, fake) as client:
        before = len(fake.calls)
        for k in (500, 0, -3, 2.5, "abc"):
            with pytest.raises(AppError, match="k must be a whole number from 1 to 20"):
                client.predict("LG이노텍의 동반성장 펀드 규모는?", "extractive", k, api_name="/ask")
        refused_all = len(fake.calls) == before
        client.predict("LG이노텍의 동반성장 펀드 규모는?", "extractive", 3, api_name="/ask")
    assert refused_all and fake.calls[-1][3] == 3


def test_a_first_start_on_a_missing_corpus_folder_names_the_setting_and_the_way_out(tmp_path: Path) -> None:
    # /health and every question said only "IngestError: /srv/news: no such file or folder"
    from rag.pipeline import build_pipeline
    from tests.fakes import HashingEmbedder

    settings = make_settings(tmp_path)
    settings = replace(settings, paths=replace(settings.paths, corpus=(tmp_path / "news",)),
                       store=replace(settings.store, dir=tmp_path / "store"))
    app = create_app(settings, lambda: build_pipeline(settings, embedder=HashingEmbedder()))
    app.state.service.start(background=False)
    try:
        detail = TestClient(app).get("/health").json()["detail"]
    finally:
        app.state.service.close()
    assert "no such file or folder" in detail  # the path itself only to a caller on this machine
    assert "paths.corpus" in detail and "--no-ingest" in detail


def test_app_entry_point_reads_host_port_store(tmp_path: Path) -> None:
    import importlib.util

    from rag.config import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location("app_entry", PROJECT_ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # importing app.py does no work: nothing starts
    args = module.parse_args(["--host", "0.0.0.0", "--port", "9000", "--store", str(tmp_path / "s")])
    assert (args.host, args.port, args.store) == ("0.0.0.0", 9000, str(tmp_path / "s"))
    bad = tmp_path / "rag.toml"
    bad.write_text("[app]\nport = 'not a number'\n", encoding="utf-8")
    assert module.main(["--config", str(bad)]) == 2  # a clear error, not a trace


def test_app_on_a_port_in_use_exits_at_once_saying_so(tmp_path: Path) -> None:
    """A supervisor must see app.py fail when its port is taken: one line naming the port and a
    non-zero exit, before the banner (it printed the banner, then hung: its shutdown deadlocked with
    the start-up thread opening the search view)."""
    import os
    import subprocess
    import sys

    from rag.config import PROJECT_ROOT

    env = {**os.environ, "RAG_PATHS__DATA_DIR": str(tmp_path), "RAG_PATHS__CACHE_DIR": str(tmp_path / "cache")}
    with socket.socket() as holder:  # another server on the port
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), "--store", str(tmp_path / "store")],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60,
        )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()  # one line, no trace
    assert f"port {port} is in use" in line and "--port N" in line
    assert "sangsaeng-qa:" not in done.stdout


def _has_bound_its_port(pid: int) -> bool:
    """The app holds a socket: it has bound its port (`bind_sockets`, its first socket), the step just before it
    imports uvicorn and Gradio (seconds). Linux's /proc lists a process's open files."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        names = list(fds.iterdir())
    except OSError:  # exited
        return False
    for fd in names:
        try:
            if os.readlink(fd).startswith("socket:"):
                return True
        except OSError:  # closed meanwhile
            continue
    return False


def _start_app_without_models(tmp_path: Path):
    """`python app.py --port 0` on a store in `tmp_path`, its stdout and stderr piped, SIGINT as a terminal sends it.

    No model to load: start-up fails at once, instead of building the e5 graph into an empty cache (minutes on a
    busy machine), which the shutdown would wait for (ChatService.close)."""
    import signal
    import subprocess
    import sys

    from rag.config import PROJECT_ROOT

    env = {**os.environ, "RAG_PATHS__DATA_DIR": str(tmp_path), "RAG_PATHS__CACHE_DIR": str(tmp_path / "cache"),
           "RAG_EMBEDDING__MODEL": str(tmp_path / "no-model")}
    return subprocess.Popen(
        [sys.executable, "app.py", "--host", "127.0.0.1", "--port", "0", "--store", str(tmp_path / "store"),
         "--no-ingest"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # a shell's background job inherits SIGINT ignored: the app gets it as a terminal's Ctrl-C does
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _signalled(proc, sig: int, after_banner: bool) -> tuple[str, str]:
    """`sig` sent to the app once it prints its banner (after_banner) or else once it has bound its port (before
    it imports Gradio); its stdout and stderr once it has ended (killed after 120 s)."""
    try:
        if after_banner:
            assert proc.stdout is not None and proc.stdout.readline().startswith("sangsaeng-qa:")  # the banner
        else:
            deadline = time.monotonic() + 60
            while not _has_bound_its_port(proc.pid):
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
                time.sleep(0.005)
        proc.send_signal(sig)
        return proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("when", ["importing", "serving"])
def test_ctrl_c_stops_the_app_with_one_line_and_by_the_signal(tmp_path: Path, when: str) -> None:
    """A Ctrl-C while Gradio imported (the first seconds) or once uvicorn served printed a 30-line traceback."""
    import signal

    if when == "importing" and not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to see when the app starts importing Gradio")

    proc = _start_app_without_models(tmp_path)
    out, err = _signalled(proc, signal.SIGINT, after_banner=when == "serving")
    assert proc.returncode == -signal.SIGINT, err  # died of the interrupt, as a shell expects
    if when == "importing":  # it landed before the server started: no banner
        assert "sangsaeng-qa: http" not in out, out
    assert "KeyboardInterrupt" not in err and err.strip().splitlines()[-1] == "sangsaeng-qa: stopped (Ctrl-C)", err


def test_sigterm_stops_the_app_as_ctrl_c_does_after_closing_it(tmp_path: Path) -> None:
    """A SIGTERM (docker stop, systemd, Kubernetes) was re-raised by uvicorn once it had stopped serving: its
    default action ended the process before the service was closed, and nothing said so."""
    import signal

    proc = _start_app_without_models(tmp_path)
    _, err = _signalled(proc, signal.SIGTERM, after_banner=True)
    assert proc.returncode == -signal.SIGTERM, err  # died of the signal, as a supervisor expects
    assert err.strip().splitlines()[-1] == "sangsaeng-qa: stopped (SIGTERM)", err  # said after close() returned


def test_port_0_serves_on_a_free_port_and_the_banner_says_which(tmp_path: Path) -> None:
    """`--port 0` was read as no --port: the app took 7860 (or failed where 7860 was in use)."""
    import signal
    import urllib.error
    import urllib.request

    proc = _start_app_without_models(tmp_path)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)", banner).group(1))
        assert port not in (0, 7860), banner
        deadline = time.monotonic() + 60
        while True:  # the page is served on the port the banner names
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                    assert response.status in (200, 503)
                break
            except urllib.error.HTTPError as exc:
                assert exc.code == 503
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_app_with_a_file_as_its_store_exits_at_once_saying_so(tmp_path: Path) -> None:
    """It served a page whose status said the start-up failed, with a traceback in the log."""
    import os
    import subprocess
    import sys

    from rag.config import PROJECT_ROOT

    notes = tmp_path / "notes.txt"
    notes.write_text("a user's notes", encoding="utf-8")
    env = {**os.environ, "RAG_PATHS__DATA_DIR": str(tmp_path), "RAG_PATHS__CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "app.py", "--port", "0", "--store", str(notes)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "sangsaeng-qa:" not in done.stdout
    assert done.stderr == f"error: the store path {notes} is a file, not a folder: give --store a folder\n"
    assert notes.read_text(encoding="utf-8") == "a user's notes"


class _SlowStart:
    """A pipeline whose embedding model takes as long as the test says, recording what start-up asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.loading = threading.Event()
        self.release = threading.Event()

    def warm_up(self, llm: bool = False) -> None:
        self.calls.append("warm_up(llm)" if llm else "warm_up")
        self.loading.set()
        assert self.release.wait(10)
        self.calls.append("loaded")

    def ask(self, *args, **kwargs):
        self.calls.append("ask")

    def describe(self) -> dict:
        return {"n_docs": 5}

    def close(self) -> None:
        self.calls.append("close")


def test_closing_during_start_up_waits_for_the_step_under_way_and_skips_the_rest() -> None:
    """A Ctrl-C while a model loaded let the interpreter exit under the loading thread (status 134)."""
    from rag.web.service import ChatService

    pipe = _SlowStart()
    service = ChatService(lambda: pipe, ingest_if_empty=False, load_llm=True)
    service.start(background=True)
    assert pipe.loading.wait(10)
    closer = threading.Thread(target=service.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive() and "close" not in pipe.calls  # it waits for the model being loaded
    pipe.release.set()
    closer.join(10)
    assert not closer.is_alive()
    assert pipe.calls == ["warm_up", "loaded", "close"]  # no warm-up question, no LLM load after it
    assert service.ready and not service.error


def test_health_is_503_when_the_app_cannot_answer(tmp_path: Path) -> None:
    # a load balancer that reads only the status code must stop sending questions to this replica
    def busy_store() -> FakePipeline:
        from rag.store import StoreBusyError

        raise StoreBusyError("the store folder is in use by another process")

    app = create_app(make_settings(tmp_path), busy_store)
    app.state.service.start(background=False)
    health = TestClient(app).get("/health")
    assert health.status_code == 503 and health.json()["status"] == "error"
    assert "in use by another process" in health.json()["detail"]


def test_app_refuses_a_store_folder_beside_a_chroma_server(tmp_path: Path) -> None:
    """--store was silently ignored when RAG_STORE__HOST named a server: the app served the server's store."""
    import os
    import subprocess
    import sys

    from rag.config import PROJECT_ROOT

    mine = tmp_path / "mine"
    env = {**os.environ, "RAG_STORE__HOST": "127.0.0.1", "RAG_PATHS__DATA_DIR": str(tmp_path),
           "RAG_PATHS__CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "app.py", "--port", "0", "--store", str(mine)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "sangsaeng-qa:" not in done.stdout
    assert done.stderr.startswith(f"error: --store {mine} names a store folder, but store.host is set")
    assert done.stderr.count("\n") == 1
