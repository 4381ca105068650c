"""What a question searches: one generation of the store, seen consistently.

A `View` pairs the keyword index with the article records of the same store generation. Search only
returns a chunk whose article is recorded in its view with the chunk's own content hash, so an
article's chunks and its record become visible together, and an ingest running meanwhile (new
chunks stored, records not yet) changes nothing a question sees until it commits.

    view = open_view(store, files, korean.tokens_batch)       # cheap when the files match the store
    changes = reconcile(view.keyword, store, view.articles, tokenize)   # orphans / missing chunks
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Sequence

from rag.keyword import KeywordIndex, Tokenize, doc_of
from rag.keyword_files import KeywordFiles, KeywordFilesError
from rag.types import Article, ArticleInfo, Chunk

log = logging.getLogger(__name__)

_TOKENIZE_BATCH = 256
_SAY_BEFORE = 5_000  # chunks: below this the re-tokenize takes under a minute


@dataclass
class View:
    generation: int
    keyword: KeywordIndex
    articles: dict[str, ArticleInfo]
    texts: OrderedDict = field(default_factory=OrderedDict)  # doc_id -> Article, a small cache
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def visible(self, doc_id: str, content_hash: str) -> bool:
        info = self.articles.get(doc_id)
        return info is not None and info.content_hash == content_hash


@dataclass(frozen=True)
class Changes:
    """What makes a keyword index match the store: rows to add (id, terms) and ids to drop."""

    added: list[tuple[str, list[str]]]
    removed: list[str]
    orphans: list[str]  # stored chunks no record vouches for: the writer deletes them

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.orphans)


def index_text(chunk: Chunk) -> str:
    # the title is part of what a passage is about: "삼성전자" in a headline should count
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


def open_view(store, files: KeywordFiles, tokenize: Tokenize) -> tuple[View, Changes]:
    """The current view; when the keyword files lag the store (a killed ingest, another machine's
    ingest, an old store) the index is reconciled in memory and the changes returned for a writer."""
    state = store.state()
    try:
        index, snapshot = files.load_with_articles(tokenize)
    except KeywordFilesError as exc:
        log.warning("%s", exc)
        index, snapshot = None, None
    current = index is not None and index.generation == state.generation and not state.dirty
    # the records committed with this very generation: no scan of the store (linear in articles)
    articles = snapshot if current and snapshot is not None else store.articles()
    changes = Changes([], [], [])
    if not current:
        base = index or KeywordIndex([], tokenize, state.generation)
        changes = reconcile(base, store, articles, tokenize)
        index = base.with_changes(changes.added, changes.removed, state.generation)
    return View(state.generation, index, articles), changes


def reconcile(index: KeywordIndex, store, articles: dict[str, ArticleInfo], tokenize: Tokenize) -> Changes:
    """Compares stored chunks with recorded articles and with the keyword index (one scan of the store)."""
    visible, orphans = [], []
    for chunk_id, doc_id, content_hash in store.chunk_owners():
        info = articles.get(doc_id)
        (visible if info is not None and info.content_hash == content_hash else orphans).append(chunk_id)
    wanted = set(visible)
    have = set(index.chunk_ids())
    removed = sorted(have - wanted)
    missing = [c for c in visible if c not in have]
    return Changes(_terms_for(missing, store, tokenize), removed, orphans)


def _terms_for(chunk_ids: Sequence[str], store, tokenize: Tokenize) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    if len(chunk_ids) >= _SAY_BEFORE:
        # after a lexicon change every chunk is re-tokenized once (~100 chunks/s on 2 busy cores:
        # 15 min at 100k): say so before the wait, not only after it
        log.warning("keyword index: tokenizing %d chunks from the store (changed lexicon or tokenizer, or an "
                    "interrupted ingest); questions wait until it is done, once", len(chunk_ids))
    for lo in range(0, len(chunk_ids), _TOKENIZE_BATCH):
        part = store.chunks(chunk_ids[lo : lo + _TOKENIZE_BATCH])
        ids = list(part)
        out.extend(zip(ids, tokenize([index_text(part[c].chunk) for c in ids])))
    if out:
        log.info("keyword index: %d chunks tokenized from the store", len(out))
    return out


def doc_chunk_ids(index: KeywordIndex, doc_ids: set[str]) -> list[str]:
    return [c for c in index.chunk_ids() if doc_of(c) in doc_ids]


def cached_article(view: View, store, doc_id: str, capacity: int = 256) -> Article | None:
    """The article's text as of this view (None when the view does not hold it)."""
    with view._lock:
        if doc_id in view.texts:
            view.texts.move_to_end(doc_id)
            return view.texts[doc_id]
    if doc_id not in view.articles:
        return None
    found = store.article(doc_id)
    if found is not None and found.content_hash == view.articles[doc_id].content_hash:
        with view._lock:
            view.texts[doc_id] = found
            if len(view.texts) > capacity:
                view.texts.popitem(last=False)
    return found
