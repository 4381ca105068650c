"""Benchmarks (not tests): warm search latency, ingest throughput, answer latency, peak memory, cold start.

    python -m eval.bench                      # all parts; llm answers only when the model loads
    python -m eval.bench --parts search --search-questions 1000 --repeats 3

Every figure is a median over repeated runs, printed with the machine it ran on, and written to
eval/results/bench-<date>.json and .md. Search latency uses the dedicated KorQuAD store
(data/korquad/store, built by `python -m eval --dataset korquad ...` or here if missing).
"""

from __future__ import annotations

import argparse
import os
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from rag.config import PROJECT_ROOT, Settings, apply_offline_env, load_settings

from eval import metrics as m
from eval.datasets import load_dataset
from eval.machine import describe_machine, machine_line

RESULTS_DIR = PROJECT_ROOT / "eval" / "results"
SEEDS_DATASET = PROJECT_ROOT / "eval" / "datasets" / "seeds.jsonl"
PARTS = ("search", "ingest", "answer", "cold")


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory so far, of this process or (RUSAGE_CHILDREN) its largest child (Linux: KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def _runs_summary(runs: Sequence[Sequence[float]]) -> dict[str, Any]:
    """Per-run p50/p95, and the median of those over runs."""
    p50s = [m.percentile(r, 50) for r in runs]
    p95s = [m.percentile(r, 95) for r in runs]
    return {
        "p50_ms": statistics.median(p50s),
        "p95_ms": statistics.median(p95s),
        "runs_p50_ms": [round(v, 2) for v in p50s],
        "runs_p95_ms": [round(v, 2) for v in p95s],
        "n_per_run": len(runs[0]) if runs else 0,
    }


def bench_search(settings: Settings, n_questions: int, repeats: int) -> dict[str, Any]:
    """Warm `pipe.search` latency over an evenly spaced sample of KorQuAD questions."""
    from rag.pipeline import build_pipeline

    from eval.korquad import KORQUAD_PATH, korquad_store_dir, load_korquad

    articles, questions = load_korquad(KORQUAD_PATH)
    settings = settings.with_store(korquad_store_dir(settings))
    pipe = build_pipeline(settings)
    print(f"search: store {settings.store.dir} (KorQuAD, {len(articles)} paragraphs)")
    pipe.ingest_articles(articles, progress=True)  # a no-op when the store is already built
    step = max(1, len(questions) // n_questions)
    sample = [q.question for q in questions[::step]][:n_questions]
    pipe.warm_up()
    for q in sample[:20]:  # caches and allocator settle before timing
        pipe.search(q)
    runs = []
    for r in range(repeats):
        times = []
        for q in sample:
            t0 = time.perf_counter()
            pipe.search(q)
            times.append(_ms(t0))
        runs.append(times)
        print(f"  run {r + 1}: p50 {m.percentile(times, 50):.1f} ms, p95 {m.percentile(times, 95):.1f} ms")
    pipe.close()
    return {**_runs_summary(runs), "k": settings.retrieval.k, "questions": "KorQuAD dev, evenly spaced sample"}


def bench_ingest(settings: Settings, repeats: int) -> dict[str, Any]:
    """Seeds into a fresh temporary store (passages/s), then an unchanged re-ingest (s)."""
    from rag.pipeline import build_pipeline

    rates, firsts, reingests, chunks = [], [], [], 0
    for r in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
            s = settings.with_store(Path(tmp))
            pipe = build_pipeline(s)
            pipe.warm_up()  # model load is not ingest throughput
            t0 = time.perf_counter()
            report = pipe.ingest(list(settings.paths.corpus))
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = pipe.ingest(list(settings.paths.corpus))
            reingest = time.perf_counter() - t0
            pipe.close()
        chunks = report.chunks_embedded
        rates.append(chunks / first)
        firsts.append(first)
        reingests.append(reingest)
        print(f"  run {r + 1}: {chunks} chunks in {first:.1f} s = {chunks / first:.2f} passages/s; "
              f"unchanged re-ingest {reingest:.2f} s ({again.chunks_embedded} embedded)")
    return {
        "corpus": ", ".join(str(p) for p in settings.paths.corpus),
        "chunks": chunks,
        "passages_per_s": statistics.median(rates),
        "ingest_s": statistics.median(firsts),
        "reingest_unchanged_s": statistics.median(reingests),
        "runs_passages_per_s": [round(v, 2) for v in rates],
    }


def bench_answer(settings: Settings, modes: Sequence[str], n_questions: dict[str, int], repeats: int) -> dict[str, Any]:
    """`pipe.ask` latency per mode over answerable seed questions, in a temporary seeds store."""
    from rag.generation import GenerationError
    from rag.pipeline import build_pipeline

    questions = [q for q in load_dataset(SEEDS_DATASET) if q.gold and not q.history]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-answer-") as tmp:
        pipe = build_pipeline(settings.with_store(Path(tmp)))
        pipe.ingest(list(settings.paths.corpus))
        for mode in modes:
            try:
                pipe.warm_up(llm=mode == "llm")
            except GenerationError as exc:
                out[mode] = {"skipped": str(exc)}
                print(f"  {mode}: skipped ({exc})")
                continue
            sample = questions[: n_questions[mode]]
            runs: dict[str, list[list[float]]] = {"retrieval": [], "first_token": [], "total": []}
            fallbacks = 0
            for _ in range(repeats if mode == "extractive" else 1):  # one LLM pass already takes minutes
                per: dict[str, list[float]] = {key: [] for key in runs}
                for q in sample:
                    t0 = time.perf_counter()
                    answer = pipe.ask(q.question, mode=mode)
                    wall = _ms(t0)
                    fallbacks += answer.mode != mode
                    for key in per:
                        value = answer.timings.get(key, wall if key == "total" else None)
                        if value is not None:
                            per[key].append(float(value))
                for key, values in per.items():
                    if values:
                        runs[key].append(values)
            out[mode] = {key: _runs_summary(r) for key, r in runs.items() if r}
            out[mode]["n_questions"] = len(sample)
            out[mode]["fell_back"] = fallbacks
            total = out[mode].get("total", {})
            print(f"  {mode}: total p50 {total.get('p50_ms', 0):.0f} ms, p95 {total.get('p95_ms', 0):.0f} ms"
                  f" over {len(sample)} questions" + (f" ({fallbacks} fell back)" if fallbacks else ""))
        pipe.close()
    return out


def bench_cold(repeats: int, store: Path) -> dict[str, Any]:
    """Fresh processes: `import app` (the web app module), and a CLI search from start to result."""
    env_python = sys.executable
    out: dict[str, Any] = {}
    commands = {
        "import_app_s": [env_python, "-c", "import app"],
        "cli_search_s": [env_python, "-m", "rag", "search", "LG이노텍의 동반성장 펀드 규모는?", "--k", "3",
                         "--store", str(store)],
    }
    for name, cmd in commands.items():
        if name == "import_app_s" and not (PROJECT_ROOT / "app.py").is_file():
            continue
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
            times.append(time.perf_counter() - t0)
            if done.returncode != 0:
                out[name] = {"failed": (done.stderr.strip().splitlines() or ["?"])[-1]}
                break
        else:
            out[name] = {"median_s": statistics.median(times), "runs_s": [round(t, 2) for t in times]}
        print(f"  {name}: {out[name]}")
    return out


def render_markdown(result: dict[str, Any]) -> str:
    commands = ", ".join(f"`{c}`" for c in result.get("commands", [result["command"]]))
    lines = [f"# Benchmarks ({result['date']})", "", f"Machine: {result['machine']}.", f"Commands: {commands}.",
             f"Load average at the end: {result.get('load_avg', '?')} (the 2 cores are shared; compare ratios, not absolutes).", ""]
    lines += ["| measurement | median | notes |", "|---|---|---|"]
    s = result.get("search")
    if s:
        lines.append(f"| warm search p50 | {s['p50_ms']:.1f} ms | KorQuAD, {s['n_per_run']} questions × {len(s['runs_p50_ms'])} runs, k={s['k']} |")
        lines.append(f"| warm search p95 | {s['p95_ms']:.1f} ms | runs: {s['runs_p95_ms']} |")
    i = result.get("ingest")
    if i:
        lines.append(f"| ingest throughput | {i['passages_per_s']:.2f} passages/s | {i['chunks']} chunks of {i['corpus']}, runs {i['runs_passages_per_s']} |")
        lines.append(f"| re-ingest, unchanged corpus | {i['reingest_unchanged_s']:.2f} s | nothing embedded |")
    for mode, a in result.get("answer", {}).items():
        if "skipped" in a:
            lines.append(f"| answer ({mode}) | – | skipped: {a['skipped']} |")
            continue
        for key in ("retrieval", "first_token", "total"):
            if key in a:
                lines.append(f"| answer {mode}: {key} p50 / p95 | {a[key]['p50_ms']:.0f} / {a[key]['p95_ms']:.0f} ms | {a['n_questions']} seed questions |")
    for name, c in result.get("cold", {}).items():
        value = f"{c['median_s']:.1f} s" if "median_s" in c else "failed"
        lines.append(f"| cold start: {name.removesuffix('_s').replace('_', ' ')} | {value} | {c.get('runs_s', c.get('failed'))} |")
    lines.append(f"| peak RSS, bench process | {result['peak_rss_mb']:.0f} MB | the parts run in it (models, stores, indexes loaded) |")
    if "peak_rss_cli_search_mb" in result:
        lines.append(f"| peak RSS, one `python -m rag search` | {result['peak_rss_cli_search_mb']:.0f} MB | the cold-start process |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench", description="Latency, throughput and memory benchmarks.")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    p.add_argument("--search-questions", type=int, default=500)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--extractive-questions", type=int, default=20)
    p.add_argument("--llm-questions", type=int, default=5)
    p.add_argument("--no-llm", action="store_true", help="skip LLM answer latency")
    p.add_argument("--store", type=Path, default=None, help="an ingested seeds store for the cold-start CLI search (default: the configured one)")
    p.add_argument("--out", type=Path, default=None, help="output .json (default eval/results/bench-<date>.json)")
    p.add_argument("--fresh", action="store_true", help="replace the day's file instead of merging these parts into it")
    args = p.parse_args(argv)
    apply_offline_env()
    parts = [x.strip() for x in args.parts.split(",") if x.strip()]
    settings = load_settings().with_store(args.store)
    print(f"machine: {machine_line()}")
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    result: dict[str, Any] = {
        "date": date,
        "machine": machine_line(),
        "machine_detail": describe_machine(),
        "command": "python -m eval.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    if "cold" in parts:  # first: before this process loads anything, the page cache is what a user has
        print("cold start:")
        result["cold"] = bench_cold(args.repeats, settings.store.dir)
    if "ingest" in parts:
        print("ingest:")
        result["ingest"] = bench_ingest(settings, args.repeats)
    if "search" in parts:
        result["search"] = bench_search(settings, args.search_questions, args.repeats)
    if "answer" in parts:
        print("answers:")
        modes = ["extractive"] + ([] if args.no_llm else ["llm"])
        counts = {"extractive": args.extractive_questions, "llm": args.llm_questions}
        result["answer"] = bench_answer(settings, modes, counts, args.repeats)
    result["peak_rss_mb"] = peak_rss_mb()
    if "cold" in parts:
        result["peak_rss_cli_search_mb"] = peak_rss_mb(resource.RUSAGE_CHILDREN)
    result["load_avg"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    out = args.out or RESULTS_DIR / f"bench-{date}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_file() and not args.fresh:
        # parts run separately on one day (e.g. search after a store rebuild) land in one file
        earlier = json.loads(out.read_text(encoding="utf-8"))
        commands = [c for c in (earlier.get("commands") or [earlier.get("command")]) if c]
        result = {**earlier, **result, "commands": commands + [result["command"]]}
        result["peak_rss_mb"] = max(earlier.get("peak_rss_mb", 0.0), result["peak_rss_mb"])
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md = render_markdown(result)
    out.with_suffix(".md").write_text(md, encoding="utf-8")
    print(md)
    print(f"wrote {out} and {out.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
