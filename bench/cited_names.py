"""Calibration-only probe (bench/results/mixed_corpus_2026-12-06.md): answered questions whose cited documents
hold none of the question's names (the grounding's names, matched in the document's title and text, spaced or not),
by outcome. Arguments: `cases.jsonl` files of `python -m eval` runs on KorQuAD open QA / gap, KLUE or the seeds.

    python bench/cited_names.py RUN1/cases.jsonl RUN2/cases.jsonl …
"""
import json, sys
from collections import Counter
from rag.korean import KoreanText
from eval.korquad import load_korquad, KORQUAD_PATH
from pathlib import Path
k = KoreanText()
docs = {}
arts, _ = load_korquad(KORQUAD_PATH, None)
for a in arts: docs[a.doc_id] = (a.title + "\n" + a.text)
for p in Path("eval/datasets/klue_mrc_dev/corpus").glob("*.txt"): docs[p.name] = p.read_text(encoding="utf-8")
for p in Path("seeds").glob("*.txt"): docs[p.name] = p.read_text(encoding="utf-8")
def names_of(q):
    key = [t for t in dict.fromkeys(k.key_terms(q)) if len(t) > 1 and t not in k.lexicon.question_words]
    key = [t for t in key if not any(t != o and t in o for o in key)]
    return [t for t in key if not t.isdigit()]
for path in sys.argv[1:]:
    cases = [json.loads(l) for l in open(path)]
    c = Counter()
    for case in cases:
        if case["refused"]: continue
        outcome = "must refuse" if not case["answers"] else ("right" if case["correct"] else "wrong")
        names = names_of(case.get("searched_question") or case["question"])
        c[(outcome, "answered")] += 1
        if not names: continue
        c[(outcome, "with names")] += 1
        cited = {x["source"] for x in case["citations"]}
        texts = [docs.get(s, "").lower() for s in cited]
        hold = any(n.lower() in t or n.lower() in "".join(t.split()) for n in names for t in texts)
        c[(outcome, "cited docs hold none")] += not hold
    print(path)
    for o in ("right", "wrong", "must refuse"):
        print(f"   {o:12s} answered {c[(o,'answered')]:5d} with names {c[(o,'with names')]:5d} cited docs hold none {c[(o,'cited docs hold none')]:4d}")
