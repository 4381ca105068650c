"""Ingest consistency through the real store, keyword index and corpus reader (fake embedder: fast).

Each test reproduces one problem from issue 12 (orphans, unreadable files, id collisions, bounds,
concurrent ingests, a serving pipeline that never saw an ingest) and shows it fixed.
"""

import shutil
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace

import numpy as np
import pytest

from rag.config import PROJECT_ROOT, load_settings
from rag.ingest import IngestBusyError
from rag.pipeline import build_pipeline
from rag.store import ChromaStore
from rag.types import Article, Chunk, Filters
from tests.fakes import HashingEmbedder

NEW_ARTICLE = "삼성전자 상생 펀드\n\n삼성전자는 협력사 상생 펀드를 5천억 원 규모로 운영한다고 밝혔다.\n"


@pytest.fixture
def settings(tmp_path):
    s = load_settings(None, env={})
    return replace(
        s,
        paths=replace(s.paths, data_dir=tmp_path, cache_dir=tmp_path / "cache"),
        store=replace(s.store, dir=tmp_path / "store", refresh_s=0.0, ingest_wait_s=0.5),
    )


@pytest.fixture
def corpus(tmp_path, seeds_dir):
    folder = tmp_path / "corpus"
    shutil.copytree(seeds_dir, folder)
    return folder


def _pipe(settings, korean, embedder=None):
    return build_pipeline(settings, embedder=embedder or HashingEmbedder(), korean=korean)


def test_same_file_name_in_two_folders_does_not_collide(settings, corpus, korean):
    for year in ("2024", "2025"):
        (corpus / year).mkdir()
        (corpus / year / "article.txt").write_text(f"{year}년 상생 기사\n\n{year}년 협력사 지원 사업을 발표했다.\n",
                                                   encoding="utf-8")
    report = _pipe(settings, korean).ingest([corpus])
    assert {"2024/article.txt", "2025/article.txt"} <= set(report.added) and not report.skipped
    # seeds sit at the corpus root: their ids (the eval gold labels) are their file names, as before
    assert "001_d5bd6796c56307a8.txt" in report.added


def test_a_file_that_cannot_be_read_now_keeps_its_article(settings, corpus, korean):
    pipe = _pipe(settings, korean)
    pipe.ingest([corpus])
    target = corpus / "004_3623695115e5a12c.txt"
    target.write_bytes(b"\x00\x01\x02 half-written \xff\xfe")  # a copy in progress: binary garbage now
    report = pipe.ingest([corpus])
    assert report.kept == ("004_3623695115e5a12c.txt",) and not report.deleted
    assert any("004_3623695115e5a12c.txt" in f for f, _ in report.skipped)
    assert pipe.search("황창규 회장", k=1)[0].chunk.doc_id == "004_3623695115e5a12c.txt"
    target.unlink()  # really gone now: deleted
    assert pipe.ingest([corpus]).deleted == ("004_3623695115e5a12c.txt",)


def test_bounds_on_file_size_and_article_length(settings, corpus, korean):
    (corpus / "huge.txt").write_text("가나다라마바사 아자차카타파하. " * 1000, encoding="utf-8")  # ~ 51 KB
    (corpus / "long.txt").write_text("긴 기사의 문장이다. " * 300, encoding="utf-8")  # ~ 3,300 chars, 10 KB
    bounded = replace(settings, paths=replace(settings.paths, max_file_mb=0.03, max_article_chars=3000))
    report = _pipe(bounded, korean).ingest([corpus])
    reasons = dict((f.rsplit("/", 1)[-1], why) for f, why in report.skipped)
    assert "over the limit of 0 MB" in reasons["huge.txt"] and "paths.max_file_mb" in reasons["huge.txt"]
    assert "paths.max_article_chars" in reasons["long.txt"]
    assert len(report.added) == 5


