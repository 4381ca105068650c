"""Ingest: files or articles in, the store and the keyword index made to hold exactly them.

    report = Ingester(settings, parts).ingest([Path("seeds")], progress=True)

Incremental and idempotent: a content hash (article bytes + how it is chunked) decides what is new,
changed or unchanged; articles whose file is gone from an ingested folder are deleted, while a file
that cannot be read right now keeps its stored article. One ingest per store at a time, across
processes (`rag.locks`); questions keep being answered meanwhile from the last committed view.

Per group of articles: chunk, embed, tokenize for the keyword index, write chunks, then the articles'
records (which make them visible), then drop the replaced chunks. The keyword index and the store's
generation are committed at the end — also after an interruption, for what was fully written — so
a killed ingest resumes where it stopped, and the next one removes any orphan chunk it left.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence, Union

import numpy as np

from rag.config import Settings
from rag.keyword import doc_of
from rag.locks import LockBusyError, ingest_lock
from rag.store import StoreState, make_folder, passage_digest
from rag.types import Article, ArticleInfo, Chunk, IngestReport
from rag.view import View, index_text, open_view

log = logging.getLogger(__name__)

_EMBED_GROUP = 64  # chunks embedded per call: enough for length-sorted batching to pay off
# True: a tqdm bar on stderr (CLI); a callable: called with (articles written, articles to write)
Progress = Union[bool, Callable[[int, int], None]]


class IngestError(RuntimeError):
    """Nothing could be ingested: the message says why (empty folder, no readable file...)."""


class IngestBusyError(IngestError):
    """Another ingest of the same store is running (and did not finish within the wait)."""


class IngestParts(Protocol):
    """What ingest needs from the pipeline: the models and the store, loaded on first use."""

    @property
    def embedder(self): ...
    @property
    def korean(self): ...
    @property
    def store(self): ...
    def raw_store(self): ...
    def keyword_files(self): ...
    def lock_path(self) -> Path: ...
    def use_view(self, view: View | None) -> None: ...
    def drop_store(self) -> None: ...


@dataclass
class _Run:
    """What an ingest wrote so far: committed at the end, or at an interruption."""

    added: list[tuple[str, list[str]]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    recorded: dict[str, ArticleInfo] = field(default_factory=dict)  # article records written
    deleted: list[str] = field(default_factory=list)  # articles deleted
    chunks: int = 0
    reused: int = 0  # of `chunks`, those that kept a vector the store had for the same passage
    tokens_model: int = 0
    tokens_tiktoken: int = 0

    def articles(self, before: dict[str, ArticleInfo]) -> dict[str, ArticleInfo]:
        """The store's records after this run, from the records before it (no re-read of the store)."""
        gone = set(self.deleted)
        out = {d: i for d, i in before.items() if d not in gone}
        out.update(self.recorded)
        return out


