"""Fitting the answer layer's weights: a deterministic logistic regression, labels, and the threshold rule."""

from __future__ import annotations

import numpy as np
import pytest

from eval.fit import choose_threshold, fit_logistic, holds_answer, top1


def test_logistic_regression_recovers_the_direction_of_a_signal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - 0.2 * x[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(float)
    model = fit_logistic(x, y, ("useful", "weak"))
    assert model.weights[0] > 1.0 and model.weights[1] < 0 and abs(model.weights[1]) < model.weights[0]
    p = model.predict({"useful": [2.0, -2.0], "weak": [0.0, 0.0]})
    assert p[0] > 0.9 and p[1] < 0.1
    assert fit_logistic(x, y, ("useful", "weak")).weights == model.weights  # deterministic


def test_a_sentence_is_labelled_by_the_gold_span_in_a_gold_document():
    assert holds_answer("임종석은 1989년 2월 15일 지명수배됐다.", "d1", ["d1"], [["1989년 2월 15일"]])
    assert not holds_answer("임종석은 1989년 2월 15일 지명수배됐다.", "d2", ["d1"], [["1989년 2월 15일"]])
    assert holds_answer("펀드는 1030억 원이다.", "d1", ["d1"], [["1,030억"]])  # compared without separators
    assert top1([0.2, 0.9, 0.5, 0.1], [0, 1, 1, 0], ["a", "a", "b", "b"]) == 1.0


def test_the_threshold_keeps_false_refusals_within_the_bound():
    probabilities = [0.9, 0.8, 0.7, 0.3, 0.2, 0.6, 0.1]
    labels = [1, 1, 1, 1, 0, 0, 0]  # 1 = answerable
    hard = [False] * 7
    threshold, result = choose_threshold(probabilities, labels, hard, max_false_refusals=0.0)
    assert threshold == 0.3 and result == {"false_refusal_rate": 0.0, "refusal_recall": round(2 / 3, 4)}
    # a question the hard rules already refuse counts against the bound whatever its probability
    threshold, result = choose_threshold(probabilities, labels, [True] + [False] * 6, max_false_refusals=0.25)
    assert result["false_refusal_rate"] <= 0.25 and threshold == 0.3


def test_every_calibration_set_counts_equally_in_a_fit():
    from eval.fit import set_weights

    groups = ["korquad-open:1"] * 6 + ["klue:7"] * 2
    weight = set_weights(groups)
    assert weight[:6].sum() == pytest.approx(weight[6:].sum()) == pytest.approx(len(groups) / 2)
    # a weighted row counts as that many copies of it
    x = np.asarray([[0.0], [1.0], [1.0], [0.0]])
    y = np.asarray([0.0, 1.0, 0.0, 1.0])
    heavy = fit_logistic(x, y, ("f",), weight=np.asarray([1.0, 3.0, 1.0, 1.0]))
    copies = fit_logistic(np.vstack([x, x[[1, 1]]]), np.concatenate([y, y[[1, 1]]]), ("f",))
    assert heavy.predict({"f": [1.0]})[0] > 0.5 and abs(heavy.predict({"f": [1.0]})[0] - copies.predict({"f": [1.0]})[0]) < 0.05


def _write_rows(path, names, n=80):
    import json

    rng = np.random.default_rng(1)
    labels = [int(i % 4 != 0) for i in range(n)]
    rows = [{name: float(rng.normal() + (1.5 * y if name == "top" else 0.0)) for name in names} for y in labels]
    path.mkdir(parents=True, exist_ok=True)
    (path / "refusal-rows.json").write_text(json.dumps([rows, labels, [False] * n, "e5-test"]), encoding="utf-8")


def test_a_refusal_refit_weighs_only_the_signals_asked_for(tmp_path, monkeypatch):
    import eval.fit as fit
    from rag.grounding import SIGNALS

    monkeypatch.setattr(fit, "ROWS_DIR", tmp_path)
    _write_rows(tmp_path, SIGNALS)
    result = fit.fit_refusal(None, "test", 0.03, reuse=True, signals=["top", "dense"])
    assert result["answerable"]["features"] == ["top", "dense"]
    assert result["answerable"]["weights"][0] > 0.5  # the signal that tells answerable apart
    assert fit.fit_refusal(None, "test", 0.03, reuse=True)["answerable"]["features"] == list(SIGNALS)
    with pytest.raises(SystemExit, match="unknown refusal signal"):
        fit.fit_refusal(None, "test", 0.03, reuse=True, signals=["tpo"])


def test_rows_cached_before_a_signal_existed_are_not_refitted_from(tmp_path, monkeypatch):
    import eval.fit as fit
    from rag.grounding import SIGNALS

    monkeypatch.setattr(fit, "ROWS_DIR", tmp_path)
    _write_rows(tmp_path, SIGNALS[:-1])  # as if the last signal had been added after the rows were cached
    with pytest.raises(SystemExit, match="without --reuse"):
        fit.fit_refusal(None, "test", 0.03, reuse=True)
