"""A short-answer rule tried and not taken: among the values of the asked kind in a claim, prefer the one
whose particle is of the question word's class ("누가" → 이/가/은/는, "누구를" → 을/를, "어디에서" → 에서/에/로).

Replays `rag.short_answer`'s choice over the answers of `python -m eval` runs (calibration halves only), for
the named slots (person, place, organization, name), on the answers that contain the gold:

    python -m eval --dataset korquad-open --mode extractive --split calibrate --out KQ
    python -m eval --dataset klue --mode extractive --split calibrate --out KLUE
    python bench/short_answer_particle.py KQ/cases.jsonl KLUE/cases.jsonl

Result 2026-12-04 (README log): KorQuAD 1-70 EM 9 up / 6 down of 497, KLUE odd 3 up / 0 down of 43 — not
clearly better than chance (a sign test of 12 vs 6 gives p ~ 0.24), so `rag.short_answer` is unchanged.
"""

from __future__ import annotations

import json
import sys

from eval.metrics import korquad_em
from rag import short_answer as S
from rag.evidence import question_terms
from rag.korean import KoreanText
from rag.slots import NAMED, asked_slot, slot_values

# particles by grammatical role: subject/topic, object, place or direction, company, possession
CLASSES = ({"이", "가", "은", "는", "께서"}, {"을", "를"}, {"에서", "에", "로", "으로"}, {"와", "과", "하고", "랑", "이랑"}, {"의"})


def _role(particle: str) -> int | None:
    return next((i for i, c in enumerate(CLASSES) if particle in c), None)


def _question_role(morphemes, asked) -> int | None:
    for i, (tag, form, start, end) in enumerate(morphemes):
        if asked.word and form.lower() == asked.word.lower():
            nxt = morphemes[i + 1] if i + 1 < len(morphemes) else None
            return _role(nxt[1]) if nxt and nxt[0].startswith("J") and nxt[2] == end else None
    return None


def short(question: str, claims: list[str], korean: KoreanText, aligned: bool) -> str:
    """rag.short_answer.short_answer, with the particle preference when `aligned`."""
    q = korean.morphemes_batch([question])[0]
    asked = asked_slot(q, korean.lexicon)
    want = _question_role(q, asked) if aligned else None
    known = question_terms(question, korean)
    for claim, m in zip(claims, korean.morphemes_batch(claims)):
        spans = slot_values(m, asked, known, korean.lexicon.units)
        if not spans:
            continue
        spans = S._joined([S._word(sp, m) for sp in spans], claim)
        if asked.slot == "place":
            named = [sp for sp in spans if any(t == "NNP" and s >= sp[0] and e <= sp[1] for t, _, s, e in m)]
            spans = named or spans
        anchors = [(s + e) / 2 for t, f, s, e in m if S._term(t, f) in known]

        def fits(sp) -> bool:
            nxt = next(((t, f) for t, f, s, _ in m if s == sp[1]), None)
            return want is None or (nxt is not None and nxt[0].startswith("J") and _role(nxt[1]) == want)
        best = min(spans, key=lambda sp: (not fits(sp), S._distance(sp, anchors), sp[0]))
        return claim[best[0]:best[1]].strip()
    return ""


def main(paths: list[str]) -> int:
    korean = KoreanText()
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            cases = [c for c in map(json.loads, fh) if not c["refused"] and c.get("correct")]
        n = up = down = 0
        for c in cases:
            if asked_slot(korean.morphemes_batch([c["question"]])[0], korean.lexicon).slot not in NAMED:
                continue
            n += 1
            claims = S.claims_of(c["answer"])
            truths = [a for group in c["answers"] for a in group]
            before = korquad_em(short(c["question"], claims, korean, False), truths)
            after = korquad_em(short(c["question"], claims, korean, True), truths)
            up, down = up + (after > before), down + (before > after)
        print(f"{path}: {n} named-slot answers holding the gold; EM {up} up, {down} down")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
