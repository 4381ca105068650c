"""Bounds on every request and on the work behind it, over real HTTP against the app on a loopback
port: body size (declared and streamed), history size, the answer gate (503 + Retry-After), a hung
LLM server, and the small ones (lone surrogates, 405, /v1 fallback notices)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import anyio
import httpx
import pytest

from rag.types import Event
from rag.web.bounds import BoundsError, RequestBounds
from rag.web.gate import AnswerGate, Busy
from rag.web.server import create_app
from tests.loopback import HungServer, raw_request
from test_app import FakePipeline, LiveServer, fake, make_settings  # noqa: F401 (fake: the fixture)

QUESTION = "LG이노텍의 동반성장 펀드 규모는?"
BODY_LIMIT = 2_000_000  # above the longest conversation the 400 tests send, far below 200 MB


def serve(tmp_path: Path, pipe, **app: object) -> LiveServer:
    created = create_app(make_settings(tmp_path, allowed_hosts=(), **app), lambda: pipe)
    created.state.service.start(background=False)
    pipe_calls = getattr(created.state.service.pipe, "calls", None)
    if pipe_calls is not None:
        pipe_calls.clear()  # start-up asks one warm-up question: tests count only their own
    return LiveServer(created)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One app for the tests that do not change settings: starting one costs ~2 s."""
    from rag.config import PROJECT_ROOT

    pipe = FakePipeline.from_folder(PROJECT_ROOT / "seeds")
    server = serve(tmp_path_factory.mktemp("web"), pipe, max_body_bytes=BODY_LIMIT)
    server.fake = pipe  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def live(shared: LiveServer) -> LiveServer:
    shared.fake.calls.clear()  # type: ignore[attr-defined]
    return shared


# --- body size ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions", "/gradio_api/queue/join"])
def test_declared_oversized_body_is_refused_unread(live: LiveServer, path: str) -> None:
    size = 200 * 1024 * 1024
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    status, _ = raw_request(live.port, head, iter([b'{"question": "' + b"a" * 65536]))
    assert status == 413
    assert not live.fake.calls


@pytest.mark.parametrize("path", ["/api/ask", "/gradio_api/queue/join"])
def test_streamed_oversized_body_is_cut_off(live: LiveServer, path: str) -> None:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    piece = b"a" * 16384
    chunks = iter([b"%x\r\n%s\r\n" % (len(piece), piece)] * 2000)  # 32 MB if nobody stopped it
    status, _ = raw_request(live.port, head, chunks)
    assert status == 413
    assert not live.fake.calls


def test_a_body_under_the_limit_is_answered(live: LiveServer) -> None:
    body = {"question": QUESTION, "history": [{"role": "user", "content": "가" * 3000}]}
    assert httpx.post(live.url + "/api/ask", json=body, timeout=10).status_code == 200


# --- conversation bounds ----------------------------------------------------------------------------------


def test_request_bounds_name_the_limit() -> None:
    from rag.types import Turn

    bounds = RequestBounds(max_message_chars=10, max_history_turns=3, max_history_chars=25)
    bounds.check_history([Turn("user", "a" * 10)] * 2)
    with pytest.raises(BoundsError, match="max_history_turns"):
        bounds.check_history([Turn("user", "a")] * 4)
    with pytest.raises(BoundsError, match="max_message_chars"):
        bounds.check_history([Turn("user", "a" * 11)])
    with pytest.raises(BoundsError, match="max_history_chars"):
        bounds.check_history([Turn("user", "a" * 10)] * 3)
    with pytest.raises(BoundsError, match=r"\(app.max_message_chars\)"):
        bounds.check_text("a" * 11, "answer.answer")
    with pytest.raises(BoundsError, match=r"\(app.max_question_chars\)"):
        bounds.check_text("a" * 11, "answer.question", 10, "app.max_question_chars")


