"""Metrics checked against values computed by hand."""

from __future__ import annotations

import math

import pytest

from eval import metrics as m


def test_dedupe_keeps_first_appearance_order():
    assert m.dedupe_docs(["a", "b", "a", "c", "b"]) == ["a", "b", "c"]


def test_recall_at_k_counts_documents_not_chunks():
    hits = ["a", "a", "a", "b"]  # three chunks of a, then b: b is the 2nd *document*
    docs = m.dedupe_docs(hits)
    assert m.recall_at_k(docs, ["b"], 1) == 0.0
    assert m.recall_at_k(docs, ["b"], 3) == 1.0


def test_recall_with_two_gold_documents_is_a_fraction():
    docs = ["x", "g1", "y", "z", "g2"]
    assert m.recall_at_k(docs, ["g1", "g2"], 1) == 0.0
    assert m.recall_at_k(docs, ["g1", "g2"], 3) == 0.5
    assert m.recall_at_k(docs, ["g1", "g2"], 5) == 1.0


def test_mrr_and_ndcg_by_hand():
    docs = ["x", "g", "y"]
    assert m.mrr_at_k(docs, ["g"]) == 0.5
    # one gold at rank 2: DCG = 1/log2(3), ideal = 1/log2(2) = 1
    assert m.ndcg_at_k(docs, ["g"]) == pytest.approx(1 / math.log2(3))
    # two gold at ranks 1 and 3: DCG = 1 + 1/2; ideal = 1 + 1/log2(3)
    docs2 = ["g1", "x", "g2"]
    assert m.ndcg_at_k(docs2, ["g1", "g2"]) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert m.mrr_at_k(["x"] * 1 + [f"d{i}" for i in range(9)] + ["g"], ["g"], 10) == 0.0


def test_retrieval_metrics_undefined_without_gold():
    out = m.retrieval_metrics(["a", "b"], [])
    assert set(out.values()) == {None}
    out = m.retrieval_metrics(["a", "a", "g"], ["g"])
    assert out["recall@1"] == 0.0 and out["recall@3"] == 1.0 and out["mrr@10"] == 0.5


def test_answer_match_ignores_spaces_and_thousands_separators():
    groups = [["1,030억", "1030억"], ["LG이노텍"]]
    assert m.answer_matches("LG 이노텍은 1030 억 원 규모의 펀드를 운영합니다.", groups)
    assert m.answer_matches("LG이노텍: 1,030억원", [["1030억"], ["LG이노텍"]])
    assert not m.answer_matches("1,030억 원입니다.", groups)  # the second group is missing
    # decomposed Hangul (NFD) matches its composed form
    import unicodedata

    assert m.answer_matches(unicodedata.normalize("NFD", "정철동 사장"), [["정철동"]])


def test_answer_correct_rewards_refusing_unanswerable_only():
    assert m.answer_correct("", refused=True, groups=[])
    assert not m.answer_correct("삼성전자는 500억", refused=False, groups=[])
    assert not m.answer_correct("1,030억", refused=True, groups=[["1,030억"]])
    assert m.answer_correct("1,030억", refused=False, groups=[["1,030억"]])
    # a citation marker is not the answer: "[1]" holds no "1", "[2, 3]" no "3"
    assert not m.answer_correct("3일 착공식을 열었다 [1].", refused=False, groups=[["1"]])
    assert not m.answer_correct("착공했다 [2, 3].", refused=False, groups=[["3"]])
    assert m.answer_correct("공장 1곳을 지었다 [1].", refused=False, groups=[["1"]])


def test_korquad_em_and_char_f1():
    assert m.korquad_em("《1989년 2월 15일》", ["1989년 2월 15일"]) == 1.0
    assert m.korquad_em("1989년 2월", ["1989년 2월 15일"]) == 0.0
    # "1989년 2월" has 7 chars (no spaces), truth "1989년2월15일" 10 chars, 7 shared:
    # P = 7/7, R = 7/10, F1 = 2*0.7/(1.7)
    assert m.korquad_f1("1989년 2월", ["1989년 2월 15일"]) == pytest.approx(2 * 0.7 / 1.7)
    assert m.korquad_f1("전혀 다름", ["1989년"]) == 0.0
    assert m.korquad_f1("x", ["y", "x"]) == 1.0  # best over the ground truths


def test_citation_validity_and_correctness():
    texts = {"a.txt": "LG이노텍은 1,030억 원 규모의\n동반성장 펀드를 운영 중이다.", "b.txt": "KT는 100억원을 출연한다."}
    assert m.citation_valid("a.txt", "1,030억 원 규모의 동반성장 펀드", ["a.txt"], texts)
    assert not m.citation_valid("a.txt", "1,030억 원", ["b.txt"], texts)  # not retrieved
    assert not m.citation_valid("b.txt", "1,030억 원", ["b.txt"], texts)  # quote not in that source
    scores = m.citation_scores(
        [("a.txt", "동반성장 펀드"), ("b.txt", "100억원"), ("b.txt", "없는 문장")],
        retrieved=["a.txt", "b.txt"],
        gold=["a.txt"],
        texts=texts,
    )
    assert scores["citation_validity"] == pytest.approx(2 / 3)
    assert scores["citation_correctness"] == pytest.approx(1 / 3)
    assert m.citation_scores([], ["a.txt"], ["a.txt"], texts)["citation_validity"] is None


def test_refusal_precision_recall():
    refused = [True, True, False, False, True]
    unanswerable = [True, False, True, False, True]
    s = m.refusal_scores(refused, unanswerable)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(2 / 3)
    assert m.refusal_scores([False], [False]).precision is None


def test_percentiles_interpolate_like_numpy():
    values = [10.0, 20.0, 30.0, 40.0]
    assert m.percentile(values, 50) == 25.0
    assert m.percentile(values, 95) == pytest.approx(38.5)  # 30 + 0.85 * 10
    assert m.percentile([], 50) is None
    assert m.latency_summary([5.0])["p95"] == 5.0


def test_mean_defined_skips_undefined():
    assert m.mean_defined([1.0, None, 0.0, True]) == pytest.approx(2 / 3)
    assert m.mean_defined([None]) is None
