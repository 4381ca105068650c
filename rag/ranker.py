"""Logistic models whose weights are data: fitted on a calibration split by `python -m eval.fit`,
stored as JSON beside the code (rag/fitted/), loaded through the settings — never set by hand.

    models = load_models(settings.answer.evidence_model)        # {"cheap": LogisticModel, "full": …}
    probabilities = models["cheap"].predict({"lexical": [0.8, 0.1], "slot_has": [1, 0], ...})

A file names its features; a model asked about other features is refused with a clear message, so
a feature added in code cannot silently run with weights fitted without it.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from rag.config import PROJECT_ROOT

log = logging.getLogger(__name__)

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


def phrase_model(path: Path, min_share: float = 0.0) -> LogisticModel:
    """The phrase-answer model of a fitted file (rag/phrases.py; `python -m eval.fit phrase` writes it),
    with `min_share` as its threshold when above 0."""
    return fitted_model(path, "phrase", min_share)


def fitted_model(path: Path, name: str, min_share: float = 0.0) -> LogisticModel:
    """The short-answer model `name` of a fitted file (`python -m eval.fit NAME` writes it), with
    `min_share` as its threshold when above 0."""
    models = load_models(path)
    if name not in models:
        raise ModelFileError(f"{path}: no \"{name}\" model in it (fit it with `python -m eval.fit {name}`)")
    return replace(models[name], threshold=min_share) if min_share > 0 else models[name]


def for_embedding(model: LogisticModel, running: str | None) -> LogisticModel:
    """The fitted answerability `model`, when `running` (the search model's name) is the embedding it was fitted
    with. Its strongest signals are retrieval scores, whose scale is the embedding model's: under another
    model they mean something else, so only the hard rules (a name no passage mentions, no value
    next to it) and the model's own verdict refuse until it is refitted (`python -m eval.fit refusal`)."""
    fitted_with = model.meta.get("embedding")
    if fitted_with and running and _model_family(running) != _model_family(fitted_with):
        log.warning("the refusal model was fitted with the embedding %s, not %s: only the hard "
                    "refusal rules apply (refit with `python -m eval.fit refusal`)", fitted_with, running)
        model = LogisticModel(model.features, (0.0,) * len(model.features), 0.0, threshold=0.0,
                              meta={"strong": 1.0, "embedding": running})
    return model


def _model_family(name: str) -> str:
    """An embedding's name without its precision: int8 keeps cosine >= 0.99 to fp32, the scores alike."""
    return name.removesuffix("+int8")


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
