import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rag.config import PROJECT_ROOT, StoreSettings
from rag.store import ChromaStore, StoreBusyError, StoreError, StoreMismatchError, StoreState, drop_store, where_clause
from rag.types import Article, Chunk, Filters


def _settings(tmp_path):
    return StoreSettings(dir=tmp_path / "store", collection="test-articles")


def _article(doc="a.txt", text="첫 문장이다. 둘째 문장이다.", h="h1"):
    return Article(doc_id=doc, text=text, title="제목", date="2024-11-28", publisher="중기부", path=f"/x/{doc}", content_hash=h)


def _chunks(article):
    return [
        Chunk(chunk_id=f"{article.doc_id}#0", doc_id=article.doc_id, text=article.text[:7], start=0, end=7, title="제목"),
        Chunk(chunk_id=f"{article.doc_id}#1", doc_id=article.doc_id, text=article.text[8:], start=8, end=len(article.text)),
    ]


def _open(tmp_path, name="model-a", setting="a"):
    store = ChromaStore(_settings(tmp_path), setting)
    store.bind_model(name, 3)
    return store


def test_roundtrip_query_and_reopen(tmp_path):
    store = _open(tmp_path)
    assert store.query(np.array([1.0, 0.0, 0.0]), 5) == []  # an empty store answers, it does not raise
    art = _article()
    store.add_chunks(_chunks(art), np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32), art.content_hash)
    store.put_article(art)
    assert store.query(np.array([0.9, 0.1, 0.0]), 2, where={"doc_id": "none.txt"}) == []
    top = store.query(np.array([0.9, 0.1, 0.0]), 30)  # more than stored: what there is, without a count() first
    assert [c for c, _ in top] == ["a.txt#0", "a.txt#1"] and top[0][1] > 0.9 > top[1][1]
    info = store.put_articles([(art, 2)])[0]
    assert store.articles() == {"a.txt": info}  # put_articles returns the records as they read back
    sims = store.similarities(np.array([0.0, 1.0, 0.0]), ["a.txt#1"])
    assert sims["a.txt#1"] == pytest.approx(1.0, abs=1e-5)

    store.close()
    reopened = _open(tmp_path)
    assert reopened.doc_hashes() == {"a.txt": ("h1", "/x/a.txt")}
    assert reopened.article("a.txt").text == art.text
    assert reopened.article("a.txt").date == "2024-11-28"
    chunks = reopened.all_chunks()
    assert [c.chunk_id for c in chunks] == ["a.txt#0", "a.txt#1"]
    assert chunks[1].date is None and chunks[0].title == "제목"
    assert art.text[chunks[1].start : chunks[1].end] == chunks[1].text


def test_other_model_is_refused_with_a_rebuild_command(tmp_path):
    _open(tmp_path).close()
    with pytest.raises(StoreMismatchError, match="ingest --rebuild"):
        ChromaStore(_settings(tmp_path), "b")  # another setting: refused before any model loads
    with pytest.raises(StoreMismatchError, match="ingest --rebuild"):
        ChromaStore(_settings(tmp_path), "a").bind_model("model-a-v2", 3)  # same setting, other model
    # a store stamped by older code with the model's name as its setting opens under the setting
    legacy = StoreSettings(dir=tmp_path / "legacy", collection="test-articles")
    old = ChromaStore(legacy, "model-x")
    old.bind_model("model-x", 3)
    old.close()
    ChromaStore(legacy, "x").bind_model("model-x", 3)
    with pytest.raises(StoreMismatchError):
        ChromaStore(_settings(tmp_path), "a").bind_model("model-a", 4)
    drop_store(_settings(tmp_path))
    assert _open(tmp_path, "model-b", "b").count() == 0


def test_article_without_record_is_not_done(tmp_path):
    """An interrupted ingest (chunks stored, article record not) leaves the doc to be redone."""
    store = _open(tmp_path)
    art = _article()
    store.add_chunks(_chunks(art), np.eye(3, dtype=np.float32)[:2], art.content_hash)
    assert store.doc_hashes() == {}
    store.delete_docs(["a.txt"])
    assert store.count() == 0


