"""The article finder (rag.finder) called directly: which articles match, which passage each shows, the
sorts, the refusals and the highlights (real store and keyword index, hashing embedder). The HTTP
route over it is tests/test_search_view.py."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from rag.config import load_settings
from rag.finder import FinderError, _highlights
from rag.types import Article
from tests.fakes import HashingEmbedder

QUERY = "상생결제 지급액"
FILLER = "협력사 대표들은 현장의 어려움을 들었다. 회사는 앞으로도 협력사와 소통을 넓히겠다고 말했다."


def _article(doc_id: str, when: str, title: str, *paragraphs: str) -> Article:
    return Article(doc_id=doc_id, title=title, text="\n\n".join([title, *paragraphs]), date=when, publisher="한빛경제")


# made-up firms; "지급액" is rarer than "상생결제", so an article holding only 상생결제 holds under half
# of the query's weight, one holding only 지급액 more than half
ARTICLES = [
    _article("both.txt", "2021-05-01", "새솔전자 상생결제 확대",
             "새솔전자는 협력사에 상생결제로 대금을 지급했다. 이번 지급액은 120억 원이다."),
    _article("pay-only.txt", "2024-02-01", "다온물산 상생결제 도입", "다온물산은 2차 협력사까지 상생결제를 쓰기로 했다."),
    _article("amount-only.txt", "2022-03-01", "누리건설 지급액 공개", "누리건설은 협력사 지급액을 처음 공개했다. 지급액은 30억 원이다."),
    _article("other.txt", "2024-03-01", "반도체 수출", "반도체 수출이 석 달째 늘었다."),
    # two passages each: the one holding both words comes first in one article, last in the other
    _article("first.txt", "2023-01-05", "가람에너지 협력사 지원",
             f"가람에너지는 상생결제로 협력사 대금을 지급했다. 지급액은 50억 원이다. {FILLER}",
             f"가람에너지는 상생결제 운용 범위를 넓힌다. {FILLER} {FILLER}"),
    _article("last.txt", "2023-01-06", "미르정밀 협력사 지원",
             f"미르정밀은 상생결제 운용 범위를 넓힌다. {FILLER} {FILLER}",
             f"미르정밀은 상생결제로 협력사 대금을 지급했다. 지급액은 70억 원이다. {FILLER}"),
]


def _settings(tmp, **store):
    s = load_settings(None, env={})
    return replace(s, paths=replace(s.paths, data_dir=tmp, cache_dir=tmp / "cache"),
                   store=replace(s.store, dir=tmp / "store", **store))


@pytest.fixture(scope="module")
def pipe(tmp_path_factory, korean):
    from rag.pipeline import build_pipeline

    pipe = build_pipeline(_settings(tmp_path_factory.mktemp("finder")), embedder=HashingEmbedder(), korean=korean)
    pipe.ingest_articles(ARTICLES)
    yield pipe
    pipe.close()


def _by_id(page) -> dict:
    return {m.info.doc_id: m for m in page.matches}


def test_an_article_is_listed_when_its_passages_hold_most_of_the_querys_weight(pipe) -> None:
    page = pipe.find_articles(QUERY, per_page=50)
    found = _by_id(page)
    assert page.total == len(found) == 4 and set(found) == {"both.txt", "amount-only.txt", "first.txt", "last.txt"}
    # 지급액 alone is most of the weight, not all of it; 상생결제 alone (pay-only.txt) is too little
    assert 0.55 < found["amount-only.txt"].coverage < 1.0 and found["both.txt"].coverage == pytest.approx(1.0)
    coverage = pipe.finder().coverage(QUERY)
    assert 0 < coverage.shares["pay-only.txt"] < 0.5 and "other.txt" not in coverage.shares
    # and its relevance is its passage's: less of the query's weight, a lower score
    assert found["amount-only.txt"].score < found["both.txt"].score


def test_each_article_shows_its_best_passage(pipe) -> None:
    found = _by_id(pipe.find_articles(QUERY, per_page=50))
    for doc_id, best in (("first.txt", 0), ("last.txt", 1)):
        match = found[doc_id]
        assert match.passages == 2 and match.passage.chunk_id.startswith(f"{doc_id}#{best}-"), doc_id
        assert "지급액" in match.passage.text


def test_sorts_by_relevance_newest_and_oldest(pipe) -> None:
    def order(sort: str) -> list[str]:
        return [m.info.doc_id for m in pipe.find_articles(QUERY, sort=sort, per_page=50).matches]

    # relevance: the three holding every word tie, the newest first; the one holding 지급액 alone last
    assert order("relevance") == ["last.txt", "first.txt", "both.txt", "amount-only.txt"]
    assert order("date") == ["last.txt", "first.txt", "amount-only.txt", "both.txt"]
    assert order("date_asc") == ["both.txt", "amount-only.txt", "first.txt", "last.txt"]


@pytest.mark.parametrize(("sort", "page", "per_page"), [("popular", 1, 10), ("relevance", 0, 10),
                                                         ("relevance", 1, 0), ("relevance", 1, 51)])
def test_an_unknown_sort_or_a_page_out_of_range_is_refused(pipe, sort: str, page: int, per_page: int) -> None:
    with pytest.raises(FinderError):
        pipe.find_articles(QUERY, sort=sort, page=page, per_page=per_page)


def test_the_page_bounds_themselves_are_accepted(pipe) -> None:
    assert len(pipe.find_articles(QUERY, per_page=1).matches) == 1
    assert len(pipe.find_articles(QUERY, per_page=50).matches) == 4


def test_coverage_reads_the_view_it_is_given(pipe, korean) -> None:
    from rag.keyword import KeywordIndex
    from rag.view import View

    empty = View(0, KeywordIndex([], korean.tokens_batch), {})
    finder = pipe.finder()
    assert finder.coverage(QUERY).shares.keys() >= {"both.txt", "pay-only.txt"}  # the finder's own (current) view
    finder._view = lambda: empty
    assert finder.coverage(QUERY).shares == {}
    assert finder.coverage(QUERY, view=pipe._searcher.view()).shares.keys() >= {"both.txt", "pay-only.txt"}


def test_no_matching_article_is_found_without_embedding_the_query(pipe) -> None:
    class CountingEmbedder(HashingEmbedder):
        queries = 0

        def embed_queries(self, texts):
            CountingEmbedder.queries += len(texts)
            return super().embed_queries(texts)

    finder = pipe.finder()
    finder.parts = SimpleNamespace(embedder=CountingEmbedder(), store=pipe.store, korean=pipe.korean)
    assert finder.find("반도체 상생결제 지급액 수출 전망").total == 0 and CountingEmbedder.queries == 0
    assert finder.find(QUERY).total == 4 and CountingEmbedder.queries == 1


def test_a_passage_changed_by_another_process_is_not_shown(tmp_path, korean) -> None:
    # another process re-ingested first.txt with its first passage unchanged (same chunk id, a new
    # content hash); this process's view still holds the older record: that passage no longer counts
    from rag.pipeline import build_pipeline

    pipe = build_pipeline(_settings(tmp_path, refresh_s=3600), embedder=HashingEmbedder(), korean=korean)
    try:
        pipe.ingest_articles(ARTICLES)
        store = pipe.raw_store()
        (passage,) = [c for c in store.all_chunks() if c.chunk_id.startswith("first.txt#0-")]
        store.add_chunks([passage], HashingEmbedder().embed_passages([passage.text]), "edited-elsewhere")
        match = _by_id(pipe.find_articles(QUERY, per_page=50))["first.txt"]
        assert match.passage.chunk_id.startswith("first.txt#1-")
    finally:
        pipe.close()


def test_highlights_mark_the_query_words_merged_and_case_blind() -> None:
    text = "새솔전자 ESG 경영, 3년 만에 상생결제 확대"
    spans = _highlights(text, ["새솔", "새솔전자", "esg", "년", "3", "상생", "결제"])
    assert [text[a:b] for a, b in spans] == ["새솔전자", "ESG", "3", "상생결제"]  # 상생 + 결제 merged
    # a one-syllable word would light up half a passage; none left, nothing marked
    assert _highlights(text, ["년", "만"]) == ()
