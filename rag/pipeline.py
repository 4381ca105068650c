"""The pipeline: ingest articles, search them, answer questions. Entry points build one with
`build_pipeline(settings)`; nothing heavy happens until first use (models load lazily, once).

    pipe = build_pipeline(load_settings())
    pipe.ingest()                                   # the configured corpus folders, incrementally
    hits = pipe.search("LG이노텍의 동반성장 펀드 규모는?", filters=Filters(date_from="2022-01-01"))
    answer = pipe.ask("LG이노텍의 동반성장 펀드 규모는?", mode="extractive")
    pipe.list_articles(); pipe.delete_article("2024/a.txt"); pipe.ingest_files([Path("new.txt")])

The work lives beside it: `rag.ingest` (files → store + keyword index) and `rag.search` (question →
fused hits); this module owns the lazily loaded parts they share and the answerer. Ingest holds the
store's cross-process ingest lock, not the pipeline's: questions are answered while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Callable

from rag.config import Settings
from rag.ingest import IngestBusyError, IngestError, Ingester, Progress  # noqa: F401  (errors re-exported)
from rag.question import QuestionError, check_question  # noqa: F401  (re-exported)
from rag.search import Candidates, Searcher  # noqa: F401  (Candidates re-exported)
from rag.types import Answer, Article, ArticleInfo, Event, Filters, Hit, IngestReport, Turn
from rag.view import View, cached_article


class Pipeline:
    """Ingest, search, ask. Thread-safe: questions run concurrently, also while an ingest runs."""

    def __init__(
        self,
        settings: Settings,
        embedder: object | None = None,
        generator: Callable[[], object] | None = None,
        korean: object | None = None,
    ) -> None:
        self.settings = settings
        self._embedder = embedder
        # the store is stamped with the *setting* that chose the model, so the check never depends
        # on whether the model happened to load before the store opened; an injected embedder
        # (tests, eval baselines) has no setting and identifies itself by name
        self._embedding_setting = embedder.name if embedder is not None else settings.embedding.model
        self._generator_factory = generator
        self._generator: object | None = None
        self._korean = korean
        self._store = None
        self._store_bound = False
        self._answerer = None
        # lazy loading only; never held while searching or ingesting, nor while calling into the
        # searcher or ingester: they take their own locks first, then ask for parts (and this lock)
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
                from rag.vocabulary import Lexicon

                self._korean = KoreanText(lexicon=Lexicon.load(self.settings.answer.lexicon))
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
                from rag.store import ChromaStore, StoreMismatchError

                try:
                    self._store = ChromaStore(self.settings.store, self._embedding_setting)
                except StoreMismatchError:
                    if self._embedder is None:
                        # a model the settings name but this machine lacks is said, not the rebuild the store
                        # advises, which could not run; a store built with this very setting opens without
                        # the model (listing and deleting articles need none)
                        from rag.embedding import check_model_setting

                        check_model_setting(self.settings.embedding)
                    raise
            return self._store

    def _shared_name(self) -> str | None:
        s = self.settings.store
        return f"{s.host}-{s.port}-{s.collection}" if s.host else None

    def keyword_files(self):
        """The keyword index folder: beside a store folder, or per Chroma server in data_dir."""
        from rag.keyword_files import KeywordFiles

        shared = self._shared_name()
        root = (self.settings.paths.data_dir / f"keyword-{shared}" if shared
                else self.settings.store.dir / f"keyword-{self.settings.store.collection}")
        return KeywordFiles(root, getattr(self.korean, "version", ""))

    def lock_path(self) -> Path:
        """The ingest lock: beside a store folder, or per Chroma server in data_dir (one machine)."""
        shared = self._shared_name()
        if shared:
            return self.settings.paths.data_dir / "locks" / f"ingest-{shared}.lock"
        return self.settings.store.dir / ".ingest.lock"

    def use_view(self, view: View | None) -> None:
        self._searcher.use_view(view)

    def save_view(self, view: View) -> bool:
        return self._ingester.save_view(view)

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
                    retrieve=lambda question, k, filters=None: self.search(question, k, filters=filters),
                    article=self.article,
                    generator=self.generator if llm_possible else None,
                    embedder=lambda: self.embedder,
                )
            return self._answerer

    # --- ingest and the article manager --------------------------------------------------------

    def ingest(self, paths: Sequence[Path] | None = None, progress: Progress = False, wait: bool = True,
               on_wait: Callable[[str], None] | None = None, owned_only: bool = False,
               rebuild: bool = False) -> IngestReport:
        """Ingests files/folders (default: settings.paths.corpus); see `rag.ingest`. A second ingest
        of the same store waits for the first (`wait=False`: IngestBusyError at once). `progress`:
        a bar, or a callback (written, total); `owned_only`: never take over another folder's doc id;
        `rebuild`: empty the store first, once the files are read and the model has loaded."""
        return self._ingester.ingest(paths, progress, wait, on_wait, owned_only, rebuild)

    def ingest_files(self, files: Sequence[Path], wait: bool = True) -> IngestReport:
        """Ingests these files only (each's doc id is its file name); nothing else is deleted."""
        return self._ingester.ingest(list(files), False, wait)

    def ingest_articles(self, articles: Sequence[Article], progress: bool = False) -> IngestReport:
        """Makes the store hold exactly these articles (used for benchmark corpora such as KorQuAD)."""
        return self._ingester.ingest_articles(articles, progress)

    def delete_article(self, doc_id: str, wait: bool = True) -> bool:
        """Deletes one article and its chunks; False when there is no such article."""
        return bool(self.delete_articles([doc_id], wait).deleted)

    def delete_articles(self, doc_ids: Sequence[str], wait: bool = True) -> IngestReport:
        """Deletes articles and their chunks (one commit); unknown ids come back in `skipped`."""
        return self._ingester.delete(doc_ids, wait)

    def list_articles(self) -> list[ArticleInfo]:
        """Every ingested article (doc_id, title, date, publisher, source, chunks, ingested_at), by doc id."""
        return sorted(self._searcher.view().articles.values(), key=lambda a: a.doc_id)

    # --- search --------------------------------------------------------------------------------

    def search(self, question: str, k: int | None = None, filters: Filters | None = None) -> list[Hit]:
        """Hybrid search: dense + keyword, fused; Hit.score is calibrated to 0..1."""
        return self._searcher.search(question, k, filters)

    def search_modes(
        self, question: str, k: int | None = None, modes: Sequence[str] = ("dense", "keyword", "hybrid"),
        filters: Filters | None = None,
    ) -> dict[str, list[Hit]]:
        """Rankings of each retriever on the same candidates (for evaluation), per-source cap applied."""
        return self._searcher.search_modes(question, k, modes, filters)

    def candidates(self, question: str, n: int, filters: Filters | None = None) -> Candidates:
        """The top-n of each retriever, with both scores completed on their union (fusion input)."""
        return self._searcher.candidates(question, n, filters)

    def fusion_inputs(self, question: str, n: int, filters: Filters | None = None):
        """The candidates, their ranking coverage and chunks: `rag.search.hybrid_hits` ranks them."""
        return self._searcher.fusion_inputs(question, n, filters)

    def article(self, doc_id: str) -> Article | None:
        return cached_article(self._searcher.view(), self.raw_store(), doc_id)

    def find_articles(self, query: str, filters: Filters | None = None, sort: str = "relevance", page: int = 1,
                      per_page: int = 10):
        """Every matching article (the search view), grouped, sorted and paged: see `rag.finder`."""
        return self.finder().find(query, filters, sort, page, per_page)

    def finder(self):
        from rag.finder import ArticleFinder

        conf = self.settings.retrieval
        return ArticleFinder(self, self._searcher.view, conf.dense_weight, conf.match_min_coverage,
                             self.settings.app.max_question_chars)

    # --- answers -------------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None,
            filters: Filters | None = None) -> Answer:
        check_question(question, self.settings.app.max_question_chars)
        return self.answerer.ask(question, history, mode, k, filters=filters)

    def stream(
        self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None,
        filters: Filters | None = None,
    ) -> Iterator[Event]:
        check_question(question, self.settings.app.max_question_chars)
        return self.answerer.stream(question, history, mode, k, filters=filters)

    # --- housekeeping --------------------------------------------------------------------------

    def describe(self) -> dict:
        store, view = self.store, self._searcher.view()
        return {
            "store": store.location,
            "embedding_model": self.embedder.name,
            "dimension": self.embedder.dimension,
            "n_docs": len(view.articles),
            "n_chunks": len(view.keyword),
            "hnsw_search_ef": getattr(store, "search_breadth", None),  # store.hnsw_search_ef, as the store has it
            "generation": view.generation,
            "generation_backend": self.settings.generation.backend,
            "generation_model": generation_model_name(self.settings.generation),
        }

    def counts(self) -> dict | None:
        """`describe()`'s counts of the view questions are answered from now, without reading the store (a
        poll may call it: an ingest in this process is counted the moment it is searchable); None before the
        view is opened."""
        view = self._searcher.held()
        if view is None:
            return None
        return {"n_docs": len(view.articles), "n_chunks": len(view.keyword), "generation": view.generation}

    @property
    def location(self) -> str:
        """Where the store lives (no model load)."""
        return self.raw_store().location

    def is_empty(self) -> bool:
        return self.raw_store().count() == 0

    def warm_up(self, llm: bool = False) -> None:
        """Loads the embedder, the store and the keyword index now (and the LLM when asked).

        Kiwi (~5 s: its model, then a one-time set-up on its first analysis) loads with the first
        question (the app asks one before it says ready). Loading it in a thread beside the rest gained
        nothing at 100k chunks on a quiet machine (first answer 8.6 s in line, 9.1 s threaded): its
        loader holds the GIL.
        """
        self.embedder.embed_queries(["warm up"])
        self._searcher.view()
        if llm:
            # loads the LLM and evaluates the fixed system prompt once: its KV cache then serves every question
            self.answerer.warm_up()

    def drop_store(self) -> None:
        """Closes the store and deletes its collections (`ingest --rebuild`); the next use makes a new one."""
        from rag.store import drop_store

        self.close()
        drop_store(self.settings.store)

    def close(self) -> None:
        """Drops the view and closes the store; the next use reopens both."""
        # The view first, and outside our lock: a view being opened holds the searcher's lock and
        # asks us for Kiwi, the store and the keyword files (our lock), so waiting for the searcher
        # while holding ours deadlocked (an app shut down during its warm-up never exited). Waiting
        # here also lets that open finish on a store that is still open.
        self._searcher.use_view(None)
        with self._lock:
            if self._store is not None:
                self._store.close()
            self._store = None
            self._store_bound = False


def build_pipeline(
    settings: Settings,
    embedder: object | None = None,
    generator: Callable[[], object] | None = None,
    korean: object | None = None,
) -> Pipeline:
    """The one way to make a pipeline. `embedder`/`generator` let tests inject fakes."""
    return Pipeline(settings, embedder=embedder, generator=generator, korean=korean)


def generation_model_name(settings) -> str:
    """The model answers come from, as the generator names itself: with the OpenAI-compatible backend
    `generation.model` (the local GGUF) is unused, and /health named it all the same."""
    if settings.backend == "openai":
        from rag.generation import server_model_name

        return server_model_name(settings.server_model, settings.base_url)
    return settings.model
