"""Why extractive answers miss, on a calibration half only: each answerable question's first failing
step, counted.

    python -m eval.diagnose --dataset korquad-open            # KorQuAD open QA, articles 1-70
    python -m eval.diagnose --dataset klue --out data/diag-klue.jsonl
    python -m eval.diagnose --dataset korquad-gap             # the answerable questions of the cut paragraphs
    python -m eval.diagnose --dataset eval/datasets/seeds.jsonl --limit 20

The steps follow the answer's path: retrieval (is a gold document among the hits?), the article's
sentences (does one hold the gold span, or does the span cross a sentence boundary?), the candidate
sentences (the retrieved chunks and their neighbours), the ranked evidence, refusal, and the
extractive answer's choice among the evidence. There is no report-half option: failures are looked
at where rules may be chosen, never where they are reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

from rag.config import apply_offline_env, load_settings
from rag.types import REASONS

from eval.metrics import answer_matches

FITTED_REFUSAL = REASONS["not_answered"]  # rag.grounding's reason when its model refuses
ORDER = ("correct", "refused: gold not retrieved", "refused: answer sentence in evidence", "refused: other",
         "retrieval miss", "span not in gold text", "span crosses sentences", "answer sentence not a candidate",
         "candidate ranked out of evidence", "in evidence, another sentence chosen")


def holds(text: str, answers: Sequence[Sequence[str]]) -> bool:
    """Every answer group has a spelling in `text` (the contract's containment, normalized)."""
    return answer_matches(text, answers)


def classify(refused: bool, correct: bool, gold_retrieved: bool, in_gold_text: bool, in_a_sentence: bool,
             candidate_rank: int | None, evidence_rank: int | None) -> str:
    """The first step where the answer was lost (pure: the facts are computed by the caller)."""
    if correct:
        return "correct"
    if refused:
        if not gold_retrieved:
            return "refused: gold not retrieved"
        return "refused: answer sentence in evidence" if evidence_rank is not None else "refused: other"
    if not gold_retrieved:
        return "retrieval miss"
    if not in_gold_text:
        return "span not in gold text"
    if not in_a_sentence:
        return "span crosses sentences"
    if candidate_rank is None:
        return "answer sentence not a candidate"
    if evidence_rank is None:
        return "candidate ranked out of evidence"
    return "in evidence, another sentence chosen"


def diagnose(pipe: Any, question: Any, k: int) -> dict[str, Any]:
    """One question through the extractive path, with the facts `classify` needs (and the refusal
    signals, so that one pass also gives `python -m eval.fit refusal --reuse` its rows)."""
    from rag.evidence import gather_candidates, rank_candidates, usable
    from rag.extractive import extractive_answer
    from rag.referents import with_introductions
    from rag.slots import asked_slot

    answerer = pipe.answerer
    korean = answerer.korean
    q = question.question
    hits, evidence, grounding = answerer.gather(q, k)
    refused = not grounding.answerable
    text, citations = ("", ()) if refused else extractive_answer(q, evidence, korean,
                                                                   second_share=pipe.settings.answer.second_share,
                                                                   slot_miss_factor=pipe.settings.answer.slot_miss_factor,
                                                                   neighbour_share=pipe.settings.answer.neighbour_share,
                                                                   restatement_words=pipe.settings.answer.restatement_words,
                                                                   third_share=pipe.settings.answer.third_share)
    if citations and pipe.settings.answer.introduce_people:  # the answer `python -m eval` scores
        evidence, text, citations = with_introductions(q, evidence, text, citations, pipe.article, korean)
    gold = set(question.gold)
    gold_texts = [a.text for a in (pipe.article(g) for g in question.gold) if a is not None]
    in_gold_text = any(holds(t, question.answers) for t in gold_texts)
    # each answer group within one sentence (a question in two parts may have its parts in two)
    sentences = [t[a:b] for t in gold_texts for a, b in korean.sentences(t)]
    in_a_sentence = all(any(holds(s, [group]) for s in sentences) for group in question.answers)
    candidates = usable(q, gather_candidates(hits, pipe.article, korean), korean)
    ranked = rank_candidates(q, candidates, korean, *answerer._rankers, answerer._relevance, answerer._order_by)
    candidate_rank = next((i for i, (_, c) in enumerate(ranked, 1)
                           if c.hit.chunk.doc_id in gold and holds(c.text, question.answers)), None)
    evidence_rank = next((i for i, ev in enumerate(evidence, 1)
                          if ev.doc_id in gold and holds(ev.text, question.answers)), None)
    correct = not refused and holds(text, question.answers)
    gold_rank = next((h.rank for h in hits if h.chunk.doc_id in gold), None)
    asked = asked_slot(korean.morphemes_batch([q])[0], korean.lexicon)
    return {
        "id": question.id, "question": q, "answers": [list(g) for g in question.answers],
        "slot": asked.slot, "refused": refused, "reason": grounding.reason, "correct": correct,
        "signals": grounding.signals, "hard": refused and grounding.reason != FITTED_REFUSAL,
        "category": classify(refused, correct, gold_rank is not None, in_gold_text, in_a_sentence,
                             candidate_rank, evidence_rank),
        "gold_rank": gold_rank, "candidate_rank": candidate_rank, "evidence_rank": evidence_rank,
        "n_candidates": len(ranked), "n_evidence": len(evidence), "n_cited": len(citations),
        "answer": text, "answer_chars": len(text),
        # the whole pool, so that the extractive choice can be replayed without retrieving again
        "evidence": [{"n": ev.n, "doc_id": ev.doc_id, "text": ev.text, "start": ev.start, "end": ev.end,
                      "title": ev.title, "preceding": ev.preceding, "score": ev.score, "gold": ev.doc_id in gold,
                      "holds": holds(ev.text, question.answers)} for ev in evidence],
    }


def table(records: Sequence[dict[str, Any]]) -> str:
    """Counts per category (share of answerable questions) and the answer length."""
    n = len(records) or 1
    counts = Counter(r["category"] for r in records)
    lines = ["| category | questions | share |", "|---|---|---|"]
    for name in ORDER:
        if counts.get(name):
            lines.append(f"| {name} | {counts[name]} | {counts[name] / n:.3f} |")
    answered = [r["answer_chars"] for r in records if not r["refused"]]
    mean = sum(answered) / len(answered) if answered else 0.0
    lines.append(f"\n{len(records)} answerable questions; containment {counts['correct'] / n:.3f}; "
                 f"mean answer length {mean:.0f} chars over {len(answered)} answers")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, *, settings: Any = None, embedder: object | None = None) -> int:
    """CLI entry; tests pass `settings` and a fake `embedder`. Returns the exit code."""
    from eval.__main__ import parse_args as eval_args, prepare

    p = argparse.ArgumentParser(prog="python -m eval.diagnose", description=" ".join(__doc__.split("\n\n")[0].split()))
    p.add_argument("--dataset", required=True, help="korquad-open, korquad-gap, klue or a JSONL file (its calibration half)")
    p.add_argument("--store", default=None,
                   help="store folder (default: the configured one; a JSONL file's questions are asked of it as "
                        "`python -m eval --store` asks them)")
    p.add_argument("--limit", type=int, default=None, help="only the first N answerable questions")
    p.add_argument("--out", type=Path, default=None, help="write one JSON record per question here")
    p.add_argument("--refusal-rows", action="store_true",
                   help="also ask the unanswerable questions and write their refusal signals to data/fit/ "
                        "(KorQuAD open QA: the rows `python -m eval.fit refusal --reuse` refits from)")
    args = p.parse_args(argv)
    apply_offline_env()
    from eval.__main__ import _user_errors

    settings = load_settings() if settings is None else settings
    store = ["--store", args.store] if args.store else []
    try:
        pipe, questions, _ = prepare(eval_args(["--dataset", args.dataset, "--split", "calibrate", "--no-progress",
                                                *store]), settings, embedder)
    except _user_errors() as exc:  # a bad line, an empty store: one line, as `python -m eval` says it
        print(f"error: {exc}", file=sys.stderr)
        return 2
    questions = [q for q in questions if (q.answers or args.refusal_rows) and not q.history][: args.limit]
    records = [diagnose(pipe, q, settings.retrieval.k) for q in questions]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    if args.refusal_rows:
        from eval.fit import ROWS_DIR
        from rag.grounding import SIGNALS

        rows = [r["signals"] or {name: 0.0 for name in SIGNALS} for r in records]
        labels = [1 if r["answers"] else 0 for r in records]
        hard = [r["hard"] for r in records]
        path = ROWS_DIR / "refusal-rows.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([rows, labels, hard, pipe.embedder.name]), encoding="utf-8")
        print(f"wrote {path} (for python -m eval.fit refusal --reuse)")
    print(table([r for r in records if r["answers"]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
