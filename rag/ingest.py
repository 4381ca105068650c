"""Ingest: files or articles in, the store and the keyword index made to hold exactly them.

    report = Ingester(settings, parts).ingest([Path("seeds")], progress=True)

Incremental and idempotent: a content hash (article bytes + how it is chunked) decides what is new,
changed or unchanged; articles whose file is gone from an ingested folder are deleted. `parts` is
the pipeline, which owns the lazily loaded models and the store (see `IngestParts`).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path
from typing import Protocol, Sequence

from rag.config import Settings
from rag.types import Article, Chunk, IngestReport

_EMBED_GROUP = 64  # chunks embedded per call: enough for length-sorted batching to pay off


class IngestError(RuntimeError):
    """Nothing could be ingested: the message says why (empty folder, no readable file...)."""


class IngestParts(Protocol):
    """What ingest needs from the pipeline: the models and the store, loaded on first use."""

    @property
    def embedder(self): ...
    @property
    def korean(self): ...
    @property
    def store(self): ...
    def raw_store(self): ...
    def changed(self) -> None: ...


class Ingester:
    def __init__(self, settings: Settings, parts: IngestParts) -> None:
        self.settings = settings
        self.parts = parts

    def ingest(self, paths: Sequence[Path] | None = None, progress: bool = False) -> IngestReport:
        """Ingests files/folders (default: settings.paths.corpus). Files that cannot be read are
        reported in `skipped`, never fatal."""
        from rag.corpus import load_corpus

        roots = [Path(p).expanduser().resolve() for p in (paths or self.settings.paths.corpus)]
        for root in roots:
            if not root.exists():
                raise IngestError(f"{root}: no such file or folder")
        load = load_corpus(roots, manifest_name=self.settings.paths.manifest)
        if not load.articles:
            reasons = "; ".join(f"{f}: {why}" for f, why in load.problems[:5]) or "no .txt/.md/.html/.jsonl files"
            raise IngestError(f"nothing to ingest in {', '.join(map(str, roots))} ({reasons}); the store is unchanged")
        return self.sync(load.articles, roots, tuple(load.problems), progress)

    def ingest_articles(self, articles: Sequence[Article], progress: bool = False) -> IngestReport:
        """Makes the store hold exactly these articles (used for benchmark corpora such as KorQuAD)."""
        return self.sync(list(articles), None, (), progress)

    def sync(self, articles: list[Article], roots: list[Path] | None, skipped: tuple, progress: bool) -> IngestReport:
        from rag.chunking import chunk_article, count_tiktoken

        started = time.perf_counter()
        # what decides "unchanged" is the article *and* how it would be chunked and embedded
        articles = [replace(a, content_hash=self.ingest_hash(a)) for a in articles]
        store = self.parts.raw_store()
        existing = store.doc_hashes()
        incoming = {a.doc_id: a for a in articles}
        added = [a for a in incoming.values() if a.doc_id not in existing]
        updated = [a for a in incoming.values() if a.doc_id in existing and existing[a.doc_id][0] != a.content_hash]
        unchanged = [d for d, a in incoming.items() if d in existing and existing[d][0] == a.content_hash]
        deleted = [d for d, (_, path) in existing.items() if d not in incoming and (roots is None or _under(path, roots))]
        todo = added + updated
        if not todo and not deleted:
            return IngestReport(unchanged=tuple(unchanged), skipped=tuple(skipped),
                                seconds=round(time.perf_counter() - started, 3))
        store, embedder, korean = self.parts.store, self.parts.embedder, self.parts.korean  # the model is needed now
        store.delete_docs(deleted + [a.doc_id for a in updated])
        chunking = self.settings.chunking
        plan = [
            (a, chunk_article(a, korean, embedder.count_tokens, chunking.max_tokens, chunking.overlap_sentences))
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
            self.parts.changed()
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

    def ingest_hash(self, article: Article) -> str:
        from rag.chunking import CHUNKER_VERSION

        c = self.settings.chunking
        recipe = f"{article.content_hash}|{CHUNKER_VERSION}|{c.max_tokens}|{c.overlap_sentences}|{c.embed_title}"
        return hashlib.sha256(recipe.encode("utf-8")).hexdigest()

    def _embed_and_store(self, group: list[tuple[Article, list[Chunk]]], bar) -> None:
        chunks = [c for _, cs in group for c in cs]
        vectors = self.parts.embedder.embed_passages([self.passage_text(c) for c in chunks])
        store = self.parts.store
        offset = 0
        for article, cs in group:
            store.add_chunks(cs, vectors[offset : offset + len(cs)], article.content_hash)
            store.put_article(article)  # after its chunks: marks the article as complete
            offset += len(cs)
        if bar is not None:
            bar.update(len(chunks))

    def passage_text(self, chunk: Chunk) -> str:
        if self.settings.chunking.embed_title and chunk.title:
            return f"{chunk.title}\n{chunk.text}"
        return chunk.text


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
