"""Retrieval baselines side by side on the same corpus and questions, one markdown table.

    python -m eval.compare --dataset korquad          # 964 paragraphs, 5,774 questions
    python -m eval.compare --dataset seeds            # the configured (ingested) store
    python -m eval.compare --dataset korquad --limit 300 --systems bm25,ours

Systems: (a) llama-index newcomer (MiniLM + default splitter + Chroma), (b) llama-index BM25,
(c) our keyword, (d) our dense, (e) our hybrid (c–e from one `pipe.search_modes` call).
Writes eval/results/<date>-<dataset>.md and .json. Questions without gold are skipped (no ranking
can be scored for them).
"""

from __future__ import annotations

import argparse
import os
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from rag.config import PROJECT_ROOT, Settings, SettingsError, apply_offline_env, load_settings
from rag.types import Article

from eval import metrics as m
from eval.datasets import DatasetError, Question, load_dataset
from eval.machine import machine_line

RESULTS_DIR = PROJECT_ROOT / "eval" / "results"
SEEDS_DATASET = PROJECT_ROOT / "eval" / "datasets" / "seeds.jsonl"
SYSTEMS = ("newcomer", "bm25", "keyword", "dense", "hybrid")
LABELS = {
    "newcomer": "(a) llama-index newcomer: MiniLM + SentenceSplitter + Chroma",
    "bm25": "(b) llama-index BM25Retriever, default tokenizer",
    "keyword": "(c) ours: Kiwi BM25 keyword",
    "dense": "(d) ours: dense (e5-small)",
    "hybrid": "(e) ours: hybrid",
}
SHORT = {"newcomer": "(a) newcomer", "bm25": "(b) llama-index BM25", "keyword": "(c) our keyword",
         "dense": "(d) our dense", "hybrid": "(e) our hybrid"}
LATENCY_SAMPLE = 300  # questions timed through the newcomer's one-at-a-time path


def score_rankings(rankings: Sequence[Sequence[str]], questions: Sequence[Question], depth: int | None = None
                   ) -> dict[str, float | None]:
    """Mean R@1, R@5, MRR@10, nDCG@10 over questions (rankings are per-hit sources, may repeat); a figure reading
    deeper than `depth`, the k each system was asked for, is None (MRR@10 of 5 hits is not MRR@10)."""
    per_q = [m.retrieval_metrics(r, q.gold, depth) for r, q in zip(rankings, questions)]
    return {key: m.mean_defined(p[key] for p in per_q) for key in ("recall@1", "recall@5", "mrr@10", "ndcg@10")}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1000


def run_ours(pipe: Any, questions: Sequence[Question], k: int, progress: bool) -> tuple[dict[str, list[list[str]]], list[float]]:
    rankings: dict[str, list[list[str]]] = {"keyword": [], "dense": [], "hybrid": []}
    times: list[float] = []
    pipe.search_modes(questions[0].question, k=k)  # warm: models and index load outside the timing
    for q in _bar(questions, "ours (c-e)", progress):
        by_mode, ms = _timed(lambda: pipe.search_modes(q.question, k=k))
        times.append(ms)
        for name in rankings:
            rankings[name].append([h.chunk.doc_id for h in by_mode.get(name, [])])
    return rankings, times


def run_newcomer(articles: Sequence[Article], questions: Sequence[Question], k: int, progress: bool) -> tuple[list[list[str]], list[float], float]:
    from eval.baselines import NewcomerVector

    system, build_ms = _timed(lambda: NewcomerVector(articles, progress=progress))
    times = []
    for q in _bar(questions[:LATENCY_SAMPLE], "newcomer latency sample", progress):
        _, ms = _timed(lambda: system.search(q.question, k))
        times.append(ms)
    # same rankings as search(), with question vectors embedded in batches: minutes instead of tens
    rankings = system.search_many([q.question for q in questions], k)
    return rankings, times, build_ms


def run_bm25(articles: Sequence[Article], questions: Sequence[Question], k: int, progress: bool) -> tuple[list[list[str]], list[float], float]:
    from eval.baselines import LlamaBM25

    system, build_ms = _timed(lambda: LlamaBM25(articles, k))
    rankings, times = [], []
    for q in _bar(questions, "llama-index BM25", progress):
        ranked, ms = _timed(lambda: system.search(q.question, k))
        rankings.append(ranked)
        times.append(ms)
    return rankings, times, build_ms


def _bar(items: Sequence[Any], desc: str, progress: bool):
    if not progress:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="q", dynamic_ncols=True)


