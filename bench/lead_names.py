"""Calibration-only probes (bench/results/mixed_corpus_2026-12-06.md): does the answer stand with the question's
names — anywhere in the documents it cites, or at its lead sentence (the sentence, the one before it, or its
document's title)? Counted by outcome over answered questions that name something (the grounding's names). A rule
"refuse when it does not" would earn a candidate only if right answers almost always pass it and wrong answers to
absent subjects mostly fail it. For a question asking a value (an amount, a count, a date) about a name, also: is
the lead a sentence giving such a value with the name beside it (in it, its paragraph before it or its title), and
is any cited sentence (bench/results/refusal_frontier_2026-12-06.md)?

    python bench/lead_names.py RUN1/cases.jsonl RUN2/cases.jsonl …   # cases of `python -m eval` runs
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from rag.evidence import question_terms
from rag.grounding import asked_terms
from rag.korean import KoreanText
from rag.slots import NUMERIC, asked_slot, asks_several, slot_values

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
    return [t.lower() for t in asked_terms(question, korean) if not t.isdigit()]


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
            near = value_by_name(case, names, korean, docs)
            if near is not None:
                counts[(outcome, "asks a value")] += 1
                counts[(outcome, "lead gives it")] += near[0]
                counts[(outcome, "a cited sentence gives it")] += any(near)
        print(path)
        for outcome in ("right", "wrong", "must refuse"):
            n = counts[(outcome, "with names")]
            print(f"   {outcome:12s} answered with names {n:5d}  a cited document names none "
                  f"{n - counts[(outcome, 'cited documents')]:4d}  lead holds a name {counts[(outcome, 'sentence')]:5d}"
                  f"  with the sentence before and the title {counts[(outcome, '+ previous + title')]:5d}")
        for outcome in ("right", "wrong", "must refuse"):
            print(f"   {outcome:12s} asks a value about a name {counts[(outcome, 'asks a value')]:5d}  the lead gives "
                  f"it by the name {counts[(outcome, 'lead gives it')]:5d}  a cited sentence does "
                  f"{counts[(outcome, 'a cited sentence gives it')]:5d}")


def value_by_name(case: dict, names: list[str], korean: KoreanText, docs: dict[str, tuple[str, str]]) -> list[bool] | None:
    """For each cited sentence: does it hold a value of the asked kind with a name of the question in it, its
    paragraph before it or its title? None when the question asks no number, date or year about a name."""
    question = case.get("searched_question") or case["question"]
    asked = asked_slot(korean.morphemes_batch([question])[0], korean.lexicon)
    if asked.slot not in NUMERIC or asks_several(question, korean.lexicon):
        return None
    known = question_terms(question, korean)
    out = []
    for cited in case["citations"]:
        title, text = docs.get(cited["source"], ("", ""))
        at = text.find(cited["quote"])
        paragraph = text[text.rfind("\n", 0, at) + 1:at] if at > 0 else ""
        value = bool(slot_values(korean.morphemes_batch([cited["quote"]])[0], asked, known, korean.lexicon.units))
        out.append(value and holds(names, f"{title}\n{paragraph}\n{cited['quote']}"))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
