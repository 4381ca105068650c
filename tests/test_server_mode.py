"""Past one machine: a real `chroma run` server on loopback shared by a serving pipeline and an ingest
in another process (what two app replicas and the CLI do), with the ingest lock keyed by server."""

import shutil
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from rag.config import PROJECT_ROOT, load_settings
from rag.pipeline import build_pipeline
from tests.fakes import HashingEmbedder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.is_file():
        pytest.skip("the chroma command (chromadb wheel) is not installed beside this Python")
    port = _free_port()
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path_factory.mktemp("chroma")), "--host",
                             "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("chroma run did not come up")
        yield port
    finally:
        proc.terminate()
        proc.wait(30)


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
