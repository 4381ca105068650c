"""The refusal model on KorQuAD open QA's calibration half in two stores: alone and mixed with KLUE's passages
(bench/results/mixed_corpus_2026-12-06.md). Each question's grounding signals under an accept-all model come from
`eval.fit.refusal_rows` (as `python -m eval.fit refusal` computes them); then what the shipped model and two
in-sample refits give on each store.

    python bench/mixed_refusal.py          # the stores data/korquad-open/store and data/mixed/klue+korquad-open/store

No other process may have either store open (each is brought up to date first, as an eval run does).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rag.config import apply_offline_env
from rag.grounding import SIGNALS
from rag.ranker import LogisticModel, load_models

from eval.fit import at_threshold, choose_threshold, fit_logistic, refusal_rows

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bound", type=float, default=0.011, help="the false-refusal bound of the refits (shipped: 0.011)")
    args = p.parse_args()
    apply_offline_env()
    stores = {"alone": refusal_rows(None)[:3], "mixed": refusal_rows(None, extra=("--mix-with", "klue"))[:3]}

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