def test_articles_are_deleted_in_batches_and_only_those(tmp_path, monkeypatch):
    monkeypatch.setattr("rag.store._DELETE_DOCS", 2)
    store = _open(tmp_path)
    for n in range(5):
        art = _article(f"{n}.txt", h=f"h{n}")
        store.add_chunks(_chunks(art), np.eye(3, dtype=np.float32)[:2], art.content_hash)
        store.put_article(art)
    store.delete_docs(["0.txt", "1.txt", "3.txt", "4.txt", "1.txt", "none.txt"])  # three calls, a repeat, an unknown id
    assert set(store.articles()) == {"2.txt"} and store.chunk_ids() == {"2.txt#0", "2.txt#1"}


def test_a_vector_is_found_by_the_digest_of_its_text_in_any_article(tmp_path):
    from rag.store import passage_digest

    store = _open(tmp_path)
    art = _article()
    store.add_chunks(_chunks(art), np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32), art.content_hash,
                     passages=["제목\n첫 문장이다.", "둘째 문장이다."])
    store.add_chunks(_chunks(_article("b.txt")), np.array([[0, 0, 1], [0, 1, 0]], dtype=np.float32), "h2")  # no digests
    found = store.vectors_by_digest([passage_digest("둘째 문장이다."), passage_digest("다른 문장이다."), ""])
    assert list(found) == [passage_digest("둘째 문장이다.")] and found[passage_digest("둘째 문장이다.")].tolist() == [0, 1, 0]
    assert store.vectors_by_digest([]) == {}


def test_generation_and_dirty_flag_round_trip(tmp_path):
    store = _open(tmp_path)
    assert store.state() == StoreState(0, False)
    store.set_state(StoreState(4, True))
    assert store.state() == StoreState(4, True)
    store.bind_model("model-a", 3)  # the model stamp and the state live side by side
    assert store.state() == StoreState(4, True)


def test_date_and_publisher_filters_run_inside_chroma(tmp_path):
    store = _open(tmp_path)
    for n, (date, publisher) in enumerate([("2021-03-01", "A"), ("2023-06-01", "B"), (None, "A")]):
        art = Article(doc_id=f"{n}.txt", text="문장이다.", date=date, publisher=publisher, content_hash=f"h{n}")
        chunk = Chunk(chunk_id=f"{n}.txt#0", doc_id=art.doc_id, text=art.text, start=0, end=5, date=date,
                      publisher=publisher)
        store.add_chunks([chunk], np.array([[1.0, 0.1 * n, 0.0]], dtype=np.float32), art.content_hash)
        store.put_article(art, chunks=1)
    docs = store.articles()
    assert docs["1.txt"].chunks == 1 and docs["1.txt"].ingested_at
    query = np.array([1.0, 0.0, 0.0])
    found = lambda f: sorted(c for c, _ in store.query(query, 10, where_clause(f, docs)))  # noqa: E731
    assert found(Filters(date_from="2022-01-01")) == ["1.txt#0"]
    assert found(Filters(date_to="2022-01-01")) == ["0.txt#0"]  # the undated article passes no date filter
    assert found(Filters(publisher=("A",))) == ["0.txt#0", "2.txt#0"]
    assert found(Filters(source=("2.txt", "1.txt"))) == ["1.txt#0", "2.txt#0"]
    assert found(Filters(source=("nothing/",))) == []


def test_a_file_as_store_is_one_clear_error(tmp_path):
    path = tmp_path / "file"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match="is a file, not a folder"):
        ChromaStore(StoreSettings(dir=path), "a")