class Ingester:
    def __init__(self, settings: Settings, parts: IngestParts) -> None:
        self.settings = settings
        self.parts = parts

    # --- entry points --------------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path] | None = None, progress: Progress = False, wait: bool = True,
               on_wait: Callable[[str], None] | None = None, owned_only: bool = False,
               rebuild: bool = False) -> IngestReport:
        """Ingests files/folders (default: settings.paths.corpus). Files that cannot be read are
        reported in `skipped`, never fatal; their stored articles are kept. `owned_only`: a doc id
        recorded from a file outside `paths` is never taken over, even when that file is gone
        (uploads must not replace another folder's article). `rebuild`: the store is emptied first
        (a new embedding model), once the files have been read and the model has loaded."""
        from rag.cleaning import Furniture, FurnitureError
        from rag.corpus import Columns, load_corpus
        from rag.vocabulary import LexiconError

        try:
            furniture = Furniture.load(self.settings.answer.lexicon)
            columns = Columns.load(self.settings.answer.lexicon)
        except (FurnitureError, LexiconError, OSError) as exc:
            raise IngestError(f"{exc}; the store is unchanged") from exc
        roots = []
        for p in paths or self.settings.paths.corpus:
            try:
                root = Path(p).expanduser().resolve(strict=True)
            except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on Python 3.11
                raise IngestError(f"{p}: no such file or folder ({getattr(exc, 'strerror', None) or exc})") from exc
            roots.append(root)
        paths_conf = self.settings.paths
        load = load_corpus(roots, manifest_name=paths_conf.manifest, max_file_bytes=int(paths_conf.max_file_mb * 1e6),
                           max_article_chars=paths_conf.max_article_chars, furniture=furniture, columns=columns)
        if not load.articles:
            reasons = "; ".join(f"{f}: {why}" for f, why in load.problems[:5]) or "no .txt/.md/.html/.pdf/.hwp/.hwpx/.docx/.doc/.odt/.rtf/.jsonl/.csv/.tsv/.xlsx/.xls files"
            raise IngestError(f"nothing to ingest in {', '.join(map(str, roots))} ({reasons}); the store is unchanged")
        if rebuild:
            # a mistyped model path failed only after the store was gone: load the model while it is still there
            self.parts.embedder  # noqa: B018
        return self.sync(load.articles, roots, tuple(load.problems), progress, wait, on_wait, owned_only, rebuild)

    def ingest_articles(self, articles: Sequence[Article], progress: bool = False, wait: bool = True) -> IngestReport:
        """Makes the store hold exactly these articles (used for benchmark corpora such as KorQuAD)."""
        return self.sync(list(articles), None, (), progress, wait, None)

    def delete(self, doc_ids: Sequence[str], wait: bool = True) -> IngestReport:
        """Deletes articles (and their chunks) by doc id; unknown ids are reported as skipped."""
        started = time.perf_counter()
        doc_ids = [unicodedata.normalize("NFC", d) for d in doc_ids]  # as rag/corpus.py spells them
        with self._locked(wait, None) as (store, view):
            present = [d for d in dict.fromkeys(doc_ids) if d in view.articles]
            missing = tuple((d, "no such article") for d in doc_ids if d not in view.articles)
            run = _Run()
            if present:
                with self._committing(store, view, run):
                    run.removed += self._delete(store, view, present)
                    run.deleted += present
        return IngestReport(deleted=tuple(present), skipped=missing, seconds=round(time.perf_counter() - started, 3))

    # --- the work ------------------------------------------------------------------------------

    def sync(self, articles: list[Article], roots: list[Path] | None, problems: tuple, progress: Progress,
             wait: bool = True, on_wait: Callable[[str], None] | None = None, owned_only: bool = False,
             rebuild: bool = False) -> IngestReport:
        started = time.perf_counter()
        # what decides "unchanged" is the article *and* how it would be chunked and embedded
        articles = [replace(a, content_hash=self.ingest_hash(a)) for a in articles]
        with self._locked(wait, on_wait, rebuild) as (store, view):
            records = view.articles
            unreadable = {str(Path(f)) for f, _ in problems}
            problems = list(problems)
            incoming: dict[str, Article] = {}
            for a in articles:
                known = records.get(a.doc_id)
                if roots is not None and known is not None and known.source and known.source != a.path \
                        and not _under(known.source, roots) and (owned_only or Path(known.source).exists()):
                    problems.append((a.path, f"document id {a.doc_id!r} is taken by {known.source}; skipped"))
                    continue
                incoming[a.doc_id] = a
            added = [a for a in incoming.values() if a.doc_id not in records]
            updated = [a for a in incoming.values() if a.doc_id in records and records[a.doc_id].content_hash != a.content_hash]
            unchanged = [d for d, a in incoming.items() if d in records and records[d].content_hash == a.content_hash]
            # an unchanged article read from another file now (its folder moved or was renamed) records that
            # file: a later ingest of the new folder must see it there, to delete it when the file goes
            moved = {d: incoming[d].path for d in unchanged
                     if incoming[d].path and records[d].source and records[d].source != incoming[d].path}
            gone = [d for d, info in records.items()
                    if d not in incoming and (roots is None or _under(info.source, roots))]
            # a file that exists but cannot be read now keeps what was stored from it
            kept = [d for d in gone if records[d].source in unreadable]
            deleted = [d for d in gone if d not in kept]
            todo = added + updated
            run = _Run()
            if todo or deleted or moved:
                if todo or deleted:
                    store = self.parts.store  # the model is needed now: load it and check it against the store
                with self._committing(store, view, run):
                    run.recorded.update(store.relocate(moved))  # records only: no model needed for a move alone
                    # written before the gone ones are deleted: a renamed or moved file reuses their vectors
                    self._write(store, view, todo, run, progress)
                    run.removed += self._delete(store, view, deleted)
                    run.deleted += deleted
        return IngestReport(
            added=tuple(a.doc_id for a in added),
            updated=tuple(a.doc_id for a in updated),
            deleted=tuple(deleted),
            unchanged=tuple(unchanged),
            moved=tuple(moved),
            skipped=tuple(problems),
            kept=tuple(kept),
            chunks_embedded=run.chunks,
            vectors_reused=run.reused,
            tokens_model=run.tokens_model,
            tokens_tiktoken=run.tokens_tiktoken,
            seconds=round(time.perf_counter() - started, 3),
        )

    def save_view(self, view: View) -> bool:
        """A reader found the keyword files behind a clean store (an older tokenizer or format) and
        rebuilt the index in memory: write it, when no ingest is running and the store is still that
        generation, so the next start does not tokenize every chunk again. Never waits, never fails."""
        try:
            with ingest_lock(self.parts.lock_path(), 0):
                state = self.parts.raw_store().state()
                if state.dirty or state.generation != view.generation:
                    return False  # a writer's business: orphans to find, or a newer generation
                self.parts.keyword_files().commit(view.keyword, view.articles)
                return True
        except (LockBusyError, OSError) as exc:  # busy, or a read-only store folder: next time
            log.info("keyword index not saved (%s): it is rebuilt in memory at the next start", exc)
            return False

    @contextlib.contextmanager
    def _locked(self, wait: bool, on_wait: Callable[[str], None] | None,
                rebuild: bool = False) -> Iterator[tuple[object, View]]:
        """Holds the store's ingest lock and yields (store, view) with the keyword index reconciled;
        `rebuild`: emptied first, under the lock (another ingest is never dropped mid-run)."""
        if not self.settings.store.host:
            make_folder(self.settings.store.dir)  # the lock file lies in it: a file named as the store is the user's error
        try:
            with ingest_lock(self.parts.lock_path(), self.settings.store.ingest_wait_s if wait else 0, on_wait):
                if rebuild:
                    self.parts.drop_store()
                store = self.parts.raw_store()
                if store.needs_migration():
                    store.migrate()
                yield store, self._reconciled(store)
        except LockBusyError as exc:
            raise IngestBusyError(str(exc)) from exc

    def _reconciled(self, store) -> View:
        """The current view, with orphans removed and the keyword files brought up to the store.

        Committed as a new generation: an ingest killed after writing its records left them visible
        to a fresh reader but not to a serving process that still holds the generation before it,
        and that process only reopens when the generation moves (an ingest that then finds nothing
        left to do would never move it)."""
        files = self.parts.keyword_files()
        state = store.state()
        view, changes = open_view(store, files, self.parts.korean.tokens_batch)
        manifest = files.manifest()
        if changes or manifest is None or manifest.get("generation") != state.generation or state.dirty \
                or not manifest.get("articles"):
            if changes.orphans:
                store.delete_chunks(changes.orphans)
            generation = state.generation + 1
            index = files.commit(view.keyword.with_changes([], [], generation), view.articles)
            view = View(generation, index, view.articles)
            store.set_state(StoreState(generation, dirty=False))
            self.parts.use_view(view)
        return view

    @contextlib.contextmanager
    def _committing(self, store, view: View, run: _Run) -> Iterator[None]:
        """Marks the store dirty while writing; commits the keyword index and a new generation after,
        also when interrupted (what was fully written stays, the rest is redone next time)."""
        generation = view.generation + 1
        store.set_state(StoreState(view.generation, dirty=True))
        finished = False
        try:
            yield
            finished = True
        finally:
            # after an interruption the records are read back (a group may have half-finished); the
            # snapshot beside the index is written only for a finished run, the one readers trust
            articles = run.articles(view.articles) if finished else store.articles()
            changed = view.keyword.with_changes(run.added, run.removed, generation)
            index = self.parts.keyword_files().commit(changed, articles if finished else None)
            # dirty stays set after an interruption: the next ingest looks for orphans
            store.set_state(StoreState(generation, dirty=not finished))
            self.parts.use_view(View(generation, index, articles))

    def _delete(self, store, view: View, doc_ids: Sequence[str]) -> list[str]:
        if not doc_ids:
            return []
        wanted = set(doc_ids)
        ids = [c for c in view.keyword.chunk_ids() if doc_of(c) in wanted]
        store.delete_docs(doc_ids)
        return ids

    def _write(self, store, view: View, todo: list[Article], run: _Run, progress: Progress) -> None:
        if not todo:
            return
        old: dict[str, list[str]] = defaultdict(list)
        replaced = {a.doc_id for a in todo}
        for cid in view.keyword.chunk_ids():
            if doc_of(cid) in replaced:
                old[doc_of(cid)].append(cid)
        bar = _progress(len(todo), progress)
        started = time.perf_counter()
        try:
            for group in self._groups(todo):
                self._write_group(store, group, old, run)
                if bar is not None:
                    bar.update(len(group))
                    bar.set_postfix(chunks=run.chunks, per_s=f"{run.chunks / (time.perf_counter() - started):.1f}")
        finally:
            if bar is not None:
                bar.close()

    def _groups(self, todo: list[Article]) -> Iterator[list[tuple[Article, list[Chunk]]]]:
        from rag.chunking import chunk_article

        embedder, korean, conf = self.parts.embedder, self.parts.korean, self.settings.chunking
        group: list[tuple[Article, list[Chunk]]] = []
        size = 0
        for article in todo:
            chunks = chunk_article(article, korean, embedder.count_tokens, conf.max_tokens, conf.overlap_sentences)
            group.append((article, chunks))
            size += len(chunks)
            if size >= _EMBED_GROUP:
                yield group
                group, size = [], 0
        if group:
            yield group

    def _write_group(self, store, group: list[tuple[Article, list[Chunk]]], old: dict[str, list[str]], run: _Run) -> None:
        from rag.chunking import count_tiktoken

        chunks = [c for _, cs in group for c in cs]
        texts = [self.passage_text(c) for c in chunks]
        kept = self._stored_vectors(store, texts)
        todo = [t for t in dict.fromkeys(texts) if t not in kept]
        fresh = dict(zip(todo, self.parts.embedder.embed_passages(todo))) if todo else {}
        vectors = np.stack([kept[t] if t in kept else fresh[t] for t in texts])
        terms = self.parts.korean.tokens_batch([index_text(c) for c in chunks])
        hashes = [a.content_hash for a, cs in group for _ in cs]
        store.add_chunks(chunks, vectors, hashes, texts)
        # after their chunks: now they are visible
        run.recorded.update((i.doc_id, i) for i in store.put_articles([(a, len(cs)) for a, cs in group]))
        new_ids = {c.chunk_id for c in chunks}
        stale = [cid for a, _ in group for cid in old.get(a.doc_id, ()) if cid not in new_ids]
        store.delete_chunks(stale)
        run.added += [(c.chunk_id, t) for c, t in zip(chunks, terms)]
        run.removed += stale
        run.chunks += len(chunks)
        run.reused += sum(t in kept for t in texts)
        run.tokens_model += sum(c.n_tokens for c, t in zip(chunks, texts) if t not in kept)
        run.tokens_tiktoken += sum(count_tiktoken(c.text) for c in chunks)

    def _stored_vectors(self, store, passages: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those `passages` some chunk in the store was embedded from, exactly that
        text (its recorded digest: text, and title when it was embedded with one), whatever article it
        belongs to: a new sentence split or chunker version, a small edit, or a renamed or moved file
        re-embeds only the passages that are new. The store's model is the embedder's (checked when it opens)."""
        digests = {p: passage_digest(p) for p in passages}
        stored = store.vectors_by_digest(digests.values())
        return {p: stored[d] for p, d in digests.items() if d in stored}

    def ingest_hash(self, article: Article) -> str:
        from rag.chunking import CHUNKER_VERSION

        c = self.settings.chunking
        recipe = f"{article.content_hash}|{CHUNKER_VERSION}|{c.max_tokens}|{c.overlap_sentences}|{c.embed_title}"
        return hashlib.sha256(recipe.encode("utf-8")).hexdigest()

    def passage_text(self, chunk: Chunk) -> str:
        if self.settings.chunking.embed_title and chunk.title:
            return f"{chunk.title}\n{chunk.text}"
        return chunk.text


def _under(path: str, roots: Sequence[Path]) -> bool:
    if not path:
        return False
    p = Path(path)
    return any(p == root or root in p.parents for root in roots)


class _Report:
    """A progress bar's interface over a callback (the web's background ingest shows it)."""

    def __init__(self, total: int, report: Callable[[int, int], None]) -> None:
        self.total, self.done, self.report = total, 0, report
        report(0, total)

    def update(self, n: int) -> None:
        self.done += n
        self.report(self.done, self.total)

    def set_postfix(self, **_: object) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: Progress):
    if not enabled or total == 0:
        return None
    if callable(enabled):
        return _Report(total, enabled)
    from tqdm import tqdm

    return tqdm(total=total, unit="article", desc="ingest")
