"""Does the keyword retriever rank the same whatever ingests built the store?

    nice python bench/keyword_segments.py [--store data/korquad-open/store] [--batches 20]
        [--out bench/results/keyword_segments.json]

A store that grew over many ingests holds its keyword index as several bm25s segments (one per
ingest, merged as they pile up, rows of re-ingested articles marked dead). This replays such a history
over the chunks of the KorQuAD open-QA store (its terms as stored, the real merge policy of
`rag.keyword_files` in a temp folder): the articles arrive in `--batches` ingests in their order, and
each ingest also re-ingests two articles of an earlier one. Then it asks every question of KorQuAD
articles 71-140 (the report half) of the grown index and of one built in a single ingest, and counts
the questions whose keyword top 30 (the retriever's candidate list) differ, their top 1, and the gold
paragraph's presence in the top 30, with the length normalization each segment baked in (before the
fix) and rescaled to the live chunks of all segments (after).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOP = 30


def _history(index, batches: int):
    """(added, removed) of each ingest: the articles in order, plus two re-ingested per ingest."""
    from rag.keyword import doc_of

    terms = dict(index.segments[0].live_terms()) if len(index.segments) == 1 else {
        c: t for s in index.segments for c, t in s.live_terms()}
    docs: dict[str, list[str]] = {}
    for cid in sorted(terms):
        docs.setdefault(doc_of(cid), []).append(cid)
    order = sorted(docs)
    size = -(-len(order) // batches)
    for b in range(batches):
        batch = order[b * size:(b + 1) * size]
        again = order[max(0, (b - 1) * size):b * size][::max(1, size // 2)][:2]  # re-ingested, same text
        yield [(c, terms[c]) for d in batch + again for c in docs[d]]


def grown_index(one, files_root: Path, batches: int, version: str):
    from rag.keyword import KeywordIndex
    from rag.keyword_files import KeywordFiles

    files = KeywordFiles(files_root, version)
    index = KeywordIndex([], one._tokenize)
    for n, added in enumerate(_history(one, batches), start=1):
        index = files.commit(index.with_changes(added, [], n))
    return index


def compare(one, grown, questions, korean) -> dict:
    differ = top1 = gold_one = gold_grown = 0
    for q in questions:
        terms = one.query_terms(q.question)
        a = [c for c, _ in one.search(terms, TOP)]
        b = [c for c, _ in grown.search(terms, TOP)]
        differ += a != b
        top1 += a[:1] != b[:1]
        gold = set(q.gold)
        gold_one += any(c.rsplit("#", 1)[0] in gold for c in a)
        gold_grown += any(c.rsplit("#", 1)[0] in gold for c in b)
    n = len(questions)
    return {"questions": n, "top30_differs": differ / n, "top1_differs": top1 / n,
            "gold_in_top30_one_ingest": gold_one / n, "gold_in_top30_grown": gold_grown / n}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default="data/korquad-open/store")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--out", default="bench/results/keyword_segments.json")
    args = parser.parse_args(argv)

    from rag.config import apply_offline_env

    apply_offline_env()
    import rag.keyword as keyword
    from eval.korquad import load_korquad_open
    from rag.keyword_files import KeywordFiles
    from rag.korean import KoreanText

    korean = KoreanText()
    one = KeywordFiles(Path(args.store) / "keyword-articles", korean.version).load(korean.tokens_batch)
    if one is None:
        sys.exit(f"no keyword index for this tokenizer in {args.store}: run the korquad-open eval once to build it")
    _, questions = load_korquad_open(articles="71-140")
    questions = [q for q in questions if q.gold]
    with tempfile.TemporaryDirectory() as tmp:
        grown = grown_index(one, Path(tmp), args.batches, korean.version)
        layout = [(s.live, len(s.ids)) for s in grown.segments]
        rescaled = compare(one, grown, questions, korean)
        tf_part = keyword._tf_part
        keyword._tf_part = lambda data, baked_idf, *_: data / baked_idf  # as baked: each segment's own length
        try:
            baked = compare(one, grown, questions, korean)
        finally:
            keyword._tf_part = tf_part
    result = {"store": args.store, "chunks": len(one), "ingests": args.batches,
              "segments_live_rows": layout, "baked_per_segment": baked, "rescaled_to_live_chunks": rescaled,
              "load": os.getloadavg()[0]}
    print(json.dumps(result, indent=1, ensure_ascii=False))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
