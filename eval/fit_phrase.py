"""Fit the phrase-answer model (rag/phrases.py) on KorQuAD open QA's calibration half (articles 1-70).

    python -m eval.fit phrase            # writes rag/fitted/phrase.json

Rows: every answerable calibration question the extractive answer answers without a short value today
(no kind of value asked, none in its claims, or none the value model is sure of: rag/short_answer.py), and
not a why/how question; one row per candidate phrase of its best claim, labelled 1 when the phrase matches
the gold span (KorQuAD char-F1 >= 0.8). A listwise logit orders a question's candidates. The threshold on the best candidate's softmax share is the lowest
of a grid at which the phrases shown are right for at least `precision` of the questions, estimated out
of fold: two folds of whole articles, three shuffles.
"""

from __future__ import annotations

import os
import random
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

import numpy as np

from rag.config import load_settings
from rag.phrases import FEATURES, candidates, phrase_features, question_shape
from rag.ranker import LogisticModel
from eval.metrics import korquad_em, korquad_f1, shortest_cited_span

RIGHT_F1 = 0.8  # a phrase this close to the gold span (KorQuAD char-F1) is a right one
GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))


def phrase_rows(limit: int | None = None) -> dict[str, Any]:
    """Candidate rows and, for the figures, every answerable question's EM/F1 as answered today."""
    from eval.fit import _calibration_questions

    settings = load_settings()
    settings = replace(settings, answer=replace(settings.answer, phrase_answers=False))
    pipe, questions = _calibration_questions("korquad-open", settings)
    questions = questions[:limit] if limit else questions
    korean = pipe.answerer.korean
    rows: dict[str, Any] = {"columns": {f: [] for f in FEATURES}, "labels": [], "groups": [], "em": [], "f1": [],
                            "base": {}, "article": {}}
    for q in questions:
        answer = pipe.ask(q.question, mode="extractive")
        truths = q.answers[0]
        span = answer.short or shortest_cited_span(answer.text)
        rows["base"][q.id] = (0.0, 0.0) if answer.refused else (korquad_em(span, truths), korquad_f1(span, truths))
        rows["article"][q.id] = q.gold[0].rsplit("-", 1)[0] if q.gold else q.id
        if answer.refused or answer.short or not answer.claims:
            continue
        shape = question_shape(answer.searched_question or q.question, korean)
        if shape.sentence:
            continue
        claim = answer.claims[0]
        morphemes = korean.morphemes_batch([claim])[0]
        spans, columns = phrase_features(shape, claim, morphemes, candidates(shape, claim, morphemes))
        for i, (start, end) in enumerate(spans):
            phrase = claim[start:end]
            f1 = korquad_f1(phrase, truths)
            rows["labels"].append(int(f1 >= RIGHT_F1))
            rows["groups"].append(q.id)
            rows["em"].append(korquad_em(phrase, truths))
            rows["f1"].append(f1)
            for name in FEATURES:
                rows["columns"][name].append(columns[name][i])
    pipe.close()
    return rows