def test_orphan_chunks_of_a_killed_ingest_are_removed_by_the_next(settings, corpus, korean):
    """A kill between an article's chunks and its record leaves chunks no record vouches for."""
    pipe = _pipe(settings, korean)
    pipe.ingest([corpus])
    store = pipe.store
    orphan = Chunk(chunk_id="gone.txt#0-deadbeef", doc_id="gone.txt", text="KT 파트너스 데이 유령 문장이다.", start=0, end=18)
    stale = Chunk(chunk_id="001_d5bd6796c56307a8.txt#99-deadbeef", doc_id="001_d5bd6796c56307a8.txt",
                  text="LG이노텍 옛 버전의 펀드 문장이다.", start=0, end=19)
    store.add_chunks([orphan, stale], np.ones((2, HashingEmbedder.dimension), dtype=np.float32), "old-hash")
    store.set_state(replace(store.state(), dirty=True))  # what the killed ingest left
    # never visible, even before the cleanup: their article records do not vouch for them
    assert all(h.chunk.chunk_id not in (orphan.chunk_id, stale.chunk_id) for h in pipe.search("유령 펀드 문장", k=10))
    fresh = _pipe(settings, korean)
    fresh.ingest([corpus])
    assert not fresh.store.chunks([orphan.chunk_id, stale.chunk_id])
    assert not fresh.store.state().dirty