def load_corpus_and_questions(dataset: str, settings: Settings, store: Path | None, embedder: object | None):
    """(articles, questions, pipe, splits, description) for 'korquad' or 'seeds' (or a JSONL path)."""
    from rag.pipeline import build_pipeline

    if dataset == "korquad":
        from eval.korquad import KORQUAD_PATH, korquad_store_dir, load_korquad

        articles, questions = load_korquad(KORQUAD_PATH)
        settings = settings.with_store(store or korquad_store_dir(settings))
        pipe = build_pipeline(settings, embedder=embedder)
        print(f"store: {settings.store.dir} (dedicated KorQuAD store; updating incrementally)")
        pipe.ingest_articles(articles, progress=True)
        splits = {"articles 1–70": lambda q: q.gold[0] < "korquad-071", "articles 71–140": lambda q: q.gold[0] >= "korquad-071"}
        return articles, questions, pipe, splits, f"KorQuAD 1.0 dev: {len(articles)} paragraphs"

    path = SEEDS_DATASET if dataset == "seeds" else Path(dataset)
    questions = load_dataset(path)
    settings = settings.with_store(store)
    pipe = build_pipeline(settings, embedder=embedder)
    if pipe.is_empty():
        raise DatasetError(f"the store {settings.store.dir} is empty: run `python -m rag ingest` first")
    # the baselines index the articles the store holds, as stored (cleaned): not the configured corpus folders,
    # which a store given with --store need not come from
    articles = [a for a in (pipe.article(info.doc_id) for info in pipe.list_articles()) if a is not None]
    print(f"store: {settings.store.dir} (evaluated as it is); baselines index the same {len(articles)} cleaned articles")
    return articles, questions, pipe, {}, f"the {len(articles)} articles of the store {settings.store.dir}"


def render_table(result: dict[str, Any]) -> str:
    lines = [
        f"# Retrieval baselines: {result['dataset']} ({result['date']})",
        "",
        f"Corpus: {result['corpus']}. Questions with gold: {result['n']}. Document-level metrics, k = {result['k']}.",
        f"Command: `{result['command']}`. Machine: {result['machine']}; load average when done: {result.get('load_avg', '?')}.",
        "",
        "| system | R@1 | R@5 | MRR@10 | nDCG@10 | n | query p50 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        cells = [row["label"]] + [_f(row.get(k)) for k in ("recall@1", "recall@5", "mrr@10", "ndcg@10")]
        cells += [str(row["n"]), _f(row.get("p50_ms"), 1)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Latency: (a) timed one question at a time on the first "
        f"{LATENCY_SAMPLE} questions (its full table uses batched question embeddings, same rankings); "
        "(c)–(e) share one `search_modes` call (question embedding + dense + keyword + fusion), so their "
        "p50 is the same number. Build times: "
        + ", ".join(f"{k} {v / 1000:.1f} s" for k, v in result.get("build_ms", {}).items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def main(argv: Sequence[str] | None = None, *, settings: Settings | None = None, embedder: object | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.compare", description="Retrieval baselines side by side.")
    p.add_argument("--dataset", default="korquad", help="korquad | seeds | a JSONL file")
    p.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated subset of {','.join(SYSTEMS)}")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions (a quick look; not for the table)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--store", type=Path, default=None)
    p.add_argument("--out", type=Path, default=None, help="markdown file (default eval/results/<date>-<dataset>.md); the figures as JSON go beside it, same name, .json")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    apply_offline_env()
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        print(f"error: unknown system(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    progress = not args.no_progress
    from rag.store import StoreError

    try:
        settings = settings or load_settings()
        articles, questions, pipe, splits, corpus = load_corpus_and_questions(args.dataset, settings, args.store, embedder)
    except (DatasetError, SettingsError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    questions = [q for q in questions if q.gold][: args.limit]
    rankings: dict[str, list[list[str]]] = {}
    times: dict[str, list[float]] = {}
    build_ms: dict[str, float] = {}
    if {"keyword", "dense", "hybrid"} & set(systems):
        ours, ours_times = run_ours(pipe, questions, args.k, progress)
        for name in ("keyword", "dense", "hybrid"):
            if name in systems:
                rankings[name], times[name] = ours[name], ours_times
    if "bm25" in systems:
        rankings["bm25"], times["bm25"], build_ms["bm25"] = run_bm25(articles, questions, args.k, progress)
    if "newcomer" in systems:
        from eval.baselines import BaselineError

        try:
            rankings["newcomer"], times["newcomer"], build_ms["newcomer"] = run_newcomer(articles, questions, args.k, progress)
        except BaselineError as exc:
            print(f"warning: skipping the newcomer baseline: {exc}", file=sys.stderr)
    rows = []
    for name in SYSTEMS:
        if name not in rankings:
            continue
        row = {"system": name, "label": LABELS[name], "n": len(questions), **score_rankings(rankings[name], questions, args.k)}
        row["p50_ms"] = m.percentile(times[name], 50)
        row["p95_ms"] = m.percentile(times[name], 95)
        rows.append(row)
    for split, keep in splits.items():
        for name in SYSTEMS:
            if name not in rankings:
                continue
            pairs = [(r, q) for r, q in zip(rankings[name], questions) if keep(q)]
            if pairs:
                row = {"system": f"{name} {split}", "label": f"{SHORT[name]}, {split}", "n": len(pairs)}
                row.update(score_rankings([r for r, _ in pairs], [q for _, q in pairs], args.k))
                rows.append(row)
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    label = args.dataset if args.dataset in ("korquad", "seeds") else Path(args.dataset).stem
    if args.limit:
        label += f"-first{args.limit}"
    result = {
        "dataset": label,
        "date": date,
        "corpus": corpus,
        "n": len(questions),
        "k": args.k,
        "command": "python -m eval.compare " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine_line(),
        # latencies on a shared machine mean little without the load they were measured under
        "load_avg": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "rows": rows,
        "build_ms": build_ms,
    }
    out = args.out or RESULTS_DIR / f"{date}-{label}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    table = render_table(result)
    out.write_text(table, encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(table)
    print(f"wrote {out} and {out.with_suffix('.json').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
