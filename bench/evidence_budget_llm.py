"""The LLM's answers under several evidence budgets (answer.llm_evidence_chars), question by question
in one warm pipeline (not a test): what a smaller prompt costs in answers, before it is adopted.

    python bench/evidence_budget_llm.py --dataset eval/datasets/seeds.jsonl --split calibrate --store data/store
    python bench/evidence_budget_llm.py --dataset korquad-open --split calibrate --sample 20,5 --budgets 250,500

Each question is answered once per budget, smallest budget first, through the whole answer path
(`eval.runner.answer_case`: verification, fallbacks, refusal) and scored as `python -m eval` scores it.
The budgets run back to back on one model, so a larger budget's prompt reuses the KV cache of the
smaller one's leading lines: its timings are not latencies (bench/answer_latency.py and
`python -m eval --ids` measure those); the prompt's tokens after the cached system prompt are.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import apply_offline_env, load_settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="250,500", help="llm_evidence_chars values, comma-separated")
    parser.add_argument("--out", type=Path, default=None, help="write the figures and per-question answers here")
    args, eval_argv = parser.parse_known_args(argv)
    apply_offline_env()
    from eval.__main__ import parse_args, prepare, warm_up
    from eval.runner import ArticleTexts, answer_case, held_out_figures

    budgets = sorted(int(b) for b in args.budgets.split(","))
    eval_args = parse_args(eval_argv + ["--no-progress"])
    settings = load_settings(eval_args.config if eval_args.config.is_file() else None)
    pipe, questions, _ = prepare(eval_args, settings, None)
    if eval_args.limit is not None:
        questions = questions[: eval_args.limit]
    warm_up(pipe, questions, llm=True)
    answerer = pipe.answerer
    base = answerer.settings
    texts = ArticleTexts(pipe)
    cases: dict[int, list[dict]] = {b: [] for b in budgets}
    print(f"{len(questions)} questions, budgets {budgets}, load {os.getloadavg()[0]:.1f}", flush=True)
    for q in questions:
        answers = []
        for b in budgets:
            answerer.settings = replace(base, answer=replace(base.answer, llm_evidence_chars=b))
            case = answer_case(pipe, q, eval_args.k, "llm", texts)
            cases[b].append(case)
            answers.append(("OK " if case["correct"] else "BAD") + f" {b}: " + case["answer"][:70].replace("\n", " "))
        print(q.id, " | ".join(answers), flush=True)
    answerer.settings = base
    figures = {}
    for b in budgets:
        rows = cases[b]
        unanswerable = [c for c in rows if not c["answers"]]
        figures[b] = {**held_out_figures(rows),
                      "refusal_recall": (sum(bool(c["refused"]) for c in unanswerable) / len(unanswerable)
                                         if unanswerable else None),
                      "citation_validity": statistics.mean(c["citation_validity"] for c in rows
                                                           if c.get("citation_validity") is not None),
                      "llm_answers": sum(1 for c in rows if c["mode"] == "llm" and not c["refused"]
                                         and not c["notice"]),
                      "n_notice": sum(1 for c in rows if c["notice"])}
        print(f"llm_evidence_chars={b}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                                     for k, v in figures[b].items()))
    figures["load_avg"] = os.getloadavg()[0]
    if args.out:
        args.out.write_text(json.dumps({"figures": figures, "argv": eval_argv,
                                        "cases": {b: [{k: c.get(k) for k in ("id", "answer", "correct", "refused",
                                                                            "mode", "notice")} for c in cases[b]]
                                                  for b in budgets}}, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
