"""Passages from an OpenAI-compatible /v1/embeddings server: the check before mixing, clear failures.

Fast tests run a small real HTTP server on loopback that answers with the hashing fake's vectors
(or wrong ones, or nothing); the slow test serves the real e5 through llama.cpp's server.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import numpy as np
import pytest

from rag.config import EmbeddingSettings
from rag.embedder_base import EmbeddingModelError, EmbeddingServerError
from rag.embedding_server import CHECK_TEXTS, ServerEmbedder
from tests.fakes import HashingEmbedder, SilentServer
from tests.servers import free_port, llama_cpp_server

LOCAL = HashingEmbedder()


class LoopbackServer:
    """A real HTTP server on 127.0.0.1 whose /v1/embeddings answer is `answer(texts)` -> (status, body);
    status None: the connection is closed without an answer (a server that died on the request)."""

    def __init__(self, answer: Callable[[list[str]], tuple[int, object]]) -> None:
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                status, payload = answer(body["input"])
                if status is None:
                    self.close_connection = True
                    return
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def openai_body(vectors: np.ndarray) -> dict:
    # rows deliberately out of order: clients must sort by "index"
    rows = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
    return {"object": "list", "data": rows[::-1], "model": "e5"}


def same_model(texts: list[str]) -> tuple[int, object]:
    # the fake's local vectors ignore roles, so the "server" drops the prefix the client sent;
    # scaled: some servers answer unnormalized vectors
    return 200, openai_body(LOCAL._embed([t.removeprefix("passage: ") for t in texts]) * 3.0)


def settings_for(base_url: str, **changes) -> EmbeddingSettings:
    fields = {"backend": "openai", "base_url": base_url, "server_model": "e5", "timeout_s": 5.0,
              "server_batch_size": 4, **changes}
    return replace(EmbeddingSettings(), **fields)


def test_a_server_with_the_same_model_embeds_passages_in_batches():
    with LoopbackServer(same_model) as server:
        embedder = ServerEmbedder(LOCAL, settings_for(server.base_url, api_key="secret"))
        assert embedder.min_cosine > 0.999  # the check, once, before the passages
        server.requests.clear()
        texts = [f"상생협력 기사 {i}번" for i in range(10)]
        vectors = embedder.embed_passages(texts)
    assert np.allclose(vectors, LOCAL.embed_passages(texts), atol=1e-6)
    assert [len(r["body"]["input"]) for r in server.requests] == [4, 4, 2]
    first = server.requests[0]
    assert first["path"] == "/v1/embeddings" and first["auth"] == "Bearer secret"
    assert first["body"]["model"] == "e5" and first["body"]["input"][0] == "passage: 상생협력 기사 0번"
    assert embedder.name == LOCAL.name and embedder.dimension == LOCAL.dimension
    assert embedder.min_cosine > 0.999


def test_queries_and_token_counts_never_call_the_server():
    with LoopbackServer(same_model) as server:
        embedder = ServerEmbedder(LOCAL, settings_for(server.base_url))
        server.requests.clear()
        embedder.embed_queries(["상생협력 사례는?"])
        embedder.count_tokens("상생협력")
    assert server.requests == []


def test_a_server_with_another_model_is_refused_before_any_passage_is_embedded():
    def other_model(texts: list[str]) -> tuple[int, object]:
        return 200, openai_body(LOCAL._embed([t[::-1] + "다른 모델" for t in texts]))

    with LoopbackServer(other_model) as server:
        with pytest.raises(EmbeddingServerError, match="does not reproduce the local model") as error:
            ServerEmbedder(LOCAL, settings_for(server.base_url)).embed_passages(["상생협력 기사"])
    assert [r["body"]["input"] for r in server.requests] == [["passage: " + t for t in CHECK_TEXTS[:4]],
                                                            ["passage: " + t for t in CHECK_TEXTS[4:]]]
    assert "\n" not in str(error.value)


def test_a_dead_server_is_one_clear_line():
    with pytest.raises(EmbeddingServerError, match="cannot reach") as error:
        ServerEmbedder(LOCAL, settings_for(f"http://127.0.0.1:{free_port()}/v1")).embed_passages(["기사"])
    assert "\n" not in str(error.value)
    assert isinstance(error.value, EmbeddingModelError)  # the CLI and the app already translate these


def test_a_server_that_dies_on_a_large_batch_is_told_from_one_that_is_not_there():
    def dies_on_large_batches(texts: list[str]) -> tuple[int | None, object]:
        return (None, None) if len(texts) > len(CHECK_TEXTS) else same_model(texts)

    with LoopbackServer(dies_on_large_batches) as server:
        embedder = ServerEmbedder(LOCAL, settings_for(server.base_url, server_batch_size=8))
        assert embedder.min_cosine > 0.999  # the check passes
        with pytest.raises(EmbeddingServerError, match="closed the connection without an answer to a batch of 8 "
                                                       "texts") as error:
            embedder.embed_passages([f"기사 {i}" for i in range(8)])
    assert "RAG_EMBEDDING__SERVER_BATCH_SIZE" in str(error.value) and "\n" not in str(error.value)


def test_a_server_that_never_answers_times_out():
    with SilentServer() as port:
        with pytest.raises(EmbeddingServerError, match="did not answer within 1 s"):
            ServerEmbedder(LOCAL, settings_for(f"http://127.0.0.1:{port}/v1", timeout_s=1.0)).embed_passages(["기사"])


@pytest.mark.parametrize("answer, message", [
    (lambda texts: (500, "model not loaded"), "answered HTTP 500: model not loaded"),
    (lambda texts: (200, "<html>not json</html>"), "did not answer like an OpenAI"),
    (lambda texts: (200, {"data": [{"index": 0, "embedding": [0.1, 0.2]}]}), "returned vectors of shape"),
])
def test_a_broken_answer_is_one_clear_line(answer, message):
    with LoopbackServer(answer) as server:
        with pytest.raises(EmbeddingServerError, match=message) as error:
            ServerEmbedder(LOCAL, settings_for(server.base_url)).embed_passages(["기사"])
    assert "\n" not in str(error.value)


def test_no_base_url_names_the_setting():
    with pytest.raises(EmbeddingServerError, match="RAG_EMBEDDING__BASE_URL"):
        ServerEmbedder(LOCAL, replace(EmbeddingSettings(), backend="openai"))


# ---------------------------------------------------------------- questions never need the server


def app_settings(tmp_path):
    from rag.config import load_settings

    return load_settings(None, env={"RAG_STORE__DIR": str(tmp_path / "store"), "RAG_PATHS__DATA_DIR": str(tmp_path),
                                    "RAG_GENERATION__BACKEND": "extractive"})


QUESTION = "LG이노텍의 동반성장 펀드 규모는?"


def test_a_server_that_stops_after_ingest_is_not_needed_to_answer_or_search(seeds_dir, korean, tmp_path):
    from rag.pipeline import build_pipeline

    with LoopbackServer(same_model) as server:
        pipe = build_pipeline(app_settings(tmp_path), embedder=ServerEmbedder(LOCAL, settings_for(server.base_url)),
                              korean=korean)
        assert pipe.ingest([seeds_dir]).added
        sent = len(server.requests)
    # the server is gone: search, evidence ranking (sentence relevance) and the answer are all local
    hits = pipe.search("LG이노텍 동반성장 펀드 규모", k=3)
    answer = pipe.ask(QUESTION)
    assert hits and "1,030억" in answer.text and answer.citations
    assert len(server.requests) == sent


def test_an_app_started_while_the_server_is_down_answers_and_only_ingest_fails(seeds_dir, korean, tmp_path):
    from rag.pipeline import build_pipeline

    with LoopbackServer(same_model) as server:  # an earlier ingest, through the server
        build_pipeline(app_settings(tmp_path), embedder=ServerEmbedder(LOCAL, settings_for(server.base_url)),
                       korean=korean).ingest([seeds_dir])
    # started later, with nothing listening: built (no request yet), warmed up, answering
    down = ServerEmbedder(LOCAL, settings_for(f"http://127.0.0.1:{free_port()}/v1"))
    pipe = build_pipeline(app_settings(tmp_path), embedder=down, korean=korean)
    answer = pipe.ask(QUESTION)
    assert "1,030억" in answer.text and answer.citations
    assert pipe.search("LG이노텍 동반성장 펀드 규모", k=3)
    # ingest still goes through the server, and needs it: one clear line, nothing embedded locally
    new = tmp_path / "new"
    new.mkdir()
    (new / "900_new.txt").write_text("새 기사\n\nKT는 협력사 300곳과 상생 협약을 맺었다고 밝혔다.\n", encoding="utf-8")
    with pytest.raises(EmbeddingServerError, match="cannot reach") as error:
        pipe.ingest([new])
    assert "\n" not in str(error.value)


def test_ingest_checks_the_server_before_its_first_passage():
    with LoopbackServer(same_model) as server:
        embedder = ServerEmbedder(LOCAL, settings_for(server.base_url))
        assert server.requests == []  # building it asks nothing
        embedder.embed_passages(["상생협력 기사"])
        embedder.embed_passages(["다른 기사"])
    checked = [r for r in server.requests if r["body"]["input"][0] == "passage: " + CHECK_TEXTS[0]]
    assert len(checked) == 1 and server.requests[-1]["body"]["input"] == ["passage: 다른 기사"]


def test_unknown_backend_names_the_setting(tmp_path):
    from rag.embedding import load_embedder

    with pytest.raises(EmbeddingModelError, match="RAG_EMBEDDING__BACKEND"):
        load_embedder(replace(EmbeddingSettings(), backend="grpc"), tmp_path)


# ---------------------------------------------------------------- a real server (slow)


@pytest.fixture(scope="module")
def e5_server(model_cache, tmp_path_factory):
    """llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) serving our e5 as GGUF on loopback."""
    pytest.importorskip("llama_cpp.server")
    from rag.e5_gguf import materialize_e5_gguf

    args = ("--embedding", "true", "--n_ctx", "512", "--n_batch", "512", "--n_ubatch", "512", "--n_threads", "2",
            "--model_alias", "e5")
    with llama_cpp_server(materialize_e5_gguf(model_cache), tmp_path_factory.mktemp("e5-server"), *args) as base:
        yield base


@pytest.mark.slow
def test_ingest_through_a_real_embeddings_server_then_search_locally(e5_server, real_embedder, model_cache,
                                                                    seeds_dir, korean, tmp_path):
    from rag.config import load_settings
    from rag.embedding import load_embedder
    from rag.pipeline import build_pipeline

    settings = replace(EmbeddingSettings(), backend="openai", base_url=e5_server, server_model="e5",
                       server_batch_size=8, timeout_s=120)
    server = load_embedder(settings, model_cache)
    assert server.min_cosine >= 0.99  # the server reproduces the local model (checked on first use)
    assert server.name == real_embedder.name  # its vectors may share a store with local ones

    # a passage longer than the model's limit is cut client-side exactly where the local model cuts it
    long_text = "상생협력 기금과 동반성장 지수를 설명하는 긴 기사. " * 80
    assert float(server.embed_passages([long_text])[0] @ real_embedder.embed_passages([long_text])[0]) >= 0.99

    app = load_settings(None, env={"RAG_STORE__DIR": str(tmp_path / "store"), "RAG_PATHS__DATA_DIR": str(tmp_path)})
    report = build_pipeline(app, embedder=server, korean=korean).ingest([seeds_dir])
    assert report.added
    # the search side never talks to the server: a plain local pipeline on the same store
    hits = build_pipeline(app, embedder=real_embedder, korean=korean).search("LG이노텍 동반성장 펀드 규모", k=3)
    assert hits and hits[0].chunk.doc_id == "001_d5bd6796c56307a8.txt"
