"""Search (rag.search): which view a question searches and when it is reopened, how many hits come
back, and each retriever's own ranking (real store and keyword index, hashing embedder)."""

from __future__ import annotations

import threading
from dataclasses import replace
from types import SimpleNamespace

import pytest

from rag import search
from rag.config import load_settings
from rag.search import Searcher, keyword_terms
from rag.types import Article
from rag.view import Changes
from tests.fakes import HashingEmbedder, WatchedLock

# made-up firms and programmes: one paragraph each, so one chunk per article
ARTICLES = [
    Article(doc_id=f"{name}.txt", title=title, text=f"{title}\n\n{body}", date="2024-03-0" + str(i + 1),
            publisher="한빛경제")
    for i, (name, title, body) in enumerate([
        ("fund", "새솔전자 동반성장 펀드 확대", "새솔전자는 협력사 지원을 위한 동반성장 펀드를 300억 원 늘린다고 밝혔다."),
        ("pay", "다온물산 상생결제 도입", "다온물산은 2차 협력사까지 상생결제로 대금을 지급한다."),
        ("tech", "한결화학 기술 나눔", "한결화학은 협력사에 특허 20건을 무상으로 이전했다."),
        ("edu", "미르정밀 협력사 교육", "미르정밀은 협력사 직원 교육 과정을 새로 열었다."),
        ("export", "반도체 수출 증가", "반도체 수출이 석 달째 늘었다고 정부가 밝혔다."),
        ("weather", "주말 날씨", "주말에는 전국에 비가 내리고 기온이 떨어진다."),
        ("safety", "누리건설 안전 점검", "누리건설은 협력사 현장의 안전 점검을 강화했다."),
        ("energy", "가람에너지 탄소 감축", "가람에너지는 협력사와 함께 탄소 배출을 줄이기로 했다."),
    ])
]


@pytest.fixture(scope="module")
def pipe(tmp_path_factory, korean):
    from rag.pipeline import build_pipeline

    tmp = tmp_path_factory.mktemp("search")
    s = load_settings(None, env={})
    settings = replace(s, paths=replace(s.paths, data_dir=tmp, cache_dir=tmp / "cache"),
                       store=replace(s.store, dir=tmp / "store"))
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest_articles(ARTICLES)
    yield pipe
    pipe.close()


def test_a_question_gets_the_settings_k_hits_unless_it_asks_for_another_number(pipe) -> None:
    question = "협력사 동반성장 펀드 규모는?"
    assert pipe.settings.retrieval.k == 5 < len(ARTICLES)
    assert len(pipe.search(question)) == 5
    assert len(pipe.search(question, k=2)) == 2
    assert len(pipe.search(question, k=7)) == 7


def test_each_retriever_ranks_its_own_candidates(pipe) -> None:
    modes = pipe.search_modes("상생결제 대금 지급", k=5, modes=("dense", "keyword"))
    assert set(modes) == {"dense", "keyword"}
    keyword, dense = modes["keyword"], modes["dense"]
    # BM25 finds only passages holding a query word, best first
    assert keyword and {h.chunk.doc_id for h in keyword} <= {"pay.txt"}
    assert all(h.keyword and h.keyword > 0 for h in keyword)
    assert [h.keyword for h in keyword] == sorted((h.keyword for h in keyword), reverse=True)
    # the dense retriever ranks every passage by cosine, holding a query word or not
    assert len(dense) == 5 and any(h.keyword is None for h in dense)
    assert [h.dense for h in dense] == sorted((h.dense for h in dense), reverse=True)
    assert [h.rank for h in dense] == [1, 2, 3, 4, 5]


def test_both_scores_are_completed_on_the_union_of_the_two_top_lists(pipe) -> None:
    # fusion compares like with like: a passage only BM25 found gets its cosine, one only the dense
    # retriever found gets its BM25 (when it holds a query word)
    question = "협력사 동반성장 펀드 규모는?"
    found, wide = pipe.candidates(question, 2), pipe.candidates(question, 30)
    by_keyword = found.keyword_only.keys() - found.dense_only.keys()
    by_dense = found.dense_only.keys() - found.keyword_only.keys()
    assert by_keyword and by_dense
    assert found.dense.keys() == found.dense_only.keys() | found.keyword_only.keys()
    assert all(found.dense[c] == pytest.approx(wide.dense_only[c]) for c in by_keyword)
    assert any(c in wide.keyword_only for c in by_dense)
    assert all(found.keyword[c] == pytest.approx(wide.keyword_only[c]) for c in by_dense if c in wide.keyword_only)


