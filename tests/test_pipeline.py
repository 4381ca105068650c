"""Ingest + search through the real store, keyword index, corpus and chunking (fake embedder: fast)."""

import json
import shutil
import subprocess
import sys
import threading
from dataclasses import replace

import pytest

from rag.config import PROJECT_ROOT, load_settings
from rag.pipeline import IngestError, QuestionError, build_pipeline
from rag.store import StoreBusyError, StoreMismatchError
from tests.fakes import HashingEmbedder, ScriptedGenerator, WatchedLock


@pytest.fixture
def settings(tmp_path):
    s = load_settings(None, env={})
    return replace(
        s,
        paths=replace(s.paths, data_dir=tmp_path, cache_dir=tmp_path / "cache"),
        store=replace(s.store, dir=tmp_path / "store"),
    )


@pytest.fixture
def corpus(tmp_path, seeds_dir):
    folder = tmp_path / "corpus"
    shutil.copytree(seeds_dir, folder)
    return folder


def test_ingest_is_incremental_and_idempotent(settings, corpus, korean):
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    first = pipe.ingest([corpus])
    assert len(first.added) == 5 and first.chunks_embedded > 5 and not first.skipped
    assert first.tokens_tiktoken > 0 and first.tokens_model > 0

    again = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus])
    assert again.chunks_embedded == 0 and len(again.unchanged) == 5

    (corpus / "004_3623695115e5a12c.txt").unlink()
    path = corpus / "000_7f8c52e3f50417da.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n추가된 문장이다.\n", encoding="utf-8")
    third = pipe.ingest([corpus])
    assert third.deleted == ("004_3623695115e5a12c.txt",)
    assert third.updated == ("000_7f8c52e3f50417da.txt",)
    assert third.chunks_embedded > 0 and len(third.unchanged) == 3
    assert all(h.chunk.doc_id != "004_3623695115e5a12c.txt" for h in pipe.search("KT 파트너스 데이", k=10))


class _Counting(HashingEmbedder):
    """Records every passage it embeds."""

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed_passages(self, texts):
        self.embedded += list(texts)
        return super().embed_passages(texts)


def test_a_new_chunker_re_embeds_only_the_passages_that_changed(settings, corpus, korean, monkeypatch):
    first = build_pipeline(settings, embedder=_Counting(), korean=korean).ingest([corpus])
    assert first.vectors_reused == 0
    # a new sentence split or chunker version re-chunks every article; the same passages keep their vectors
    monkeypatch.setattr("rag.chunking.CHUNKER_VERSION", "chunker-test")
    counting = _Counting()
    pipe = build_pipeline(settings, embedder=counting, korean=korean)
    again = pipe.ingest([corpus])
    assert len(again.updated) == 5 and counting.embedded == []
    assert again.chunks_embedded == again.vectors_reused == first.chunks_embedded and again.tokens_model == 0
    hit = pipe.search("KT 파트너스 데이", k=1)[0]
    assert hit.chunk.doc_id == "004_3623695115e5a12c.txt"
    # an edit re-embeds the passages it touched, and only those
    path = corpus / "000_7f8c52e3f50417da.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n협력사와 함께 새 기금을 만들었다.\n", encoding="utf-8")
    edited = pipe.ingest([corpus])
    assert edited.updated == ("000_7f8c52e3f50417da.txt",)
    assert counting.embedded and all("새 기금" in t for t in counting.embedded)
    assert edited.vectors_reused == edited.chunks_embedded - len(counting.embedded) > 0
    assert pipe.search("새 기금", k=1)[0].chunk.doc_id == "000_7f8c52e3f50417da.txt"

    # a vector is reused only for the very text it was embedded from: with the title embedded (or no
    # longer), every passage is another text
    flipped = replace(settings, chunking=replace(settings.chunking, embed_title=not settings.chunking.embed_title))
    counting = _Counting()
    report = build_pipeline(flipped, embedder=counting, korean=korean).ingest([corpus])
    assert len(report.updated) == 5 and report.vectors_reused == 0
    assert len(counting.embedded) == report.chunks_embedded