def shares(model: LogisticModel, x: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """Each row's softmax share among its question's rows."""
    z = np.asarray(model.logits({f: x[:, j] for j, f in enumerate(model.features)}))
    out = np.zeros_like(z)
    by: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by.setdefault(g, []).append(i)
    for idx in by.values():
        e = np.exp(z[idx] - z[idx].max())
        out[idx] = e / e.sum()
    return out


def best_of(share: np.ndarray, groups: Sequence[str], rows: Sequence[int]) -> dict[str, int]:
    best: dict[str, int] = {}
    for i in rows:
        g = groups[i]
        if g not in best or share[i] > share[best[g]]:
            best[g] = i
    return best


def figures(picks: dict[str, tuple[float, ...]], base: dict[str, tuple[float, float]], tau: float) -> dict[str, float]:
    """EM/F1 over every answerable question with the phrases at or above `tau` shown, and how many were."""
    em = {q: v[0] for q, v in base.items()}
    f1 = {q: v[1] for q, v in base.items()}
    shown = right = 0
    for q, (share, e, f, *_) in picks.items():
        if share >= tau:
            em[q], f1[q] = e, f
            shown += 1
            right += f >= RIGHT_F1
    return {"em": round(float(np.mean(list(em.values()))), 4), "f1": round(float(np.mean(list(f1.values()))), 4),
            "shown": shown, "right": round(right / shown, 4) if shown else 0.0}


def out_of_fold(rows: dict[str, Any], x: np.ndarray, y: np.ndarray, features: Sequence[str], grid: Sequence[float],
                score: Callable[[dict[str, tuple[float, ...]], float], dict[str, float]]) -> dict[float, dict[str, float]]:
    """`score`(picks, threshold) at each threshold of `grid`, averaged over three shuffles of two folds of whole
    articles: each question's best candidate by a model fitted on the other fold, as (share, EM, F1, its row)."""
    from eval.fit import fit_listwise

    groups, em, f1 = rows["groups"], rows["em"], rows["f1"]
    articles = sorted(set(rows["article"].values()))
    per_tau: dict[float, list[dict[str, float]]] = {t: [] for t in grid}
    for seed in (1, 2, 3):
        order = articles[:]
        random.Random(seed).shuffle(order)
        fold = {a: i % 2 for i, a in enumerate(order)}
        row_fold = np.asarray([fold[rows["article"][g]] for g in groups])
        picks: dict[str, tuple[float, ...]] = {}
        for k in (0, 1):
            train, test = np.flatnonzero(row_fold != k), np.flatnonzero(row_fold == k)
            model = fit_listwise(x[train], y[train], [groups[i] for i in train], features)
            share = np.zeros(len(y))
            share[test] = shares(model, x[test], [groups[i] for i in test])
            for g, i in best_of(share, groups, test).items():
                picks[g] = (float(share[i]), em[i], f1[i], i)
        for t in grid:
            per_tau[t].append(score(picks, t))
    return {t: {k: round(float(np.mean([r[k] for r in runs])), 4) for k in runs[0]} for t, runs in per_tau.items()}


def candidate_matrix(rows: dict[str, Any], features: Sequence[str], kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The candidates' feature matrix and labels; stops when no question has a right candidate."""
    x = np.asarray([rows["columns"][f] for f in features], dtype=float).T
    y = np.asarray(rows["labels"], dtype=float)
    if not len(y) or not y.any():
        raise SystemExit(f"no calibration question has a right candidate {kind}: nothing to fit")
    return x, y


def fitted_file(name: str, rows: dict[str, Any], x: np.ndarray, y: np.ndarray, features: Sequence[str], threshold: float,
                mean: dict[float, dict[str, float]], command: str, data: str, **settings: Any) -> dict[str, Any]:
    """The model fitted on every row, with `threshold` and the meta the file records of how it was chosen."""
    from eval.fit import fit_listwise

    groups = rows["groups"]
    model = fit_listwise(x, y, groups, features)
    meta = {
        "fitted": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "data": data,
        "questions": len(rows["base"]), "with_candidates": len(set(groups)),
        "with_a_right_candidate": len({g for g, label in zip(groups, rows["labels"]) if label}),
        **settings,
        "out_of_fold": {str(t): figs for t, figs in mean.items()},
        "at_threshold": mean.get(threshold, {}),
        "load_avg": " / ".join(f"{v:.1f}" for v in os.getloadavg()),
    }
    fitted = LogisticModel(model.features, model.weights, model.bias, model.mean, model.scale, threshold, meta)
    return {name: fitted.to_json(), "meta": meta}


def fit_phrase(limit: int | None, command: str, precision: float = 0.7) -> dict[str, Any]:
    rows = phrase_rows(limit)
    features = list(FEATURES)
    x, y = candidate_matrix(rows, features, "phrase")
    mean = out_of_fold(rows, x, y, features, GRID, lambda picks, t: figures(picks, rows["base"], t))
    threshold = next((t for t in GRID if mean[t]["right"] >= precision), 1.0)
    today = figures({}, rows["base"], 1.0)
    return fitted_file("phrase", rows, x, y, features, threshold, mean, command,
                       "KorQuAD open QA calibration half (articles 1-70): the answerable questions the extractive answer "
                       "gives no short value for, one row per candidate phrase of its best claim (right: char-F1 >= 0.8)",
                       precision=precision, today={"em": today["em"], "f1": today["f1"]})
