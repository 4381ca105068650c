"""Pointwise or listwise evidence rankers: 2-fold cross-validation inside the calibration halves, and the
shipped candidates fitted on all of it (bench/results/ranker_listwise_2026-12-03.md).

    python bench/ranker_listwise.py --out /tmp/ranker-fit        # needs the rows of `python -m eval.fit evidence`

Folds: A = KorQuAD open QA articles 1-35 + KLUE odd passages numbered 1 mod 4, B = KorQuAD 36-70 + KLUE
3 mod 4. Each variant is fitted on one fold and scored on the other ("an answer sentence first", the full
ranker's order as the runtime ranks); the fold models are written too, for the end-to-end check of each
fold's held-out questions (`--ids` / article ranges, see the results file).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.fit import (CALIBRATION_SETS, OBJECTIVES, _cached_evidence_rows, fit_rankers, ranked_scores,  # noqa: E402
                      top1_by_set)
from rag.config import apply_offline_env  # noqa: E402


def fold_of(key: str, gold: dict[str, str]) -> str:
    """'A' or 'B' for a row's question key ("korquad-open:<id>" / "klue:<id>")."""
    name, qid = key.split(":", 1)
    doc = gold[key]
    if name == "korquad-open":
        return "A" if int(doc.split("-")[1]) <= 35 else "B"
    number = int("".join(ch for ch in doc if ch.isdigit()))
    return "A" if number % 4 == 1 else "B"


def gold_documents() -> dict[str, str]:
    from eval.datasets import load_dataset
    from eval.korquad import KORQUAD_PATH, load_korquad_open

    _, korquad = load_korquad_open(KORQUAD_PATH, "1-70")
    out = {f"korquad-open:{q.id}": q.gold[0] for q in korquad if q.gold}
    klue = load_dataset(Path(__file__).resolve().parents[1] / "eval" / "datasets" / "klue_mrc_dev" / "questions.jsonl")
    out.update({f"klue:{q.id}": q.gold[0] for q in klue if q.gold})
    return out


def klue_fold_ids(fold: str) -> list[str]:
    """Every KLUE calibration question (odd passage) of the fold, answerable or not."""
    from eval.datasets import load_dataset
    from eval.selection import select_split

    klue = load_dataset(Path(__file__).resolve().parents[1] / "eval" / "datasets" / "klue_mrc_dev" / "questions.jsonl")
    out = []
    for q in select_split(klue, "calibrate", rule="gold"):
        where = q.gold[0] if q.gold else q.id
        number = int("".join(ch for ch in where if ch.isdigit()))
        out.append((q.id, "A" if number % 4 == 1 else "B"))
    return [qid for qid, f in out if f == fold]


def subset(rows: list[int], columns: dict, labels: list, groups: list, texts: list) -> tuple:
    return ({f: [v[i] for i in rows] for f, v in columns.items()}, [labels[i] for i in rows],
            [groups[i] for i in rows], [texts[i] for i in rows])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--variants", default=",".join(OBJECTIVES),
                   help="objectives, each optionally with '+ctx' (the sentence-before e5 features)")
    args = p.parse_args()
    apply_offline_env()
    from rag.relevance import SentenceRelevance

    args.out.mkdir(parents=True, exist_ok=True)
    sets = list(CALIBRATION_SETS)
    columns, labels, groups, counts = _cached_evidence_rows(None, sets, reuse=True)
    questions, embedder = counts.pop("_questions"), counts.pop("_embedder")
    texts = columns.pop("_text")
    context_texts = columns.pop("_context", None)
    relevance = SentenceRelevance(lambda: embedder)  # one memo: the folds share most sentences
    gold = gold_documents()
    folds = [fold_of(g, gold) for g in groups]
    result: dict = {"variants": args.variants, "rows": len(labels), "questions": len(questions), "cv": {}, "shipped": {},
                    "fold_questions": {}}
    for fold in "AB":
        keys = sorted({g for g, f in zip(groups, folds) if f == fold})
        result["fold_questions"][fold] = {name: sum(k.startswith(name + ":") for k in keys) for name in sets}
        # the end-to-end check asks every calibration question of the fold's passages, not only these
        (args.out / f"fold-{fold}-klue-ids.txt").write_text(",".join(klue_fold_ids(fold)), encoding="utf-8")
    for variant in args.variants.split(","):
        started = time.time()
        objective, _, extra = variant.partition("+")  # "listwise+ctx": with the sentence-before e5 features
        contexts = context_texts if extra == "ctx" else None
        held: dict[str, dict[str, float]] = {}
        for train, test in (("A", "B"), ("B", "A")):
            tr = [i for i, f in enumerate(folds) if f == train]
            te = [i for i, f in enumerate(folds) if f == test]
            c, y, g, t = subset(tr, columns, labels, groups, texts)
            cx = [contexts[i] for i in tr] if contexts else None
            cheap, full = fit_rankers(c, y, g, questions, t, relevance, objective, cx)
            (args.out / f"{variant}-fit-{train}.json").write_text(
                json.dumps({"cheap": cheap.to_json(), "full": full.to_json()}, indent=1), encoding="utf-8")
            c, y, g, t = subset(te, columns, labels, groups, texts)
            cx = [contexts[i] for i in te] if contexts else None
            _, scores = ranked_scores(cheap, full, c, g, questions, t, relevance, cx)
            cheap_scores = cheap.predict(c)
            held[test] = {"full": top1_by_set(scores, y, g, sets), "cheap": top1_by_set(cheap_scores, y, g, sets)}
        cheap, full = fit_rankers(columns, labels, groups, questions, texts, relevance, objective, contexts)
        _, scores = ranked_scores(cheap, full, columns, groups, questions, texts, relevance, contexts)
        (args.out / f"{variant}-all.json").write_text(
            json.dumps({"cheap": cheap.to_json(), "full": full.to_json()}, indent=1), encoding="utf-8")
        per_set = {name: round(float(np.mean([held[f]["full"][name] for f in "AB"])), 4) for name in sets}
        result["cv"][variant] = {"held_out": held, "mean_of_folds": per_set,
                                 "cv_score": round(float(np.mean(list(per_set.values()))), 4),
                                 "seconds": round(time.time() - started, 1)}
        result["shipped"][variant] = {"in_sample_top1_full": top1_by_set(scores, labels, groups, sets),
                                      "cheap_weights": dict(zip(cheap.features, [round(w, 3) for w in cheap.weights])),
                                      "full_weights": dict(zip(full.features, [round(w, 3) for w in full.weights])),
                                      "full_bias": round(full.bias, 3)}
        print(json.dumps({variant: result["cv"][variant]}, indent=1), flush=True)
    result["load_avg"] = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    (args.out / "cv.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