def test_a_renamed_or_moved_file_keeps_its_vectors(settings, corpus, korean):
    first = build_pipeline(settings, embedder=_Counting(), korean=korean).ingest([corpus])
    # each file's manifest entry (its title is embedded with its passages) goes with it
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    manifest["renamed.txt"] = manifest.pop("000_7f8c52e3f50417da.txt")
    (corpus / "000_7f8c52e3f50417da.txt").rename(corpus / "renamed.txt")
    (corpus / "2024").mkdir()
    (corpus / "2024" / "manifest.json").write_text(json.dumps({"kt.txt": manifest.pop("004_3623695115e5a12c.txt")}),
                                                   encoding="utf-8")
    (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (corpus / "004_3623695115e5a12c.txt").rename(corpus / "2024" / "kt.txt")
    counting = _Counting()
    pipe = build_pipeline(settings, embedder=counting, korean=korean)
    moved = pipe.ingest([corpus])
    assert sorted(moved.added) == ["2024/kt.txt", "renamed.txt"]
    assert sorted(moved.deleted) == ["000_7f8c52e3f50417da.txt", "004_3623695115e5a12c.txt"]
    # the same passages under new document ids: nothing is embedded again
    assert counting.embedded == [] and moved.chunks_embedded == moved.vectors_reused > 0
    assert first.chunks_embedded > 0 and pipe.describe()["n_docs"] == 5
    assert pipe.describe()["hnsw_search_ef"] == pipe.settings.store.hnsw_search_ef  # `rag info` shows the breadth
    assert pipe.search("KT 파트너스 데이", k=1)[0].chunk.doc_id == "2024/kt.txt"
    # a passage no chunk was embedded from is embedded, the rest of its article is not
    (corpus / "renamed.txt").write_text((corpus / "renamed.txt").read_text(encoding="utf-8")
                                        + "\n협력사와 함께 새 기금을 만들었다.\n", encoding="utf-8")
    (corpus / "renamed.txt").rename(corpus / "again.txt")
    manifest["again.txt"] = manifest.pop("renamed.txt")
    (corpus / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    edited = pipe.ingest([corpus])
    assert edited.added == ("again.txt",) and counting.embedded and all("새 기금" in t for t in counting.embedded)
    assert edited.vectors_reused == edited.chunks_embedded - len(counting.embedded) > 0


def test_an_english_question_finds_by_keyword_the_passage_writing_its_name_in_hangul(settings, tmp_path, korean):
    folder = tmp_path / "names"
    folder.mkdir()
    for name, text in (("a.txt", "행사 소식\n\n최진균 대표는 2019년 5월 첫 행사를 열었다."),
                       ("b.txt", "장비 소식\n\n한빛랩스는 반도체 장비를 만든다."),
                       ("c.txt", "기금 소식\n\n정부는 상생협력 기금을 늘렸다.")):
        (folder / name).write_text(text, encoding="utf-8")
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest([folder])
    # English words share nothing with the Korean passages: the name's Hangul spelling is the match
    hits = pipe.search("When did Choi Jin-kyun hold the first event?", k=3)
    assert hits[0].chunk.doc_id == "a.txt" and hits[0].keyword > 0
    assert not any(h.keyword for h in pipe.search("When did Kang Min-ho hold the first event?", k=3))  # no such name
    # the article search too: the Hangul spelling is what it finds and marks
    found = pipe.find_articles("Choi Jin-kyun")
    assert [m.info.doc_id for m in found.matches] == ["a.txt"]
    a, b = found.matches[0].highlights[0]
    assert found.matches[0].passage.text[a:b] == "최진균"


def test_a_users_glossary_words_are_searched_as_their_korean_forms(settings, tmp_path):
    from rag.korean import KoreanText
    from rag.vocabulary import DEFAULT_LEXICON, Lexicon

    folder = tmp_path / "fair"
    folder.mkdir()
    for name, text in (("a.txt", "하도급 소식\n\n공정위는 하도급 대금 연동제를 도입했다."),
                       ("b.txt", "장비 소식\n\n한빛랩스는 반도체 장비를 만든다.")):
        (folder / name).write_text(text, encoding="utf-8")
    mine = tmp_path / "lexicon"
    mine.mkdir()
    # a word the project's glossary does not know, added for this user's corpus
    (mine / "glossary.tsv").write_text("term\tsubcontract(?:ing|s)?\t하도급\n", encoding="utf-8")
    korean = KoreanText(lexicon=Lexicon.load([DEFAULT_LEXICON, mine]))
    pipe = build_pipeline(replace(settings, answer=replace(settings.answer, lexicon=(DEFAULT_LEXICON, mine))),
                          embedder=HashingEmbedder(), korean=korean)
    pipe.ingest([folder])
    # the keyword retriever and the article search read the glossary the answer checks read
    hits = pipe.search("what changed for subcontracting payments", k=2)
    assert hits[0].chunk.doc_id == "a.txt" and hits[0].keyword > 0
    assert [m.info.doc_id for m in pipe.find_articles("subcontracting").matches] == ["a.txt"]


def test_ingesting_another_folder_keeps_the_first(settings, corpus, tmp_path, korean):
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest([corpus])
    other = tmp_path / "other"
    other.mkdir()
    (other / "new.md").write_text("# 삼성전자 상생 펀드\n\n삼성전자는 협력사 펀드를 5천억 원 규모로 운영한다.\n", encoding="utf-8")
    report = pipe.ingest([other])
    assert report.added == ("new.md",) and not report.deleted
    assert pipe.describe()["n_docs"] == 6
    assert pipe.search("삼성전자 펀드", k=1)[0].chunk.doc_id == "new.md"


def test_search_hits_carry_metadata_offsets_and_calibrated_scores(settings, corpus, korean):
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest([corpus])
    hits = pipe.search("LG이노텍의 동반성장 펀드 규모는?", k=5)
    top = hits[0]
    assert top.chunk.doc_id == "001_d5bd6796c56307a8.txt"
    article = pipe.article(top.chunk.doc_id)
    assert article.text[top.chunk.start : top.chunk.end] == top.chunk.text
    assert top.chunk.title and top.chunk.date
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert sum(h.chunk.doc_id == top.chunk.doc_id for h in hits) <= settings.retrieval.per_source_cap
    modes = pipe.search_modes("LGU+ 납품대금 조기 지급", k=3)
    assert set(modes) == {"dense", "keyword", "hybrid"}
    assert modes["keyword"][0].chunk.doc_id == "002_2b509c53194e2463.txt"


def test_bad_input_gets_a_clear_error_and_loses_nothing(settings, corpus, tmp_path, korean):
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest([corpus])
    with pytest.raises(QuestionError, match="비어"):
        pipe.search("   ")
    with pytest.raises(QuestionError, match="너무 깁니다"):
        pipe.search("가" * (settings.app.max_question_chars + 1))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IngestError, match="nothing to ingest"):
        pipe.ingest([empty])
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bin.txt").write_bytes(b"\x00\xff\xfe\x00garbage\x80\x81")
    with pytest.raises(IngestError):
        pipe.ingest([broken])
    with pytest.raises(IngestError, match="no such file"):
        pipe.ingest([tmp_path / "missing"])
    assert pipe.describe()["n_docs"] == 5


def test_broken_file_next_to_good_ones_is_skipped_not_fatal(settings, corpus, korean):
    (corpus / "zz_broken.txt").write_bytes(b"\x00\x01\x02\xff\xfe")
    report = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus])
    assert len(report.added) == 5
    assert [f for f, _ in report.skipped] and "zz_broken.txt" in report.skipped[0][0]


