"""The short answer: the value a cited claim gives for what the question asks — "1,030억 원" for
얼마, "2019년" for 언제, "서울" for 어디 — shown beside the cited sentences, which stay the answer.

    short = short_answer(question, claims, korean, phrases)   # claims best first; "" when nothing fits

For a question that asks for a kind of value (rag/slots.py: a number, a date, a proper noun) the value
is read from the claims' own words with Kiwi's tags (no list of entities) and must be new to the question.
With a fitted value model (`python -m eval.fit value`, rag/fitted/value.json) every value of every claim is
a candidate, a listwise logit over rag/phrases.py's features and the claim's place picks one, and it is
shown only when its share of the softmax reaches the model's threshold: a wrong value highlighted above a
right sentence costs more trust than none. Without one, the value comes from the first claim that holds
one, nearest to the words it shares with the question. Any other question ("무엇을 편찬하였나?",
"…경제지는?"), or one whose claims hold no value of its kind (or none sure enough), gets the noun phrase of
the best claim that a fitted model picks (rag/phrases.py), when it is sure enough; "왜" and "어떻게"
questions get none, since a sentence is their answer.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

from rag.evidence import Tokenizer, question_terms
from rag.phrases import FEATURES, best_phrase, phrase_features, question_shape, softmax, term_of
from rag.ranker import LogisticModel
from rag.slots import Asked, Morpheme, asked_slot, slot_values
from rag.types import Citation, Evidence

# the value model's features: the phrase model's, and where the value's claim stands in the answer
VALUE_FEATURES = FEATURES + ("claim_index", "first_claim", "values_in_claim", "unit_match", "hanja", "place_name")
_HANJA = re.compile(r"[\u4e00-\u9fff]")
_HANGUL = re.compile(r"[가-힣]")

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


def answer_claims(text: str, citations: Sequence[Citation], evidence: Sequence[Evidence], used: str) -> list[str]:
    """The claims a short answer is read from, best first: an extractive answer's sentences in the
    ranker's order (it cites them in article order), an LLM answer's claims as written."""
    if used == "llm":
        return claims_of(text)
    rank = {(ev.doc_id, ev.start): i for i, ev in reversed(list(enumerate(evidence)))}
    return [c.quote for c in sorted(citations, key=lambda c: rank.get((c.source, c.start), len(rank)))]


def short_answer(question: str, claims: Sequence[str], korean: Tokenizer, phrases: LogisticModel | None = None,
                 values: LogisticModel | None = None) -> str:
    """The value of the asked kind the `values` model picks among every claim's, when sure enough
    (without a model: the first claim's holding one, nearest to a word the question repeats — the value
    a sentence gives for the question sits beside the question's own words); else, with a `phrases`
    model, the phrase of the first claim it picks (rag/phrases.py); else ""."""
    claims = [c for c in claims if c.strip()]
    if not claims:
        return ""
    value = _slot_value(question, claims, korean) if values is None else _fitted_value(question, claims, korean, values)
    if value or phrases is None:
        return value
    return best_phrase(question, claims[0], korean, phrases)


def value_candidates(question: str, claims: Sequence[str], korean: Tokenizer
                     ) -> tuple[list[tuple[int, tuple[int, int]]], dict[str, list[float]]]:
    """Every value of the asked kind in every claim, as (claim index, character span), and their
    feature columns (VALUE_FEATURES); ([], {}) when the question asks no kind of value."""
    asked = asked_slot(korean.morphemes_batch([question])[0], korean.lexicon)
    if not asked.slot:
        return [], {}
    known = question_terms(question, korean)
    shape = question_shape(question, korean)
    found: list[tuple[int, tuple[int, int]]] = []
    columns: dict[str, list[float]] = {name: [] for name in VALUE_FEATURES}
    for index, (claim, morphemes) in enumerate(zip(claims, korean.morphemes_batch(claims))):
        spans = _claim_values(claim, morphemes, asked, known, korean)
        if not spans:
            continue
        named = set(_named(spans, morphemes))
        spans, features = phrase_features(shape, claim, morphemes, {span: {"run"} for span in spans})
        for i, (start, end) in enumerate(spans):
            text = claim[start:end]
            for name in FEATURES:
                columns[name].append(features[name][i])
            columns["claim_index"].append(float(index))
            columns["first_claim"].append(float(index == 0))
            columns["values_in_claim"].append(math.log(len(spans)))
            columns["unit_match"].append(float(bool(asked.unit) and asked.unit in text))
            columns["hanja"].append(float(bool(_HANJA.search(text)) and not _HANGUL.search(text)))  # "高麗國史" beside "고려국사"
            columns["place_name"].append(float(asked.slot == "place" and (start, end) in named))
            found.append((index, (start, end)))
    return found, columns


def _fitted_value(question: str, claims: Sequence[str], korean: Tokenizer, model: LogisticModel) -> str:
    """The candidate value the model puts first, "" when its softmax share is under the model's threshold."""
    found, columns = value_candidates(question, claims, korean)
    if not found:
        return ""
    shares = softmax(model.logits(columns))
    best = max(range(len(found)), key=lambda i: (shares[i], -found[i][0], -found[i][1][0]))
    if shares[best] < model.threshold:
        return ""
    index, (start, end) = found[best]
    return claims[index][start:end]


def _claim_values(claim: str, morphemes: Sequence[Morpheme], asked: Asked, known: set[str],
                  korean: Tokenizer) -> list[tuple[int, int]]:
    """The claim's values of the asked kind, each widened to its word, name pieces joined, trimmed."""
    spans = slot_values(morphemes, asked, known, korean.lexicon.units)
    out = []
    for start, end in _joined([_word(span, morphemes) for span in spans], claim):
        piece = claim[start:end].strip()
        if piece:
            start = claim.index(piece, start)
            out.append((start, start + len(piece)))
    return out


def _named(spans: Sequence[tuple[int, int]], morphemes: Sequence[Morpheme]) -> list[tuple[int, int]]:
    """The spans holding a proper noun."""
    return [sp for sp in spans if any(t == "NNP" and s >= sp[0] and e <= sp[1] for t, _, s, e in morphemes)]


def _slot_value(question: str, claims: Sequence[str], korean: Tokenizer) -> str:
    asked = asked_slot(korean.morphemes_batch([question])[0], korean.lexicon)
    if not asked.slot:
        return ""
    known = question_terms(question, korean)
    for claim, morphemes in zip(claims, korean.morphemes_batch(claims)):
        spans = _claim_values(claim, morphemes, asked, known, korean)
        if not spans:
            continue
        # a name ("서울 서초구") is a surer value than a common noun before a particle ("주최로")
        if asked.slot == "place":
            spans = _named(spans, morphemes) or spans
        anchors = [(s + e) / 2 for t, f, s, e in morphemes if term_of(t, f) in known]
        best = min(spans, key=lambda sp: (_distance(sp, anchors), sp[0]))
        return claim[best[0]:best[1]]
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