@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/ask", {"question": QUESTION, "history": [{"role": "user", "content": "가" * 4001}]}),
        ("/api/ask", {"question": QUESTION, "history": [{"role": "user", "content": "가"}] * 41}),
        ("/api/ask", {"question": QUESTION, "history": [{"role": "assistant", "content": "가" * 3000}] * 6}),
        ("/v1/chat/completions", {"messages": [{"role": "assistant", "content": "가" * 200_000}, {"role": "user", "content": QUESTION}]}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": "가"}] * 60 + [{"role": "user", "content": QUESTION}]}),
        ("/v1/chat/completions", {"messages": [{"role": "system", "content": "x"}] * 50 + [{"role": "user", "content": QUESTION}]}),
        ("/api/ask", {"question": "가" * 2001}),
    ],
)
def test_oversized_conversations_get_a_400_before_any_work(live: LiveServer, path: str, body: dict) -> None:
    assert len(json.dumps(body)) < BODY_LIMIT  # refused for its conversation, not its size
    response = httpx.post(live.url + path, json=body, timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "app.max_" in response.json()["error"]["message"]  # it names the setting to raise (README)
    assert not live.fake.calls


# --- small ones -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path,raw",
    [
        ("/api/ask", b'{"question": "\\ud800 LG"}'),
        ("/api/ask", b'{"question": "LG", "history": [{"role": "user", "content": "\\udfff"}]}'),
        ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "\\ud800"}]}'),
        ("/api/feedback", b'{"vote": "up", "answer": {"question": "\\ud800", "answer": "a"}}'),
    ],
)
def test_lone_surrogate_is_a_400(live: LiveServer, path: str, raw: bytes) -> None:
    response = httpx.post(live.url + path, content=raw, headers={"content-type": "application/json"}, timeout=10)
    assert response.status_code == 400 and "surrogate" in response.json()["error"]["message"]
    assert not live.fake.calls


def test_a_surrogate_pair_is_just_an_emoji(live: LiveServer) -> None:
    raw = '{"question": "LG이노텍의 동반성장 펀드 규모는? \\ud83d\\ude00"}'.encode()
    assert httpx.post(live.url + "/api/ask", content=raw, headers={"content-type": "application/json"}, timeout=10).status_code == 200


@pytest.mark.parametrize(
    "method,path,allow",
    [("GET", "/api/ask", "POST"), ("DELETE", "/api/ask", "POST"), ("PUT", "/v1/chat/completions", "POST"), ("POST", "/health", "GET")],
)
def test_disallowed_methods_get_the_405_shape(live: LiveServer, method: str, path: str, allow: str) -> None:
    response = httpx.request(method, live.url + path, timeout=10)
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "method_not_allowed" and allow in response.headers["allow"]


