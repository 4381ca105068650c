"""Sentence-aware chunks sized in the embedding model's own tokens, with offsets into the article.

    chunks = chunk_article(article, korean, embedder.count_tokens, max_tokens=200)
    assert all(article.text[c.start:c.end] == c.text for c in chunks)

A chunk is a run of whole sentences of one paragraph; it takes in the following paragraph only
when that paragraph fits whole (or when the chunk so far is a thin headline under a quarter of the
budget), so a chunk never ends in the middle of a paragraph it could have held. Consecutive chunks of one paragraph share `overlap_sentences` sentences. `Chunk.text` is
exactly `article.text[start:end]` (the UI highlights by offsets); the title is not prepended:
the embedding step may add it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rag.korean import KoreanText
from rag.types import Article, Chunk

TokenCounter = Callable[[str], int]


# Bump when chunk boundaries change: the pipeline re-chunks every article then (a passage whose text is
# unchanged keeps its stored vector).
# 3: a quoted title goes with the particle after it (rag.korean._quote_cuts); 4: also a title in ASCII <…>
CHUNKER_VERSION = "chunker-4"


@dataclass(frozen=True)
class _Unit:
    """A sentence, or a piece of an over-long one: [start, end) in the article text."""

    start: int
    end: int
    paragraph: int


def chunk_article(
    article: Article,
    korean: KoreanText,
    count_tokens: TokenCounter,
    max_tokens: int = 200,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Split `article.text` into chunks of whole sentences, each at most `max_tokens` tokens."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    text = article.text
    units = _units(text, korean.sentences(text), count_tokens, max_tokens)
    spans = _pack(text, units, count_tokens, max_tokens, max(0, overlap_sentences))
    chunks = []
    for i, (start, end) in enumerate(spans):
        piece = text[start:end]
        digest = hashlib.sha1(f"{start}:{piece}".encode("utf-8")).hexdigest()[:8]
        chunks.append(
            Chunk(
                chunk_id=f"{article.doc_id}#{i}-{digest}",
                doc_id=article.doc_id,
                text=piece,
                start=start,
                end=end,
                title=article.title,
                date=article.date,
                publisher=article.publisher,
                n_tokens=count_tokens(piece),
            )
        )
    return chunks


def _units(text: str, sentences: list[tuple[int, int]], count: TokenCounter, max_tokens: int) -> list[_Unit]:
    breaks = [m.start() for m in re.finditer(r"\n\s*\n", text)]
    units: list[_Unit] = []
    paragraph = 0
    for start, end in sentences:
        while paragraph < len(breaks) and breaks[paragraph] < start:
            paragraph += 1
        if count(text[start:end]) <= max_tokens:
            units.append(_Unit(start, end, paragraph))
        else:
            units.extend(_Unit(a, b, paragraph) for a, b in _split_long(text, start, end, count, max_tokens))
    return units


# A cut after these reads as a clause boundary: commas, closing brackets, connective endings.
_CLAUSE_END = re.compile(r"(?:[,;:·)\]”’]|며|고|서|면|만|나|데|니|지|해)$")


def _split_long(text: str, start: int, end: int, count: TokenCounter, max_tokens: int) -> list[tuple[int, int]]:
    """Cut an over-long sentence at clause boundaries, else at spaces, else between characters."""
    pieces = []
    while start < end:
        if count(text[start:end]) <= max_tokens:
            pieces.append((start, end))
            break
        gaps = [m for m in re.finditer(r"\s+", text[start:end])]
        fitting = [m for m in gaps if count(text[start : start + m.start()]) <= max_tokens] if gaps else []
        clause = [m for m in fitting if _CLAUSE_END.search(text[start : start + m.start()])]
        # prefer a clause boundary unless it leaves the piece less than half full
        best = None
        if clause and clause[-1].start() >= fitting[-1].start() // 2:  # a clause cut is a fitting one
            best = clause[-1]
        elif fitting:
            best = fitting[-1]
        if best is not None and best.start() > 0:
            pieces.append((start, start + best.start()))
            start = start + best.end()
            continue
        cut = _longest_prefix(text, start, end, count, max_tokens)
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    return pieces


def _longest_prefix(text: str, start: int, end: int, count: TokenCounter, max_tokens: int) -> int:
    lo, hi = start + 1, end  # one character always goes, so the loop always advances
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[start:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _pack(text: str, units: list[_Unit], count: TokenCounter, max_tokens: int, overlap: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    first = 0
    while first < len(units):
        last = first  # a unit alone always fits (over-long sentences were split)
        while last + 1 < len(units):
            nxt = units[last + 1]
            if nxt.paragraph != units[last].paragraph:
                # cross a paragraph break only to take the next paragraph whole
                para_end = last + 1
                while para_end + 1 < len(units) and units[para_end + 1].paragraph == nxt.paragraph:
                    para_end += 1
                if count(text[units[first].start : units[para_end].end]) <= max_tokens:
                    last = para_end
                    continue
                # a headline or one-line paragraph alone makes a chunk too thin to retrieve well:
                # let it lead into the next paragraph's first sentences instead
                if count(text[units[first].start : units[last].end]) >= max_tokens // 4:
                    break
            if count(text[units[first].start : nxt.end]) > max_tokens:
                break
            last += 1
        spans.append((units[first].start, units[last].end))
        if last + 1 >= len(units):
            break
        following = last + 1
        # overlap keeps a sentence that straddles two chunks retrievable with its context; a new
        # paragraph starts clean (overlap across a break adds nothing), and the overlap leaves room
        # for the next sentence
        start = max(first + 1, following - overlap)
        while start < following and (
            units[start].paragraph != units[following].paragraph
            or count(text[units[start].start : units[following].end]) > max_tokens
        ):
            start += 1
        first = start
    return spans


# ---- tiktoken counts (reported by ingest next to the embedding model's own counts) ---------------

_TIKTOKEN_LOCK = threading.Lock()


def count_tiktoken(text: str) -> int:
    """cl100k_base tokens of `text`, from the encoding files that ship inside llama-index-core."""
    return len(_cl100k().encode(text, disallowed_special=()))


@functools.lru_cache(maxsize=1)
def _cl100k() -> Any:
    import tiktoken

    with _TIKTOKEN_LOCK:
        # tiktoken would download cl100k_base unless TIKTOKEN_CACHE_DIR names a folder holding it;
        # llama-index-core ships one. Set it only for this load and never over a user's own value.
        previous = os.environ.get("TIKTOKEN_CACHE_DIR")
        if previous is None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(_llama_index_tiktoken_cache())
        try:
            return tiktoken.get_encoding("cl100k_base")
        finally:
            if previous is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)


def _llama_index_tiktoken_cache() -> Path:
    spec = importlib.util.find_spec("llama_index.core")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llama-index-core is not installed: it ships the offline cl100k_base encoding")
    return Path(list(spec.submodule_search_locations)[0]) / "_static" / "tiktoken_cache"
