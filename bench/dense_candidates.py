"""How many of the cheap ranker's best sentences the e5 re-ranking needs (rag.evidence.DENSE_CANDIDATES),
on the calibration half only (not a test).

    python bench/dense_candidates.py                  # KorQuAD open QA, articles 1-70, every answerable question
    python bench/dense_candidates.py --limit 300      # a quick look

For each question the candidates are gathered and scored as the answerer does, with the fitted models
in rag/fitted/evidence.json as they are (nothing is refitted); the full model then re-ranks the best N
for N = 1..8, and the share of questions whose first sentence holds the answer is printed for each N,
with the sentences embedded per question (each costs ~25 ms on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import apply_offline_env  # noqa: E402

MOST = 8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N calibration questions")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    apply_offline_env()

    from eval.fit import evidence_rows
    from rag.ranker import default_evidence_models
    from rag.relevance import SentenceRelevance

    cheap, full = default_evidence_models()
    columns, labels, groups, counts = evidence_rows(args.limit, ["korquad-open"])
    questions, embedder = counts.pop("_questions"), counts.pop("_embedder")
    texts = columns.pop("_text")
    scores = cheap.predict(columns)
    rows: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        rows.setdefault(g, []).append(i)
    relevance = SentenceRelevance(lambda: embedder)
    hits = {n: 0 for n in range(0, MOST + 1)}  # 0: the cheap model alone
    for g, members in rows.items():
        order = sorted(members, key=lambda r: -scores[r])
        top = order[:MOST]
        dense = dict(zip(top, relevance(questions[g], [texts[i] for i in top])))
        hits[0] += labels[order[0]]
        for n in range(1, MOST + 1):
            chosen = top[:n]
            sub = {name: [columns[name][i] for i in chosen] for name in columns}
            sub["dense"] = [dense[i] for i in chosen]
            p = full.predict(sub)
            best = chosen[max(range(len(chosen)), key=lambda j: (p[j], -j))]  # ties: the cheap order, as rank_candidates
            hits[n] += labels[best]
    total = len(rows)
    figures = {"questions": total, "sets": counts, "load_avg": os.getloadavg()[0],
               "top1": {str(n): round(hits[n] / total, 4) for n in hits}}
    for n, value in figures["top1"].items():
        print(f"DENSE_CANDIDATES={n}: top-1 holds the answer {value:.4f} ({hits[int(n)]}/{total})"
              + ("  (cheap model alone)" if n == "0" else ""))
    if args.out:
        args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