def test_store_built_with_another_model_is_refused(settings, corpus, korean):
    build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus])

    class Other(HashingEmbedder):
        name = "another-model"

    with pytest.raises(StoreMismatchError, match="--rebuild"):
        build_pipeline(settings, embedder=Other(), korean=korean).search("KT")


def test_rebuild_replaces_a_store_built_with_another_model(settings, corpus, korean, tmp_path):
    class Other(HashingEmbedder):
        name = "another-model"

    build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus])
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(corpus / "001_d5bd6796c56307a8.txt", one)
    pipe = build_pipeline(settings, embedder=Other(), korean=korean)
    report = pipe.ingest([one], rebuild=True)
    assert report.added == ("001_d5bd6796c56307a8.txt",) and not report.deleted
    assert [a.doc_id for a in pipe.list_articles()] == ["001_d5bd6796c56307a8.txt"]
    assert {h.chunk.doc_id for h in pipe.search("LG이노텍 동반성장 펀드", k=5)} == {"001_d5bd6796c56307a8.txt"}


def test_rebuild_keeps_the_store_when_the_files_cannot_be_read(settings, corpus, korean, tmp_path):
    build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus])
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    with pytest.raises(IngestError, match="no such file or folder"):
        pipe.ingest([tmp_path / "nope"], rebuild=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="store is unchanged"):
        pipe.ingest([tmp_path / "empty"], rebuild=True)
    assert len(build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).list_articles()) == 5


def test_rebuild_refuses_a_store_another_process_serves(settings, corpus, korean):
    # a serving app holds the folder: dropping it under the app left every question a 503
    built = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    built.ingest([corpus])
    built.close()  # ours holds it no more: the other process's claim is what must stop the drop
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from rag.locks import claim_folder; "
         "claim_folder(Path(sys.argv[1]), 'store'); print('held', flush=True); sys.stdin.read()",
         str(settings.store.dir)],
        cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusyError, match="already open in another process"):
            build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus], rebuild=True)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert len(build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).list_articles()) == 5


