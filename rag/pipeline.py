"""The pipeline: ingest articles, search them, answer questions. Entry points build one with
`build_pipeline(settings)`; nothing heavy happens until first use (models load lazily, once).

    pipe = build_pipeline(load_settings())
    pipe.ingest()                                   # the configured corpus folders, incrementally
    hits = pipe.search("LG이노텍의 동반성장 펀드 규모는?")
    answer = pipe.ask("LG이노텍의 동반성장 펀드 규모는?", mode="extractive")

The work lives beside it: `rag.ingest` (files → store + keyword index) and `rag.search` (question →
fused hits); this module owns the lazily loaded parts they share and the answerer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Callable

from rag.config import Settings
from rag.ingest import IngestError, Ingester  # noqa: F401  (IngestError re-exported)
from rag.question import QuestionError, check_question  # noqa: F401  (re-exported)
from rag.search import Candidates, Searcher  # noqa: F401  (Candidates re-exported)
from rag.types import Answer, Article, Chunk, Event, Hit, IngestReport, Turn


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
        self._ingester = Ingester(settings, self)
        self._searcher = Searcher(settings, self)

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

                self._korean = KoreanText()
            return self._korean

    @property
    def store(self):
        """The store, checked against the embedder (loading it). See `raw_store` for cheap access."""
        with self._lock:
            store = self.raw_store()
            if not self._store_bound:
                embedder = self.embedder
                store.bind_model(embedder.name, embedder.dimension)
                self._store_bound = True
            return store

    def raw_store(self):
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

    def keyword_index(self):
        """The keyword index and chunk catalogue, rebuilt from the store when missing or stale."""
        with self._lock:
            if self._keyword is None:
                from rag.keyword import KiwiKeywordIndex

                chunks = self.store.all_chunks()
                index = KiwiKeywordIndex(self.korean.tokens_batch, tokenizer_version=getattr(self.korean, "version", ""))
                index.build(chunks, self._keyword_cache_file())
                self._chunks = {c.chunk_id: c for c in chunks}
                self._keyword = index
            return self._keyword, self._chunks

    def changed(self) -> None:
        """The store changed: the keyword index and cached articles are rebuilt on next use."""
        with self._lock:
            self._keyword = None
            self._articles.clear()

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
                )
            return self._answerer

    # --- ingest --------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path] | None = None, progress: bool = False) -> IngestReport:
        """Ingests files/folders (default: settings.paths.corpus); see `rag.ingest`."""
        with self._lock:
            report = self._ingester.ingest(paths, progress)
            self.keyword_index()
            return report

    def ingest_articles(self, articles: Sequence[Article], progress: bool = False) -> IngestReport:
        """Makes the store hold exactly these articles (used for benchmark corpora such as KorQuAD)."""
        with self._lock:
            report = self._ingester.ingest_articles(articles, progress)
            self.keyword_index()
            return report

    # --- search --------------------------------------------------------------------------------

    def search(self, question: str, k: int | None = None) -> list[Hit]:
        """Hybrid search: dense + keyword, fused; Hit.score is calibrated to 0..1."""
        return self._searcher.search(question, k)

    def search_modes(
        self, question: str, k: int | None = None, modes: Sequence[str] = ("dense", "keyword", "hybrid")
    ) -> dict[str, list[Hit]]:
        """Rankings of each retriever on the same candidates (for evaluation), per-source cap applied."""
        return self._searcher.search_modes(question, k, modes)

    def candidates(self, question: str, n: int) -> Candidates:
        """The top-n of each retriever, with both scores completed on their union (fusion input)."""
        return self._searcher.candidates(question, n)

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
        return self.raw_store().location

    def is_empty(self) -> bool:
        return self.raw_store().count() == 0

    def warm_up(self, llm: bool = False) -> None:
        """Loads the embedder, the store and the keyword index now (and the LLM when asked)."""
        self.embedder.embed_queries(["warm up"])
        self.keyword_index()
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
