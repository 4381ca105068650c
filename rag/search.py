"""Search: a question in, calibrated hybrid hits out (dense + Korean keyword, fused, capped per source).

    searcher = Searcher(settings, parts)
    hits = searcher.search("LG이노텍의 동반성장 펀드 규모는?", k=5, filters=Filters(date_from="2023-01-01"))
    by_mode = searcher.search_modes(question, k=10)   # dense / keyword / hybrid on the same candidates

Every question searches one `View` (rag.view): the keyword index and article records of one store
generation. A serving process checks the store's generation at most every `store.refresh_s` seconds
and swaps in a fresh view when an ingest (here or in another process) committed; questions already
running keep the view they started with, so none fails or mixes two generations.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Protocol, Sequence

from rag.config import RetrievalSettings, Settings
from rag.filters import matches
from rag.glossary import mostly_latin, with_glosses
from rag.periods import credit_period, find_period
from rag.question import check_question
from rag.romanize import latin_names
from rag.retrieval import cap_per_source, fuse_calibrated, make_hits
from rag.store import cosine, where_clause
from rag.types import Chunk, Filters, Hit
from rag.vocabulary import GlossEntry
from rag.view import View, open_view


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
    @property
    def korean(self): ...
    def raw_store(self): ...
    def keyword_files(self): ...
    def save_view(self, view: View) -> bool: ...


class Searcher:
    def __init__(self, settings: Settings, parts: SearchParts) -> None:
        self.settings = settings
        self.parts = parts
        self._view: View | None = None
        self._checked = 0.0
        # one thread opens or swaps the view; held while opening it, which asks `parts` for Kiwi and the
        # store: so the parts must never wait for this lock while holding their own (Pipeline.close)
        self._lock = threading.Lock()

    # --- the view ------------------------------------------------------------------------------

    def view(self) -> View:
        """The current view; re-checks the store's generation at most every `store.refresh_s`."""
        view = self._view
        if view is None:
            with self._lock:
                if self._view is None:
                    self._view = self._open()
                    self._checked = time.monotonic()
                return self._view
        if time.monotonic() - self._checked >= self.settings.store.refresh_s and self._lock.acquire(blocking=False):
            # one thread refreshes; the others go on with the view they have
            try:
                self._checked = time.monotonic()
                if self.parts.raw_store().state().generation != view.generation:
                    self._view = self._open()
            finally:
                self._lock.release()
        return self._view

    def held(self) -> View | None:
        """The view open now, as it is: no store read, no check (None before the first `view()`)."""
        return self._view

    def use_view(self, view: View | None) -> None:
        """Swap in a view (an ingest in this process just committed it); None = reopen on next use."""
        with self._lock:
            self._view = view
            self._checked = time.monotonic()

    def _open(self) -> View:
        korean = self.parts.korean
        view, changes = open_view(self.parts.raw_store(), self.parts.keyword_files(), korean.tokens_batch)
        if changes.added or changes.removed:  # rebuilt in memory: keep it for the next start
            self.parts.save_view(view)
        return view

    # --- searching -----------------------------------------------------------------------------

    def search(self, question: str, k: int | None = None, filters: Filters | None = None) -> list[Hit]:
        """Hybrid search: dense + keyword, fused; Hit.score is calibrated to 0..1."""
        return self.search_modes(question, k, modes=("hybrid",), filters=filters)["hybrid"]

    def search_modes(
        self, question: str, k: int | None = None, modes: Sequence[str] = ("dense", "keyword", "hybrid"),
        filters: Filters | None = None,
    ) -> dict[str, list[Hit]]:
        """Rankings of each retriever on the same candidates (for evaluation), per-source cap applied."""
        conf = self.settings.retrieval
        k = k or conf.k
        found, chunks = self._candidates(question, max(conf.candidates, k), filters)
        out: dict[str, list[Hit]] = {}
        for mode in modes:
            if mode == "hybrid":
                out[mode] = hybrid_hits(found, self._ranking_coverage(question, found, chunks), chunks, k, conf)
                continue
            # each retriever's own top-n holds visible passages only (`_candidates`): every one has its chunk
            ranked = [(chunks[i], s) for i, s in _by_score(found.dense_only if mode == "dense" else found.keyword_only)]
            out[mode] = make_hits(cap_per_source(ranked, k, conf.per_source_cap), found.dense, found.keyword,
                                  found.coverage, conf.dense_weight)
        return out

    def fusion_inputs(self, question: str, n: int, filters: Filters | None = None
                      ) -> tuple[Candidates, dict[str, float], dict[str, Chunk]]:
        """What `hybrid_hits` ranks: the candidates, their ranking coverage and their chunks (for
        replaying fusion settings in memory, bench/tune_fusion_sets.py)."""
        found, chunks = self._candidates(question, n, filters)
        return found, self._ranking_coverage(question, found, chunks), chunks

    def _ranking_coverage(self, question: str, found: Candidates, chunks: dict[str, Chunk]) -> dict[str, float]:
        """Coverage for ordering the hybrid ranking: a period the question names ("2021년", "지난해")
        puts that period's articles first (rag.periods); the hits' scores keep the plain coverage."""
        conf = self.settings.retrieval
        today = date.fromisoformat(conf.reference_date) if conf.reference_date else date.today()
        period = find_period(question, today)
        if period is None or not chunks:
            return found.coverage
        index = self.view().keyword
        # the terms coverage was computed with
        terms = keyword_terms(index, question.strip(), self.parts.korean.lexicon.glossary)
        return credit_period(found.coverage, chunks, terms, period, index)

    def candidates(self, question: str, n: int, filters: Filters | None = None) -> Candidates:
        """The top-n of each retriever, with both scores completed on their union (fusion input)."""
        return self._candidates(question, n, filters)[0]

    def _candidates(self, question: str, n: int, filters: Filters | None) -> tuple[Candidates, dict[str, Chunk]]:
        text = check_question(question, self.settings.app.max_question_chars)
        view = self.view()
        if not view.articles:
            return Candidates({}, {}, {}, {}, {}), {}
        store, index = self.parts.store, view.keyword
        vector = self.parts.embedder.embed_queries([text])[0]
        allow = None
        if filters:
            def allow(doc_id: str) -> bool:
                info = view.articles.get(doc_id)
                return info is not None and matches(filters, doc_id, info.date, info.publisher)
        # both retrievers search the same restricted corpus: Chroma filters on chunk metadata, the
        # keyword index masks rows before ranking
        dense_raw = store.query(vector, n, where_clause(filters, view.articles))
        terms = keyword_terms(index, text, self.parts.korean.lexicon.glossary)
        keyword_raw = index.search(terms, n, allow)
        stored = store.chunks(list(dict.fromkeys([c for c, _ in dense_raw] + [c for c, _ in keyword_raw])),
                              vectors=True)
        # a chunk counts only through its article's record in this view (no orphan, no half-ingested article)
        visible = {c: s for c, s in stored.items() if view.visible(s.chunk.doc_id, s.content_hash)}
        dense_only = {c: s for c, s in dense_raw if c in visible}
        keyword_only = {c: s for c, s in keyword_raw if c in visible}
        # complete both score maps on the union so fusion compares like with like
        dense = dense_only | cosine(vector, {c: visible[c] for c in keyword_only if c not in dense_only})
        keyword = keyword_only | index.score(terms, [c for c in dense_only if c not in keyword_only])
        coverage = index.coverages(terms, dense)
        chunks = {c: s.chunk for c, s in visible.items()}
        return Candidates(dense_only, keyword_only, dense, keyword, coverage), chunks


