"""Logistic models whose weights are data: fitted on a calibration split by `python -m eval.fit`,
stored as JSON beside the code (rag/fitted/), loaded through the settings — never set by hand.

    models = load_models(settings.answer.evidence_model)        # {"cheap": LogisticModel, "full": …}
    probabilities = models["cheap"].predict({"lexical": [0.8, 0.1], "slot_has": [1, 0], ...})

A file names its features; a model asked about other features is refused with a clear message, so
a feature added in code cannot silently run with weights fitted without it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from rag.config import PROJECT_ROOT

FITTED_DIR = PROJECT_ROOT / "rag" / "fitted"


class ModelFileError(ValueError):
    """A fitted-weights file that is missing, unreadable or for other features."""


@dataclass(frozen=True)
class LogisticModel:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...] = ()  # features are standardized with the calibration set's mean / scale
    scale: tuple[float, ...] = ()
    threshold: float = 0.5  # a decision threshold chosen on the calibration split, when the model has one
    meta: dict[str, Any] = field(default_factory=dict)  # how and on what it was fitted

    def logits(self, columns: Mapping[str, Sequence[float]]) -> list[float]:
        """w·x + b for each row; `columns` maps every feature name to its values."""
        missing = [f for f in self.features if f not in columns]
        if missing:
            raise ModelFileError(f"the model needs feature(s) {', '.join(missing)} that were not computed")
        n = len(columns[self.features[0]]) if self.features else 0
        mean = self.mean or (0.0,) * len(self.features)
        scale = self.scale or (1.0,) * len(self.features)
        out = [self.bias] * n
        for name, w, mu, sd in zip(self.features, self.weights, mean, scale):
            values = columns[name]
            for i in range(n):
                out[i] += w * (float(values[i]) - mu) / sd
        return out

    def predict(self, columns: Mapping[str, Sequence[float]]) -> list[float]:
        return [_sigmoid(z) for z in self.logits(columns)]

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "weights": [round(w, 6) for w in self.weights],
                "bias": round(self.bias, 6), "mean": [round(m, 6) for m in self.mean],
                "scale": [round(s, 6) for s in self.scale], "threshold": round(self.threshold, 6), "meta": self.meta}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "<model>") -> "LogisticModel":
        try:
            features = tuple(str(f) for f in data["features"])
            weights = tuple(float(w) for w in data["weights"])
            model = cls(features, weights, float(data["bias"]), tuple(float(m) for m in data.get("mean", ())),
                        tuple(float(s) for s in data.get("scale", ())), float(data.get("threshold", 0.5)),
                        dict(data.get("meta", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{where}: not a fitted logistic model ({exc})") from exc
        if len(model.weights) != len(features) or any(len(v) not in (0, len(features)) for v in (model.mean, model.scale)):
            raise ModelFileError(f"{where}: {len(features)} features but {len(weights)} weights")
        if any(s == 0 for s in model.scale):
            raise ModelFileError(f"{where}: a feature scale of 0")
        return model


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def load_models(path: Path) -> dict[str, LogisticModel]:
    """Every model of a fitted file ({"name": model, …}, e.g. "cheap" and "full" for evidence)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(f"fitted model not found: {path} (fit it with `python -m eval.fit`)") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: cannot read the fitted model ({exc})") from exc
    if not isinstance(data, dict) or not data:
        raise ModelFileError(f"{path}: expected an object of named models")
    return {name: LogisticModel.from_json(model, f"{path} [{name}]") for name, model in data.items()
            if isinstance(model, dict) and "features" in model}


@cache
def default_evidence_models() -> tuple[LogisticModel, LogisticModel]:
    """The project's fitted evidence rankers (cheap, full), for callers without settings (tests)."""
    models = load_models(FITTED_DIR / "evidence.json")
    return models["cheap"], models["full"]


def order_models(models: dict[str, LogisticModel]) -> tuple[LogisticModel, LogisticModel | None] | None:
    """An evidence file's listwise models that decide the order only (cheap_order, full_order), when it has them."""
    return (models["cheap_order"], models.get("full_order")) if "cheap_order" in models else None


@cache
def default_evidence_order() -> tuple[LogisticModel, LogisticModel | None] | None:
    """The project's listwise order models, when its evidence file has them."""
    return order_models(load_models(FITTED_DIR / "evidence.json"))


@cache
def default_refusal_model() -> LogisticModel:
    """The project's fitted answerability model, for callers without settings (tests)."""
    return load_models(FITTED_DIR / "refusal.json")["answerable"]
