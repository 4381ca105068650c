"""Where an answer's time goes: cProfile over a fixed sample of questions on an ingested store (not a test).

    python bench/answer_profile.py --dataset klue --sample 40                 # extractive, data/klue/store
    python bench/answer_profile.py --dataset klue --sample 40 --no-profile    # timings only
    python bench/answer_profile.py --dataset eval/datasets/seeds.jsonl --store data/store --ids s02,s04 --mode llm

Prints p50 of the answer's own timings and the functions with the most cumulative time. Nothing is
ingested: the store must exist (eval builds the KLUE and KorQuAD ones).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import apply_offline_env, load_settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="klue", help="'klue' or a JSONL question file")
    parser.add_argument("--store", type=Path, default=None, help="default: data/klue/store for klue")
    parser.add_argument("--sample", default="40", help="N[,M] answerable / unanswerable (eval.selection.sample)")
    parser.add_argument("--ids", default="", help="only these ids (instead of --sample)")
    parser.add_argument("--mode", choices=("extractive", "llm"), default="extractive")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args(argv)
    apply_offline_env()

    from eval.datasets import load_dataset
    from eval.selection import parse_sample, sample, select_ids
    from rag.pipeline import build_pipeline

    if args.dataset == "klue":
        questions = load_dataset(ROOT / "eval" / "datasets" / "klue_mrc_dev" / "questions.jsonl")
        store = args.store or ROOT / "data" / "klue" / "store"
    else:
        questions = load_dataset(Path(args.dataset))
        store = args.store
    questions = (select_ids(questions, args.ids.split(",")) if args.ids
                 else sample(questions, *parse_sample(args.sample)))
    settings = load_settings(None, env={k: v for k, v in os.environ.items() if k.startswith("RAG_")})
    pipe = build_pipeline(settings.with_store(store))
    pipe.warm_up(llm=args.mode == "llm")
    pipe.ask(questions[0].question, mode=args.mode)  # first-use costs are not what is measured
    profiler = None if args.no_profile else cProfile.Profile()
    timings: dict[str, list[float]] = {}
    walls = []
    for q in questions:
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        answer = pipe.ask(q.question, q.history, mode=args.mode)
        if profiler:
            profiler.disable()
        walls.append((time.perf_counter() - t0) * 1000)
        for key, value in answer.timings.items():
            timings.setdefault(key, []).append(value)
    print(f"{len(questions)} questions, mode {args.mode}, load {os.getloadavg()[0]:.2f}")
    print(f"wall per question: p50 {statistics.median(walls):.0f} ms, mean {statistics.mean(walls):.0f} ms")
    for key, values in timings.items():
        print(f"{key:>15}: p50 {statistics.median(values):.0f} ms")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
    pipe.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
