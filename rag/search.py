"""Search: a question in, calibrated hybrid hits out (dense + Korean keyword, fused, capped per source).

    searcher = Searcher(settings, parts)
    hits = searcher.search("LG이노텍의 동반성장 펀드 규모는?", k=5)
    by_mode = searcher.search_modes(question, k=10)   # dense / keyword / hybrid on the same candidates

`parts` is the pipeline, which owns the lazily loaded embedder, store and keyword index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

from rag.config import Settings
from rag.glossary import with_glosses
from rag.question import check_question
from rag.retrieval import cap_per_source, fuse_calibrated, make_hits
from rag.types import Chunk, Hit


@dataclass(frozen=True)
class Candidates:
    """Raw retriever output for one question: chunk_id -> score."""

    dense_only: dict[str, float]  # cosine similarity, the dense retriever's own top-n
    keyword_only: dict[str, float]  # BM25, the keyword retriever's own top-n
    dense: dict[str, float]  # cosine similarity on the union of both top-n
    keyword: dict[str, float]  # BM25 on the union (absent = matched no query term)
    coverage: dict[str, float]  # share of the question's IDF mass in each chunk


class SearchParts(Protocol):
    """What search needs from the pipeline."""

    @property
    def embedder(self): ...
    @property
    def store(self): ...
    def keyword_index(self) -> tuple[object, dict[str, Chunk]]: ...


class Searcher:
    def __init__(self, settings: Settings, parts: SearchParts) -> None:
        self.settings = settings
        self.parts = parts

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        """Hybrid search: dense + keyword, fused; Hit.score is calibrated to 0..1."""
        return self.search_modes(question, k, modes=("hybrid",))["hybrid"]

    def search_modes(
        self, question: str, k: int | None = None, modes: Sequence[str] = ("dense", "keyword", "hybrid")
    ) -> dict[str, list[Hit]]:
        """Rankings of each retriever on the same candidates (for evaluation), per-source cap applied."""
        conf = self.settings.retrieval
        k = k or conf.k
        found, chunks = self._candidates(question, max(conf.candidates, k))
        rankings = {
            "dense": _by_score(found.dense_only),
            "keyword": _by_score(found.keyword_only),
            "hybrid": fuse_calibrated(found.dense, found.coverage, conf.dense_weight),
        }
        out: dict[str, list[Hit]] = {}
        for mode in modes:
            ranked = [(chunks[i], s) for i, s in rankings[mode] if i in chunks]
            hits = make_hits(
                cap_per_source(ranked, k, conf.per_source_cap), found.dense, found.keyword, found.coverage,
                conf.dense_weight,
            )
            out[mode] = [h for h in hits if h.score >= conf.min_score] if mode == "hybrid" else hits
        return out

    def candidates(self, question: str, n: int) -> Candidates:
        """The top-n of each retriever, with both scores completed on their union (fusion input)."""
        return self._candidates(question, n)[0]

    def _candidates(self, question: str, n: int) -> tuple[Candidates, dict[str, Chunk]]:
        text = check_question(question, self.settings.app.max_question_chars)
        index, chunks = self.parts.keyword_index()
        if not chunks:
            return Candidates({}, {}, {}, {}, {}), chunks
        store = self.parts.store
        vector = self.parts.embedder.embed_queries([text])[0]
        dense_only = dict(store.query(vector, n))
        # an English question is matched by keyword through the Korean forms of its domain words
        terms = index.query_terms(with_glosses(text))
        keyword_only = dict(index.search(terms, n))
        # complete both score maps on the union so fusion compares like with like
        dense = dense_only | store.similarities(vector, [i for i in keyword_only if i not in dense_only])
        keyword = keyword_only | index.score(terms, [i for i in dense_only if i not in keyword_only])
        coverage = {i: index.coverage(terms, i) for i in dense}
        return Candidates(dense_only, keyword_only, dense, keyword, coverage), chunks


def _by_score(scores: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
