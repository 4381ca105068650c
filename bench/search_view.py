"""Which articles the search view lists: the share of a query's IDF mass an article must hold
(`retrieval.match_min_coverage`), chosen on KorQuAD dev articles 1-70 and reported on 71-140.

    nice python bench/search_view.py [--store DIR] [--out bench/results/search_view.json]

Every KorQuAD paragraph is an article (964). For a question, the listed articles M should contain
its gold paragraph (recall) and otherwise come from the same Wikipedia article (precision = share of
M with the gold's title: those paragraphs are on the question's topic). The threshold maximizes the
mean F1 of the two on the calibration split; the report split is measured once with that value.
The keyword index decides the list, so the hashing embedder stands in for e5 (no dense scores are
needed); the search timing at the end uses the same store.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.config import apply_offline_env, load_settings  # noqa: E402

THRESHOLDS = [round(0.05 * i, 2) for i in range(0, 20)]


def split_scores(finder, questions, title_of: dict[str, str], thresholds) -> dict[float, dict[str, float]]:
    rows: dict[float, list[tuple[float, float, int]]] = {t: [] for t in thresholds}
    for q in questions:
        gold = q.gold[0]
        shares = finder.coverage(q.question).shares
        for t in thresholds:
            listed = [d for d, s in shares.items() if s >= t] if t > 0 else list(shares)
            recall = 1.0 if gold in listed else 0.0
            precision = sum(title_of[d] == title_of[gold] for d in listed) / len(listed) if listed else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            rows[t].append((f1, recall, len(listed)))
    return {
        t: {
            "f1": round(statistics.fmean(r[0] for r in v), 4),
            "gold_recall": round(statistics.fmean(r[1] for r in v), 4),
            "mean_listed": round(statistics.fmean(r[2] for r in v), 1),
            "median_listed": statistics.median(r[2] for r in v),
        }
        for t, v in rows.items()
    }


def main() -> int:
    apply_offline_env()
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, default=None, help="reuse a store folder (default: a temp one)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/search_view.json"))
    args = parser.parse_args()

    from eval.korquad import load_korquad
    from rag.pipeline import build_pipeline
    from tests.fakes import HashingEmbedder

    folder = args.store or Path(tempfile.mkdtemp(prefix="search-view-"))
    s = load_settings(None, env={})
    settings = replace(s, paths=replace(s.paths, data_dir=folder), store=replace(s.store, dir=folder / "store"))
    pipe = build_pipeline(settings, embedder=HashingEmbedder())
    corpus, calibrate = load_korquad(articles="1-70")
    _, report = load_korquad(articles="71-140")
    started = time.perf_counter()
    pipe.ingest_articles(corpus)
    print(f"ingested {len(corpus)} paragraphs in {time.perf_counter() - started:.0f} s", flush=True)
    title_of = {a.doc_id: a.title for a in corpus}
    finder = pipe.finder()

    cal = split_scores(finder, calibrate, title_of, THRESHOLDS)
    chosen = max(cal, key=lambda t: (cal[t]["f1"], -t))
    rep = split_scores(finder, report, title_of, sorted({0.0, chosen}))
    times = []
    for q in report[:200]:
        t0 = time.perf_counter()
        pipe.find_articles(q.question, per_page=10)
        times.append((time.perf_counter() - t0) * 1000)
    result = {
        "corpus": f"KorQuAD 1.0 dev, {len(corpus)} paragraphs as articles",
        "objective": "mean F1 of gold-paragraph recall and same-title precision of the listed articles",
        "calibration_questions": len(calibrate),
        "report_questions": len(report),
        "calibration": {str(t): v for t, v in cal.items()},
        "chosen_min_coverage": chosen,
        "report": {str(t): v for t, v in rep.items()},
        "find_articles_ms": {"p50": round(statistics.median(times), 1),
                             "p95": round(sorted(times)[int(0.95 * len(times)) - 1], 1), "n": len(times)},
        "load": os.getloadavg()[0],
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    pipe.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
