"""The refusal model on KorQuAD open QA's calibration half in two stores: alone and mixed with KLUE's passages
(bench/results/mixed_corpus_2026-12-06.md). Computes each question's grounding signals under an accept-all model
(as `python -m eval.fit refusal` does), then what the shipped model and two in-sample refits give on each store.

    python -m eval --dataset korquad-open --mix-with klue --split calibrate --mode extractive   # builds the mixed store
    python bench/mixed_refusal.py --alone data/korquad-open/store --mixed data/mixed/klue+korquad-open/store

No other process may have either store open (copy it first while an eval runs).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.config import apply_offline_env, load_settings
from rag.grounding import SIGNALS
from rag.pipeline import build_pipeline
from rag.ranker import LogisticModel, load_models

from eval.fit import at_threshold, choose_threshold, fit_logistic
from eval.korquad import KORQUAD_PATH, load_korquad_open

ROOT = Path(__file__).resolve().parent.parent


def rows_of(store: Path) -> tuple[list[dict[str, float]], list[int], list[bool]]:
    settings = load_settings().with_store(store)
    neutral = Path(tempfile.mkdtemp(prefix="mixed-refusal-")) / "neutral.json"
    accept_all = LogisticModel(SIGNALS, (0.0,) * len(SIGNALS), 0.0, threshold=0.0)
    neutral.write_text(json.dumps({"answerable": accept_all.to_json()}), encoding="utf-8")
    settings = replace(settings, answer=replace(settings.answer, refusal_model=neutral))
    pipe = build_pipeline(settings)
    rows, labels, hard = [], [], []
    for q in load_korquad_open(KORQUAD_PATH, "1-70")[1]:
        _, _, g = pipe.answerer.gather(q.question, settings.retrieval.k)
        rows.append(g.signals or {n: 0.0 for n in SIGNALS})
        labels.append(0 if q.unanswerable else 1)
        hard.append(not g.answerable)
    pipe.close()
    return rows, labels, hard


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--alone", type=Path, required=True)
    p.add_argument("--mixed", type=Path, required=True)
    p.add_argument("--bound", type=float, default=0.011, help="the false-refusal bound of the refits (shipped: 0.011)")
    args = p.parse_args()
    apply_offline_env()
    stores = {"alone": rows_of(args.alone), "mixed": rows_of(args.mixed)}

    def probabilities(model: LogisticModel, rows: list[dict[str, float]]) -> list[float]:
        return list(model.predict({n: [r[n] for r in rows] for n in model.features}))

    shipped = load_models(ROOT / "rag" / "fitted" / "refusal.json")["answerable"]
    models = {"shipped": (shipped, shipped.threshold)}
    for name, fitted_on in (("refit, store alone", ["alone"]), ("refit, both stores", ["alone", "mixed"])):
        rows = [r for s in fitted_on for r in stores[s][0]]
        labels = [y for s in fitted_on for y in stores[s][1]]
        hard = [h for s in fitted_on for h in stores[s][2]]
        keep = [i for i, h in enumerate(hard) if not h]
        x = np.asarray([[rows[i][f] for f in SIGNALS] for i in keep], dtype=float)
        model = fit_logistic(x, np.asarray([labels[i] for i in keep], dtype=float), SIGNALS)
        models[name] = (model, choose_threshold(probabilities(model, rows), labels, hard, args.bound)[0])
    print("| model (threshold) | alone: false ref. / withheld refused | mixed: false ref. / withheld refused |")
    print("|---|---|---|")
    for name, (model, threshold) in models.items():
        cells = []
        for store in ("alone", "mixed"):
            rows, labels, hard = stores[store]
            r = at_threshold(probabilities(model, rows), labels, hard, threshold)
            cells.append(f"{r['false_refusal_rate']:.3f} / {r['refusal_recall']:.3f}")
        print(f"| {name} ({threshold:.3f}) | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