def test_keyword_index_is_rebuilt_when_its_folder_is_missing(settings, corpus, korean):
    build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus])
    folder = settings.store.dir / "keyword-articles"
    assert (folder / "manifest.json").is_file()
    shutil.rmtree(folder)
    hits = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).search("황창규 회장", k=1)
    assert hits[0].chunk.doc_id == "004_3623695115e5a12c.txt"  # rebuilt in memory from the store's chunks
    build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus])
    assert (folder / "manifest.json").is_file()  # and written back by the next ingest


class _PausingKorean:
    """The real analyzer, whose first tokenizing waits until let go: holds a view open half-way."""

    def __init__(self, korean) -> None:
        self._korean = korean
        self.tokenizing, self.go = threading.Event(), threading.Event()

    def __getattr__(self, name: str):
        return getattr(self._korean, name)

    def tokens_batch(self, texts):
        self.tokenizing.set()
        self.go.wait(10)
        return self._korean.tokens_batch(texts)


def test_closing_while_a_view_is_being_opened_finishes_both(settings, corpus, korean):
    """The app closes its pipeline on shutdown, also while its warm-up is opening the view (holding the
    searcher's lock, then asking the pipeline for the store): an app whose port was taken hung there."""
    build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus])
    shutil.rmtree(settings.store.dir / "keyword-articles")  # the view is rebuilt from the store: Kiwi runs
    paused = _PausingKorean(korean)
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=paused)
    pipe._searcher._lock = lock = WatchedLock()
    listed: list[object] = []
    opening = threading.Thread(target=lambda: listed.append(pipe.list_articles()), daemon=True)
    opening.start()
    assert paused.tokenizing.wait(10)  # the view is half open, the searcher's lock held
    closing = threading.Thread(target=pipe.close, daemon=True)
    closing.start()
    assert lock.contended.wait(10)  # close() waits for the searcher
    paused.go.set()
    opening.join(10)
    closing.join(10)
    assert not opening.is_alive() and not closing.is_alive(), "close() and opening the view deadlocked"
    assert len(listed[0]) == 5
    # closed means "reopen on next use", not broken
    assert pipe.search("황창규 회장", k=1)[0].chunk.doc_id == "004_3623695115e5a12c.txt"
    pipe.close()


def test_the_store_check_does_not_depend_on_which_part_loaded_first(settings, corpus, korean, monkeypatch):
    """`rag ingest` opens the store before the model loads, the app loads the model first: both must
    agree that the store matches (issue 12: the app refused a store the CLI had just built)."""
    import rag.embedding

    monkeypatch.setattr(rag.embedding, "load_embedder", lambda conf, cache: HashingEmbedder())
    build_pipeline(settings, korean=korean).ingest([corpus])  # store opened first, model loaded later
    app = build_pipeline(settings, korean=korean)
    app.warm_up()  # model first, then the store
    assert app.search("황창규 회장", k=1)[0].chunk.doc_id == "004_3623695115e5a12c.txt"


def test_changing_the_chunk_size_rechunks_everything(settings, corpus, korean):
    build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus])
    smaller = replace(settings, chunking=replace(settings.chunking, max_tokens=120))
    report = build_pipeline(smaller, embedder=HashingEmbedder(), korean=korean).ingest([corpus])
    assert len(report.updated) == 5 and report.chunks_embedded > 0


def test_an_injected_embedder_stamps_the_store_with_its_name_not_the_setting(settings, corpus, korean):
    # an eval baseline injects its embedder under whatever embedding setting the run has
    build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([corpus])
    elsewhere = replace(settings, embedding=replace(settings.embedding, model="another-model"))
    again = build_pipeline(elsewhere, embedder=HashingEmbedder(), korean=korean)
    assert again.ingest([corpus]).chunks_embedded == 0 and len(again.list_articles()) == 5


QUESTION = "LG이노텍의 동반성장 펀드 규모는?"


def _backend(settings, backend, **generation):
    return replace(settings, generation=replace(settings.generation, backend=backend, **generation))