@pytest.fixture(scope="module")
def names_index(korean):
    from rag.keyword import KeywordIndex

    return KeywordIndex([], korean.tokens_batch).with_changes(
        [("a#0", korean.tokens("최진균 대표는 ESG 경영을 위해 협력사를 찾았다.")), ("b#0", korean.tokens("이주형 사장이 말했다."))],
        [], 1)


def test_an_english_question_is_matched_through_the_hangul_spelling_of_its_names(names_index) -> None:
    terms = keyword_terms(names_index, "Who is Choi Jin-kyun?", ())
    assert "최진균" in terms and "choi" in terms  # in a question the words no passage holds stay
    # a name written in both scripts counts once
    assert keyword_terms(names_index, "최진균 Choi Jin-kyun said what about suppliers", ()).count("최진균") == 1


def test_the_search_box_leaves_out_latin_words_no_passage_holds(names_index) -> None:
    # its first word may be a name; unseen, "choi" would hold coverage mass no Korean article covers
    assert keyword_terms(names_index, "Choi Jin-kyun", (), search_box=True) == ["최진균"]
    # a Latin word a passage holds stays, and so does a Hangul word none holds
    assert keyword_terms(names_index, "ESG Choi Jin-kyun 협약", (), search_box=True) == ["esg", "협약", "최진균"]
    # a Korean query keeps its words as typed
    assert "zqx" in keyword_terms(names_index, "ZQX 협력사", (), search_box=True)


def test_hybrid_ranks_only_the_candidates_whose_passages_it_is_given() -> None:
    # a replayed fusion set (bench/tune_fusion_sets.py) or a caller holding fewer passages than candidates
    from rag.search import Candidates, hybrid_hits
    from rag.types import Chunk

    chunks = {c: Chunk(chunk_id=c, doc_id=c.split("#")[0], text="본문", start=0, end=2, title="") for c in ("a#0", "b#0")}
    scores = {"a#0": 0.9, "b#0": 0.5, "gone#0": 0.95}
    found = Candidates(scores, scores, scores, scores, scores)
    conf = load_settings(None, env={}).retrieval
    hits = hybrid_hits(found, scores, chunks, 5, conf)
    assert [h.chunk.chunk_id for h in hits] == ["a#0", "b#0"]
    # hits under the settings' floor are dropped
    floor = (hits[0].score + hits[1].score) / 2
    assert [h.chunk.chunk_id for h in hybrid_hits(found, scores, chunks, 5, replace(conf, min_score=floor))] == ["a#0"]


def test_an_empty_store_answers_without_embedding_the_question(tmp_path, korean) -> None:
    from rag.pipeline import build_pipeline

    class CountingEmbedder(HashingEmbedder):
        queries = 0

        def embed_queries(self, texts):
            CountingEmbedder.queries += len(texts)
            return super().embed_queries(texts)

    s = load_settings(None, env={})
    settings = replace(s, paths=replace(s.paths, data_dir=tmp_path, cache_dir=tmp_path / "cache"),
                       store=replace(s.store, dir=tmp_path / "store"))
    pipe = build_pipeline(settings, embedder=CountingEmbedder(), korean=korean)
    try:
        assert pipe.search("협력사 지원 규모는?") == [] and CountingEmbedder.queries == 0
    finally:
        pipe.close()


# --- the view: a stand-in per store generation (what a view holds is rag.view's business) -------------

class _RawStore:
    """The store as Searcher.view sees it: a generation, and how often it was read."""

    def __init__(self) -> None:
        self.generation, self.reads = 1, 0

    def state(self) -> SimpleNamespace:
        self.reads += 1
        return SimpleNamespace(generation=self.generation)


class _Parts:
    def __init__(self) -> None:
        self.store = _RawStore()

    def raw_store(self) -> _RawStore:
        return self.store


class _OpeningSearcher(Searcher):
    """Records every view it opens; `gate`, when set, holds the opening until it is released."""

    def __init__(self, refresh_s: float, gate: "_Gate | None" = None) -> None:
        s = load_settings(None, env={})
        super().__init__(replace(s, store=replace(s.store, refresh_s=refresh_s)), _Parts())
        self.opened: list[SimpleNamespace] = []
        self.gate = gate

    def _open(self) -> SimpleNamespace:
        if self.gate:
            self.gate.entered.set()
            assert self.gate.release.wait(10)
        view = SimpleNamespace(generation=self.parts.store.generation)
        self.opened.append(view)
        return view