def test_a_serving_pipeline_sees_another_pipelines_ingest_without_restart(settings, corpus, korean):
    serving = _pipe(settings, korean)
    serving.ingest([corpus])
    before = serving.search("삼성전자 상생 펀드", k=3)
    assert all(h.chunk.doc_id != "new.txt" for h in before)
    (corpus / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (corpus / "004_3623695115e5a12c.txt").unlink()
    writer = _pipe(settings, korean)  # the CLI or the upload form, with its own caches
    report = writer.ingest([corpus])
    assert report.added == ("new.txt",) and report.deleted == ("004_3623695115e5a12c.txt",)
    assert serving.search("삼성전자 상생 펀드", k=1)[0].chunk.doc_id == "new.txt"
    assert all(h.chunk.doc_id != "004_3623695115e5a12c.txt" for h in serving.search("황창규 회장 KT", k=10))
    assert serving.article("004_3623695115e5a12c.txt") is None



def test_a_new_process_opens_its_view_from_the_snapshot_not_from_every_record(settings, corpus, korean, monkeypatch):
    """Reading every article record back from Chroma made start-up linear (11-17 s at 41k articles)."""
    writer = _pipe(settings, korean)
    writer.ingest([corpus])
    (corpus / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (corpus / "004_3623695115e5a12c.txt").unlink()
    writer.ingest([corpus])  # one added, one deleted: the ingest derives the records, it does not re-read them
    stored = writer.raw_store().articles()
    writer.close()

    def no_scan(self):
        raise AssertionError("start-up read every article record")

    monkeypatch.setattr(ChromaStore, "articles", no_scan)
    fresh = _pipe(settings, korean)
    assert {a.doc_id: a for a in fresh.list_articles()} == stored
    assert fresh.search("삼성전자 상생 펀드", k=1)[0].chunk.doc_id == "new.txt"


def test_a_dirty_store_is_read_rather_than_its_snapshot(settings, corpus, korean):
    pipe = _pipe(settings, korean)
    pipe.ingest([corpus])
    store = pipe.raw_store()
    # what a killed ingest leaves behind: a record written after the last commit, and the dirty mark
    store.put_articles([(Article(doc_id="late.txt", text="늦게 기록된 기사다.", content_hash="h1"), 0)])
    store.set_state(replace(store.state(), dirty=True))
    pipe.close()
    assert "late.txt" in {a.doc_id for a in _pipe(settings, korean).list_articles()}


def test_questions_are_answered_while_an_ingest_runs(settings, corpus, korean):
    pipe = _pipe(settings, korean)
    pipe.ingest([corpus])
    gate, inside = threading.Event(), threading.Event()

    class Stalled(HashingEmbedder):
        def embed_passages(self, texts):
            inside.set()
            gate.wait(60)  # the ingest stays in the middle of its work until the test lets it go
            return super().embed_passages(texts)

    stalled = _pipe(settings, korean, Stalled())
    (corpus / "new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    worker = threading.Thread(target=stalled.ingest, args=([corpus],))
    worker.start()
    try:
        assert inside.wait(60)
        hits = stalled.search("LG이노텍 동반성장 펀드", k=1)  # same pipeline, during its own ingest
        assert hits[0].chunk.doc_id == "001_d5bd6796c56307a8.txt"
        with pytest.raises(IngestBusyError, match="another ingest of this store is running"):
            pipe.ingest([corpus], wait=False)
    finally:
        gate.set()
        worker.join(60)
    assert stalled.search("삼성전자 상생 펀드", k=1)[0].chunk.doc_id == "new.txt"


def test_a_second_process_ingest_waits_then_says_who_holds_the_lock(settings, corpus, korean):
    pipe = _pipe(settings, korean)
    pipe.ingest([corpus])
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys
            from pathlib import Path
            from rag.locks import ingest_lock
            with ingest_lock(Path({str(pipe.lock_path())!r}), wait_s=0):
                print("locked", flush=True)
                sys.stdin.readline()
        """)],
        cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        waited = []
        with pytest.raises(IngestBusyError, match=r"still running after .*pid \d+"):
            pipe.ingest([corpus], on_wait=waited.append)
        assert waited and "waiting for another ingest" in waited[0]
    finally:
        holder.communicate("\n", timeout=60)
    assert len(pipe.ingest([corpus]).unchanged) == 5  # the lock died with its holder


def test_filters_restrict_both_retrievers_before_ranking(settings, corpus, korean):
    pipe = _pipe(settings, korean)
    pipe.ingest([corpus])
    modes = pipe.search_modes("협력사 상생 지원", k=5, filters=Filters(date_from="2022-01-01", date_to="2024-12-31"))
    dates = {h.chunk.date for hits in modes.values() for h in hits}
    assert dates and all("2022-01-01" <= d <= "2024-12-31" for d in dates)
    assert modes["keyword"] and modes["dense"]  # restricted, not emptied
    by_publisher = pipe.search("협력사 상생 지원", k=5, filters=Filters(publisher=("LG이노텍",)))
    assert by_publisher and {h.chunk.publisher for h in by_publisher} == {"LG이노텍"}
    # the best passage overall is filtered out, the filtered search still fills k from the rest
    unfiltered = pipe.search("협력사 상생 지원", k=3)
    excluded = unfiltered[0].chunk.doc_id
    others = [a.doc_id for a in pipe.list_articles() if a.doc_id != excluded]
    assert all(h.chunk.doc_id != excluded for h in pipe.search("협력사 상생 지원", k=3, filters=Filters(source=tuple(others))))
    assert len(pipe.search("협력사 상생 지원", k=3, filters=Filters(source=tuple(others)))) == 3


def test_article_manager_lists_and_deletes(settings, corpus, korean):
    pipe = _pipe(settings, korean)
    pipe.ingest([corpus])
    listed = {a.doc_id: a for a in pipe.list_articles()}
    lg = listed["001_d5bd6796c56307a8.txt"]
    assert lg.date == "2022-09-21" and lg.publisher == "LG이노텍" and lg.chunks > 0 and lg.ingested_at
    assert lg.source.endswith("001_d5bd6796c56307a8.txt")
    assert pipe.delete_article("001_d5bd6796c56307a8.txt") and not pipe.delete_article("001_d5bd6796c56307a8.txt")
    assert all(h.chunk.doc_id != lg.doc_id for h in pipe.search("LG이노텍 동반성장 펀드", k=10))
    report = pipe.ingest_files([corpus / "001_d5bd6796c56307a8.txt"])
    assert report.added == ("001_d5bd6796c56307a8.txt",) and not report.deleted
    assert len(pipe.list_articles()) == 5


def test_ask_and_stream_search_only_the_filtered_articles(settings, corpus, korean):
    pipe = _pipe(settings, korean)
    pipe.ingest([corpus])
    only = Filters(publisher=("중소벤처기업부",))
    answer = pipe.ask("협력사 상생 지원은?", mode="extractive", filters=only)
    assert answer.hits and {h.chunk.publisher for h in answer.hits} == {"중소벤처기업부"}
    assert all(c.publisher == "중소벤처기업부" for c in answer.citations)
    final = [e.answer for e in pipe.stream("협력사 상생 지원은?", mode="extractive", filters=only) if e.kind == "final"]
    assert final and {h.chunk.publisher for h in final[0].hits} == {"중소벤처기업부"}


def test_a_symlink_loop_as_the_ingest_path_is_one_clear_error(settings, tmp_path, korean):
    # issue 12's probe: `rag ingest LOOP` printed a traceback
    from rag.ingest import IngestError

    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    try:
        with pytest.raises(IngestError, match="no such file or folder"):
            pipe.ingest([loop])
    finally:
        pipe.close()


def test_an_embedder_failing_mid_ingest_keeps_the_groups_before_it(settings, corpus, korean, monkeypatch):
    """A server that goes down at the third group: the error reaches the caller, the two groups
    embedded before it are stored and searchable, and the next ingest does only the rest."""
    monkeypatch.setattr("rag.ingest._EMBED_GROUP", 1)
    calls = []

    class DownAtThird(HashingEmbedder):
        def embed_passages(self, texts):
            calls.append(len(texts))
            if len(calls) == 3:
                raise ConnectionError("embedding server down")
            return super().embed_passages(texts)

    with pytest.raises(ConnectionError, match="server down"):
        _pipe(settings, korean, DownAtThird()).ingest([corpus])
    pipe = _pipe(settings, korean)
    assert len(pipe.list_articles()) == 2
    report = pipe.ingest([corpus])
    assert len(report.unchanged) == 2 and len(report.added) == 3
    chunk_ids = [h.chunk.chunk_id for h in pipe.search("동반성장", k=200)]
    assert len(chunk_ids) == len(set(chunk_ids))


def test_a_moved_folder_is_followed_so_a_file_deleted_there_is_deleted(settings, tmp_path, seeds_dir, korean):
    old = tmp_path / "archive"
    shutil.copytree(seeds_dir, old)
    pipe = _pipe(settings, korean)
    pipe.ingest([old])
    new = old.rename(tmp_path / "archive-2024")  # the analyst renames the folder and ingests it there
    moved = pipe.ingest([new])
    assert not (moved.added or moved.updated or moved.deleted) and len(moved.moved) == 5 == len(moved.unchanged)
    assert moved.chunks_embedded == 0
    listed = {a.doc_id: a.source for a in pipe.list_articles()}
    assert listed["004_3623695115e5a12c.txt"] == str(new / "004_3623695115e5a12c.txt")
    (new / "004_3623695115e5a12c.txt").unlink()
    report = pipe.ingest([new])
    assert report.deleted == ("004_3623695115e5a12c.txt",) and not report.moved
    assert all(h.chunk.doc_id != "004_3623695115e5a12c.txt" for h in pipe.search("황창규 회장", k=10))
    # a fresh process reads the new places from the store, not from the first process's memory
    assert {a.source for a in _pipe(settings, korean).list_articles()} == {str(p) for p in new.glob("*.txt")}


def test_a_decomposed_hangul_file_name_is_one_doc_id_a_user_can_type(settings, tmp_path, seeds_dir, korean):
    """macOS writes file names decomposed (NFD); a user types them composed (NFC)."""
    import json
    import unicodedata

    from rag.filters import make_filters

    folder = tmp_path / "mac"
    folder.mkdir()
    name = "맥북 기사.txt"
    decomposed = unicodedata.normalize("NFD", name)
    assert decomposed != name
    shutil.copy(seeds_dir / "001_d5bd6796c56307a8.txt", folder / decomposed)
    # the manifest written on another machine spells the name composed
    (folder / "manifest.json").write_text(json.dumps({name: {"publisher": "맥뉴스"}}, ensure_ascii=False), encoding="utf-8")
    pipe = _pipe(settings, korean)
    assert pipe.ingest([folder]).added == (name,)
    assert {a.doc_id: a.publisher for a in pipe.list_articles()} == {name: "맥뉴스"}
    assert pipe.search("동반성장 펀드", k=3, filters=make_filters(source=decomposed))  # typed either way
    assert pipe.delete_article(decomposed) and not pipe.list_articles()
