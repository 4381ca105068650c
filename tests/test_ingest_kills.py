"""An ingest (and a delete) killed before each of its writes, one kill point at a time (real Chroma in a temp dir, real
keyword files, fake embedder): the next ingest leaves the store as a clean ingest would, and a serving
pipeline that was open throughout sees the final articles without a restart.

bench/soak_serving.py kills ingests at random moments; this walks every write of one ingest instead, so a
window a random kill rarely hits (after the last record, before the commit: the next ingest found nothing left
to do, never moved the generation, and a serving app kept its old view for good) is hit every run."""

import shutil
from dataclasses import replace

import pytest

from rag.config import PROJECT_ROOT, load_settings
from rag.keyword_files import KeywordFiles
from rag.pipeline import build_pipeline
from rag.store import ChromaStore
from tests.fakes import HashingEmbedder

SEEDS = PROJECT_ROOT / "seeds"
NEW_ARTICLE = "삼성전자 상생 펀드\n\n삼성전자는 협력사 상생 펀드를 5천억 원 규모로 운영한다고 밝혔다.\n"
APPENDED = "이 회사는 협력사 교육 센터를 새로 열었다."
EDITED, DELETED = "000_7f8c52e3f50417da.txt", "004_3623695115e5a12c.txt"
# every call that changes the store or the keyword files
WRITES = ((ChromaStore, "add_chunks"), (ChromaStore, "put_articles"), (ChromaStore, "put_article"),
          (ChromaStore, "delete_chunks"), (ChromaStore, "delete_docs"), (ChromaStore, "set_state"),
          (KeywordFiles, "commit"))
KILL_POINTS = 7  # the writes of the change below: one kill point each


class Killed(BaseException):
    """The process died here. (A `finally` still runs in Python, but `Kill` fails each of its writes too.)"""


class Kill:
    """Patches every write; the `at`-th raises Killed, and so does every one after it."""

    def __init__(self, monkeypatch, at: int | None) -> None:
        self.at, self.calls, self.dead = at, [], False
        for owner, name in WRITES:
            monkeypatch.setattr(owner, name, self._wrap(name, getattr(owner, name)))

    def _wrap(self, name, method):
        def write(obj, *args, **kwargs):
            if self.dead or len(self.calls) == self.at:
                self.dead = True
                raise Killed(name)
            self.calls.append(name)
            return method(obj, *args, **kwargs)
        return write


def _settings(root):
    s = load_settings(None, env={})
    return replace(s, paths=replace(s.paths, data_dir=root, cache_dir=root / "cache"),
                   store=replace(s.store, dir=root / "store", refresh_s=0.0, ingest_wait_s=0.5))


def _pipe(settings, korean):
    return build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)


def _change(corpus) -> None:
    (corpus / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (corpus / DELETED).unlink()
    with open(corpus / EDITED, "a", encoding="utf-8") as fh:
        fh.write(f"\n{APPENDED}\n")


def _contents(pipe) -> tuple[dict, list]:
    store = pipe.raw_store()
    return ({d: (a.content_hash, a.chunks) for d, a in store.articles().items()},
            sorted((c.chunk_id, c.text) for c in store.all_chunks()))


@pytest.fixture(scope="module")
def clean(tmp_path_factory, korean):
    """The store one uninterrupted ingest of the changed folder makes, and the number of writes the
    change takes when the store already holds the seeds."""
    root = tmp_path_factory.mktemp("clean")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = _settings(root)
    _pipe(settings, korean).ingest([corpus])
    _change(corpus)
    with pytest.MonkeyPatch.context() as patch:
        count = Kill(patch, None)
        _pipe(settings, korean).ingest([corpus])
    fresh_root = tmp_path_factory.mktemp("fresh")
    fresh = _pipe(_settings(fresh_root), korean)
    fresh.ingest([corpus])
    return _contents(fresh), len(count.calls)


def test_every_write_of_the_change_is_a_kill_point(clean):
    # dirty mark, chunks, records, deleted chunks and articles, keyword commit, new generation (an ingest
    # that writes more or less needs KILL_POINTS changed with it)
    assert clean[1] == KILL_POINTS


@pytest.mark.parametrize("at", range(KILL_POINTS))
def test_a_killed_ingest_and_the_next_leave_the_clean_store_and_a_current_server(at, clean, tmp_path, korean,
                                                                                 monkeypatch):
    contents = clean[0]
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = _settings(tmp_path)
    serving = _pipe(settings, korean)
    serving.ingest([corpus])
    assert serving.search("삼성전자 상생 펀드", k=1)[0].chunk.doc_id != "new.txt"
    _change(corpus)
    with monkeypatch.context() as patch:
        kill = Kill(patch, at)
        with pytest.raises(Killed):
            _pipe(settings, korean).ingest([corpus])
    assert kill.dead
    _pipe(settings, korean).ingest([corpus])
    # the store is what one clean ingest of the final folder makes
    assert _contents(serving) == contents
    # and the process that served throughout sees it, without a restart
    assert {a.doc_id for a in serving.list_articles()} == set(contents[0])
    assert serving.search("삼성전자 상생 펀드", k=1)[0].chunk.doc_id == "new.txt"
    assert all(h.chunk.doc_id != DELETED for h in serving.search("황창규 회장 KT", k=10))
    assert APPENDED in serving.article(EDITED).text


@pytest.mark.parametrize("at", range(4))  # dirty mark, delete, keyword commit, new generation
def test_a_killed_delete_and_the_next_leave_the_article_gone_for_a_serving_pipeline(at, tmp_path, korean,
                                                                                     monkeypatch):
    """The article manager's delete (one article by id) through the same kill points: the delete run
    again finds the article gone or removes it, and the serving pipeline no longer shows it."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = _settings(tmp_path)
    serving = _pipe(settings, korean)
    serving.ingest([corpus])
    assert DELETED in {a.doc_id for a in serving.list_articles()}
    with monkeypatch.context() as patch:
        Kill(patch, at)
        with pytest.raises(Killed):
            _pipe(settings, korean).delete_articles([DELETED])
    _pipe(settings, korean).delete_articles([DELETED])
    assert DELETED not in {a.doc_id for a in serving.list_articles()}
    assert all(h.chunk.doc_id != DELETED for h in serving.search("황창규 회장 KT", k=10))
    assert not serving.raw_store().state().dirty
