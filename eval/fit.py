"""Fit the answer layer's weights on the calibration halves, never on the report halves.

    python -m eval.fit evidence                 # rag/fitted/evidence.json (cheap + full ranker)
    python -m eval.fit evidence --limit 300     # a quick look (not for committing)

Evidence: every answerable calibration question of KorQuAD open QA (articles 1–70) and KLUE-MRC
(odd passages) is retrieved as the answerer retrieves it; each candidate sentence is labelled by
whether it holds a gold answer (in a gold document). A logistic regression on the cheap features
ranks all candidates; a second one, with the e5 similarity, re-ranks the cheap model's best few.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.config import PROJECT_ROOT, apply_offline_env, load_settings
from rag.ranker import FITTED_DIR, LogisticModel

from eval.metrics import normalize_for_match

CALIBRATION_SETS = ("korquad-open", "klue")
DATASETS = {"korquad-open": "korquad-open", "klue": "klue", "seeds": "eval/datasets/seeds.jsonl"}


def fit_logistic(x: np.ndarray, y: np.ndarray, features: Sequence[str], l2: float = 1.0,
                 iterations: int = 60) -> LogisticModel:
    """L2-regularized logistic regression by Newton's method on standardized features (the bias is
    not regularized); deterministic, numpy only."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        gradient = z.T @ (p - y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return LogisticModel(tuple(features), tuple(float(v) for v in w[:-1]), float(w[-1]),
                         tuple(float(v) for v in mean), tuple(float(v) for v in scale))


def holds_answer(sentence: str, doc_id: str, gold: Sequence[str], answers: Sequence[Sequence[str]]) -> bool:
    """The label: a gold document's sentence holding one of the answer's spellings."""
    if doc_id not in gold or not answers:
        return False
    text = normalize_for_match(sentence)
    return all(any(normalize_for_match(a) in text for a in group) for group in answers)


def _calibration_questions(name: str, settings: Any) -> tuple[Any, list[Any]]:
    from eval.__main__ import parse_args, prepare

    args = parse_args(["--dataset", DATASETS[name], "--split", "calibrate", "--no-progress"])
    pipe, questions, _ = prepare(args, settings, None)
    return pipe, [q for q in questions if q.answers and not q.history]


def evidence_rows(limit: int | None, sets: Sequence[str]) -> tuple[dict[str, list[float]], list[int], list[str], dict[str, Any]]:
    """Cheap feature columns (and "_text"), labels and question keys of every candidate, plus the
    question of each key and per-set counts (in "_questions", "_embedder": the loaded model)."""
    from rag.evidence import CHEAP_FEATURES, candidate_features, gather_candidates, usable
    from rag.memo import MemoKorean

    settings = load_settings()
    columns: dict[str, list[float]] = {f: [] for f in CHEAP_FEATURES}
    columns["_text"] = []  # type: ignore[assignment]
    labels: list[int] = []
    groups: list[str] = []
    counts: dict[str, Any] = {"_questions": {}}
    for name in sets:
        pipe, questions = _calibration_questions(name, settings)
        korean = MemoKorean(pipe.korean)
        questions = questions[:limit] if limit else questions
        reachable = 0
        for q in questions:
            hits = pipe.search(q.question, settings.retrieval.k)
            candidates = usable(q.question, gather_candidates(hits, pipe.article, korean), korean)
            if not candidates:
                continue
            found = candidate_features(q.question, candidates, korean)
            marks = [int(holds_answer(c.text, c.hit.chunk.doc_id, q.gold, q.answers)) for c in candidates]
            reachable += any(marks)
            for key in CHEAP_FEATURES:
                columns[key].extend(found[key])
            columns["_text"].extend(c.text for c in candidates)  # type: ignore[arg-type]
            labels.extend(marks)
            groups.extend(f"{name}:{q.id}" for _ in candidates)
            counts["_questions"][f"{name}:{q.id}"] = q.question
        counts[name] = {"questions": len(questions), "with_an_answer_sentence": reachable}
        counts["_embedder"] = pipe.embedder
        pipe.close()
    return columns, labels, groups, counts


def top1(scores: Sequence[float], labels: Sequence[int], groups: Sequence[str]) -> float:
    """Share of questions whose best-scored candidate holds the answer."""
    best: dict[str, tuple[float, int]] = {}
    for s, y, g in zip(scores, labels, groups):
        if g not in best or s > best[g][0]:
            best[g] = (s, y)
    return sum(y for _, y in best.values()) / max(len(best), 1)


def fit_evidence(limit: int | None, sets: Sequence[str], command: str) -> dict[str, Any]:
    from rag.evidence import CHEAP_FEATURES, DENSE_CANDIDATES, FEATURES
    from rag.relevance import SentenceRelevance

    columns, labels, groups, counts = evidence_rows(limit, sets)
    questions, embedder = counts.pop("_questions"), counts.pop("_embedder")
    texts = columns.pop("_text")
    y = np.asarray(labels, dtype=float)
    x = np.column_stack([columns[f] for f in CHEAP_FEATURES])
    cheap = fit_logistic(x, y, CHEAP_FEATURES)
    scores = cheap.predict(columns)
    # the full model sees what it will see in use: the cheap model's best few of each question
    order: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        order.setdefault(g, []).append(i)
    top = [i for rows in order.values() for i in sorted(rows, key=lambda r: -scores[r])[:DENSE_CANDIDATES]]
    relevance = SentenceRelevance(lambda: embedder)
    dense = {}
    for g, rows in order.items():
        chosen = [i for i in sorted(rows, key=lambda r: -scores[r])[:DENSE_CANDIDATES]]
        for i, value in zip(chosen, relevance(questions[g], [texts[i] for i in chosen])):
            dense[i] = value
    sub = {f: [columns[f][i] for i in top] for f in CHEAP_FEATURES}
    sub["dense"] = [dense[i] for i in top]
    full = fit_logistic(np.column_stack([sub[f] for f in FEATURES]), y[top], FEATURES)
    full_scores = {i: 1.0 + p for i, p in zip(top, full.predict(sub))}
    reranked = [full_scores.get(i, s) for i, s in enumerate(scores)]
    meta = {
        "fitted": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "data": "answerable calibration questions (KorQuAD open QA: articles 1-70 not withheld; KLUE-MRC dev: "
                "odd passage numbers; seeds: odd ids); label = a gold document's sentence holding the answer",
        "sets": counts,
        "rows": len(y),
        "positives": int(y.sum()),
        "top1_lexical_only": round(top1(columns["lexical"], labels, groups), 4),
        "top1_cheap": round(top1(scores, labels, groups), 4),
        "top1_full": round(top1(reranked, labels, groups), 4),
        "load_avg": " / ".join(f"{v:.1f}" for v in os.getloadavg()),
    }
    return {"cheap": cheap.to_json(), "full": full.to_json(), "meta": meta}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.fit", description=__doc__.split("\n")[0])
    p.add_argument("what", choices=("evidence",))
    p.add_argument("--sets", default=",".join(CALIBRATION_SETS), help=f"calibration halves of: {', '.join(DATASETS)}")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions of each set (a quick look)")
    p.add_argument("--out", type=Path, default=None, help="default: rag/fitted/<what>.json")
    args = p.parse_args(argv)
    apply_offline_env()
    command = "python -m eval.fit " + " ".join(argv if argv is not None else sys.argv[1:])
    result = fit_evidence(args.limit, [x.strip() for x in args.sets.split(",") if x.strip()], command)
    out = args.out or FITTED_DIR / f"{args.what}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["meta"], ensure_ascii=False, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
