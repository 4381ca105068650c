from rag.retrieval import (
    fuse_calibrated,
    calibrate_dense,
    calibrated_score,
    cap_per_source,
    fuse_linear,
    fuse_rrf,
    normalize_max,
    normalize_minmax,
)
from rag.types import Chunk


def _chunk(cid: str, doc: str) -> Chunk:
    return Chunk(chunk_id=cid, doc_id=doc, text=cid, start=0, end=len(cid))


def test_normalizers_by_hand():
    assert normalize_max({"a": 2.0, "b": 1.0, "c": 0.0}) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert normalize_max({"a": 0.0}) == {"a": 0.0}
    minmax = normalize_minmax({"a": 0.9, "b": 0.7, "c": 0.8})
    assert minmax["a"] == 1.0 and minmax["b"] == 0.0 and abs(minmax["c"] - 0.5) < 1e-9
    assert normalize_minmax({"a": 0.4, "b": 0.4}) == {"a": 1.0, "b": 1.0}  # all equal: no division by zero


def test_linear_fusion_lets_a_strong_keyword_hit_beat_a_slightly_closer_vector():
    dense = {"a": 0.86, "b": 0.85, "c": 0.80}
    keyword = {"b": 12.0, "c": 3.0}
    fused = fuse_linear(dense, keyword, dense_weight=0.5)
    assert [i for i, _ in fused] == ["b", "a", "c"]
    # all dense, no keyword: plain dense order
    assert [i for i, _ in fuse_linear(dense, keyword, dense_weight=1.0)] == ["a", "b", "c"]
    assert [i for i, _ in fuse_linear(dense, keyword, dense_weight=0.0)][:2] == ["b", "c"]


def test_rrf_by_hand():
    fused = dict(fuse_rrf([["a", "b"], ["b", "c"]], k=1))
    assert fused["b"] == 1 / 3 + 1 / 2
    assert fused["a"] == 1 / 2 and fused["c"] == 1 / 3


def test_cap_per_source_keeps_other_articles_in_the_top_k():
    ranked = [(_chunk(f"a{i}", "A"), 1.0 - i / 10) for i in range(5)] + [(_chunk("b0", "B"), 0.1)]
    kept = cap_per_source(ranked, k=3, per_source=2)
    assert [c.chunk_id for c, _ in kept] == ["a0", "a1", "b0"]
    # when the other sources run out, the capped-out chunks fill the list in order
    assert [c.chunk_id for c, _ in cap_per_source(ranked, k=4, per_source=2)] == ["a0", "a1", "b0", "a2"]
    # never more than k, however many sources are left
    many = [(_chunk(f"{d}0", d), 1.0) for d in "ABCD"]
    assert [c.chunk_id for c, _ in cap_per_source(many, k=2, per_source=1)] == ["A0", "B0"]


def test_calibrated_score_is_bounded_and_monotonic():
    assert calibrate_dense(0.5) == 0.0 and calibrate_dense(0.99) == 1.0
    assert calibrated_score(0.95, 1.0, 0.6) == 1.0
    assert calibrated_score(0.6, 0.0, 0.6) == 0.0
    assert calibrated_score(0.85, 0.8, 0.5) > calibrated_score(0.80, 0.8, 0.5) > calibrated_score(0.80, 0.2, 0.5)


def test_calibrated_fusion_ranks_by_the_score_it_reports():
    dense = {"a": 0.86, "b": 0.84, "c": 0.70}
    coverage = {"a": 0.2, "b": 0.9}
    fused = fuse_calibrated(dense, coverage, 0.55)
    assert [i for i, _ in fused] == ["b", "a", "c"]
    assert fused[0][1] == calibrated_score(0.84, 0.9, 0.55)
    assert fused[-1][1] == 0.0  # below the dense floor and no keyword: no evidence at all
