"""Replaying fusion settings in memory (bench/tune_fusion_sets.py) gives what the live search gives:
candidates cut from a wider search, and the hybrid step under other settings (real store, real Kiwi
BM25, hashing embedder)."""

import importlib.util
import sys
from dataclasses import replace

import pytest

from rag.config import PROJECT_ROOT, load_settings
from rag.pipeline import build_pipeline
from rag.search import Candidates, hybrid_hits, narrow
from tests.fakes import HashingEmbedder

QUESTIONS = ["LG전자 협력회 워크숍은 어디서 열렸나?", "상생방안 논의", "협력사 성장전략", "경영진 기념 촬영"]


@pytest.fixture
def settings(tmp_path):
    s = load_settings(None, env={})
    return replace(s, paths=replace(s.paths, data_dir=tmp_path, cache_dir=tmp_path / "cache"),
                   store=replace(s.store, dir=tmp_path / "store"))


@pytest.fixture
def bench():
    spec = importlib.util.spec_from_file_location("tune_fusion_sets", PROJECT_ROOT / "bench" / "tune_fusion_sets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_narrow_keeps_each_retrievers_top_n_and_their_union_by_hand():
    found = Candidates(
        dense_only={"a": 0.9, "b": 0.8, "c": 0.7},
        keyword_only={"c": 5.0, "d": 4.0, "e": 1.0},
        dense={"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.6, "e": 0.5},
        keyword={"b": 0.5, "c": 5.0, "d": 4.0, "e": 1.0},
        coverage={"a": 0.1, "b": 0.2, "c": 0.9, "d": 0.8, "e": 0.3},
    )
    cut, ranking = narrow(found, {"a": 0.1, "b": 0.7, "c": 0.9, "d": 0.8, "e": 0.3}, 2)
    assert cut.dense_only == {"a": 0.9, "b": 0.8} and cut.keyword_only == {"c": 5.0, "d": 4.0}
    assert set(cut.dense) == set(cut.coverage) == set(ranking) == {"a", "b", "c", "d"}
    assert cut.keyword == {"b": 0.5, "c": 5.0, "d": 4.0}


def test_candidates_cut_from_a_wider_search_are_the_narrow_searchs(settings, seeds_dir, korean):
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest([seeds_dir])
    for question in QUESTIONS:
        wide, wide_ranking, _ = pipe.fusion_inputs(question, 50)
        small, small_ranking, _ = pipe.fusion_inputs(question, 3)
        assert len(wide.dense) > len(small.dense)  # the cut has something to remove
        cut, ranking = narrow(wide, wide_ranking, 3)
        assert (cut.dense_only, cut.keyword_only, cut.keyword, cut.coverage, ranking) == \
            (small.dense_only, small.keyword_only, small.keyword, small.coverage, small_ranking)
        # a chunk only one retriever found gets its cosine computed here or from Chroma's distance:
        # the same up to float32 rounding
        assert cut.dense == pytest.approx(small.dense, abs=1e-6)


def test_replayed_settings_rank_as_a_search_built_with_them(settings, seeds_dir, korean, bench):
    build_pipeline(settings, embedder=HashingEmbedder(), korean=korean).ingest([seeds_dir])
    wide = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    rankings = []
    other = replace(settings.retrieval, dense_weight=0.2, candidates=4,
                    per_source_cap=1 if settings.retrieval.per_source_cap > 1 else 3)
    for conf in (settings.retrieval, other):
        live = build_pipeline(replace(settings, retrieval=conf), embedder=HashingEmbedder(), korean=korean)
        for question in QUESTIONS:
            item = bench.Item(*wide.fusion_inputs(question, 50), gold=())
            want = [h.chunk.doc_id for h in live.search(question, 5)]
            assert bench.replay(item, conf, 5) == list(dict.fromkeys(want))
            rankings.append((conf is other, question, tuple(want)))
            found, ranking = narrow(item.found, item.ranking_coverage, max(conf.candidates, 5))
            assert [h.chunk.chunk_id for h in hybrid_hits(found, ranking, item.chunks, 5, conf)] == \
                [h.chunk.chunk_id for h in live.search(question, 5)]
    # the second settings do rank differently, so a replay that ignored them would fail above
    assert {r[1:] for r in rankings if r[0]} != {r[1:] for r in rankings if not r[0]}


def test_choice_is_the_best_mean_r5_over_the_sets_with_ties_to_the_configured(bench):
    def row(r5_a, r5_b, mrr=0.5):
        return {"kq": {"R@5": r5_a, "MRR@10": mrr}, "klue": {"R@5": r5_b, "MRR@10": mrr}}

    current = (0.55, 30, 3)
    # each set counts once: 0.99/0.80 (mean 0.895) beats 1.00/0.78 (0.89) though KorQuAD is larger
    table = {current: row(1.0, 0.78), (0.4, 30, 3): row(0.99, 0.80), (0.3, 30, 3): row(0.95, 0.80)}
    assert bench.choose(table, current) == (0.4, 30, 3)
    # a tie on mean R@5 keeps the configured value even with a better MRR elsewhere
    table = {current: row(1.0, 0.80), (0.4, 30, 3): row(0.99, 0.81, mrr=0.9)}
    assert bench.choose(table, current) == current
