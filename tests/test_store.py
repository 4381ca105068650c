import numpy as np
import pytest

from rag.config import StoreSettings
from rag.store import ChromaStore, StoreMismatchError, drop_store
from rag.types import Article, Chunk


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
    art = _article()
    store.add_chunks(_chunks(art), np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32), art.content_hash)
    store.put_article(art)
    top = store.query(np.array([0.9, 0.1, 0.0]), 2)
    assert top[0][0] == "a.txt#0" and top[0][1] > 0.9 > top[1][1]
    sims = store.similarities(np.array([0.0, 1.0, 0.0]), ["a.txt#1"])
    assert sims["a.txt#1"] == pytest.approx(1.0, abs=1e-5)

    reopened = _open(tmp_path)
    assert reopened.doc_hashes() == {"a.txt": ("h1", "/x/a.txt")}
    assert reopened.article("a.txt").text == art.text
    assert reopened.article("a.txt").date == "2024-11-28"
    chunks = reopened.all_chunks()
    assert [c.chunk_id for c in chunks] == ["a.txt#0", "a.txt#1"]
    assert chunks[1].date is None and chunks[0].title == "제목"
    assert art.text[chunks[1].start : chunks[1].end] == chunks[1].text


def test_other_model_is_refused_with_a_rebuild_command(tmp_path):
    _open(tmp_path)
    with pytest.raises(StoreMismatchError, match="ingest --rebuild"):
        ChromaStore(_settings(tmp_path), "b")  # another setting: refused before any model loads
    with pytest.raises(StoreMismatchError, match="ingest --rebuild"):
        ChromaStore(_settings(tmp_path), "a").bind_model("model-a-v2", 3)  # same setting, other model
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
