"""The refusal model's trade on the calibration halves: withheld-article questions refused (KorQuAD open QA 1-70,
in its own store and mixed with KLUE's passages) against answerable questions refused (KorQuAD's, and KLUE odd's
right answers). Two tables (bench/results/refusal_frontier_2026-12-06.md):

1. the shipped model at other thresholds (the setting answer.refusal_min_probability);
2. refits with candidate signals the shipped model lacks (computed here from the answerer's own hits and
   evidence), each at the highest threshold that keeps KorQuAD's false refusals within 1.1 % (the shipped bound)
   and loses at most N of KLUE odd's right answers — does any signal refuse more absent subjects at the same cost?

    python bench/refusal_frontier.py [--limit N] [--rows DIR]   # rows cached in DIR (default data/fit/frontier)

A KLUE question counts as "right" when the answer given with every passage judged answerable (the model
accepting all, as `python -m eval.fit refusal` computes its rows) contains its gold span: the set does not
depend on any threshold. No other process may have the stores open (each is brought up to date first).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import apply_offline_env
from rag.evidence import term_coverage, term_idf, weighted_terms
from rag.extractive import draft_lead
from rag.grounding import SIGNALS, asked_terms
from rag.ranker import LogisticModel, load_models

from eval.fit import accept_all_questions, fit_logistic
from eval.metrics import answer_correct

ROOT = Path(__file__).resolve().parent.parent
# candidate signals: does the answer's lead sentence (with its paragraph before it and its title) name the
# question's names; its ranker probability; the share of the question's other words it holds (with that paragraph);
# the share of all the question's words its chunk holds; the fused score's lead over the best other article;
# the lead article's share of the retrieval score mass; and of the five best evidence sentences
CANDIDATES = ("lead_named", "lead_score", "lead_cov", "lead_whole", "margin", "doc_share", "ev_agree")
THRESHOLDS = (0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def rows_for(dataset: str, extra: tuple[str, ...], limit: int | None) -> list[dict[str, Any]]:
    pipe, questions, k = accept_all_questions(limit, dataset, extra)
    korean = pipe.answerer.korean
    out = []
    for q in questions:
        hits, evidence, grounding = pipe.answerer.gather(q.question, k)
        row: dict[str, Any] = {"id": q.id, "label": 0 if q.unanswerable else 1, "hard": not grounding.answerable}
        row.update(grounding.signals or {s: 0.0 for s in SIGNALS})
        row.update({c: 0.0 for c in CANDIDATES})
        if hits and evidence and grounding.signals:
            row.update(candidate_signals(q.question, hits, evidence, korean))
        if dataset == "klue":
            answer = pipe.ask(q.question, mode="extractive")
            row["right"] = answer_correct(answer.text, answer.refused, q.answers)
        out.append(row)
    pipe.close()
    return out


def candidate_signals(question: str, hits: list, evidence: list, korean: Any) -> dict[str, float]:
    key = asked_terms(question, korean)
    names = [t.lower() for t in key if not t.isdigit()]
    lead = draft_lead(question, evidence, korean)
    scope = f"{lead.title}\n{lead.preceding}\n{lead.text}".lower()
    q_terms = weighted_terms(question, korean)
    rest = {t: w for t, w in q_terms.items() if t not in key}
    ev_terms = [set(t) for t in korean.tokens_batch([e.text for e in evidence])]
    lead_terms = set(korean.tokens_batch([lead.preceding + " " + lead.text])[0])
    own = next((h for h in hits if h.chunk.doc_id == lead.doc_id), None)
    chunk_terms = set(korean.tokens_batch([f"{own.chunk.title}\n{own.chunk.text}" if own else lead.text])[0])
    hit_terms = [set(t) for t in korean.tokens_batch([f"{h.chunk.title}\n{h.chunk.text}" for h in hits])]
    ranked = sorted(hits, key=lambda h: -h.score)
    other = [h.score for h in ranked if h.chunk.doc_id != ranked[0].chunk.doc_id]
    docs = [e.doc_id for e in evidence[:5]]
    return {
        "lead_named": 1.0 if not names else float(any(n in scope or n in "".join(scope.split()) for n in names)),
        "lead_score": float(lead.score),
        "lead_cov": term_coverage(rest, term_idf(rest, ev_terms), lead_terms) if rest else 1.0,
        "lead_whole": term_coverage(q_terms, term_idf(q_terms, hit_terms), chunk_terms),
        "margin": float(ranked[0].score - (other[0] if other else 0.0)),
        "doc_share": float(sum(h.score for h in hits if h.chunk.doc_id == lead.doc_id) / (sum(h.score for h in hits) or 1.0)),
        "ev_agree": docs.count(lead.doc_id) / len(docs),
    }


def probabilities(model: LogisticModel, rows: list[dict[str, Any]]) -> list[float]:
    return list(model.predict({f: [r[f] for r in rows] for f in model.features}))


def refused(model: LogisticModel, rows: list[dict[str, Any]], threshold: float) -> list[bool]:
    return [r["hard"] or p < threshold for p, r in zip(probabilities(model, rows), rows)]


def figures(model: LogisticModel, stores: dict[str, list[dict[str, Any]]], threshold: float) -> list[str]:
    cells = []
    for name in ("alone", "mixed"):
        rows = stores[name]
        ref = refused(model, rows, threshold)
        answerable = [x for x, r in zip(ref, rows) if r["label"]]
        withheld = [x for x, r in zip(ref, rows) if not r["label"]]
        cells.append(f"{sum(answerable) / len(answerable):.3f} / {sum(withheld) / len(withheld):.3f}")
    klue = stores["klue"]
    ref = refused(model, klue, threshold)
    right = [x for x, r in zip(ref, klue) if r["right"]]
    cells.append(f"{sum(ref) / len(klue):.3f} / {sum(right)} of {len(right)}")
    return cells


def highest_threshold(model: LogisticModel, stores: dict[str, list[dict[str, Any]]], lost: int,
                      bound: float = 0.011) -> float:
    alone, klue = stores["alone"], stores["klue"]
    pa, pk = probabilities(model, alone), probabilities(model, klue)
    n_answerable = sum(r["label"] for r in alone)
    best = 0.0
    for t in sorted(set(round(p, 4) for p in pa + pk)):
        fr = sum((r["hard"] or p < t) for p, r in zip(pa, alone) if r["label"]) / n_answerable
        klue_lost = sum((r["hard"] or p < t) for p, r in zip(pk, klue) if r["right"])
        if fr <= bound and klue_lost <= lost:
            best = t
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--limit", type=int, default=None, help="questions per set (default: all)")
    p.add_argument("--rows", type=Path, default=ROOT / "data" / "fit" / "frontier", help="where rows are cached")
    p.add_argument("--recompute", action="store_true", help="recompute the cached rows")
    args = p.parse_args()
    apply_offline_env()
    args.rows.mkdir(parents=True, exist_ok=True)
    stores = {}
    for name, dataset, extra in (("alone", "korquad-open", ()), ("mixed", "korquad-open", ("--mix-with", "klue")),
                                 ("klue", "klue", ())):
        cached = args.rows / f"{name}{'-' + str(args.limit) if args.limit else ''}.json"
        if args.recompute or not cached.is_file():
            cached.write_text(json.dumps(rows_for(dataset, extra, args.limit)), encoding="utf-8")
        stores[name] = json.loads(cached.read_text(encoding="utf-8"))
    shipped = load_models(ROOT / "rag" / "fitted" / "refusal.json")["answerable"]
    head = ("| {} | KorQuAD 1-70 alone: false refusals / withheld refused | mixed with KLUE: the same "
            "| KLUE odd: refused / right answers refused |\n|---|---|---|---|")
    print(head.format("shipped model at threshold (answer.refusal_min_probability)"))
    for t in sorted(set(THRESHOLDS) | {round(shipped.threshold, 4)}):
        mark = " (shipped)" if abs(t - shipped.threshold) < 1e-4 else ""
        print(f"| {t:.3f}{mark} | " + " | ".join(figures(shipped, stores, t)) + " |")
    # the KLUE right answers the shipped model refuses at its own threshold, then 5 and 10 more
    own = sum(refused(shipped, [r for r in stores["klue"] if r["right"]], shipped.threshold))
    for lost in (own, own + 5, own + 10):
        print()
        print(head.format(f"model (threshold), KorQuAD false refusals ≤ 1.1 %, KLUE right answers lost ≤ {lost}"))
        fits = [("shipped", shipped)]
        base = list(SIGNALS)
        for extra in ([], *([c] for c in CANDIDATES), list(CANDIDATES)):
            features = base + extra
            train = [r for r in stores["alone"] if not r["hard"]]
            x = np.asarray([[r[f] for f in features] for r in train], dtype=float)
            model = fit_logistic(x, np.asarray([r["label"] for r in train], dtype=float), features)
            fits.append(("refit" + (" + " + ", ".join(extra) if extra else "") if len(extra) < 2 else "refit + all seven",
                         model))
        for name, model in fits:
            t = highest_threshold(model, stores, lost)
            print(f"| {name} ({t:.3f}) | " + " | ".join(figures(model, stores, t)) + " |")


if __name__ == "__main__":
    main()
