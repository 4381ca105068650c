"""Hybrid retrieval: dense (Chroma) + keyword (Kiwi BM25), fused, capped per source.

The fused score is also the calibrated evidence strength `Hit.score` (0..1), so the ranking and the
score a later step thresholds on are one and the same:

    score = w * clip((cosine - 0.72) / (0.90 - 0.72)) + (1 - w) * keyword coverage

where keyword coverage is the share of the question's IDF mass that the passage contains. Both parts
are absolute, comparable across questions. Measured on KorQuAD dev (`bench/tune_fusion.py`, weights
chosen on articles 1–70, reported on 71–140), this beats BM25 alone on R@1, R@5 and MRR@10, while
plain reciprocal rank fusion and min-max/max-normalized linear fusion both do worse.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Sequence

from rag.types import Chunk, Hit

# multilingual-e5 cosine similarities live in a narrow band: unrelated Korean text scores ~0.72,
# a passage that answers the question ~0.85+. Map that band onto 0..1 for the calibrated score.
DENSE_FLOOR = 0.72
DENSE_CEIL = 0.90


def normalize_max(scores: Mapping[str, float]) -> dict[str, float]:
    """Divide by the query's best score: 1.0 for the top candidate, 0 for non-matching ones."""
    top = max(scores.values(), default=0.0)
    return {k: (v / top if top > 0 else 0.0) for k, v in scores.items()}


def normalize_minmax(scores: Mapping[str, float]) -> dict[str, float]:
    lo, hi = min(scores.values(), default=0.0), max(scores.values(), default=0.0)
    return {k: ((v - lo) / (hi - lo) if hi > lo else 1.0) for k, v in scores.items()}


def calibrate_dense(similarity: float) -> float:
    return min(1.0, max(0.0, (similarity - DENSE_FLOOR) / (DENSE_CEIL - DENSE_FLOOR)))


def fuse_linear(
    dense: Mapping[str, float], keyword: Mapping[str, float], dense_weight: float
) -> list[tuple[str, float]]:
    """Weighted sum of min-max-normalized dense similarity and max-normalized BM25 (a tuning baseline).

    Both maps should cover the same candidate set (missing BM25 = 0: the chunk matched no term).
    >>> fuse_linear({"a": 0.9, "b": 0.8}, {"a": 0.0, "b": 10.0}, 0.5)
    [('b', 0.5), ('a', 0.5)]
    """
    ids = set(dense) | set(keyword)
    d = normalize_minmax({i: dense.get(i, min(dense.values(), default=0.0)) for i in ids})
    k = normalize_max({i: keyword.get(i, 0.0) for i in ids})
    fused = {i: dense_weight * d[i] + (1 - dense_weight) * k[i] for i in ids}
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def fuse_calibrated(
    dense: Mapping[str, float], coverage: Mapping[str, float], dense_weight: float
) -> list[tuple[str, float]]:
    """The default fusion: rank by `calibrated_score`, best first (candidates = keys of `dense`)."""
    fused = {i: calibrated_score(sim, coverage.get(i, 0.0), dense_weight) for i, sim in dense.items()}
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def fuse_rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal rank fusion (kept as a baseline for the tuning bench)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def cap_per_source(ranked: Sequence[tuple[Chunk, float]], k: int, per_source: int) -> list[tuple[Chunk, float]]:
    """Top k, with at most `per_source` chunks of one article, so a long article cannot crowd out the rest.

    When fewer than k chunks satisfy the cap, the rest is filled from the capped-out ones in order.
    """
    kept, overflow, seen = [], [], {}
    for chunk, score in ranked:
        if seen.get(chunk.doc_id, 0) < per_source:
            seen[chunk.doc_id] = seen.get(chunk.doc_id, 0) + 1
            kept.append((chunk, score))
        else:
            overflow.append((chunk, score))
        if len(kept) == k:
            return kept
    return kept + overflow[: k - len(kept)]


def calibrated_score(similarity: float, coverage: float, dense_weight: float) -> float:
    """0..1 evidence strength: absolute dense similarity and keyword coverage, both comparable across queries."""
    return round(dense_weight * calibrate_dense(similarity) + (1 - dense_weight) * coverage, 4)


def make_hits(
    ranked: Sequence[tuple[Chunk, float]],
    dense: Mapping[str, float],
    keyword: Mapping[str, float],
    coverage: Mapping[str, float],
    dense_weight: float,
) -> list[Hit]:
    return [
        Hit(
            chunk=chunk,
            score=calibrated_score(dense.get(chunk.chunk_id, 0.0), coverage.get(chunk.chunk_id, 0.0), dense_weight),
            dense=dense.get(chunk.chunk_id),
            keyword=keyword.get(chunk.chunk_id),
            rank=rank,
        )
        for rank, (chunk, _) in enumerate(ranked, start=1)
    ]


def merge_hits(first: Sequence[Hit], second: Sequence[Hit], k: int) -> list[Hit]:
    """The best k of two searches, each chunk once at its better score, ranked anew."""
    best: dict[str, Hit] = {}
    for hit in list(first) + list(second):
        if hit.chunk.chunk_id not in best or hit.score > best[hit.chunk.chunk_id].score:
            best[hit.chunk.chunk_id] = hit
    ranked = sorted(best.values(), key=lambda h: -h.score)[:k]
    return [replace(h, rank=i) for i, h in enumerate(ranked, start=1)]
