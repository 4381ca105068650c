"""Korean keyword search: Okapi BM25 over Kiwi morphemes.

Off-the-shelf BM25 tokenizers keep "삼성전자는" as one token, so a query for "삼성전자" never matches it;
Kiwi morphemes fix that (see PLATFORM.md). The index lives in memory; the per-chunk tokens are
cached in a JSON file beside the store so a restart does not re-tokenize the corpus, and anything
missing from that cache is tokenized again from the store's own chunk texts.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Sequence

from rag.types import Chunk

Tokenize = Callable[[Sequence[str]], list[list[str]]]

_CACHE_VERSION = 1


def _text_key(chunk: Chunk) -> str:
    return hashlib.sha1(_index_text(chunk).encode("utf-8")).hexdigest()[:16]


class KiwiKeywordIndex:
    """BM25 over already-tokenized chunks. `tokenize` is `KoreanText.tokens_batch`."""

    def __init__(self, tokenize: Tokenize, k1: float = 1.2, b: float = 0.75, tokenizer_version: str = "") -> None:
        self._tokenize = tokenize
        # a cache written by another tokenizer version holds other terms: it must not be reused
        self._cache_version = f"{_CACHE_VERSION}:{tokenizer_version}"
        self.k1, self.b = k1, b
        self._tokens: dict[str, list[str]] = {}
        self._postings: dict[str, list[tuple[str, int]]] = {}
        self._length: dict[str, int] = {}
        self._avg_length = 1.0
        self._idf: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._tokens)

    def build(self, chunks: Sequence[Chunk], cache_file: Path | None = None) -> int:
        """(Re)builds the index from chunks; returns how many chunks had to be tokenized."""
        cached = _read_cache(cache_file, self._cache_version) if cache_file else {}
        keys = {c.chunk_id: _text_key(c) for c in chunks}
        missing = [c for c in chunks if cached.get(c.chunk_id, ("",))[0] != keys[c.chunk_id]]
        missing_ids = {c.chunk_id for c in missing}
        tokens = {c.chunk_id: cached[c.chunk_id][1] for c in chunks if c.chunk_id not in missing_ids}
        tokens.update(zip((c.chunk_id for c in missing), self._tokenize([_index_text(c) for c in missing])))
        self._index(tokens)
        if cache_file and (missing or len(cached) != len(chunks)):
            _write_cache(cache_file, self._cache_version, {cid: (keys[cid], toks) for cid, toks in tokens.items()})
        return len(missing)

    def _index(self, tokens: dict[str, list[str]]) -> None:
        self._tokens = tokens
        postings: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for chunk_id, toks in tokens.items():
            for term, tf in Counter(toks).items():
                postings[term].append((chunk_id, tf))
        self._postings = dict(postings)
        self._length = {cid: len(t) for cid, t in tokens.items()}
        n = max(len(tokens), 1)
        self._avg_length = (sum(self._length.values()) / n) or 1.0
        # BM25+-style floor: idf never negative, so very common terms add a little instead of hurting
        self._idf = {t: math.log(1.0 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self._postings.items()}

    def query_terms(self, question: str) -> list[str]:
        return self._tokenize([question])[0]

    def search(self, terms: Sequence[str], n: int) -> list[tuple[str, float]]:
        """Top-n (chunk_id, BM25 score), best first; chunks matching no term are not returned."""
        scores: dict[str, float] = defaultdict(float)
        for term in set(terms):
            idf = self._idf.get(term)
            if idf is None:
                continue
            for chunk_id, tf in self._postings[term]:
                norm = self.k1 * (1 - self.b + self.b * self._length[chunk_id] / self._avg_length)
                scores[chunk_id] += idf * tf * (self.k1 + 1) / (tf + norm)
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def score(self, terms: Sequence[str], chunk_ids: Sequence[str]) -> dict[str, float]:
        """BM25 of given chunks (for candidates that only the dense retriever found)."""
        wanted = set(chunk_ids)
        return {cid: s for cid, s in self.search(terms, len(self._tokens)) if cid in wanted}

    def coverage(self, terms: Sequence[str], chunk_id: str) -> float:
        """Share of the query's IDF mass that occurs in the chunk: 0..1, comparable across queries."""
        unseen_idf = math.log(1.0 + len(self._tokens) + 0.5)  # a term no chunk has is maximally rare
        weights = {t: self._idf.get(t, unseen_idf) for t in set(terms)}
        total = sum(weights.values())
        if total <= 0:
            return 0.0
        present = set(self._tokens.get(chunk_id, ()))
        return sum(w for t, w in weights.items() if t in present) / total


def _index_text(chunk: Chunk) -> str:
    # the title is part of what a passage is about: "삼성전자" in a headline should count
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


def _read_cache(path: Path, version: str) -> dict[str, tuple[str, list[str]]]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}  # missing or corrupt: rebuilt from the store
    if data.get("version") != version:
        return {}
    return {cid: (key, toks) for cid, (key, toks) in data.get("chunks", {}).items()}


def _write_cache(path: Path, version: str, tokens: dict[str, tuple[str, list[str]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keyword-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"version": version, "chunks": tokens}, fh, ensure_ascii=False)
    os.replace(tmp, path)  # atomic: a crash never leaves a half-written cache