def test_an_injected_generator_answers_llm_questions_and_is_made_once(settings, corpus, korean):
    made: list[ScriptedGenerator] = []

    def factory() -> ScriptedGenerator:
        made.append(ScriptedGenerator(*["LG이노텍의 동반성장 펀드는 1,030억 원 규모다 [1]."] * 2))
        return made[-1]

    # an injected generator makes LLM answers possible whatever generation.backend says
    pipe = build_pipeline(_backend(settings, "extractive"), embedder=HashingEmbedder(), generator=factory, korean=korean)
    pipe.ingest([corpus])
    first, second = pipe.ask(QUESTION, mode="llm"), pipe.ask(QUESTION, mode="llm")
    assert first.mode == second.mode == "llm" and first.text == "LG이노텍의 동반성장 펀드는 1,030억 원 규모다 [1]."
    assert len(made) == 1 and len(made[0].prompts) == 2  # loaded on first use, then kept


def test_llm_mode_without_a_usable_generator_answers_extractively_and_says_why(settings, corpus, korean, tmp_path):
    extractive = build_pipeline(_backend(settings, "extractive"), embedder=HashingEmbedder(), korean=korean)
    extractive.ingest([corpus])
    answer = extractive.ask(QUESTION, mode="llm")
    assert answer.notice_code == "llm_not_configured" and answer.mode == "extractive" and "1,030억" in answer.text
    # a configured local model that cannot load is unavailable, not unconfigured: the notice says why
    missing = build_pipeline(_backend(settings, "local", model=str(tmp_path / "nothing.gguf")),
                             embedder=HashingEmbedder(), korean=korean)
    answer = missing.ask(QUESTION, mode="llm")
    assert answer.notice_code == "llm_unavailable" and "nothing.gguf" in answer.notice


def test_warm_up_primes_the_llm_only_when_asked(settings, korean):
    primed: list = []

    class Priming(ScriptedGenerator):
        def prime(self, messages) -> None:
            primed.append(messages)

    pipe = build_pipeline(settings, embedder=HashingEmbedder(), generator=Priming, korean=korean)
    pipe.warm_up()
    assert primed == []
    pipe.warm_up(llm=True)
    assert len(primed) == 1 and primed[0][0]["role"] == "system"


def test_the_ingest_lock_and_keyword_index_sit_beside_a_store_folder_or_per_chroma_server(settings, korean, tmp_path):
    local = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    assert local.lock_path() == tmp_path / "store" / ".ingest.lock"
    assert local.keyword_files().root == tmp_path / "store" / f"keyword-{settings.store.collection}"
    # no server is contacted: the paths only
    server = replace(settings.store, host="10.0.0.7", port=8001, collection="news")
    served = build_pipeline(replace(settings, store=server), embedder=HashingEmbedder(), korean=korean)
    assert served.lock_path() == tmp_path / "locks" / "ingest-10.0.0.7-8001-news.lock"
    assert served.keyword_files().root == tmp_path / "keyword-10.0.0.7-8001-news"


def test_a_pipeline_closes_before_first_use_and_reopens_its_store_after_close(settings, corpus, korean):
    build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).close()  # nothing opened: nothing to close
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest([corpus])
    pipe.close()
    assert len(pipe.list_articles()) == 5 and pipe.search("황창규 회장", k=1)[0].chunk.doc_id == "004_3623695115e5a12c.txt"


def test_closing_a_pipeline_lets_another_process_open_its_store(settings, corpus, korean):
    # the app closes its pipeline before the CLI (another process) may ingest into the same folder
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest([corpus])
    pipe.search("황창규 회장", k=1)
    claim = [sys.executable, "-c", f"from rag.locks import claim_folder; claim_folder({str(settings.store.dir)!r}, 'it')"]
    assert subprocess.run(claim, cwd=PROJECT_ROOT, capture_output=True).returncode != 0  # open here: refused there
    pipe.close()
    assert subprocess.run(claim, cwd=PROJECT_ROOT, capture_output=True).returncode == 0



def test_describe_names_the_generation_model_answers_come_from(settings, korean):
    """With the OpenAI-compatible backend /health named the unused local GGUF (generation.model)."""
    from pathlib import Path

    from rag.generation import load_generator

    g = replace(settings.generation, backend="openai", server_model="qwen", base_url="http://10.0.0.5:8080/v1/")
    pipe = build_pipeline(replace(settings, generation=g), embedder=HashingEmbedder(), korean=korean)
    assert pipe.describe()["generation_model"] == "openai:qwen@http://10.0.0.5:8080/v1"
    assert load_generator(g, Path(".")).name == "openai:qwen@http://10.0.0.5:8080/v1"  # what answers name
    pipe.close()
    local = build_pipeline(replace(settings, generation=replace(g, backend="local")), embedder=HashingEmbedder(),
                           korean=korean)
    assert local.describe()["generation_model"] == settings.generation.model
    local.close()
