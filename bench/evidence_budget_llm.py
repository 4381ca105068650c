"""The LLM's answers under several evidence budgets (answer.llm_evidence_chars), question by question
in one warm pipeline (not a test): what a smaller prompt costs in answers, before it is adopted.

    python bench/evidence_budget_llm.py --dataset eval/datasets/seeds.jsonl --split calibrate --store data/store
    python bench/evidence_budget_llm.py --dataset korquad-open --split calibrate --sample 20,5 --budgets 250,500

Each question is answered once per budget, smallest budget first, through the whole answer path
(`eval.runner.answer_case`: verification, fallbacks, refusal) and scored as `python -m eval` scores it.
The budgets run back to back on one model, so a larger budget's prompt reuses the KV cache of the
smaller one's leading lines: its timings are not latencies (bench/answer_latency.py and
`python -m eval --ids` measure those) unless `--fresh` starts every answer from the primed system prompt
alone (as bench/first_token_ab.py does; slower, since no budget reuses another's prompt). The prompt's
tokens (the user message the LLM reads, counted with the model's own tokenizer) are recorded either way.
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
    parser.add_argument("--fresh", action="store_true",
                        help="start every answer from the primed system prompt alone: first tokens are latencies")
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
    generator = answerer._generator_factory()
    llm = generator._llm
    prompt_tokens: list[int] = []
    live_stream = generator.stream

    def counted_stream(messages, *a, **kw):  # the answer's prompt: its user message, in the model's tokens
        prompt_tokens.append(len(llm.tokenize(messages[-1]["content"].encode("utf-8"), add_bos=False)))
        if args.fresh and generator._primed is not None:
            llm.load_state(generator._primed.state)
        return live_stream(messages, *a, **kw)

    generator.stream = counted_stream
    cases: dict[int, list[dict]] = {b: [] for b in budgets}
    print(f"{len(questions)} questions, budgets {budgets}, load {os.getloadavg()[0]:.1f}", flush=True)
    for q in questions:
        answers = []
        for b in budgets:
            answerer.settings = replace(base, answer=replace(base.answer, llm_evidence_chars=b))
            prompt_tokens.clear()
            case = answer_case(pipe, q, eval_args.k, "llm", texts)
            case["prompt_tokens"] = prompt_tokens[-1] if prompt_tokens else None
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
                      "n_notice": sum(1 for c in rows if c["notice"]),
                      "n": len(rows),
                      "n_contained": sum(bool(c["correct"]) for c in rows if c["answers"]),
                      "n_refused": sum(bool(c["refused"]) for c in rows),
                      "n_false_refusals": sum(bool(c["refused"]) for c in rows if c["answers"]),
                      "prompt_tokens_p50": _median([c["prompt_tokens"] for c in rows]),
                      "first_token_ms_p50": _median([c["timings"].get("first_token") for c in rows
                                                     if c["prompt_tokens"] is not None]),
                      "total_ms_p50": _median([c["timings"].get("total") for c in rows
                                               if c["prompt_tokens"] is not None])}
        print(f"llm_evidence_chars={b}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                                     for k, v in figures[b].items()))
    figures["load_avg"] = os.getloadavg()[0]
    figures["fresh"] = args.fresh
    if args.out:
        args.out.write_text(json.dumps({"figures": figures, "argv": eval_argv,
                                        "cases": {b: [{k: c.get(k) for k in ("id", "answer", "correct", "refused",
                                                                            "mode", "notice", "prompt_tokens",
                                                                            "timings")} for c in cases[b]]
                                                  for b in budgets}}, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
    return 0


def _median(values: list) -> float | None:
    """The median of the values that exist (the LLM was not asked when the answer was refused first)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


if __name__ == "__main__":
    raise SystemExit(main())
