"""Calibration-only replay (issue 9): `answer.refuse_unnamed` refuses an answer whose cited articles name *none*
of the question's names. A question often names two things — a specific subject and a broad one (a country, a
year's ruler, a field) — and in a bigger archive an article about something else may name the broad one only.
Would holding the cited articles to the question's *rarest* name (fewest documents of the store, among the names
some document holds), or to *all* such names, refuse more answers to absent subjects without refusing right ones?
(A first count over KorQuAD 1-70 alone took the rarest of all names: misspelt names no document holds — "아쓰오카"
for 마쓰오카 — made it flag 28 right answers against 7 withheld ones; names no document holds are left out since.)

Over the answered cases of `python -m eval` runs made with the default settings (so every answer already passes
the "any name" rule), for questions with two names or more, each variant's flags are counted by outcome. Names as
`bench/lead_names.py` reads them (rag.grounding.asked_terms, numbers aside, lower case, also unspaced); document
frequency over the corpus the run's store holds (`--corpus`).

Rule, written before any count was read: a variant goes on to an end-to-end calibration run only if, on KorQuAD
1-70 mixed with KLUE, it flags at least three times as many answers to withheld-article questions as right answers,
and it flags at most 2 right answers of KLUE odd and none of the seeds' odd half.

    python bench/cited_names.py --corpus korquad|mixed|klue|seeds RUN/cases.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lead_names import holds, names_of  # noqa: E402

from eval.korquad import KORQUAD_PATH, load_korquad_open  # noqa: E402
from rag.korean import KoreanText  # noqa: E402


def corpus(name: str) -> dict[str, str]:
    """doc id -> title and text, lower case, of the documents a run's store holds."""
    out: dict[str, str] = {}
    if name in ("korquad", "mixed"):
        out |= {a.doc_id: f"{a.title}\n{a.text}".lower() for a in load_korquad_open(KORQUAD_PATH, None)[0]}
    if name in ("klue", "mixed"):
        out |= {p.name: p.read_text(encoding="utf-8").lower()
                for p in (ROOT / "eval/datasets/klue_mrc_dev/corpus").glob("*.txt")}
    if name == "seeds":
        out |= {p.name: p.read_text(encoding="utf-8").lower() for p in (ROOT / "seeds").glob("*.txt")}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True, choices=("korquad", "mixed", "klue", "seeds"))
    p.add_argument("cases", type=Path)
    args = p.parse_args()
    korean, docs = KoreanText(), corpus(args.corpus)
    squashed = {d: "".join(t.split()) for d, t in docs.items()}
    df_memo: dict[str, int] = {}

    def df(name: str) -> int:
        if name not in df_memo:
            df_memo[name] = sum(name in docs[d] or name in squashed[d] for d in docs)
        return df_memo[name]

    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[str, list[str]] = {}
    for case in map(json.loads, open(args.cases, encoding="utf-8")):
        if case["refused"] or not case["citations"]:
            continue
        outcome = "must refuse" if not case["answers"] else ("right" if case["correct"] else "wrong")
        counts[("answered", outcome)] += 1
        names = names_of(case.get("searched_question") or case["question"], korean)
        if len(names) < 2:
            continue
        counts[("two names or more", outcome)] += 1
        cited = "\n".join(docs.get(c["source"], c["quote"].lower()) for c in case["citations"]
                          if c["source"] in docs or c.get("quote"))
        # the rarest name some document holds: a name no document holds (a misspelling) tells no article apart
        known = [n for n in names if df(n)]
        rarest = min(known, key=lambda n: (df(n), -len(n))) if known else ""
        if rarest and not holds([rarest], cited):
            counts[("rarest not cited", outcome)] += 1
            examples.setdefault(outcome, []).append(f"{case['question']} | rarest {rarest} ({df(rarest)} docs)")
        if not all(holds([n], cited) for n in known):
            counts[("some name not cited", outcome)] += 1
    rows = ("answered", "two names or more", "rarest not cited", "some name not cited")
    outcomes = ("right", "wrong", "must refuse")
    print(f"| {args.cases} | " + " | ".join(outcomes) + " |")
    print("|---|" + "---:|" * len(outcomes))
    for row in rows:
        print(f"| {row} | " + " | ".join(str(counts[(row, o)]) for o in outcomes) + " |")
    for outcome in outcomes:
        for line in examples.get(outcome, [])[:6]:
            print(f"  {outcome}: {line}")


if __name__ == "__main__":
    main()
