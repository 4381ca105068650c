"""Past one machine: a real `chroma run` server on loopback shared by a serving pipeline and an ingest
in another process (what two app replicas and the CLI do), with the ingest lock keyed by server."""

import json
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import pytest

from rag.config import PROJECT_ROOT, load_settings
from rag.pipeline import build_pipeline
from tests.fakes import HashingEmbedder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    """`chroma run` on loopback, once its heartbeat answers (the tests stop it with stop_chroma)."""
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.is_file():
        pytest.skip("the chroma command (chromadb wheel) is not installed beside this Python")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_chroma(proc)
    pytest.fail("chroma run did not come up")


def stop_chroma(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(30)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = _free_port()
    proc = start_chroma(tmp_path_factory.mktemp("chroma"), port)
    try:
        yield port
    finally:
        stop_chroma(proc)


WORKER = textwrap.dedent("""
    import sys
    from dataclasses import replace
    from pathlib import Path
    from rag.config import load_settings
    from rag.pipeline import build_pipeline
    from tests.fakes import HashingEmbedder
    port, data_dir, corpus = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    s = load_settings(None, env={})
    s = replace(s, paths=replace(s.paths, data_dir=data_dir),
                store=replace(s.store, host="127.0.0.1", port=port, collection="shared", refresh_s=0.0))
    report = build_pipeline(s, embedder=HashingEmbedder()).ingest([corpus])
    print(len(report.added), len(report.deleted), len(report.updated), report.vectors_reused, flush=True)
""")


def test_serving_pipeline_and_an_ingest_process_share_a_chroma_server(chroma_server, tmp_path, seeds_dir, korean):
    corpus = tmp_path / "corpus"
    shutil.copytree(seeds_dir, corpus)
    s = load_settings(None, env={})
    s = replace(s, paths=replace(s.paths, data_dir=tmp_path / "data"),
                store=replace(s.store, host="127.0.0.1", port=chroma_server, collection="shared", refresh_s=0.0))
    serving = build_pipeline(s, embedder=HashingEmbedder(), korean=korean)
    assert len(serving.ingest([corpus]).added) == 5
    assert serving.search("LG이노텍 동반성장 펀드", k=1)[0].chunk.doc_id == "001_d5bd6796c56307a8.txt"
    assert serving.location == f"chroma://127.0.0.1:{chroma_server}/shared"

    (corpus / "new.txt").write_text("삼성전자 상생 펀드\n\n삼성전자는 협력사 펀드를 5천억 원 규모로 운영한다.\n", encoding="utf-8")
    (corpus / "004_3623695115e5a12c.txt").unlink()
    edited = corpus / "001_d5bd6796c56307a8.txt"  # an edit: its unchanged passages keep the server's vectors
    edited.write_text(edited.read_text(encoding="utf-8") + "\n협력사와 함께 새 기금을 만들었다.\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", WORKER, str(chroma_server), str(tmp_path / "data"), str(corpus)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    added, deleted, updated, reused = done.stdout.split()
    assert (added, deleted, updated) == ("1", "1", "1") and int(reused) > 0
    # the serving pipeline notices the other process's commit (generation stamp) without a restart
    assert serving.search("삼성전자 상생 펀드", k=1)[0].chunk.doc_id == "new.txt"
    assert serving.search("새 기금", k=1)[0].chunk.doc_id == "001_d5bd6796c56307a8.txt"
    assert all(h.chunk.doc_id != "004_3623695115e5a12c.txt" for h in serving.search("황창규 회장 KT", k=10))
    assert {a.doc_id for a in serving.list_articles()} == {p.name for p in corpus.glob("*.txt")}
    assert serving.lock_path().parent == tmp_path / "data" / "locks"  # one ingest per server + collection


def test_a_server_store_gets_the_search_breadth_of_the_settings(chroma_server):
    from rag.store import ChromaStore

    s = load_settings(None, env={}).store
    s = replace(s, host="127.0.0.1", port=chroma_server, collection="breadth")
    ChromaStore(replace(s, hnsw_search_ef=100), "a").close()  # a collection made with Chroma's default
    store = ChromaStore(s, "a")
    assert store._chunks.configuration_json["hnsw"]["ef_search"] == s.hnsw_search_ef == 400
    store.close()


def test_a_store_whose_server_went_away_says_how_to_start_it_and_recovers(tmp_path):
    from rag.store import ChromaStore, StoreError

    port = _free_port()
    proc = start_chroma(tmp_path / "chroma", port)
    s = replace(load_settings(None, env={}).store, host="127.0.0.1", port=port, collection="gone")
    store = ChromaStore(s, "a")
    try:
        stop_chroma(proc)
        unreachable = f"cannot reach the Chroma server at 127.0.0.1:{port} .*start it with `chroma run"
        for call in (store.count, store.state, store.articles, store.chunk_ids,
                     lambda: store.query(np.ones(4, dtype=np.float32), 3), lambda: store.chunks(["x"])):
            with pytest.raises(StoreError, match=unreachable):
                call()
        proc = start_chroma(tmp_path / "chroma", port)  # back on its path: the same store object answers
        assert store.count() == 0 and store.articles() == {}
        stop_chroma(proc)
        proc = start_chroma(tmp_path / "empty", port)  # back on an empty path: the collection is gone
        with pytest.raises(StoreError, match="collection 'gone' is missing from the Chroma server"):
            store.count()
    finally:
        store.close()
        stop_chroma(proc)


def test_the_api_answers_503_with_the_store_message_while_the_chroma_server_is_down(tmp_path, korean):
    from fastapi.testclient import TestClient

    from tests.realapp import real_app, real_pipeline, real_settings

    port = _free_port()
    proc = start_chroma(tmp_path / "chroma", port)
    s = real_settings(tmp_path)
    s = replace(s, store=replace(s.store, host="127.0.0.1", port=port, collection="api"))
    try:
        app = real_app(s, real_pipeline(s, korean))
        service, http = app.state.service, TestClient(app)
        ask = {"question": "LG이노텍의 동반성장 펀드 규모는?", "mode": "extractive"}
        chat = {"messages": [{"role": "user", "content": ask["question"]}], "mode": "extractive"}
        assert http.post("/api/ask", json=ask).status_code == 200
        stop_chroma(proc)

        message = f"cannot reach the Chroma server at 127.0.0.1:{port}"
        for response in (http.post("/api/ask", json=ask), http.post("/v1/chat/completions", json=chat),
                         http.get("/api/search", params={"q": "동반성장 펀드"})):
            assert response.status_code == 503, response.text
            error = response.json()["error"]
            assert error["type"] == "unavailable" and message in error["message"] and "chroma run" in error["message"]
        streamed = http.post("/v1/chat/completions", json={**chat, "stream": True}).text
        events = [json.loads(line[6:]) for line in streamed.splitlines() if line.startswith("data: {")]
        assert events[-1]["error"]["type"] == "unavailable" and message in events[-1]["error"]["message"]
        service._describe_now()  # what /health's background refresh does every few seconds
        health = http.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "error"
        assert message in health.json()["detail"]

        proc = start_chroma(tmp_path / "chroma", port)  # back: answers and /health recover by themselves
        assert http.post("/api/ask", json=ask).status_code == 200
        service._describe_now()
        health = http.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
    finally:
        stop_chroma(proc)


def test_cli_ingest_whose_chroma_server_dies_mid_run_is_a_one_line_error(tmp_path, seeds_dir, korean, monkeypatch,
                                                                         capsys):
    import rag.__main__ as cli
    from rag.store import ChromaStore

    port = _free_port()
    proc = start_chroma(tmp_path / "chroma", port)
    for key, value in {"RAG_STORE__HOST": "127.0.0.1", "RAG_STORE__PORT": str(port),
                       "RAG_PATHS__DATA_DIR": str(tmp_path / "data")}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(cli, "_pipeline", lambda s, args=None: build_pipeline(s, embedder=HashingEmbedder(), korean=korean))
    add_chunks = ChromaStore.add_chunks

    def server_dies_first(self, *args, **kwargs):  # the server goes away after the store opened
        stop_chroma(proc)
        return add_chunks(self, *args, **kwargs)

    monkeypatch.setattr(ChromaStore, "add_chunks", server_dies_first)
    try:
        assert cli.main(["ingest", "--quiet", str(seeds_dir)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: cannot reach the Chroma server at 127.0.0.1:{port}") and err.count("\n") == 1
        assert "start it with `chroma run" in err
    finally:
        stop_chroma(proc)
