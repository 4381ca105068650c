"""Choose the fusion of dense + keyword retrieval on KorQuAD articles 1–70, report it on 71–140.

    python bench/tune_fusion.py                 # builds data/korquad/store once if missing (minutes)

Every question's candidates (top-30 of each retriever, both scores completed on their union) are
computed once; each fusion variant then re-ranks them in memory, so the grid costs nothing extra.
Writes bench/results/tune_fusion.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.korquad import load_korquad  # noqa: E402
from eval.metrics import dedupe_docs, mrr_at_k, recall_at_k  # noqa: E402
from rag.config import apply_offline_env, load_settings  # noqa: E402
from rag.pipeline import build_pipeline  # noqa: E402
from rag.retrieval import fuse_calibrated, fuse_linear, fuse_rrf, normalize_max  # noqa: E402

TUNE, REPORT = "1-70", "71-140"


def doc_ranking(scored: list[tuple[str, float]], doc_of: dict[str, str]) -> list[str]:
    return dedupe_docs(doc_of[cid] for cid, _ in scored if cid in doc_of)


def variants(weights: list[float]):
    """name -> function(candidates) -> ranked [(chunk_id, score)]."""
    out = {
        "dense": lambda c: sorted(c.dense_only.items(), key=lambda kv: -kv[1]),
        "keyword": lambda c: sorted(c.keyword_only.items(), key=lambda kv: -kv[1]),
        "rrf(k=60)": lambda c: fuse_rrf([_ids(c.dense_only), _ids(c.keyword_only)], 60),
    }
    for w in weights:
        out[f"linear w={w:.2f}"] = (lambda w: lambda c: fuse_linear(c.dense, c.keyword, w))(w)
        out[f"calibrated w={w:.2f}"] = (lambda w: lambda c: fuse_calibrated(c.dense, c.coverage, w))(w)
        out[f"raw-cos+maxbm25 w={w:.2f}"] = (
            lambda w: lambda c: sorted(
                ((i, w * c.dense[i] + (1 - w) * normalize_max(c.keyword).get(i, 0.0)) for i in c.dense),
                key=lambda kv: -kv[1],
            )
        )(w)
    return out


def _ids(scores: dict[str, float]) -> list[str]:
    return [i for i, _ in sorted(scores.items(), key=lambda kv: -kv[1])]


def score(ranker, items, doc_of) -> dict[str, float]:
    r1, r5, mrr = [], [], []
    for cands, gold in items:
        docs = doc_ranking(ranker(cands), doc_of)
        r1.append(recall_at_k(docs, gold, 1))
        r5.append(recall_at_k(docs, gold, 5))
        mrr.append(mrr_at_k(docs, gold, 10))
    n = len(items)
    return {"R@1": sum(r1) / n, "R@5": sum(r5) / n, "MRR@10": sum(mrr) / n, "n": n}


def main() -> int:
    apply_offline_env()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None, help="questions per split (quick look)")
    parser.add_argument("--save", type=Path, default=None, help="pickle the candidates here (for re-analysis)")
    args = parser.parse_args()
    settings = load_settings()
    store = args.store or settings.paths.data_dir / "korquad" / "store"
    settings = settings.with_store(store)
    pipe = build_pipeline(settings)
    articles, _ = load_korquad()
    report = pipe.ingest_articles(articles, progress=True)
    print(f"store {pipe.store.location}: {report.chunks_embedded} chunks embedded now, "
          f"{len(report.unchanged)} paragraphs unchanged", file=sys.stderr)
    splits = {}
    latencies = []
    for name in (TUNE, REPORT):
        _, questions = load_korquad(articles=name)
        questions = questions[: args.limit] if args.limit else questions
        items = []
        for q in questions:
            t = time.perf_counter()
            items.append((pipe.candidates(q.question, settings.retrieval.candidates), list(q.gold)))
            latencies.append((time.perf_counter() - t) * 1000)
        splits[name] = items
    if args.save:
        with open(args.save, "wb") as fh:
            pickle.dump(splits, fh)
    doc_of = {c.chunk_id: c.doc_id for c in pipe.store.all_chunks()}
    weights = [round(0.05 * i, 2) for i in range(21)]
    table = {name: {split: score(fn, items, doc_of) for split, items in splits.items()}
             for name, fn in variants(weights).items()}
    best = max((n for n in table if " w=" in n), key=lambda n: (table[n][TUNE]["MRR@10"], table[n][TUNE]["R@1"]))
    shown = ["dense", "keyword", "rrf(k=60)", best] + [
        max((n for n in table if n.startswith(p)), key=lambda n: table[n][TUNE]["MRR@10"])
        for p in ("linear", "calibrated", "raw-cos")
    ]
    print(f"chosen on articles {TUNE}: {best}\n")
    print(f"| fusion | {TUNE} R@1 | R@5 | MRR@10 | {REPORT} R@1 | R@5 | MRR@10 |\n|---|---|---|---|---|---|---|")
    for name in dict.fromkeys(shown):
        a, b = table[name][TUNE], table[name][REPORT]
        print(f"| {name} | {a['R@1']:.3f} | {a['R@5']:.3f} | {a['MRR@10']:.3f} | {b['R@1']:.3f} | {b['R@5']:.3f} | {b['MRR@10']:.3f} |")
    print(f"\ncandidate retrieval latency (embed + Chroma + BM25 + completion): "
          f"p50 {statistics.median(latencies):.1f} ms over {len(latencies)} questions")
    out = ROOT / "bench" / "results" / "tune_fusion.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"chosen": best, "table": table}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