def keyword_terms(index, question: str, glossary: Sequence[GlossEntry], search_box: bool = False) -> list[str]:
    """The keyword query of a question. An English one is matched through the Korean forms of its
    domain words (`glossary`: the lexicon in use, the user's folders too, as evidence and refusal
    read it) and the Hangul words of the index that sound like its names in Latin letters
    ("Choi Jin-kyun" -> 최진균, rag/romanize.py).

    `search_box`: a query typed into the article search ("Choi Jin-kyun"), not a sentence: its first
    word may be a name, and a Latin word no passage holds is left out of it. Counted as unseen, such a
    word holds coverage mass no Korean article can cover, and the article search keeps only articles
    covering most of the query: "Choi Jin-kyun" would find no article although 최진균 is in one. (In a
    question the unseen words stay: dropping them moved the klue-en calibration half both ways, hybrid
    recall@1 0.167 -> 0.200, recall@5 0.400 -> 0.367.)"""
    terms = index.query_terms(with_glosses(question, glossary))
    if mostly_latin(question):
        terms += [t for t in index.sounding(latin_names(question, sentence=not search_box)) if t not in terms]
        if search_box:
            terms = [t for t in terms if not t.isascii() or index.df(t)]
    return terms


def hybrid_hits(found: Candidates, ranking_coverage: dict[str, float], chunks: dict[str, Chunk], k: int,
                conf: RetrievalSettings) -> list[Hit]:
    """The hybrid top k: fused on `ranking_coverage`, capped per source, scored on the plain coverage,
    hits under `conf.min_score` dropped."""
    fused = fuse_calibrated(found.dense, ranking_coverage, conf.dense_weight)
    ranked = [(chunks[i], s) for i, s in fused if i in chunks]
    hits = make_hits(cap_per_source(ranked, k, conf.per_source_cap), found.dense, found.keyword, found.coverage,
                     conf.dense_weight)
    return [h for h in hits if h.score >= conf.min_score]


def narrow(found: Candidates, ranking_coverage: dict[str, float], n: int) -> tuple[Candidates, dict[str, float]]:
    """The candidates a search with `n` per retriever would have found, cut from a wider search's.
    Every score is a chunk's own (cosine, BM25, coverage), so cutting the union is exact up to ties."""
    dense_only = dict(_by_score(found.dense_only)[:n])
    keyword_only = dict(_by_score(found.keyword_only)[:n])
    union = dense_only.keys() | keyword_only.keys()

    def keep(scores: dict[str, float]) -> dict[str, float]:
        return {c: s for c, s in scores.items() if c in union}

    return (Candidates(dense_only, keyword_only, keep(found.dense), keep(found.keyword), keep(found.coverage)),
            keep(ranking_coverage))


def _by_score(scores: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
