"""Fit the answer layer's weights on the calibration halves, never on the report halves.

    python -m eval.fit evidence                 # rag/fitted/evidence.json (cheap + full ranker)
    python -m eval.fit evidence --limit 300     # a quick look (not for committing)
    python -m eval.fit evidence --objective listorder   # listwise order models + pointwise probabilities
    python -m eval.fit evidence --objective listorder --probabilities rag/fitted/evidence.json   # keep its scale
    python -m eval.fit refusal                  # rag/fitted/refusal.json (after evidence: it uses the rankers)
    python -m eval.fit refusal --reuse --signals best,top,agree   # refit a subset from the cached rows
    python -m eval.fit phrase                   # rag/fitted/phrase.json (eval/fit_phrase.py: phrase short answers)
    python -m eval.fit value                    # rag/fitted/value.json (eval/fit_value.py: which value is shown)

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
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rag.config import PROJECT_ROOT, apply_offline_env, load_settings
from rag.ranker import FITTED_DIR, LogisticModel

from eval.metrics import normalize_for_match

CALIBRATION_SETS = ("korquad-open", "klue")
DATASETS = {"korquad-open": "korquad-open", "korquad-gap": "korquad-gap", "klue": "klue", "seeds": "eval/datasets/seeds.jsonl"}


def fit_logistic(x: np.ndarray, y: np.ndarray, features: Sequence[str], l2: float = 1.0,
                 iterations: int = 60, weight: np.ndarray | None = None) -> LogisticModel:
    """L2-regularized logistic regression by Newton's method on standardized features (the bias is
    not regularized); deterministic, numpy only. `weight`: how much each row counts (default 1)."""
    weight = np.ones(len(x)) if weight is None else np.asarray(weight, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        gradient = z.T @ (weight * (p - y)) + penalty * w
        hessian = (z * (weight * p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return LogisticModel(tuple(features), tuple(float(v) for v in w[:-1]), float(w[-1]),
                         tuple(float(v) for v in mean), tuple(float(v) for v in scale))


def fit_listwise(x: np.ndarray, y: np.ndarray, groups: Sequence[str], features: Sequence[str], l2: float = 1.0,
                 iterations: int = 100, weight: np.ndarray | None = None) -> LogisticModel:
    """A conditional logit over each question's candidates, then a 1-D Platt scale: the order that
    puts an answer sentence first, with probabilities the runtime can threshold.

    The listwise part maximizes Σ_q w_q · log P(an answer sentence first | q's candidates) with a
    softmax over one question's rows (several answer sentences: their probabilities add up); a
    question without an answer sentence has nothing to teach the order and drops out. It fixes the
    weights only up to a per-question constant, so the probability σ(a·s + c) of a row's score s comes
    from a logistic fit of the labels on s over all rows (those questions included) — monotone in s,
    and folded into the weights, so the runtime reads the file as it reads a pointwise one.
    `weight`: how much each row counts (a question weighs as its rows' mean), for the Platt fit too."""
    weight = np.ones(len(x)) if weight is None else np.asarray(weight, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    keys = list(dict.fromkeys(groups))
    index = {g: i for i, g in enumerate(keys)}
    gid = np.asarray([index[g] for g in groups])
    order = np.argsort(gid, kind="stable")
    positive = np.zeros(len(keys), dtype=bool)
    positive[gid[y > 0]] = True
    keep = order[positive[gid[order]]]  # rows of questions with an answer sentence, question by question
    zk, yk, gk = z[keep], y[keep] > 0, gid[keep]
    starts = np.flatnonzero(np.r_[True, gk[1:] != gk[:-1]])
    q_weight = np.add.reduceat(weight[keep], starts) / np.diff(np.r_[starts, len(keep)])
    at = np.searchsorted(starts, np.arange(len(keep)), side="right") - 1  # each kept row's question
    row_w = q_weight[at]
    penalty = l2 * np.eye(z.shape[1])

    def pieces(w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """The loss, and each row's softmax probability among its question's rows / answer rows."""
        s = zk @ w
        e = np.exp(s - np.maximum.reduceat(s, starts)[at])
        e_pos = np.where(yk, e, 0.0)
        all_sum, pos_sum = np.add.reduceat(e, starts), np.add.reduceat(e_pos, starts)
        with np.errstate(divide="ignore", invalid="ignore"):  # a trial step can underflow a question's
            # answer rows to 0: its loss is then infinite, and the backtracking below rejects the step
            loss = float(q_weight @ (np.log(all_sum) - np.log(pos_sum))) + 0.5 * l2 * float(w @ w)
            return loss, e / all_sum[at], e_pos / pos_sum[at]

    w = np.zeros(z.shape[1])
    loss, p_all, p_pos = pieces(w)
    for _ in range(iterations):
        m_all = np.add.reduceat(p_all[:, None] * zk, starts)
        m_pos = np.add.reduceat(p_pos[:, None] * zk, starts)
        gradient = q_weight @ (m_all - m_pos) + l2 * w
        cov_all = (zk * (row_w * p_all)[:, None]).T @ zk - (m_all * q_weight[:, None]).T @ m_all
        cov_pos = (zk * (row_w * p_pos)[:, None]).T @ zk - (m_pos * q_weight[:, None]).T @ m_pos
        hessian = cov_all - cov_pos + penalty
        try:
            np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:  # several answer sentences can make the loss locally non-convex
            hessian = cov_all + penalty
        step = np.linalg.solve(hessian, gradient)
        shrink = 1.0
        while True:  # backtracking: a Newton step of a non-quadratic loss may overshoot
            trial = w - shrink * step
            new_loss, *rest = pieces(trial)
            if new_loss <= loss or (shrink < 1e-6 and np.isfinite(new_loss)):  # (never an underflowed step)
                break
            shrink /= 2
        w, loss, (p_all, p_pos) = trial, new_loss, rest
        if np.abs(shrink * step).max() < 1e-8:
            break
    platt = fit_logistic((z @ w)[:, None], y, ("score",), weight=weight)
    a = platt.weights[0] / platt.scale[0]
    if a <= 0:  # the order would flip: a score that does not rise with the label has no probability to give
        raise ValueError("the listwise scores do not rise with the labels over all rows: no Platt scale for them")
    bias = platt.bias - a * platt.mean[0]
    return LogisticModel(tuple(features), tuple(float(v) for v in a * w), float(bias),
                         tuple(float(v) for v in mean), tuple(float(v) for v in scale))


def holds_answer(sentence: str, doc_id: str, gold: Sequence[str], answers: Sequence[Sequence[str]]) -> bool:
    """The label: a gold document's sentence holding one of the answer's spellings."""
    if doc_id not in gold or not answers:
        return False
    text = normalize_for_match(sentence)
    return all(any(normalize_for_match(a) in text for a in group) for group in answers)


def _calibration_questions(name: str, settings: Any, answerable_only: bool = True,
                           extra: Sequence[str] = ()) -> tuple[Any, list[Any]]:
    from eval.__main__ import parse_args, prepare

    args = parse_args(["--dataset", DATASETS[name], "--split", "calibrate", "--no-progress", *extra])
    pipe, questions, _ = prepare(args, settings, None)
    return pipe, [q for q in questions if (q.answers or not answerable_only) and not q.history]


def evidence_rows(limit: int | None, sets: Sequence[str]) -> tuple[dict[str, list[float]], list[int], list[str], dict[str, Any]]:
    """Cheap feature columns (and "_text"), labels and question keys of every candidate, plus the
    question of each key and per-set counts (in "_questions", "_embedder": the loaded model)."""
    from rag.evidence import CHEAP_FEATURES, candidate_features, gather_candidates, in_context, usable
    from rag.memo import MemoKorean

    settings = load_settings()
    columns: dict[str, list[float]] = {f: [] for f in CHEAP_FEATURES}
    columns["_text"] = []  # type: ignore[assignment]
    columns["_context"] = []  # type: ignore[assignment]
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
            columns["_context"].extend(in_context(c) for c in candidates)  # type: ignore[arg-type]
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


def set_weights(groups: Sequence[str]) -> np.ndarray:
    """Row weights under which every calibration set counts as much as the others (KorQuAD has eight
    times KLUE's questions: unweighted, its style of question would decide the ranker alone)."""
    sets = [g.split(":", 1)[0] for g in groups]
    sizes = {name: sets.count(name) for name in set(sets)}
    return np.asarray([len(sets) / (len(sizes) * sizes[name]) for name in sets])


def _cached_evidence_rows(limit: int | None, sets: Sequence[str], reuse: bool) -> tuple[Any, ...]:
    """evidence_rows, kept in data/fit/ so that a refit (`--reuse`) skips the retrieval pass; the
    embedder is then loaded on its own."""
    cached = ROWS_DIR / f"evidence-rows-{'-'.join(sets)}{'-' + str(limit) if limit else ''}.json"
    if reuse and cached.is_file():
        columns, labels, groups, counts = json.loads(cached.read_text(encoding="utf-8"))
        from rag.pipeline import build_pipeline

        counts["_embedder"] = build_pipeline(load_settings()).embedder
        return columns, labels, groups, counts
    columns, labels, groups, counts = evidence_rows(limit, sets)
    cached.parent.mkdir(parents=True, exist_ok=True)
    kept = {k: v for k, v in counts.items() if k != "_embedder"}
    cached.write_text(json.dumps([columns, labels, groups, kept], ensure_ascii=False), encoding="utf-8")
    return columns, labels, groups, counts


# listorder: the listwise models decide the order ("cheap_order", "full_order"), the pointwise ones
# give the probabilities the thresholds downstream were chosen on ("cheap", "full")
OBJECTIVES = ("pointwise", "listwise", "listorder")


def _fit(x: np.ndarray, y: np.ndarray, groups: Sequence[str], features: Sequence[str], weight: np.ndarray,
         objective: str) -> LogisticModel:
    if objective == "listwise":
        return fit_listwise(x, y, groups, features, weight=weight)
    return fit_logistic(x, y, features, weight=weight)


def _dense_top(scores: Sequence[float], columns: dict[str, list[float]], groups: Sequence[str],
               questions: dict[str, str], texts: Sequence[str], relevance: Any,
               contexts: Sequence[str] | None = None) -> tuple[list[int], dict[str, list[float]]]:
    """The rows the full model sees in use — each question's DENSE_CANDIDATES best by the cheap
    scores — and their columns with the e5 similarity (and of each sentence with the one before it,
    when `contexts` are given)."""
    from rag.evidence import CHEAP_FEATURES, DENSE_CANDIDATES, with_dense

    order: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        order.setdefault(g, []).append(i)
    top: list[int] = []
    parts: dict[str, list[float]] = {}
    for g, rows in order.items():
        chosen = sorted(rows, key=lambda r: -scores[r])[:DENSE_CANDIDATES]
        values = relevance(questions[g], [texts[i] for i in chosen] + ([contexts[i] for i in chosen] if contexts else []))
        top += chosen
        for name, column in with_dense({}, values[:len(chosen)], values[len(chosen):] if contexts else None).items():
            parts.setdefault(name, []).extend(column)
    sub = {f: [columns[f][i] for i in top] for f in CHEAP_FEATURES}
    return top, sub | parts


def fit_rankers(columns: dict[str, list[float]], labels: Sequence[int], groups: Sequence[str],
                questions: dict[str, str], texts: Sequence[str], relevance: Any,
                objective: str = "pointwise", contexts: Sequence[str] | None = None) -> tuple[LogisticModel, LogisticModel]:
    """The cheap ranker on every candidate row, then the full one (with e5) on the cheap one's best
    few; with `contexts`, the full one also weighs the e5 similarity of each sentence with the one before."""
    from rag.evidence import CHEAP_FEATURES, CONTEXT_FEATURES, FEATURES

    features = FEATURES + (CONTEXT_FEATURES if contexts else ())
    y = np.asarray(labels, dtype=float)
    weight = set_weights(groups)
    x = np.column_stack([columns[f] for f in CHEAP_FEATURES])
    cheap = _fit(x, y, groups, CHEAP_FEATURES, weight, objective)
    # the full model sees what it will see in use: the cheap model's best few of each question
    top, sub = _dense_top(cheap.predict(columns), columns, groups, questions, texts, relevance, contexts)
    full = _fit(np.column_stack([sub[f] for f in features]), y[top], [groups[i] for i in top], features,
                weight[top], objective)
    return cheap, full


def ranked_scores(cheap: LogisticModel, full: LogisticModel, columns: dict[str, list[float]], groups: Sequence[str],
                  questions: dict[str, str], texts: Sequence[str], relevance: Any,
                  contexts: Sequence[str] | None = None) -> tuple[list[float], list[float]]:
    """Each row's cheap probability, and a score in the order the runtime ranks (the full model's
    few above the rest, as rag.evidence.rank_candidates keeps them)."""
    scores = cheap.predict(columns)
    top, sub = _dense_top(scores, columns, groups, questions, texts, relevance, contexts)
    full_scores = {i: 1.0 + p for i, p in zip(top, full.predict(sub))}
    return scores, [full_scores.get(i, s) for i, s in enumerate(scores)]


def top1_by_set(scores: Sequence[float], labels: Sequence[int], groups: Sequence[str], sets: Sequence[str]) -> dict[str, float]:
    return {name: round(top1([r for r, g in zip(scores, groups) if g.startswith(name + ":")],
                             [v for v, g in zip(labels, groups) if g.startswith(name + ":")],
                             [g for g in groups if g.startswith(name + ":")]), 4) for name in sets}


def fit_evidence(limit: int | None, sets: Sequence[str], command: str, reuse: bool = False,
                 objective: str = "pointwise", context: bool = False,
                 probabilities: Path | None = None) -> dict[str, Any]:
    """`probabilities` (listorder only): take the probability models ("cheap", "full") from this fitted file
    instead of refitting them — the order changes, the scale the thresholds were chosen on does not."""
    from rag.ranker import load_models
    from rag.relevance import SentenceRelevance

    columns, labels, groups, counts = _cached_evidence_rows(limit, sets, reuse)
    questions, embedder = counts.pop("_questions"), counts.pop("_embedder")
    texts = columns.pop("_text")
    contexts = columns.pop("_context", None)
    if context and contexts is None:
        raise SystemExit("the cached rows have no sentence-before context: run without --reuse to recompute them")
    contexts = contexts if context else None
    relevance = SentenceRelevance(lambda: embedder)
    fitted = {}
    if probabilities is not None and objective != "listorder":
        raise SystemExit("--probabilities goes with --objective listorder")
    if objective == "listorder":
        if probabilities is not None:
            kept = load_models(probabilities)
            fitted["cheap"], fitted["full"] = kept["cheap"], kept["full"]
        else:
            fitted["cheap"], fitted["full"] = fit_rankers(columns, labels, groups, questions, texts, relevance, "pointwise")
        order = fit_rankers(columns, labels, groups, questions, texts, relevance, "listwise", contexts)
        fitted["cheap_order"], fitted["full_order"] = order
    else:
        order = fitted["cheap"], fitted["full"] = fit_rankers(columns, labels, groups, questions, texts, relevance,
                                                              objective, contexts)
    scores, reranked = ranked_scores(*order, columns, groups, questions, texts, relevance, contexts)
    meta = {
        "fitted": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "data": "answerable calibration questions (KorQuAD open QA: articles 1-70 not withheld; KLUE-MRC dev: "
                "odd passage numbers; seeds: odd ids); label = a gold document's sentence holding the answer",
        "objective": {"pointwise": "pointwise", "listwise": "listwise: a conditional logit over each question's "
                      "candidates (the order), Platt-scaled on all rows (the probability)",
                      "listorder": "listorder: cheap_order / full_order fitted listwise decide the order; cheap / "
                      "full fitted pointwise give the probabilities"}[objective] + (" (+ sentence-before e5)" if contexts else ""),
        "probabilities_from": str(probabilities) if probabilities is not None else "this fit",
        "sets": counts,
        "rows": len(labels),
        "positives": int(sum(labels)),
        "top1_lexical_only": round(top1(columns["lexical"], labels, groups), 4),
        "top1_cheap": round(top1(scores, labels, groups), 4),  # (listorder: of the order models)
        "top1_full": round(top1(reranked, labels, groups), 4),
        "top1_full_by_set": top1_by_set(reranked, labels, groups, sets),
        "weighting": "each set's rows weighted so that every set counts equally",
        "load_avg": " / ".join(f"{v:.1f}" for v in os.getloadavg()),
    }
    return {**{name: model.to_json() for name, model in fitted.items()}, "meta": meta}


ROWS_DIR = PROJECT_ROOT / "data" / "fit"


def refusal_rows(limit: int | None, dataset: str = "korquad-open", extra: Sequence[str] = ()
                 ) -> tuple[list[dict[str, float]], list[int], list[bool], str]:
    """Grounding signals of every calibration question of a KorQuAD set (open QA: answerable or withheld;
    gap: answerable or its answer sentence cut), its label (1 = answerable) and whether the rules already
    refuse it whatever the model says (a name no passage mentions, no value next to the name; with
    `answer.refuse_unnamed`, an answer whose cited articles name none of the question's names). The answerer's own path
    computes them, with the fitted evidence rankers; the answerability model in use is replaced by one
    that accepts everything. `extra`: more `python -m eval` arguments (`--mix-with klue`: the mixed store)."""
    from rag.grounding import SIGNALS

    pipe, questions, k = accept_all_questions(limit, dataset, extra)
    unnamed_refused = pipe.answerer.settings.answer.refuse_unnamed
    rows, labels, hard = [], [], []
    for q in questions:
        _, evidence, grounding = pipe.answerer.gather(q.question, k)
        if not grounding.signals:  # nothing retrieved: refused before any signal
            rows.append({name: 0.0 for name in SIGNALS})
        else:
            rows.append(grounding.signals)
        labels.append(0 if q.unanswerable else 1)
        hard.append(not grounding.answerable or
                    (unnamed_refused and bool(pipe.answerer.names_not_cited(q.question, evidence, grounding))))
    return rows, labels, hard, pipe.embedder.name  # the embedding the retrieval scores came from


def accept_all_questions(limit: int | None, dataset: str = "korquad-open", extra: Sequence[str] = ()
                         ) -> tuple[Any, list[Any], int]:
    """A set's calibration questions (answerable and not; `limit`: a sample of both) and a pipeline whose
    answerability model accepts every passage set, so that only the hard rules refuse; and the number of
    hits a question retrieves."""
    from dataclasses import replace

    from rag.grounding import SIGNALS
    from rag.ranker import LogisticModel

    settings = load_settings()
    neutral = Path(tempfile.mkdtemp(prefix="fit-refusal-")) / "neutral.json"
    accept_all = LogisticModel(SIGNALS, (0.0,) * len(SIGNALS), 0.0, threshold=0.0)
    neutral.write_text(json.dumps({"answerable": accept_all.to_json()}), encoding="utf-8")
    settings = replace(settings, answer=replace(settings.answer, refusal_model=neutral))
    pipe, questions = _calibration_questions(dataset, settings, answerable_only=False, extra=extra)
    return pipe, _sample_both(questions, limit), settings.retrieval.k


def _sample_both(questions: Sequence[Any], limit: int | None) -> list[Any]:
    if not limit:
        return list(questions)
    from eval.selection import sample

    return sample(questions, limit, max(1, limit // 4))


def choose_threshold(probabilities: Sequence[float], labels: Sequence[int], hard: Sequence[bool],
                     max_false_refusals: float) -> tuple[float, dict[str, float]]:
    """The highest threshold whose false-refusal rate (hard rules included) stays within the bound,
    and what it gives on the calibration questions."""
    answerable = sum(labels) or 1
    withheld = (len(labels) - sum(labels)) or 1
    best = (0.0, {})
    for t in sorted(set(round(p, 4) for p in probabilities)) + [1.0]:
        refused = [h or p < t for p, h in zip(probabilities, hard)]
        false = sum(r for r, y in zip(refused, labels) if y) / answerable
        if false > max_false_refusals:
            break
        recall = sum(r for r, y in zip(refused, labels) if not y) / withheld
        best = (t, {"false_refusal_rate": round(false, 4), "refusal_recall": round(recall, 4)})
    return best


def at_threshold(probabilities: Sequence[float], labels: Sequence[int], hard: Sequence[bool],
                 threshold: float) -> dict[str, float]:
    """What a threshold gives on questions it was not chosen on: false refusals, refusal recall."""
    refused = [h or p < threshold for p, h in zip(probabilities, hard)]
    answerable = sum(labels) or 1
    unanswerable = (len(labels) - sum(labels)) or 1
    return {"false_refusal_rate": round(sum(r for r, y in zip(refused, labels) if y) / answerable, 4),
            "refusal_recall": round(sum(r for r, y in zip(refused, labels) if not y) / unanswerable, 4)}


def fit_refusal(limit: int | None, command: str, max_false_refusals: float, reuse: bool = False,
                signals: Sequence[str] | None = None, gap: bool = False) -> dict[str, Any]:
    """`signals`: the features the model weighs (default: every one of rag.grounding.SIGNALS). `gap`: the
    model also learns from KorQuAD-gap calibration questions (an article that is there but lost the
    answer sentence); the threshold is still chosen on the open-QA questions' false refusals."""
    from rag.grounding import SIGNALS

    features = tuple(signals or SIGNALS)
    unknown = [f for f in features if f not in SIGNALS]
    if unknown:
        raise SystemExit(f"unknown refusal signal(s): {', '.join(unknown)} (known: {', '.join(SIGNALS)})")

    cached = ROWS_DIR / f"refusal-rows{'-' + str(limit) if limit else ''}.json"
    if reuse and cached.is_file():
        rows, labels, hard, *rest = json.loads(cached.read_text(encoding="utf-8"))
        embedding = rest[0] if rest else None
    else:
        rows, labels, hard, embedding = refusal_rows(limit)
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps([rows, labels, hard, embedding]), encoding="utf-8")
    operating = len(labels)  # the rows the threshold is chosen on: the open-QA questions
    if gap:
        cached_gap = ROWS_DIR / f"refusal-rows-gap{'-' + str(limit) if limit else ''}.json"
        if reuse and cached_gap.is_file():
            more = json.loads(cached_gap.read_text(encoding="utf-8"))
        else:
            more = list(refusal_rows(limit, "korquad-gap"))
            cached_gap.write_text(json.dumps(more), encoding="utf-8")
        rows, labels, hard = rows + more[0], labels + more[1], hard + more[2]
    keep = [i for i, h in enumerate(hard) if not h]  # the model only judges what the hard rules let through
    stale = [f for f in features if any(f not in r for r in rows)]
    if stale:
        # rows cached before a signal existed: refitting from them would fail half-way or lie
        raise SystemExit(f"the cached rows lack {', '.join(stale)}: run without --reuse to recompute them")
    x = np.asarray([[rows[i][name] for name in features] for i in keep], dtype=float)
    y = np.asarray([labels[i] for i in keep], dtype=float)
    model = fit_logistic(x, y, features)
    probabilities = model.predict({name: [r[name] for r in rows] for name in features})
    threshold, result = choose_threshold(probabilities[:operating], labels[:operating], hard[:operating], max_false_refusals)
    if gap:
        result["gap"] = at_threshold(probabilities[operating:], labels[operating:], hard[operating:], threshold)
    # the model's own refusal is overruled only above this: ≥ 98% of calibration questions there are answerable
    strong = 1.0
    for t in sorted(set(round(p, 4) for p in probabilities), reverse=True):
        above = [y for p, y, h in zip(probabilities, labels, hard) if p >= t and not h]
        if above and sum(above) / len(above) < 0.98:
            break
        strong = t
    hard_only = choose_threshold([1.0] * len(labels), labels, hard, 1.0)[1]
    meta = {
        "fitted": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "data": "KorQuAD open QA calibration half (articles 1-70): questions of indexed articles (answerable) and "
                "of withheld articles (every 5th: must be refused)" + (
                    "; and KorQuAD-gap articles 1-70: questions whose paragraph lost their answer sentence (must be "
                    "refused) and its other questions (answerable); the threshold counts the open-QA questions only"
                    if gap else ""),
        "questions": len(labels), "answerable": sum(labels), "hard_refused": sum(hard),
        "max_false_refusals": max_false_refusals,
        # the retrieval-score signals are on this model's scale: another embedding disables the model
        "embedding": embedding,
        "calibration": result,
        "hard_rules_alone": hard_only,
        "strong": strong,
        "load_avg": " / ".join(f"{v:.1f}" for v in os.getloadavg()),
    }
    fitted = LogisticModel(model.features, model.weights, model.bias, model.mean, model.scale, threshold, meta)
    return {"answerable": fitted.to_json(), "meta": meta}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.fit", description=__doc__.split("\n")[0])
    p.add_argument("what", choices=("evidence", "refusal", "phrase", "value"))
    p.add_argument("--max-false-refusals", type=float, default=0.03,
                   help="refusal: the calibration half's false-refusal bound the threshold keeps (default 0.03)")
    p.add_argument("--sets", default=",".join(CALIBRATION_SETS), help=f"calibration halves of: {', '.join(DATASETS)}")
    p.add_argument("--reuse", action="store_true",
                   help="refit from the rows of the last run (data/fit/): refusal for another bound, evidence for "
                        "other weights of the same features")
    p.add_argument("--objective", choices=OBJECTIVES, default="pointwise",
                   help="evidence: pointwise (each sentence: holds the answer?) or listwise (an answer sentence first "
                        "among its question's candidates, Platt-scaled to a probability)")
    p.add_argument("--context", action="store_true",
                   help="evidence: the full ranker also weighs the e5 similarity of each sentence read with the one before")
    p.add_argument("--probabilities", type=Path, default=None,
                   help="evidence, listorder: keep the probability models of this fitted file (e.g. the shipped one)")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions of each set (a quick look)")
    p.add_argument("--precision", type=float, default=0.7,
                   help="phrase: the share of shown phrases that must be right (out of fold) at the threshold (default 0.7)")
    p.add_argument("--em-slack", type=float, default=0.005,
                   help="value: how far out-of-fold EM may fall below the rule it replaces at the threshold (default 0.005)")
    p.add_argument("--signals", default=None,
                   help="refusal: the comma-separated signals the model weighs (default: all of rag.grounding.SIGNALS)")
    p.add_argument("--gap", action="store_true",
                   help="refusal: also learn from KorQuAD-gap questions (the answer sentence cut from an indexed article)")
    p.add_argument("--out", type=Path, default=None, help="default: rag/fitted/<what>.json")
    args = p.parse_args(argv)
    apply_offline_env()
    command = "python -m eval.fit " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.what == "evidence":
        result = fit_evidence(args.limit, [x.strip() for x in args.sets.split(",") if x.strip()], command, args.reuse,
                              args.objective, args.context, args.probabilities)
    elif args.what == "phrase":
        from eval.fit_phrase import fit_phrase

        result = fit_phrase(args.limit, command, args.precision)
    elif args.what == "value":
        from eval.fit_value import fit_value

        result = fit_value(args.limit, command, args.em_slack)
    else:
        signals = [x.strip() for x in args.signals.split(",") if x.strip()] if args.signals else None
        result = fit_refusal(args.limit, command, args.max_false_refusals, args.reuse, signals, args.gap)
    out = args.out or FITTED_DIR / f"{args.what}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["meta"], ensure_ascii=False, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
