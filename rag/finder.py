"""Every article that matches a query, not only the top passages: the search view behind
`GET /api/search` and the "검색 (Search)" tab.

    page = finder.find("상생결제 운용 실적", filters=Filters(date_from="2023-01-01"), sort="date", page=1)
    page.total, [m.info.title for m in page.matches], page.matches[0].passage.text

An article *matches* when its passages together hold at least `min_coverage` of the query's IDF
mass (the keyword index's coverage, summed over the article instead of one passage): every article
that holds the query's rarest words, the way an analyst checks what the archive holds. It is found
through the keyword index, with the filters applied inside it as in answering. Its relevance is the
fused dense + keyword score of its best passage, the same calibrated 0..1 scale as `Hit.score`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Literal, Protocol

from rag.filters import matches as filter_matches
from rag.keyword import doc_of
from rag.question import check_question
from rag.retrieval import calibrated_score
from rag.search import keyword_terms
from rag.store import cosine
from rag.types import ArticleInfo, Chunk, Filters
from rag.view import View

Sort = Literal["relevance", "date", "date_asc"]
SORTS: tuple[str, ...] = ("relevance", "date", "date_asc")
# passages per article scored with the dense model too (the best by BM25): the best passage is
# nearly always among them, and the store is asked for a bounded number of vectors
_SCORED_PER_ARTICLE = 2
_HIGHLIGHT_MIN_CHARS = 2  # one Hangul syllable ("년", "사") would light up half a passage


@dataclass(frozen=True)
class Match:
    """One matching article: its record, relevance, and its best passage with the query's words marked."""

    info: ArticleInfo
    score: float  # the best passage's calibrated fused score (0..1)
    coverage: float  # share of the query's IDF mass the article holds (0..1)
    passage: Chunk
    highlights: tuple[tuple[int, int], ...]  # offsets into passage.text
    passages: int  # how many of its passages hold a query word


@dataclass(frozen=True)
class MatchPage:
    query: str
    sort: str
    page: int
    per_page: int
    total: int  # matching articles in all
    matches: tuple[Match, ...] = ()
    terms: tuple[str, ...] = field(default=())  # the query's keyword terms

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class FinderParts(Protocol):
    @property
    def embedder(self): ...
    @property
    def store(self): ...
    @property
    def korean(self): ...


class FinderError(ValueError):
    """A search the user asked for in a way that cannot work (unknown sort, page out of range)."""


