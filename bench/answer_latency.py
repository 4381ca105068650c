"""Answer quality and latency on the seed question set, per answer mode / local model (not a test).

    python bench/answer_latency.py                                   # extractive + both packaged models
    python bench/answer_latency.py --models qwen2.5-coder-0.5b --ids s01,s15,s54
    python bench/answer_latency.py --models none                     # extractive only

Prints and writes bench/results/answer_latency.json: per mode, answer accuracy (all expected facts
present), citation validity / correctness, refusal accuracy, false refusals, median retrieval /
first-token / total ms (warm: one question is asked before timing starts), and peak RSS.
Each LLM model runs in its own subprocess so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import apply_offline_env, load_settings  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "answer_latency.json"
DATASET = ROOT / "eval" / "datasets" / "seeds.jsonl"
MODELS = ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b")


def run_mode(store: Path, mode: str, model: str, ids: set[str] | None, log: Path | None) -> dict[str, Any]:
    """Ask every seed question in one warm pipeline; return the summary (and per-question rows)."""
    from eval import metrics as m
    from eval.datasets import load_dataset
    from rag.pipeline import build_pipeline

    env = {"RAG_STORE__DIR": str(store), "RAG_GENERATION__MODEL": model,
           "RAG_GENERATION__BACKEND": "local" if mode == "llm" else "extractive"}
    settings = load_settings(env={**{k: v for k, v in os.environ.items() if k.startswith("RAG_")}, **env})
    pipe = build_pipeline(settings)
    if pipe.is_empty():
        pipe.ingest()
    questions = [q for q in load_dataset(DATASET) if ids is None or q.id in ids]
    t0 = time.perf_counter()
    pipe.warm_up()
    if mode == "llm":
        pipe.answerer.warm_up()  # loads the GGUF and caches the system prompt
    warm_s = time.perf_counter() - t0
    pipe.ask(questions[0].question, questions[0].history, mode=mode)  # not timed: first-use costs
    rows = []
    for q in questions:
        answer = pipe.ask(q.question, q.history, mode=mode)
        retrieved = [h.chunk.doc_id for h in answer.hits]
        texts = {c.source: (pipe.article(c.source).text if pipe.article(c.source) else "") for c in answer.citations}
        cites = [(c.source, c.quote) for c in answer.citations]
        # the offsets must point at the quote: that is what the UI highlights
        offsets_ok = all(texts[c.source][c.start:c.end] == c.quote for c in answer.citations)
        row = {
            "id": q.id, "type": q.type, "unanswerable": q.unanswerable, "question": q.question,
            "standalone": answer.standalone_question, "answer": answer.text, "refused": answer.refused,
            "mode": answer.mode, "notice": answer.notice, "timings": answer.timings,
            "correct": m.answer_correct(answer.text, answer.refused, q.answers),
            "offsets_ok": offsets_ok, **m.citation_scores(cites, retrieved, q.gold, texts),
        }
        rows.append(row)
        print(("OK " if row["correct"] else "BAD"), q.id, answer.timings, answer.text[:100].replace("\n", " "),
              file=sys.stderr, flush=True)
    answerable = [r for r in rows if not r["unanswerable"]]
    unanswerable = [r for r in rows if r["unanswerable"]]

    def med(key: str, subset: list[dict]) -> float | None:
        values = [r["timings"][key] for r in subset if key in r["timings"]]
        return round(statistics.median(values), 1) if values else None

    def mean(values: list) -> float | None:
        values = [v for v in values if v is not None]
        return round(sum(values) / len(values), 4) if values else None

    answered = [r for r in answerable if not r["refused"]]
    summary = {
        "mode": mode, "model": model if mode == "llm" else None, "n": len(rows),
        "answer_accuracy": mean([r["correct"] for r in answerable]),
        "refusal_accuracy": mean([r["refused"] for r in unanswerable]),
        "false_refusal_rate": mean([r["refused"] for r in answerable]),
        "citation_validity": mean([r["citation_validity"] for r in rows]),
        "citation_correctness": mean([r["citation_correctness"] for r in rows]),
        "citation_offsets_ok": mean([r["offsets_ok"] for r in rows]),
        "llm_fallbacks": sum(1 for r in rows if r["notice"]),
        "median_ms": {"retrieval": med("retrieval", rows), "first_token": med("first_token", answered),
                      "total": med("total", answered)},
        "warm_up_s": round(warm_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
        "load_average": os.getloadavg(),
    }
    if log:
        log.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated; 'none' = extractive only")
    parser.add_argument("--ids", default="", help="only these question ids (comma-separated)")
    parser.add_argument("--store", default="", help="an ingested store folder (default: a fresh one of seeds/)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "MODEL"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    apply_offline_env()
    ids = set(args.ids.split(",")) if args.ids else None
    store = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="answer-bench-")) / "store"
    if args.child:
        mode, model = args.child
        log = Path(args.out).with_name(f"answer_latency-{mode}-{model}.jsonl")
        print(json.dumps(run_mode(store, mode, model, ids, log)))
        return 0
    runs = [("extractive", "none")] + [("llm", m) for m in args.models.split(",") if m and m != "none"]
    results = []
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    for mode, model in runs:
        cmd = [sys.executable, __file__, "--child", mode, model, "--store", str(store), "--out", args.out]
        if args.ids:
            cmd += ["--ids", args.ids]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            print(f"{mode} {model}: failed (exit {done.returncode})", file=sys.stderr)
            continue
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(summary)
        print(json.dumps(summary, ensure_ascii=False))
    Path(args.out).write_text(json.dumps({"dataset": str(DATASET.relative_to(ROOT)), "cpus": os.cpu_count(),
                                          "results": results}, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
