"""The short answer: the value a cited claim gives for what the question asks — "1,030억 원" for
얼마, "2019년" for 언제, "서울" for 어디 — shown beside the cited sentences, which stay the answer.

    short = short_answer(question, claims, korean, phrases)   # claims best first; "" when nothing fits

For a question that asks for a kind of value (rag/slots.py: a number, a date, a proper noun) the value
is read from the claim's own words with Kiwi's tags (no list of entities), must be new to the question,
and comes from the first claim that holds one, nearest to the words it shares with the question. Any
other question ("무엇을 편찬하였나?", "…경제지는?"), or one whose claims hold no value of its kind, gets
the noun phrase of the best claim that a fitted model picks (rag/phrases.py), when it is sure enough;
"왜" and "어떻게" questions get none, since a sentence is their answer.
"""

from __future__ import annotations

import re
from typing import Sequence

from rag.evidence import Tokenizer, question_terms
from rag.phrases import best_phrase, term_of
from rag.ranker import LogisticModel
from rag.slots import NAMED, asked_slot, slot_values

# a citation marker ("[1]", "[2, 3]") ends a claim of an answer
_MARKER = re.compile(r"\[\s*\d{1,3}(?:\s*[,，]\s*\d{1,3})*\s*\]")
# values Kiwi splits at a space ("서울 중구", "1989년 2월 15일") are one answer when one space parts them
_JOIN_GAP = re.compile(r"^\s{0,1}$")


def claims_of(answer: str) -> list[str]:
    """The cited claims of an answer, in its order: the text before each citation marker."""
    out, start = [], 0
    for match in _MARKER.finditer(answer):
        piece = answer[start:match.start()].strip().lstrip(".。!?").strip()
        if piece:
            out.append(piece)
        start = match.end()
    return out


def short_answer(question: str, claims: Sequence[str], korean: Tokenizer, phrases: LogisticModel | None = None) -> str:
    """The value of the asked kind in the first claim holding one; else, with a `phrases` model, the
    phrase of the first claim it picks (rag/phrases.py); else "". Among several values in a claim, the
    one nearest to a word the question repeats: the value a sentence gives for the question sits beside
    the question's own words."""
    claims = [c for c in claims if c.strip()]
    if not claims:
        return ""
    value = _slot_value(question, claims, korean)
    if value or phrases is None:
        return value
    return best_phrase(question, claims[0], korean, phrases)


def _slot_value(question: str, claims: Sequence[str], korean: Tokenizer) -> str:
    asked = asked_slot(korean.morphemes_batch([question])[0], korean.lexicon)
    if not asked.slot:
        return ""
    known = question_terms(question, korean)
    for claim, morphemes in zip(claims, korean.morphemes_batch(claims)):
        spans = slot_values(morphemes, asked, known, korean.lexicon.units)
        if not spans:
            continue
        spans = _joined([_word(span, morphemes) for span in spans], claim)
        # a name ("서울 서초구") is a surer value than a common noun before a particle ("주최로")
        if asked.slot == "place":
            named = [sp for sp in spans if any(t == "NNP" and s >= sp[0] and e <= sp[1] for t, _, s, e in morphemes)]
            spans = named or spans
        anchors = [(s + e) / 2 for t, f, s, e in morphemes if term_of(t, f) in known]
        best = min(spans, key=lambda sp: (_distance(sp, anchors), sp[0]))
        return claim[best[0]:best[1]].strip()
    return ""


# pieces of one word that belong to a value: "제" of "제64대", "동" of "24개동", "궁전" of "…궁전"
_PART_OF_VALUE = ("NN", "SN", "NR", "SL", "SH", "XPN", "XSN", "SO")


def _word(span: tuple[int, int], morphemes: Sequence) -> tuple[int, int]:
    """A value widened to the noun pieces glued to it in its word, never across a particle or
    an ending: "64대" -> "제64대", "24개" -> "24개동", but "2014년 7월 14일에" keeps "14일"."""
    start, end = span
    for tag, _, s, e in reversed(morphemes):
        if e == start and tag.startswith(_PART_OF_VALUE):
            start = s
    for tag, _, s, e in morphemes:
        if s == end and tag.startswith(_PART_OF_VALUE):
            end = e
    return start, end


def _joined(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Adjacent name pieces parted by at most one space, as one span."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and _JOIN_GAP.match(text[out[-1][1]:start]):
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _distance(span: tuple[int, int], anchors: list[float]) -> float:
    if not anchors:
        return 0.0
    middle = (span[0] + span[1]) / 2
    return min(abs(middle - a) for a in anchors)