def test_a_second_process_on_one_store_folder_is_refused(tmp_path):
    """Chroma does not support two processes on one PersistentClient folder: say so at once."""
    _open(tmp_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from pathlib import Path
            from rag.config import StoreSettings
            from rag.store import ChromaStore
            store = ChromaStore(StoreSettings(dir=Path({str(tmp_path / "store")!r}), collection="test-articles"), "a")
            print("open", flush=True)
            sys.stdin.readline()
        """)],
        cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreBusyError, match="chroma run --path"):
            ChromaStore(_settings(tmp_path), "a")
    finally:
        holder.communicate("\n", timeout=60)
    ChromaStore(_settings(tmp_path), "a").close()  # free again once the other process is gone


class _RacingDelete:
    """A chunk collection whose first get by ids fails as Chroma's does when another process deletes
    some of those ids meanwhile (seen in server mode under bench/soak_serving.py)."""

    def __init__(self, collection):
        self._collection, self.failed = collection, 0

    def get(self, **kw):
        from chromadb.errors import InternalError

        if "ids" in kw and not self.failed:
            self.failed += 1
            raise InternalError("Error executing plan: Internal error: Error finding id")
        return self._collection.get(**kw)


def test_a_chunk_read_racing_a_delete_is_read_again(tmp_path):
    store = _open(tmp_path)
    art = _article()
    store.add_chunks(_chunks(art), np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32), art.content_hash)
    store._chunks = _RacingDelete(store._chunks)
    assert set(store.chunks(["a.txt#0", "a.txt#1", "gone.txt#0"])) == {"a.txt#0", "a.txt#1"}
    assert store._chunks.failed == 1


def test_copies_of_a_passage_at_the_cut_go_to_the_chunk_id(tmp_path):
    # an article syndicated under eight names: eight chunks with one vector, stored largest id first.
    # HNSW returns whichever copies its graph reaches first; the store cuts ties by chunk id
    store = _open(tmp_path)
    copies = [Chunk(chunk_id=f"copy{n:02d}.txt#0", doc_id=f"copy{n:02d}.txt", text="같은 문장", start=0, end=5)
              for n in range(8, 0, -1)]
    other = Chunk(chunk_id="other.txt#0", doc_id="other.txt", text="다른 문장", start=0, end=5)
    vectors = np.array([[0.6, 0.8, 0.0]] * len(copies) + [[1.0, 0.0, 0.0]], dtype=np.float32)
    store.add_chunks(copies + [other], vectors, "h")
    top = store.query(np.array([0.6, 0.8, 0.0]), 3)
    assert [c for c, _ in top] == ["copy01.txt#0", "copy02.txt#0", "copy03.txt#0"]
    assert [c for c, _ in store.query(np.array([1.0, 0.0, 0.0]), 2)] == ["other.txt#0", "copy01.txt#0"]


def test_search_breadth_is_the_setting_also_for_an_older_store(tmp_path):
    from dataclasses import replace

    narrow = replace(_settings(tmp_path), hnsw_search_ef=100)
    store = ChromaStore(narrow, "a")
    assert store._chunks.configuration_json["hnsw"]["ef_search"] == 100
    store.close()
    store = ChromaStore(_settings(tmp_path), "a")  # the default, on the store made with 100
    assert store._chunks.configuration_json["hnsw"]["ef_search"] == StoreSettings().hnsw_search_ef == 400
    assert store.search_breadth == 400  # what `rag info` shows
    store.close()
    with pytest.raises(Exception, match="hnsw_search_ef"):
        replace(_settings(tmp_path), hnsw_search_ef=0)


def test_a_store_that_refuses_the_search_breadth_is_still_opened(tmp_path, monkeypatch, caplog):
    import logging
    from dataclasses import replace

    from chromadb.api.models.Collection import Collection

    ChromaStore(replace(_settings(tmp_path), hnsw_search_ef=100), "a").close()

    def refuse(self, *args, **kwargs):
        raise PermissionError("read-only token")

    monkeypatch.setattr(Collection, "modify", refuse)
    with caplog.at_level(logging.WARNING, logger="rag.store"):
        store = ChromaStore(_settings(tmp_path), "a")
    assert store._chunks.configuration_json["hnsw"]["ef_search"] == 100  # its own, and it answers
    assert store.query(np.array([1.0, 0.0, 0.0]), 3) == []
    assert "hnsw_search_ef 400 could not be set" in caplog.text and "read-only token" in caplog.text
    store.close()



def test_a_moment_of_locked_database_does_not_leave_the_old_breadth(tmp_path, monkeypatch, caplog):
    # right after another client on the folder closes, Chroma's sqlite can answer "database is locked"
    # for a moment: the store tries again instead of searching at the old breadth
    import logging
    from dataclasses import replace

    from chromadb.api.models.Collection import Collection

    ChromaStore(replace(_settings(tmp_path), hnsw_search_ef=100), "a").close()
    real, calls = Collection.modify, []

    def locked_once(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Database error: (code: 5) database is locked")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "modify", locked_once)
    with caplog.at_level(logging.WARNING, logger="rag.store"):
        store = ChromaStore(_settings(tmp_path), "a")
    assert len(calls) == 2 and store.search_breadth == 400 and "could not be set" not in caplog.text
    store.close()
