"""Choose the fusion settings on BOTH calibration halves: KorQuAD open QA articles 1–70 and KLUE-MRC
odd passages (the report halves are never read here).

    cp -r data/korquad-open/store /tmp/fusion-kq && cp -r data/klue/store /tmp/fusion-klue
    python bench/tune_fusion_sets.py --korquad-store /tmp/fusion-kq --klue-store /tmp/fusion-klue

Each question's fusion inputs (candidates at the grid's widest count, their ranking coverage, chunks)
are computed once; each variant (dense_weight x candidates x per_source_cap) then replays the search's
own hybrid step (`rag.search.hybrid_hits`) in memory. R@1 / R@5 are read from the k=5 hits an answer is
built from (a gold article missing there is eval.diagnose's "retrieval miss"); MRR@10 from k=10.

The rule, fixed before the first run: the variant with the best mean R@5 over the two sets (each set
counts once), ties to the configured value; it replaces the default only when it beats the configured
variant's mean R@5 by >= 1 point. Writes bench/results/tune_fusion_sets.json and prints a table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.datasets import Question, load_dataset  # noqa: E402
from eval.korquad import KORQUAD_PATH, load_korquad_open  # noqa: E402
from eval.metrics import dedupe_docs, mrr_at_k, recall_at_k  # noqa: E402
from eval.selection import select_split  # noqa: E402
from rag.config import RetrievalSettings, apply_offline_env, load_settings  # noqa: E402
from rag.pipeline import build_pipeline  # noqa: E402
from rag.search import Candidates, hybrid_hits, narrow  # noqa: E402
from rag.types import Chunk  # noqa: E402

KLUE_DIR = ROOT / "eval" / "datasets" / "klue_mrc_dev"
WEIGHTS = [round(0.05 * i, 2) for i in range(4, 19)]  # 0.20 .. 0.90
CANDIDATES = [20, 30, 50]
CAPS = [1, 2, 3, 5]
MIN_GAIN = 0.01  # mean R@5 a new variant must add to replace the configured one


@dataclass(frozen=True)
class Item:
    """One calibration question's fusion inputs and its gold articles."""

    found: Candidates
    ranking_coverage: dict[str, float]
    chunks: dict[str, Chunk]
    gold: tuple[str, ...]


def replay(item: Item, conf: RetrievalSettings, k: int) -> list[str]:
    """The articles of the hybrid top k under `conf`, as the search would return them."""
    # the search asks each retriever for at least k
    found, coverage = narrow(item.found, item.ranking_coverage, max(conf.candidates, k))
    return dedupe_docs(h.chunk.doc_id for h in hybrid_hits(found, coverage, item.chunks, k, conf))


def score(items: list[Item], conf: RetrievalSettings) -> dict[str, float]:
    """R@1 and R@5 of the k=5 hits, MRR@10 of the k=10 hits, averaged over the questions."""
    r1 = r5 = mrr = 0.0
    for item in items:
        five = replay(item, conf, 5)
        r1 += recall_at_k(five, item.gold, 1)
        r5 += recall_at_k(five, item.gold, 5)
        mrr += mrr_at_k(replay(item, conf, 10), item.gold, 10)
    n = len(items)
    return {"R@1": r1 / n, "R@5": r5 / n, "MRR@10": mrr / n, "n": n}


def choose(table: dict[tuple, dict[str, dict[str, float]]], current: tuple) -> tuple:
    """The variant with the best mean R@5 over the sets, ties to `current`, then to higher mean MRR@10."""
    def key(variant: tuple) -> tuple:
        rows = table[variant].values()
        mean_r5 = round(sum(r["R@5"] for r in rows) / len(rows), 6)
        mean_mrr = round(sum(r["MRR@10"] for r in rows) / len(rows), 6)
        return (mean_r5, variant == current, mean_mrr)
    return max(table, key=key)


def collect(pipe, questions: list[Question], n: int) -> list[Item]:
    return [Item(*pipe.fusion_inputs(q.question, n, q.filters), gold=q.gold) for q in questions if q.gold]


def check_replay(pipe, questions: list[Question], items: list[Item], conf: RetrievalSettings, limit: int) -> int:
    """How many of the first `limit` questions the replay ranks differently from the live search."""
    answered = [q for q in questions if q.gold][:limit]
    live = [dedupe_docs(h.chunk.doc_id for h in pipe.search(q.question, 5, q.filters)) for q in answered]
    return sum(a != replay(item, conf, 5) for a, item in zip(live, items))


