"""Calibration-only probes (bench/results/mixed_corpus_2026-12-06.md): does the answer stand with the question's
names — anywhere in the documents it cites, or at its lead sentence (the sentence, the one before it, or its
document's title)? Counted by outcome over answered questions that name something (the grounding's names). A rule
"refuse when it does not" would earn a candidate only if right answers almost always pass it and wrong answers to
absent subjects mostly fail it.

    python bench/lead_names.py RUN1/cases.jsonl RUN2/cases.jsonl …   # cases of `python -m eval` runs
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from rag.korean import KoreanText

from eval.korquad import KORQUAD_PATH, load_korquad

ROOT = Path(__file__).resolve().parent.parent


def documents() -> dict[str, tuple[str, str]]:
    """doc id -> (title, text) of KorQuAD's paragraphs, KLUE's passages and the seeds (first line = title)."""
    out = {a.doc_id: (a.title, a.text) for a in load_korquad(KORQUAD_PATH, None)[0]}
    for path in [*(ROOT / "eval/datasets/klue_mrc_dev/corpus").glob("*.txt"), *(ROOT / "seeds").glob("*.txt")]:
        text = path.read_text(encoding="utf-8")
        out[path.name] = (text.split("\n", 1)[0], text)
    return out


def names_of(question: str, korean: KoreanText) -> list[str]:
    key = [t for t in dict.fromkeys(korean.key_terms(question)) if len(t) > 1 and t not in korean.lexicon.question_words]
    key = [t for t in key if not any(t != o and t in o for o in key)]
    return [t.lower() for t in key if not t.isdigit()]


def holds(names: list[str], text: str) -> bool:
    low = text.lower()
    return any(n in low or n in "".join(low.split()) for n in names)


def main(paths: list[str]) -> None:
    korean, docs = KoreanText(), documents()
    for path in paths:
        counts: Counter[tuple[str, str]] = Counter()
        for case in map(json.loads, open(path, encoding="utf-8")):
            if case["refused"] or not case["citations"]:
                continue
            names = names_of(case.get("searched_question") or case["question"], korean)
            if not names:
                continue
            outcome = "must refuse" if not case["answers"] else ("right" if case["correct"] else "wrong")
            lead = case["citations"][0]
            title, text = docs.get(lead["source"], ("", ""))
            at = text.find(lead["quote"])
            before = text[:at].rstrip() if at > 0 else ""
            previous = before[max(before.rfind(". "), before.rfind("\n")) + 1:] if before else ""
            counts[(outcome, "with names")] += 1
            counts[(outcome, "cited documents")] += any(holds(names, " ".join(docs.get(c["source"], ("", ""))))
                                                        for c in case["citations"])
            counts[(outcome, "sentence")] += holds(names, lead["quote"])
            counts[(outcome, "+ previous + title")] += holds(names, " ".join((lead["quote"], previous, title)))
        print(path)
        for outcome in ("right", "wrong", "must refuse"):
            n = counts[(outcome, "with names")]
            print(f"   {outcome:12s} answered with names {n:5d}  a cited document names none "
                  f"{n - counts[(outcome, 'cited documents')]:4d}  lead holds a name {counts[(outcome, 'sentence')]:5d}"
                  f"  with the sentence before and the title {counts[(outcome, '+ previous + title')]:5d}")


if __name__ == "__main__":
    main(sys.argv[1:])
