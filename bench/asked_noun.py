"""Does the answer hold the noun the question asks about? A probe on calibration halves (2026-12-06, not taken).

"동반성장위원회 위원장은 누구인가?" over the seeds was answered with another company's chief executive: the sentence
names the commission but not its 위원장. The probe reads the noun before the question word's particle ("위원장은
누구"), or before a head word ("학교의 이름은?" -> 학교), from Kiwi's tags, and counts the answered questions whose
answer text lacks it, by outcome. A rule "refuse without it" would help only if near misses lacked it far more often
than right answers do.

    python -m eval --dataset korquad-gap --split calibrate --mode extractive --out G
    python -m eval --dataset korquad-open --split calibrate --mode extractive --out O
    python -m eval --dataset klue --split calibrate --mode extractive --out K
    python bench/asked_noun.py G/cases.jsonl O/cases.jsonl K/cases.jsonl
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter

from rag.korean import KoreanText

NOUNS = {"NNG", "NNP", "SL"}


def asked_noun(morphemes, lexicon) -> str:
    for i, (tag, form, _, _) in enumerate(morphemes):
        if form.lower() in lexicon.wh_words:
            before_particle = i >= 2 and morphemes[i - 1][0] in ("JX", "JKS") and morphemes[i - 2][0] in NOUNS
            return morphemes[i - 2][1] if before_particle else ""
    j = len(morphemes) - 1
    while j >= 0 and (morphemes[j][0].startswith(("J", "E", "XS")) or morphemes[j][0] in ("VCP", "SF")):
        j -= 1
    if j < 0 or morphemes[j][0] not in NOUNS or not lexicon.head_words.get(morphemes[j][1].lower()):
        return ""
    j -= 1 + (j >= 1 and morphemes[j - 1][0] == "JKG")
    return morphemes[j][1] if j >= 0 and morphemes[j][0] in NOUNS else ""


def main(paths: list[str]) -> None:
    korean = KoreanText()
    counts: Counter[tuple[str, str]] = Counter()
    for path in paths:
        cases = [json.loads(line) for line in open(path, encoding="utf-8")]
        morphemes = korean.morphemes_batch([c["question"] for c in cases])
        for case, m in zip(cases, morphemes):
            if case["refused"]:
                continue
            outcome = "must refuse" if not case["answers"] else ("right" if case["correct"] else "wrong")
            noun = asked_noun(m, korean.lexicon)
            answer = re.sub(r"\[\d+\]", "", case["answer"]).lower()
            counts[(outcome, "answered")] += 1
            counts[(outcome, "noun absent")] += bool(noun) and noun.lower() not in answer
    for outcome in ("right", "wrong", "must refuse"):
        n, absent = counts[(outcome, "answered")], counts[(outcome, "noun absent")]
        print(f"{outcome:12s} answered {n:5d}  asked noun absent from the answer {absent:4d} ({absent / max(1, n):.3f})")


if __name__ == "__main__":
    main(sys.argv[1:])