def main() -> int:
    apply_offline_env()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--korquad-store", type=Path, required=True, help="a copy of data/korquad-open/store")
    parser.add_argument("--klue-store", type=Path, required=True, help="a copy of data/klue/store")
    parser.add_argument("--limit", type=int, default=None, help="questions per set (quick look)")
    parser.add_argument("--check", type=int, default=100, help="questions per set checked against the live search")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tune_fusion_sets.json")
    args = parser.parse_args()
    settings = load_settings()
    conf = settings.retrieval
    widest = max(CANDIDATES + [conf.candidates])
    sets: dict[str, list[Item]] = {}
    mismatches: dict[str, int] = {}
    started = time.perf_counter()

    pipe = build_pipeline(settings.with_store(args.korquad_store))
    articles, questions = load_korquad_open(KORQUAD_PATH, "1-70")
    pipe.ingest_articles(articles)  # unchanged on a copy of the eval's store; keeps the script honest if not
    questions = questions[: args.limit] if args.limit else questions
    sets["korquad-open 1-70"] = collect(pipe, questions, widest)
    mismatches["korquad-open 1-70"] = check_replay(pipe, questions, sets["korquad-open 1-70"], conf, args.check)

    pipe = build_pipeline(settings.with_store(args.klue_store))
    pipe.ingest([KLUE_DIR / "corpus"])
    questions = select_split(load_dataset(KLUE_DIR / "questions.jsonl"), "calibrate", "gold")
    questions = questions[: args.limit] if args.limit else questions
    sets["klue odd"] = collect(pipe, questions, widest)
    mismatches["klue odd"] = check_replay(pipe, questions, sets["klue odd"], conf, args.check)
    collected_s = time.perf_counter() - started

    current = (conf.dense_weight, conf.candidates, conf.per_source_cap)
    grid = sorted(set(itertools.product(WEIGHTS, CANDIDATES, CAPS)) | {current})
    table = {v: {name: score(items, replace(conf, dense_weight=v[0], candidates=v[1], per_source_cap=v[2]))
                 for name, items in sets.items()} for v in grid}
    best = choose(table, current)
    mean = {v: sum(r["R@5"] for r in rows.values()) / len(rows) for v, rows in table.items()}
    adopt = best != current and mean[best] - mean[current] >= MIN_GAIN

    names = list(sets)
    print(f"questions: " + ", ".join(f"{n} {len(sets[n])}" for n in names)
          + f"; replay vs live search, first {args.check}: " + ", ".join(f"{n} {mismatches[n]} differ" for n in names))
    print(f"configured (w, candidates, cap) = {current}; best by mean R@5 = {best} "
          f"({mean[best]:.4f} vs {mean[current]:.4f}): {'adopt' if adopt else 'keep the configured value'}\n")
    head = " | ".join(f"{n} R@1 | R@5 | MRR@10" for n in names)
    print(f"| w | cand | cap | {head} | mean R@5 |\n|" + "---|" * (4 + 3 * len(names)))
    shown = sorted(grid, key=lambda v: -mean[v])[:10]
    shown += [v for v in grid if v[1:] == current[1:] and v not in shown]  # the weight curve at the current cand/cap
    shown += [v for v in grid if v[0] == current[0] and v not in shown]  # cand/cap at the current weight
    for v in dict.fromkeys([current] + shown):
        cells = " | ".join(f"{table[v][n]['R@1']:.3f} | {table[v][n]['R@5']:.3f} | {table[v][n]['MRR@10']:.3f}"
                           for n in names)
        print(f"| {v[0]:.2f} | {v[1]} | {v[2]} | {cells} | {mean[v]:.4f} |")
    print(f"\ncollected in {collected_s:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "rule": "max mean R@5 (k=5 hits) over the two calibration sets, ties to the configured value; "
                f"adopt only if >= {MIN_GAIN} above the configured",
        "configured": current, "best": best, "adopt": adopt, "replay_mismatches": mismatches,
        "table": [{"dense_weight": v[0], "candidates": v[1], "per_source_cap": v[2], "mean_R@5": mean[v],
                   **{n: table[v][n] for n in names}} for v in grid],
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