class _Gate:
    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()


def test_the_store_generation_is_read_at_most_every_refresh_interval() -> None:
    searcher = _OpeningSearcher(refresh_s=3600)
    first = searcher.view()
    searcher.parts.store.generation = 2  # an ingest elsewhere: not looked for before the interval is up
    assert searcher.view() is first and searcher.parts.store.reads == 0 and len(searcher.opened) == 1


def test_the_view_is_reopened_only_when_the_generation_changed() -> None:
    searcher = _OpeningSearcher(refresh_s=0)
    first = searcher.view()
    assert searcher.view() is first and searcher.parts.store.reads == 1  # checked, unchanged: kept
    searcher.parts.store.generation = 2
    second = searcher.view()
    assert second is not first and second.generation == 2 and len(searcher.opened) == 2


def test_questions_arriving_together_at_a_fresh_process_open_one_view() -> None:
    gate = _Gate()
    searcher = _OpeningSearcher(refresh_s=3600, gate=gate)
    searcher._lock = lock = WatchedLock()
    got: list[object] = []
    first = threading.Thread(target=lambda: got.append(searcher.view()))
    first.start()
    assert gate.entered.wait(10)  # the first question is opening the view, holding the lock
    second = threading.Thread(target=lambda: got.append(searcher.view()))
    second.start()
    assert lock.contended.wait(10)  # the second found no view and waits for the lock
    gate.release.set()
    first.join(10)
    second.join(10)
    assert len(searcher.opened) == 1 and got == [searcher.opened[0]] * 2


class _SavingParts:
    korean = SimpleNamespace(tokens_batch=None)

    def __init__(self) -> None:
        self.saved: list[object] = []

    def raw_store(self) -> None:
        return None

    def keyword_files(self) -> None:
        return None

    def save_view(self, view) -> bool:
        self.saved.append(view)
        return True


@pytest.mark.parametrize(("changes", "saved"), [
    (Changes([("a.txt#0", ["협력사"])], [], []), True),  # chunks tokenized from the store
    (Changes([], ["b.txt#0"], []), True),  # rows of a deleted article dropped
    (Changes([], [], ["c.txt#0"]), False),  # orphans only: the index is as saved, the writer deletes them
    (Changes([], [], []), False),  # the saved files are current
])
def test_a_view_rebuilt_in_memory_is_saved_for_the_next_start(monkeypatch, changes: Changes, saved: bool) -> None:
    view = SimpleNamespace(generation=3)
    monkeypatch.setattr(search, "open_view", lambda store, files, tokenize: (view, changes))
    parts = _SavingParts()
    assert Searcher(load_settings(None, env={}), parts).view() is view
    assert parts.saved == ([view] if saved else [])


def test_only_passages_of_the_views_articles_are_found(tmp_path, korean) -> None:
    # another process changed the store after this one opened its view (refreshed only after
    # refresh_s): a killed ingest left passages no record vouches for, a delete took an article's
    # passages that the view's keyword index still holds
    from rag.pipeline import build_pipeline
    from rag.types import Chunk

    s = load_settings(None, env={})
    settings = replace(s, paths=replace(s.paths, data_dir=tmp_path, cache_dir=tmp_path / "cache"),
                       store=replace(s.store, dir=tmp_path / "store", refresh_s=3600))
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    try:
        pipe.ingest_articles(ARTICLES)
        question = "다온물산 상생결제 대금 지급"
        assert "pay.txt" in {h.chunk.doc_id for h in pipe.search(question)}
        text = "다온물산 상생결제 대금 지급 다온물산 상생결제"
        ghost = Chunk(chunk_id="ghost.txt#0-00000000", doc_id="ghost.txt", text=text, start=0, end=len(text),
                      title="다온물산 상생결제")
        store = pipe.raw_store()
        store.add_chunks([ghost], HashingEmbedder().embed_passages([text]), "not-recorded")
        store.delete_docs(["pay.txt"])
        assert store.query(HashingEmbedder().embed_queries([question])[0], 1)[0][0] == ghost.chunk_id
        hits = pipe.search(question, k=8)
        assert hits and not {"ghost.txt", "pay.txt"} & {h.chunk.doc_id for h in hits}
        found = pipe.candidates(question, 30)
        for scores in (found.dense_only, found.keyword_only, found.dense, found.keyword, found.coverage):
            assert not {"ghost.txt", "pay.txt"} & {c.split("#")[0] for c in scores}
    finally:
        pipe.close()
