"""LLM first-token A/B of evidence budgets (answer.llm_evidence_chars), interleaved in one warm process
(not a test): the machine's load changes by the minute, so each question is asked under every budget
back to back, each time from the same primed state (only the system prompt in llama.cpp's cache).

    python bench/first_token_ab.py --budgets 500,250 --ids s02,s04,s06,s08 --reps 2 --store data/store

Prints per answer the first-token and total wall time, the prompt tokens llama.cpp evaluated after the
cached system prompt and the CPU seconds that took (a figure the load disturbs far less than wall time:
two cores at full speed take half of it in wall time); then medians per budget and their ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import apply_offline_env, load_settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="500,250")
    parser.add_argument("--ids", default="s02,s04,s06,s08")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--store", default="data/store")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    apply_offline_env()
    from eval.__main__ import parse_args, prepare, warm_up

    budgets = [int(b) for b in args.budgets.split(",")]
    settings = load_settings(None)
    pipe, questions, _ = prepare(parse_args(["--dataset", "eval/datasets/seeds.jsonl", "--ids", args.ids,
                                             "--store", args.store, "--no-progress"]), settings, None)
    warm_up(pipe, questions, llm=True)
    answerer = pipe.answerer
    base = answerer.settings
    generator = answerer._generator_factory()
    llm = generator._llm
    pipe.ask(questions[0].question, mode="llm")  # first-use costs (Kiwi) outside the timing
    evals: list[tuple[int, float, float]] = []
    live_eval = llm.eval

    def timed_eval(tokens):  # the prompt's evaluation is the first call of an answer
        wall, cpu = time.perf_counter(), sum(os.times()[:2])
        result = live_eval(tokens)
        evals.append((len(tokens), time.perf_counter() - wall, sum(os.times()[:2]) - cpu))
        return result

    llm.eval = timed_eval
    rows = []
    load_before = os.getloadavg()
    for rep in range(args.reps):
        for q in questions:
            for b in budgets:
                llm.load_state(generator._primed.state)  # every budget starts from the system prompt alone
                answerer.settings = replace(base, answer=replace(base.answer, llm_evidence_chars=b))
                evals.clear()
                answer = pipe.ask(q.question, mode="llm")
                tokens, _, cpu = evals[0]
                row = {"rep": rep, "id": q.id, "budget": b, "first_token_ms": answer.timings.get("first_token"),
                       "total_ms": answer.timings.get("total"), "prompt_tokens": tokens, "prompt_cpu_s": round(cpu, 2),
                       "answer": answer.text, "load": os.getloadavg()[0]}
                rows.append(row)
                print(f"{q.id} {b:4d}: first token {row['first_token_ms'] / 1000:5.1f} s, total "
                      f"{row['total_ms'] / 1000:5.1f} s, {tokens} prompt tokens in {cpu:.1f} CPU-s, load "
                      f"{row['load']:.1f} | {answer.text[:60]}", flush=True)
    answerer.settings = base
    summary = {"load_before": load_before, "load_after": os.getloadavg(), "budgets": {}}
    for b in budgets:
        mine = [r for r in rows if r["budget"] == b]
        summary["budgets"][b] = {key: statistics.median(r[key] for r in mine)
                                 for key in ("first_token_ms", "total_ms", "prompt_tokens", "prompt_cpu_s")}
    first = summary["budgets"][budgets[0]]
    for b in budgets:
        figures = summary["budgets"][b]
        print(f"budget {b}: " + ", ".join(f"{k} p50 {v:g} ({v / first[k]:.2f}x)" for k, v in figures.items()))
    print(f"load {summary['load_before'][0]:.1f} before, {summary['load_after'][0]:.1f} after")
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1) + "\n",
                            encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
