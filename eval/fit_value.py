"""Fit the value model of short answers (rag/short_answer.py) on KorQuAD open QA's calibration half (articles 1-70).

    python -m eval.fit value             # writes rag/fitted/value.json

Rows: every answerable calibration question the extractive answer answers that asks a kind of value
(rag/slots.py), one row per value of any of its claims, labelled 1 when the value matches the gold span
(KorQuAD char-F1 >= 0.8); a value that is not the gold span nor a part of it is a wrong one
(eval.metrics.value_conflicts). A listwise logit orders a question's values. The best is shown when its share of
the softmax reaches the threshold; else the phrase model's rule applies, as it does to a claim holding no
value. The threshold is the highest of a grid at which EM over every answerable question, out of fold (two
folds of whole articles, three shuffles), stays within `em_slack` of the rule it replaces (the value nearest
the question's words in the first claim holding one, always shown): the same EM, fewer wrong values shown.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from eval.fit_phrase import candidate_matrix, fitted_file, out_of_fold
from eval.metrics import answer_correct, korquad_em, korquad_f1, shortest_cited_span, value_conflicts
from rag.config import load_settings
from rag.phrases import best_phrase
from rag.short_answer import VALUE_FEATURES, value_candidates

RIGHT_F1 = 0.8  # a value this close to the gold span (KorQuAD char-F1) is a right one
GRID = tuple(round(0.05 * i, 2) for i in range(0, 20))


def value_rows(limit: int | None = None) -> dict[str, Any]:
    """Candidate rows, and per question: today's EM/F1, what it gets when no value is shown, whether its
    answer contains the gold span, and its article."""
    from eval.fit import _calibration_questions
    from rag.ranker import phrase_model

    settings = load_settings()
    settings = replace(settings, answer=replace(settings.answer, value_answers=False))
    pipe, questions = _calibration_questions("korquad-open", settings)
    questions = questions[:limit] if limit else questions
    korean = pipe.answerer.korean
    phrases = phrase_model(settings.answer.phrase_model, settings.answer.phrase_min_share)
    rows: dict[str, Any] = {"columns": {f: [] for f in VALUE_FEATURES}, "labels": [], "groups": [], "em": [], "f1": [],
                            "wrong": [], "base": {}, "base_wrong": {}, "fallback": {}, "contained": {}, "article": {}}
    for q in questions:
        answer = pipe.ask(q.question, mode="extractive")
        truths = q.answers[0]
        cited = shortest_cited_span(answer.text)
        span = answer.short or cited
        rows["base"][q.id] = (0.0, 0.0) if answer.refused else (korquad_em(span, truths), korquad_f1(span, truths))
        rows["article"][q.id] = q.gold[0].rsplit("-", 1)[0] if q.gold else q.id
        rows["contained"][q.id] = answer_correct(answer.text, answer.refused, q.answers)
        rows["base_wrong"][q.id] = value_conflicts(answer.short, truths)
        if answer.refused or not answer.claims:
            continue
        question = answer.searched_question or q.question
        found, columns = value_candidates(question, answer.claims, korean)
        if not found:
            continue
        # no value shown: the phrase of the best claim when the phrase model is sure enough, else the span
        fallback = best_phrase(question, answer.claims[0], korean, phrases) or cited
        rows["fallback"][q.id] = (korquad_em(fallback, truths), korquad_f1(fallback, truths))
        for i, (index, (start, end)) in enumerate(found):
            value = answer.claims[index][start:end]
            f1 = korquad_f1(value, truths)
            rows["labels"].append(int(f1 >= RIGHT_F1))
            rows["groups"].append(q.id)
            rows["em"].append(korquad_em(value, truths))
            rows["f1"].append(f1)
            rows["wrong"].append(value_conflicts(value, truths))
            for name in VALUE_FEATURES:
                rows["columns"][name].append(columns[name][i])
    pipe.close()
    return rows


def figures(picks: dict[str, tuple[float, ...]], rows: dict[str, Any], tau: float) -> dict[str, float]:
    """EM/F1 over every answerable question with the values at or above `tau` shown (else the fallback),
    how many values were shown, the share right, and how many wrong on answers holding the gold (picks:
    (share, EM, F1, row) of each question's best value)."""
    em = {q: v[0] for q, v in rows["base"].items()}
    f1 = {q: v[1] for q, v in rows["base"].items()}
    shown = right = wrong = 0
    for q, (share, e, f, row) in picks.items():
        if share >= tau:
            em[q], f1[q] = e, f
            shown += 1
            right += f >= RIGHT_F1
            wrong += rows["wrong"][row] and rows["contained"][q]
        else:
            em[q], f1[q] = rows["fallback"][q]
    return {"em": round(float(np.mean(list(em.values()))), 4), "f1": round(float(np.mean(list(f1.values()))), 4),
            "shown": shown, "right": round(right / shown, 4) if shown else 0.0, "wrong_on_right_answers": wrong}


def threshold_for(mean: dict[float, dict[str, float]], em_today: float, em_slack: float) -> float:
    """The highest share at which out-of-fold EM stays within `em_slack` of today's; 0 (every value shown)
    when none does."""
    return max((t for t, figs in mean.items() if figs["em"] >= em_today - em_slack), default=0.0)


def fit_value(limit: int | None, command: str, em_slack: float = 0.005) -> dict[str, Any]:
    rows = value_rows(limit)
    features = list(VALUE_FEATURES)
    x, y = candidate_matrix(rows, features, "value")
    mean = out_of_fold(rows, x, y, features, GRID, lambda picks, t: figures(picks, rows, t))
    before = {k: v for k, v in figures({}, rows, 0.0).items() if k in ("em", "f1")}  # the rule replaced
    # wrong values of the rule replaced, on answers holding the gold span
    wrong_today = sum(1 for q in rows["fallback"] if rows["base_wrong"][q] and rows["contained"][q])
    threshold = threshold_for(mean, before["em"], em_slack)
    return fitted_file("value", rows, x, y, features, threshold, mean, command,
                       "KorQuAD open QA calibration half (articles 1-70): the answerable questions the extractive answer "
                       "answers that ask a kind of value, one row per value of any of its claims (right: char-F1 >= 0.8)",
                       em_slack=em_slack, today={**before, "wrong_on_right_answers": wrong_today})