@pytest.mark.parametrize(
    "method,path",
    [("GET", "/v1/x"), ("POST", "/api/x"), ("GET", "/api/ask/more"), ("DELETE", "/v1/chat/completions/1")],
)
def test_unknown_api_routes_get_the_404_shape(live: LiveServer, method: str, path: str) -> None:
    """Gradio, mounted at "/", would answer {"detail": "Not Found"}; an API client reads our shape."""
    response = httpx.request(method, live.url + path, timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found" and path in response.json()["error"]["message"]


def test_a_partner_page_can_read_the_errors_the_asgi_layer_sends(tmp_path: Path, fake: FakePipeline) -> None:
    # without Access-Control-Allow-Origin the partner page's script sees a network error, not the JSON
    server = serve(tmp_path, fake, max_body_bytes=1000)
    origin = {"Origin": "http://allowed.example:8080"}
    pieces = (b"x" * 500 for _ in range(10))  # a chunked body, cut off where it passes 1000 bytes
    try:
        responses = {
            405: httpx.put(server.url + "/api/ask", headers=origin, timeout=10),
            404: httpx.get(server.url + "/api/nope", headers=origin, timeout=10),
            413: httpx.post(server.url + "/api/ask", content=b"x" * 2000, headers=origin, timeout=10),
            "413 streamed": httpx.post(server.url + "/api/ask", content=pieces, headers=origin, timeout=10),
        }
        other = httpx.put(server.url + "/api/ask", headers={"Origin": "http://evil.example"}, timeout=10)
    finally:
        server.stop()
    for status, response in responses.items():
        assert response.status_code == int(str(status)[:3]) and response.json()["error"]["code"] == response.status_code
        assert response.headers.get("access-control-allow-origin") == origin["Origin"], status
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers


def test_a_model_is_retrieved_as_openai_clients_ask_for_it(live: LiveServer) -> None:
    listed = httpx.get(live.url + "/v1/models", timeout=10).json()["data"]
    for entry in listed:
        assert httpx.get(f"{live.url}/v1/models/{entry['id']}", timeout=10).json() == entry
    response = httpx.get(live.url + "/v1/models/gpt-4", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "model_not_found" and "sangsaeng-qa" in response.json()["error"]["message"]


class WritingPipeline(FakePipeline):
    """In LLM mode, a model that writes one long sentence (`pieces` pieces, 20 ms each) held for
    verification, as the answerer streams it: a `progress` event per piece, no token until it ends."""

    def __init__(self, *args, pieces: int = 1000, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pieces, self.written = pieces, 0
        self.closed = threading.Event()

    def stream(self, question, history=(), mode=None, k=None, filters=None):
        if mode != "llm":  # the start-up warm-up question
            yield from super().stream(question, history, mode, k, filters)
            return
        try:
            yield Event("status", "검색 중…")
            yield Event("draft", text="초안 [1]")
            for _ in range(self.pieces):
                time.sleep(0.02)
                self.written += 1
                yield Event("progress")
            yield Event("token", text="끝.")
        finally:
            self.closed.set()


def test_a_client_that_leaves_a_stream_stops_the_model(tmp_path: Path) -> None:
    from rag.config import PROJECT_ROOT

    pipe = WritingPipeline.from_folder(PROJECT_ROOT / "seeds")
    server = serve(tmp_path, pipe)
    try:
        body = {"model": "sangsaeng-qa-llm", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
        with httpx.stream("POST", server.url + "/v1/chat/completions", json=body, timeout=30) as response:
            assert response.status_code == 200
            next(line for line in response.iter_lines() if '"draft"' in line)
        # the client has gone mid-sentence: the model stops within a piece, not after all 1000 (20 s)
        assert pipe.closed.wait(10), f"the model went on writing: {pipe.written} pieces"
        assert pipe.written < pipe.pieces
        gate = server_gate(server)
        deadline = time.monotonic() + 10
        while gate.admitted and time.monotonic() < deadline:  # the slot comes back right after the close
            time.sleep(0.01)
        assert gate.admitted == 0
    finally:
        server.stop()


class NoticePipeline(FakePipeline):
    """Every answer is a fallback: the LLM's text failed verification, the extractive answer is shown."""

    NOTICE = "LLM 답변을 검증하지 못해 추출 답변을 보여 줍니다."

    def stream(self, *args, **kwargs):  # type: ignore[override]
        for event in super().stream(*args, **kwargs):
            if event.kind == "final" and event.answer is not None:
                event = Event("final", answer=replace(event.answer, notice=self.NOTICE, notice_code="llm_unverified"))
            yield event


def test_a_v1_fallback_answer_carries_its_notice(tmp_path: Path, fake: FakePipeline) -> None:
    server = serve(tmp_path, NoticePipeline(list(fake.articles.values())))
    body = {"model": "sangsaeng-qa-llm", "messages": [{"role": "user", "content": QUESTION}]}
    try:
        data = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=10).json()
        with httpx.stream("POST", server.url + "/v1/chat/completions", json={**body, "stream": True}, timeout=10) as response:
            lines = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    finally:
        server.stop()
    content = data["choices"][0]["message"]["content"]
    assert "1,030억" in content and content.endswith(NoticePipeline.NOTICE)  # what a plain OpenAI client shows
    assert data["notice"] == NoticePipeline.NOTICE and NoticePipeline.NOTICE not in data["answer"]
    # the kind of notice, for a client that shows its own words (rag.types.NOTICES)
    assert data["notice_code"] == data["choices"][0]["message"]["notice_code"] == "llm_unverified"
    chunks = [json.loads(line) for line in lines[:-1]]
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert streamed.endswith(NoticePipeline.NOTICE) and chunks[-1]["notice"] == NoticePipeline.NOTICE
    assert chunks[-1]["notice_code"] == "llm_unverified"


# --- the answer gate ------------------------------------------------------------------------------------


def test_gate_admits_concurrency_plus_queue_then_refuses() -> None:
    gate = AnswerGate(concurrency=1, queue_size=1, timeout_s=0.2)
    first = gate.admit()
    first.take_slot()
    second = gate.admit()  # a queue place...
    with pytest.raises(Busy) as busy:
        gate.admit()  # ...and no more
    assert busy.value.retry_after >= 1
    with pytest.raises(Busy):
        second.take_slot()  # the slot stays taken past the queue timeout
    second.release()
    first.release()
    first.release()  # idempotent: a second release does not free a slot someone else holds
    assert gate.admitted == 0
    with gate.hold():
        assert gate.admitted == 1
    assert gate.admitted == 0


def test_gate_run_waits_on_the_loop_and_caps_parallel_work() -> None:
    gate = AnswerGate(concurrency=2, queue_size=10, timeout_s=10)
    active, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(gate.run, work)

    anyio.run(main)
    assert peak[0] == 2 and gate.admitted == 0


def test_answers_beyond_the_queue_get_503_and_health_stays_up(tmp_path: Path, fake: FakePipeline) -> None:
    server = serve(tmp_path, fake, concurrency=2, queue_size=1)
    fake.gate = threading.Event()  # every answer hangs until released
    results: list[httpx.Response] = []

    def ask() -> None:
        results.append(httpx.post(server.url + "/api/ask", json={"question": QUESTION}, timeout=30))

    askers = [threading.Thread(target=ask) for _ in range(3)]
    try:
        for t in askers:
            t.start()
        deadline = time.monotonic() + 10
        while server_gate(server).admitted < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        busy = httpx.post(server.url + "/api/ask", json={"question": QUESTION}, timeout=10)
        stream_busy = httpx.post(server.url + "/v1/chat/completions", json={"stream": True, "messages": [{"role": "user", "content": QUESTION}]}, timeout=10)
        health = httpx.get(server.url + "/health", timeout=5)
    finally:
        fake.gate.set()
        for t in askers:
            t.join(30)
        server.stop()
    assert busy.status_code == 503 and busy.json()["error"]["type"] == "busy" and int(busy.headers["retry-after"]) >= 1
    assert stream_busy.status_code == 503
    assert health.status_code == 200 and health.json()["ready"] is True
    assert sorted(r.status_code for r in results) == [200, 200, 200]  # the queued one was served, not dropped
    assert len(fake.calls) == 3


def server_gate(server: LiveServer) -> AnswerGate:
    return server.server.config.app.state.gate


def test_the_chat_page_shares_the_gate(tmp_path: Path, fake: FakePipeline) -> None:
    """A question through Gradio is refused while HTTP answers hold every slot and queue place."""
    from gradio_client import Client

    server = serve(tmp_path, fake, concurrency=1, queue_size=0)
    fake.gate = threading.Event()
    holder = threading.Thread(target=lambda: httpx.post(server.url + "/api/ask", json={"question": QUESTION}, timeout=30))
    try:
        holder.start()
        deadline = time.monotonic() + 10
        while server_gate(server).admitted < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        client = Client(server.url + "/", verbose=False)
        with pytest.raises(Exception, match="요청이 많습니다"):
            client.predict(QUESTION, "extractive", 5, api_name="/ask")
        client.close()
    finally:
        fake.gate.set()
        holder.join(30)
        server.stop()


def test_the_gradio_endpoint_refuses_a_question_over_the_limit_instead_of_cutting_it(tmp_path: Path, fake: FakePipeline) -> None:
    from gradio_client import Client

    server = serve(tmp_path, fake, max_question_chars=100)
    long_question = QUESTION + " 협력사" * 40  # the limit falls in the middle: a cut question asks something else
    try:
        client = Client(server.url + "/", verbose=False)
        with pytest.raises(Exception, match=r"at most 100 \(app.max_question_chars\)"):
            client.predict(long_question, "extractive", 5, api_name="/ask")
        client.close()
    finally:
        server.stop()
    assert not [c for c in fake.calls if c[0].startswith(QUESTION)]  # nothing was answered


# --- a hung LLM server ----------------------------------------------------------------------------------


def test_hung_llm_server_holds_only_the_gate_and_health_stays_up(tmp_path: Path, seeds_dir: Path) -> None:
    """48 questions against an LLM server that never answers: `concurrency` of them reach it, the
    queue holds `queue_size`, the rest get 503 at once, and /health keeps answering meanwhile."""
    from rag.corpus import load_corpus
    from rag.pipeline import build_pipeline
    from tests.fakes import HashingEmbedder

    hung = HungServer()
    settings = make_settings(tmp_path, allowed_hosts=(), concurrency=4, queue_size=8)
    settings = replace(
        settings,
        store=replace(settings.store, dir=tmp_path / "store"),
        generation=replace(settings.generation, backend="openai", base_url=hung.url, server_model="m", timeout_s=60.0),
    )
    pipe = build_pipeline(settings, embedder=HashingEmbedder())
    pipe.ingest_articles(load_corpus([seeds_dir]).articles)
    app = create_app(settings, lambda: pipe)
    app.state.service.start(background=True)
    app.state.service.wait_ready(60)
    server = LiveServer(app)
    deadline = time.monotonic() + 30
    while not hung.accepted and time.monotonic() < deadline:  # the LLM warm-up connects first (and hangs too)
        time.sleep(0.05)
    warm_up = len(hung.accepted)
    codes: list[int] = []
    health_codes: list[int] = []

    def ask() -> None:
        body = {"question": QUESTION, "mode": "llm"}
        codes.append(httpx.post(server.url + "/api/ask", json=body, timeout=120).status_code)

    askers = [threading.Thread(target=ask) for _ in range(48)]
    try:
        for t in askers:
            t.start()
        deadline = time.monotonic() + 60
        while (len(hung.accepted) < warm_up + 4 or len(codes) < 36) and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(10):
            health_codes.append(httpx.get(server.url + "/health", timeout=5).status_code)
        reached = len(hung.accepted) - warm_up
        refused_early = list(codes)
    finally:
        hung.close()  # the LLM "dies": the stuck answers fall back to extractive and finish
        for t in askers:
            t.join(120)
        server.stop()
        pipe.close()
    assert reached == 4  # never more answers at the LLM than app.concurrency
    assert refused_early == [503] * 36  # 48 - (4 slots + 8 queue places), refused at once
    assert health_codes == [200] * 10
    assert sorted(codes) == [200] * 12 + [503] * 36  # the admitted ones were answered after all


class AnsweringPipeline(WritingPipeline):
    """The writing model of WritingPipeline, with the final answer at its end (as the answerer's stream)."""

    def stream(self, question, history=(), mode=None, k=None, filters=None):
        if mode != "llm":
            yield from super().stream(question, history, mode, k, filters)
            return
        yield from super().stream(question, history, mode, k, filters)
        yield from (e for e in FakePipeline.stream(self, question, history, "extractive", k, filters) if e.kind == "final")


@pytest.mark.parametrize("path, body", [
    ("/api/ask", {"question": QUESTION, "mode": "llm"}),
    ("/v1/chat/completions", {"model": "sangsaeng-qa-llm", "messages": [{"role": "user", "content": QUESTION}]}),
])
def test_a_client_that_gives_up_on_a_plain_answer_stops_the_model(tmp_path: Path, path: str, body: dict) -> None:
    """A client-side timeout on a request that is not streamed: the model stops and the slot comes back."""
    from rag.config import PROJECT_ROOT

    pipe = AnsweringPipeline.from_folder(PROJECT_ROOT / "seeds")
    server = serve(tmp_path, pipe)
    try:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(server.url + path, json=body, timeout=httpx.Timeout(10, read=1.0))
        assert pipe.closed.wait(10), f"the model went on writing: {pipe.written} pieces"
        assert pipe.written < pipe.pieces
        gate = server_gate(server)
        deadline = time.monotonic() + 10
        while gate.admitted and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gate.admitted == 0
        # a client that waits gets its whole answer
        pipe.pieces = 5
        done = httpx.post(server.url + path, json=body, timeout=30)
        assert done.status_code == 200 and "1,030억" in json.dumps(done.json(), ensure_ascii=False)
    finally:
        server.stop()


class EagerlyRefusingPipeline(FakePipeline):
    """A pipeline whose `stream` checks the question before returning its generator, as
    rag.pipeline.Pipeline does, and refuses it (its own limit is lower than the app's)."""

    def stream(self, question, history=(), mode=None, k=None, filters=None):  # type: ignore[override]
        from rag.question import QuestionError

        self.calls.append((question, tuple(history), mode, k))
        raise QuestionError("질문이 너무 깁니다. (The question is too long.)")


def test_a_stream_refused_before_it_starts_frees_its_slot(tmp_path: Path, fake: FakePipeline) -> None:
    """With one slot and no queue, a streamed request the pipeline refuses up front is a 400 — and the
    next request is answered, not told the server is busy by a slot nobody released."""
    pipe = EagerlyRefusingPipeline(list(fake.articles.values()))
    server = serve(tmp_path, pipe, concurrency=1, queue_size=0)
    body = {"stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    try:
        first = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=10)
        second = httpx.post(server.url + "/v1/chat/completions", json=body, timeout=10)
        admitted = server_gate(server).admitted
    finally:
        server.stop()
    assert first.status_code == 400 and "너무 깁니다" in first.json()["error"]["message"]
    assert second.status_code == 400  # not 503 busy
    assert admitted == 0