class ArticleFinder:
    def __init__(self, parts: FinderParts, view: Callable[[], View], dense_weight: float, min_coverage: float,
                 max_question_chars: int) -> None:
        self.parts, self._view = parts, view
        self.dense_weight, self.min_coverage, self.max_chars = dense_weight, min_coverage, max_question_chars

    def find(self, query: str, filters: Filters | None = None, sort: str = "relevance", page: int = 1,
             per_page: int = 10) -> MatchPage:
        text = check_question(query, self.max_chars)
        if sort not in SORTS:
            raise FinderError(f"sort must be one of {', '.join(SORTS)}")
        if page < 1 or not 1 <= per_page <= 50:
            raise FinderError("page must be >= 1 and per_page between 1 and 50")
        view = self._view()
        coverage = self.coverage(text, filters, view)
        kept = {d: c for d, c in coverage.shares.items() if c >= self.min_coverage}
        empty = MatchPage(text, sort, page, per_page, 0, (), coverage.terms)
        if not kept:
            return empty
        scored = self._score(text, view, {d: coverage.passages[d] for d in kept}, coverage)
        matches = [Match(view.articles[d], score, kept[d], chunk, _highlights(chunk.text, coverage.terms),
                         len(coverage.passages[d])) for d, (score, chunk) in scored.items()]
        matches.sort(key=_sort_key(sort))
        lo = (page - 1) * per_page
        return MatchPage(text, sort, page, per_page, len(matches), tuple(matches[lo:lo + per_page]), coverage.terms)

    def coverage(self, query: str, filters: Filters | None = None, view: View | None = None) -> "Coverage":
        """Every article holding any query word (within the filters) and its share of the query's IDF mass."""
        view = view or self._view()
        index = view.keyword
        # an English name is found as its Hangul spelling too, a domain word as the lexicon's glossary gives it
        terms = keyword_terms(index, query, self.parts.korean.lexicon.glossary, search_box=True)
        if not terms or not view.articles:
            return Coverage(tuple(dict.fromkeys(terms)))

        def allow(doc_id: str) -> bool:
            info = view.articles.get(doc_id)
            return info is not None and (not filters or filter_matches(filters, doc_id, info.date, info.publisher))

        # every passage holding any query word (BM25 > 0)
        found = index.search(terms, max(1, len(index)), allow)
        ids = [c for c, _ in found]
        raw = {t: set(index.score([t], ids)) for t in set(terms)} if ids else {}
        # a compound holds its parts: Kiwi reads "상생결제로" as one noun in one sentence and as
        # 상생 + 결제 in another, and a query yields the parts and the compound alike
        holds = {t: set().union(*(raw[u] for u in raw if t in u)) for t in raw}
        weights = index.weights(terms)
        total = sum(weights.values())  # > 0: there are terms, and an unseen term weighs the most
        passages: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for cid, bm25 in found:
            passages[doc_of(cid)].append((cid, bm25))
        shares = {}
        for doc_id, chunks in passages.items():
            present = [t for t in weights if any(c in holds[t] for c, _ in chunks)]
            shares[doc_id] = sum(weights[t] for t in present) / total
        return Coverage(tuple(dict.fromkeys(terms)), shares, dict(passages), holds,
                        {t: w / total for t, w in weights.items()})

    def _score(self, text: str, view: View, docs: dict[str, list[tuple[str, float]]],
               coverage: "Coverage") -> dict[str, tuple[float, Chunk]]:
        """Each article's best passage among its top passages by BM25, by the fused calibrated score."""
        wanted = [c for chunks in docs.values() for c, _ in sorted(chunks, key=lambda kv: -kv[1])[:_SCORED_PER_ARTICLE]]
        stored = self.parts.store.chunks(wanted, vectors=True)
        # a passage counts only through its article's record in this view (as in answering)
        stored = {c: s for c, s in stored.items() if view.visible(s.chunk.doc_id, s.content_hash)}
        vector = self.parts.embedder.embed_queries([text])[0]
        similarity = cosine(vector, stored)
        best: dict[str, tuple[float, Chunk]] = {}
        for cid, item in stored.items():
            share = sum(w for t, w in coverage.weights.items() if cid in coverage.holds[t])
            score = calibrated_score(similarity[cid], share, self.dense_weight)
            doc_id = item.chunk.doc_id
            if doc_id not in best or score > best[doc_id][0]:
                best[doc_id] = (score, item.chunk)
        return best


@dataclass(frozen=True)
class Coverage:
    """What the keyword index says about a query: per article, its share of the query's IDF mass."""

    terms: tuple[str, ...]
    shares: dict[str, float] = field(default_factory=dict)  # doc_id -> 0..1
    passages: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # doc_id -> [(chunk_id, BM25)]
    holds: dict[str, set[str]] = field(default_factory=dict)  # term -> chunk ids holding it
    weights: dict[str, float] = field(default_factory=dict)  # term -> share of the query's IDF mass


def _sort_key(sort: str) -> Callable[[Match], tuple]:
    if sort == "relevance":
        return lambda m: (-m.score, -_day(m.info.date), m.info.doc_id)
    if sort == "date":  # newest first; undated last
        return lambda m: (m.info.date is None, -_day(m.info.date), -m.score, m.info.doc_id)
    return lambda m: (m.info.date is None, _day(m.info.date), -m.score, m.info.doc_id)


def _day(iso: str | None) -> int:
    return int(iso.replace("-", "")) if iso else 0


def _highlights(text: str, terms: list[str]) -> tuple[tuple[int, int], ...]:
    """Where the query's words occur in the passage (case-insensitive), overlapping spans merged."""
    words = sorted({t for t in terms if len(t) >= _HIGHLIGHT_MIN_CHARS or t.isdigit()}, key=len, reverse=True)
    if not words:
        return ()
    spans = sorted((m.start(), m.end()) for m in re.finditer("|".join(map(re.escape, words)), text, re.IGNORECASE))
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)
