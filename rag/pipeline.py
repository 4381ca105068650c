"""The pipeline: ingest articles, search them, answer questions. Entry points build one with
`build_pipeline(settings)`; nothing heavy happens until first use (models load lazily, once).

    pipe = build_pipeline(load_settings())
    pipe.ingest()                                   # the configured corpus folders, incrementally
    hits = pipe.search("LG이노텍의 동반성장 펀드 규모는?")
    answer = pipe.ask("LG이노텍의 동반성장 펀드 규모는?", mode="extractive")
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, replace
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Callable

from rag.config import Settings
from rag.glossary import with_glosses
from rag.question import QuestionError, check_question  # noqa: F401  (re-exported)
from rag.retrieval import cap_per_source, fuse_calibrated, make_hits
from rag.types import Answer, Article, Chunk, Event, Hit, IngestReport, Turn

_EMBED_GROUP = 64  # chunks embedded per call: enough for length-sorted batching to pay off


@dataclass(frozen=True)
class Candidates:
    """Raw retriever output for one question: chunk_id -> score."""

    dense_only: dict[str, float]  # cosine similarity, the dense retriever's own top-n
    keyword_only: dict[str, float]  # BM25, the keyword retriever's own top-n
    dense: dict[str, float]  # cosine similarity on the union of both top-n
    keyword: dict[str, float]  # BM25 on the union (absent = matched no query term)
    coverage: dict[str, float]  # share of the question's IDF mass in each chunk


class IngestError(RuntimeError):
    """Nothing could be ingested: the message says why (empty folder, no readable file...)."""


class Pipeline:
    """Ingest, search, ask. Thread-safe for concurrent search/ask; ingest takes an exclusive lock."""

    def __init__(
        self,
        settings: Settings,
        embedder: object | None = None,
        generator: Callable[[], object] | None = None,
        korean: object | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        self._generator_factory = generator
        self._generator: object | None = None
        self._korean = korean
        self._store = None
        self._store_bound = False
        self._keyword = None
        self._chunks: dict[str, Chunk] = {}
        self._articles: dict[str, Article] = {}
        self._answerer = None
        self._lock = threading.RLock()
        self._generator_lock = threading.Lock()

    # --- lazily built parts ------------------------------------------------------------------

    @property
    def embedder(self):
        with self._lock:
            if self._embedder is None:
                from rag.embedding import load_embedder

                self._embedder = load_embedder(self.settings.embedding, self.settings.paths.cache_dir)
            return self._embedder

    @property
    def korean(self):
        with self._lock:
            if self._korean is None:
                from rag.korean import KoreanText
                from rag.vocabulary import Lexicon

                self._korean = KoreanText(lexicon=Lexicon.load(self.settings.answer.lexicon))
            return self._korean

    @property
    def store(self):
        """The store, checked against the embedder (loading it). See `_raw_store` for cheap access."""
        with self._lock:
            store = self._raw_store()
            if not self._store_bound:
                embedder = self.embedder
                store.bind_model(embedder.name, embedder.dimension)
                self._store_bound = True
            return store

    def _raw_store(self):
        """The store, checked against the embedding *setting* only: no model load (unchanged re-ingest)."""
        with self._lock:
            if self._store is None:
                from rag.store import ChromaStore

                self._store = ChromaStore(self.settings.store, self._embedding_setting())
            return self._store

    def _embedding_setting(self) -> str:
        # an injected embedder (tests, eval baselines) identifies itself by name
        return self._embedder.name if self._embedder is not None else self.settings.embedding.model

    def _keyword_cache_file(self) -> Path:
        if self.settings.store.host:
            name = f"keyword-{self.settings.store.host}-{self.settings.store.port}-{self.settings.store.collection}.json"
            return self.settings.paths.data_dir / name
        return self.settings.store.dir / f"keyword-{self.settings.store.collection}.json"

    def _index(self):
        """The keyword index and chunk catalogue, rebuilt from the store when missing or stale."""
        with self._lock:
            if self._keyword is None:
                from rag.keyword import KiwiKeywordIndex

                chunks = self.store.all_chunks()
                index = KiwiKeywordIndex(self.korean.tokens_batch, tokenizer_version=getattr(self.korean, "version", ""))
                index.build(chunks, self._keyword_cache_file())
                self._chunks = {c.chunk_id: c for c in chunks}
                self._keyword = index
            return self._keyword

    def generator(self):
        """The LLM backend, loaded on first use; raises the backend's error when it cannot load."""
        with self._generator_lock:
            if self._generator is None:
                if self._generator_factory is not None:
                    self._generator = self._generator_factory()
                else:
                    from rag.generation import load_generator

                    self._generator = load_generator(self.settings.generation, self.settings.paths.cache_dir)
            return self._generator

    @property
    def answerer(self):
        with self._lock:
            if self._answerer is None:
                from rag.answering import Answerer

                llm_possible = self._generator_factory is not None or self.settings.generation.backend != "extractive"
                self._answerer = Answerer(
                    self.settings,
                    self.korean,
                    retrieve=lambda question, k: self.search(question, k),
                    article=self.article,
                    generator=self.generator if llm_possible else None,
                    embedder=lambda: self.embedder,
                )
            return self._answerer

    # --- ingest --------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path] | None = None, progress: bool = False) -> IngestReport:
        """Ingests files/folders (default: settings.paths.corpus). Incremental and idempotent:
        content hashes decide what is new or changed; articles whose file is gone from an ingested
        folder are deleted. Files that cannot be read are reported in `skipped`, never fatal."""
        from rag.corpus import load_corpus

        roots = [Path(p).expanduser().resolve() for p in (paths or self.settings.paths.corpus)]
        for root in roots:
            if not root.exists():
                raise IngestError(f"{root}: no such file or folder")
        load = load_corpus(roots, manifest_name=self.settings.paths.manifest)
        if not load.articles:
            reasons = "; ".join(f"{f}: {why}" for f, why in load.problems[:5]) or "no .txt/.md/.html/.jsonl files"
            raise IngestError(f"nothing to ingest in {', '.join(map(str, roots))} ({reasons}); the store is unchanged")
        return self._sync(load.articles, roots, tuple(load.problems), progress)

    def ingest_articles(self, articles: Sequence[Article], progress: bool = False) -> IngestReport:
        """Makes the store hold exactly these articles (used for benchmark corpora such as KorQuAD)."""
        return self._sync(list(articles), None, (), progress)

    def _sync(
        self, articles: list[Article], roots: list[Path] | None, skipped: tuple, progress: bool
    ) -> IngestReport:
        from rag.chunking import chunk_article, count_tiktoken

        started = time.perf_counter()
        # what decides "unchanged" is the article *and* how it would be chunked and embedded
        articles = [replace(a, content_hash=self._ingest_hash(a)) for a in articles]
        with self._lock:
            store = self._raw_store()
            existing = store.doc_hashes()
            incoming = {a.doc_id: a for a in articles}
            added = [a for a in incoming.values() if a.doc_id not in existing]
            updated = [a for a in incoming.values() if a.doc_id in existing and existing[a.doc_id][0] != a.content_hash]
            unchanged = [d for d, a in incoming.items() if d in existing and existing[d][0] == a.content_hash]
            deleted = [
                d for d, (_, path) in existing.items() if d not in incoming and (roots is None or _under(path, roots))
            ]
            todo = added + updated
            if not todo and not deleted:
                return IngestReport(unchanged=tuple(unchanged), skipped=tuple(skipped),
                                    seconds=round(time.perf_counter() - started, 3))
            store, embedder = self.store, self.embedder  # now the model is needed: load and check it
            store.delete_docs(deleted + [a.doc_id for a in updated])
            plan = [
                (a, chunk_article(a, self.korean, embedder.count_tokens, self.settings.chunking.max_tokens,
                                  self.settings.chunking.overlap_sentences))
                for a in todo
            ]
            n_chunks = sum(len(chunks) for _, chunks in plan)
            tokens_model = sum(c.n_tokens for _, chunks in plan for c in chunks)
            tokens_tiktoken = sum(count_tiktoken(c.text) for _, chunks in plan for c in chunks)
            bar = _progress(n_chunks, progress)
            try:
                group: list[tuple[Article, list[Chunk]]] = []
                for item in plan:
                    group.append(item)
                    if sum(len(c) for _, c in group) >= _EMBED_GROUP:
                        self._embed_and_store(group, bar)
                        group = []
                if group:
                    self._embed_and_store(group, bar)
            finally:
                if bar is not None:
                    bar.close()
                # the index must reflect whatever reached the store, even after an interruption
                self._keyword = None
                self._articles.clear()
            self._index()
        return IngestReport(
            added=tuple(a.doc_id for a in added),
            updated=tuple(a.doc_id for a in updated),
            deleted=tuple(deleted),
            unchanged=tuple(unchanged),
            skipped=tuple(skipped),
            chunks_embedded=n_chunks,
            tokens_model=tokens_model,
            tokens_tiktoken=tokens_tiktoken,
            seconds=round(time.perf_counter() - started, 3),
        )

    def _ingest_hash(self, article: Article) -> str:
        from rag.chunking import CHUNKER_VERSION

        c = self.settings.chunking
        recipe = f"{article.content_hash}|{CHUNKER_VERSION}|{c.max_tokens}|{c.overlap_sentences}|{c.embed_title}"
        return hashlib.sha256(recipe.encode("utf-8")).hexdigest()

    def _embed_and_store(self, group: list[tuple[Article, list[Chunk]]], bar) -> None:
        chunks = [c for _, cs in group for c in cs]
        vectors = self.embedder.embed_passages([self._passage_text(c) for c in chunks])
        offset = 0
        for article, cs in group:
            self.store.add_chunks(cs, vectors[offset : offset + len(cs)], article.content_hash)
            self.store.put_article(article)  # after its chunks: marks the article as complete
            offset += len(cs)
        if bar is not None:
            bar.update(len(chunks))

    def _passage_text(self, chunk: Chunk) -> str:
        if self.settings.chunking.embed_title and chunk.title:
            return f"{chunk.title}\n{chunk.text}"
        return chunk.text

    # --- search --------------------------------------------------------------------------------

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        """Hybrid search: dense + keyword, fused; Hit.score is calibrated to 0..1."""
        return self.search_modes(question, k, modes=("hybrid",))["hybrid"]

    def search_modes(
        self, question: str, k: int | None = None, modes: Sequence[str] = ("dense", "keyword", "hybrid")
    ) -> dict[str, list[Hit]]:
        """Rankings of each retriever on the same candidates (for evaluation), per-source cap applied."""
        conf = self.settings.retrieval
        k = k or conf.k
        found = self.candidates(question, max(conf.candidates, k))
        rankings = {
            "dense": _by_score(found.dense_only),
            "keyword": _by_score(found.keyword_only),
            "hybrid": fuse_calibrated(found.dense, found.coverage, conf.dense_weight),
        }
        out: dict[str, list[Hit]] = {}
        for mode in modes:
            ranked = [(self._chunks[i], s) for i, s in rankings[mode] if i in self._chunks]
            hits = make_hits(
                cap_per_source(ranked, k, conf.per_source_cap), found.dense, found.keyword, found.coverage,
                conf.dense_weight,
            )
            out[mode] = [h for h in hits if h.score >= conf.min_score] if mode == "hybrid" else hits
        return out

    def candidates(self, question: str, n: int) -> Candidates:
        """The top-n of each retriever, with both scores completed on their union (fusion input)."""
        text = check_question(question, self.settings.app.max_question_chars)
        index = self._index()
        if not self._chunks:
            return Candidates({}, {}, {}, {}, {})
        vector = self.embedder.embed_queries([text])[0]
        dense_only = dict(self.store.query(vector, n))
        # an English question is matched by keyword through the Korean forms of its domain words
        terms = index.query_terms(with_glosses(text))
        keyword_only = dict(index.search(terms, n))
        # complete both score maps on the union so fusion compares like with like
        dense = dense_only | self.store.similarities(vector, [i for i in keyword_only if i not in dense_only])
        keyword = keyword_only | index.score(terms, [i for i in dense_only if i not in keyword_only])
        coverage = {i: index.coverage(terms, i) for i in dense}
        return Candidates(dense_only, keyword_only, dense, keyword, coverage)

    def article(self, doc_id: str) -> Article | None:
        with self._lock:
            if doc_id not in self._articles:
                found = self.store.article(doc_id)
                if found is None:
                    return None
                self._articles[doc_id] = found
            return self._articles[doc_id]

    # --- answers -------------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None) -> Answer:
        check_question(question, self.settings.app.max_question_chars)
        return self.answerer.ask(question, history, mode, k)

    def stream(
        self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None
    ) -> Iterator[Event]:
        check_question(question, self.settings.app.max_question_chars)
        return self.answerer.stream(question, history, mode, k)

    # --- housekeeping --------------------------------------------------------------------------

    def describe(self) -> dict:
        store = self.store
        return {
            "store": store.location,
            "embedding_model": self.embedder.name,
            "dimension": self.embedder.dimension,
            "n_docs": len(store.doc_hashes()),
            "n_chunks": store.count(),
            "generation_backend": self.settings.generation.backend,
            "generation_model": self.settings.generation.model,
        }

    @property
    def location(self) -> str:
        """Where the store lives (no model load)."""
        return self._raw_store().location

    def is_empty(self) -> bool:
        return self._raw_store().count() == 0

    def warm_up(self, llm: bool = False) -> None:
        """Loads the embedder, the store and the keyword index now (and the LLM when asked)."""
        self.embedder.embed_queries(["warm up"])
        self._index()
        if llm:
            # loads the LLM and evaluates the fixed system prompt once: its KV cache then serves every question
            self.answerer.warm_up()

    def close(self) -> None:
        with self._lock:
            self._store = None
            self._store_bound = False
            self._keyword = None


def build_pipeline(
    settings: Settings,
    embedder: object | None = None,
    generator: Callable[[], object] | None = None,
    korean: object | None = None,
) -> Pipeline:
    """The one way to make a pipeline. `embedder`/`generator` let tests inject fakes."""
    return Pipeline(settings, embedder=embedder, generator=generator, korean=korean)


def _by_score(scores: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def _under(path: str, roots: Sequence[Path]) -> bool:
    if not path:
        return False
    p = Path(path)
    return any(p == root or root in p.parents for root in roots)


def _progress(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="chunk", desc="embedding")
