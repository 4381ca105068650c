"""Fitted model files (rag/ranker.py): read strictly, with a message naming the file and what is wrong, and
scored without overflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.ranker import FITTED_DIR, LogisticModel, ModelFileError, load_models, order_models

MODEL = {"features": ["a", "b"], "weights": [2.0, -1.0], "bias": 0.5, "mean": [1.0, 0.0], "scale": [2.0, 1.0]}


def _file(tmp_path: Path, data) -> Path:
    path = tmp_path / "model.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_a_model_standardizes_its_features_and_needs_every_one(tmp_path) -> None:
    # entries that are no model (a meta object, a note even if it says "features") are passed over
    models = load_models(_file(tmp_path, {"m": MODEL, "meta": {"fitted": "today"}, "note": "features: a, b"}))
    assert list(models) == ["m"]
    model = models["m"]
    assert model.logits({"a": [3.0], "b": [1.0]}) == [0.5 + 2.0 * (3.0 - 1.0) / 2.0 - 1.0 * 1.0]
    raw = LogisticModel(("a",), (1.0,), 0.0)  # no mean / scale: the features as they are
    assert raw.logits({"a": [2.0, -1.0]}) == [2.0, -1.0]
    with pytest.raises(ModelFileError, match="b"):
        model.logits({"a": [1.0]})
    assert LogisticModel((), (), 0.0).logits({}) == []  # no features: no rows to score


def test_probabilities_of_extreme_scores_do_not_overflow() -> None:
    model = LogisticModel(("a",), (1.0,), 0.0)
    low, mid, high = model.predict({"a": [-1000.0, 0.0, 1000.0]})
    assert low == pytest.approx(0.0) and mid == 0.5 and high == pytest.approx(1.0)


@pytest.mark.parametrize("data, message", [
    ("{not json", "cannot read"),
    ([MODEL], "object of named models"),
    ({}, "object of named models"),
    ({"m": {**MODEL, "weights": [1.0]}}, "2 features but 1 weights"),
    ({"m": {**MODEL, "mean": [0.0]}}, "2 features"),
    ({"m": {**MODEL, "scale": [1.0, 0.0]}}, "scale of 0"),
    ({"m": {**MODEL, "bias": "high"}}, "not a fitted logistic model"),
    ({"m": {"features": ["a"], "weights": [1.0]}}, "not a fitted logistic model"),
])
def test_a_broken_model_file_is_a_clear_error_naming_it(tmp_path, data, message) -> None:
    path = _file(tmp_path, data)
    with pytest.raises(ModelFileError, match=message) as caught:
        load_models(path)
    assert str(path) in str(caught.value)


def test_a_missing_model_file_says_how_to_fit_it(tmp_path) -> None:
    with pytest.raises(ModelFileError, match="eval.fit"):
        load_models(tmp_path / "absent.json")


def test_order_models_are_used_only_when_the_file_has_them() -> None:
    shipped = load_models(FITTED_DIR / "evidence.json")
    cheap, full = order_models(shipped)
    assert cheap is shipped["cheap_order"] and full is shipped["full_order"]
    assert order_models({"cheap": shipped["cheap"], "full": shipped["full"]}) is None
    only_cheap = order_models({"cheap_order": shipped["cheap_order"]})
    assert only_cheap == (shipped["cheap_order"], None)
