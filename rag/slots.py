"""What a question asks for (its answer slot), and where a sentence holds a value of that kind.

Read from Kiwi's tags and the shapes of numbers and dates, never from lists of known entities: a
place, person or organization is a proper noun (NNP, or a Latin word for an organization); a year,
a date, an amount or a count is a number with its unit. The question words that ask for each slot
are data (rag/lexicon/question_words.tsv).

    asked = asked_slot(korean.morphemes_batch([question])[0], korean.lexicon)   # Asked("year", "해")
    spans = slot_values(korean.morphemes_batch([sentence])[0], asked, question_terms, korean.lexicon.units)

A value the question already names is no answer ("KT의 …은 어디?" is not answered by "KT"), so
values are only counted when their words are new to the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from rag.vocabulary import Lexicon

Morpheme = tuple[str, str, int, int]  # (tag, form, start, end), as KoreanText.morphemes_batch gives them

NAMED = frozenset({"place", "person", "organization", "name"})
NUMERIC = frozenset({"year", "date", "amount", "count", "percent", "number"})
_NOUNS = frozenset({"NNG", "NNP", "NNB", "NP", "SL", "SH", "NR"})
_NUMBER_TAGS = frozenset({"SN", "NR"})
_LOCATIVE = frozenset({"에서", "에", "으로", "로"})
_FOUR_DIGIT_YEAR = re.compile(r"^(1\d|20)\d\d$")
_NUMBER_WITH_UNIT = re.compile(r"^(\d[\d,.]*)([A-Za-z]+)$")
# "2024.11.28", "2024-11", and as Korean writes it, "2024. 11. 28." (Kiwi keeps a sentence's last period)
_SERIAL_DATE = re.compile(r"^(?:(1\d|20)\d\d)[./-]\s*\d{1,2}(?:[./-]\s*\d{1,2})?\.?$")


@dataclass(frozen=True)
class Asked:
    """The kind of value the question wants ("" when it asks what, why or how), the word that says
    so, and the unit it names ("명" of "몇 명")."""

    slot: str = ""
    word: str = ""
    unit: str = ""


def asked_slot(morphemes: Sequence[Morpheme], lexicon: Lexicon) -> Asked:
    """A question word anywhere ("어디", "누가", "몇 명") decides; else the question's last noun ("…해는?")."""
    for i, (tag, form, _, _) in enumerate(morphemes):
        word = form.lower()
        slot = lexicon.wh_words.get(word)
        if not slot:
            continue
        if word == "몇":  # the counter after it says what is counted: 몇 년 (a year), 몇 명 (people), 몇 %
            unit = next((f for t, f, _, _ in morphemes[i + 1:i + 2] if t in ("NNB", "NNG", "SW", "SL")), "")
            kind = lexicon.units.get(unit.lower())
            if kind in ("year", "date", "percent"):
                return Asked(kind, word, unit)
            if kind == "measure":  # 몇 m, 몇 kg: a measure is answered by an amount ("115m"), not a count
                return Asked("amount", word, unit)
            return Asked("count", word, unit)
        return Asked(slot, word)
    head = _last_noun(morphemes)
    if head and lexicon.head_words.get(head.lower()):
        return Asked(lexicon.head_words[head.lower()], head)
    return Asked()


def asks_several(question: str, lexicon: Lexicon) -> bool:
    """Whether the question asks for several items ("A와 B는 각각 …", "두 곳은"): its cues are data
    (rag/lexicon/multi_part_cues.txt)."""
    return any(p.search(question) for p in lexicon.multi_part)


def _last_noun(morphemes: Sequence[Morpheme]) -> str:
    """The noun a question ends on, past its particles, copula and endings ("…학교의 이름은?" -> 이름)."""
    for tag, form, _, _ in reversed(morphemes):
        if tag in _NOUNS:
            return form
        if tag.startswith(("J", "E", "XS")) or tag in ("VCP", "SF", "SP", "SS", "SSO", "SSC", "SW", "SE"):
            continue
        return ""  # a verb or adjective ends the question: no head noun asks for anything
    return ""


def holds_a_number(morphemes: Sequence[Morpheme]) -> bool:
    """Whether a sentence's morphemes hold a figure written in digits ("100m", "2013년", "3학년"): for
    얼마/몇/언제 a sentence without one cannot answer, whatever unit its number carries (a counting
    word such as "하나로" is no value)."""
    return any(any(ch.isdigit() for ch in form) for _, form, *_ in morphemes)


def slot_values(morphemes: Sequence[Morpheme], asked: Asked, known: set[str],
                units: Mapping[str, str]) -> list[tuple[int, int]]:
    """Character spans of the values of the asked kind in a sentence that `known` (the question's
    terms, lower case) does not already hold; `units` says what a number's unit makes it
    (Lexicon.units). [] when nothing is asked."""
    if not asked.slot:
        return []
    if asked.slot in NUMERIC:
        return [span for span, kind in numbers(morphemes, units) if _fits(kind, asked) and not _known(span, morphemes, known)]
    out = []
    for i, (tag, form, start, end) in enumerate(morphemes):
        lowered = form.lower()
        if lowered in known or len(form) < 2 and tag != "SL":
            continue
        if tag == "NNP" or (tag == "SL" and asked.slot in ("organization", "name")):
            out.append((start, end))
        elif asked.slot == "place" and tag == "NNG" and _followed_by(morphemes, i, _LOCATIVE):
            out.append((start, end))
    if asked.slot == "name":
        out.extend(_quoted(morphemes, known))
    return out


def numbers(morphemes: Sequence[Morpheme], units: Mapping[str, str]) -> list[tuple[tuple[int, int], str]]:
    """Each number with its unit, and its kind (`units`, rag/lexicon/units.tsv): year, date, percent,
    money (a currency or a magnitude: "1,030억 원", "19조"), count (another counter: "300여 명",
    "제3기") or bare (no unit: a list index, a code)."""
    out = []
    for i, (tag, form, start, end) in enumerate(morphemes):
        if tag == "W_SERIAL" and _SERIAL_DATE.match(form):
            out.append(((start, end), "date"))
            continue
        glued = _NUMBER_WITH_UNIT.match(form) if tag == "SL" else None
        if glued:  # "45cm", "2.5km": Kiwi keeps a number and a Latin unit as one word
            out.append(((start, end), units.get(glued.group(2).lower(), "count")))
            continue
        if tag not in _NUMBER_TAGS or (i and morphemes[i - 1][0] in _NUMBER_TAGS and morphemes[i - 1][3] == start):
            continue  # "1,030" + "억": one number, counted at its first piece
        j = i + 1
        while j < len(morphemes) and morphemes[j][0] in _NUMBER_TAGS and morphemes[j][2] == morphemes[j - 1][3]:
            j += 1
        magnitude = j > i + 1 or tag == "NR"
        unit = ""
        if j < len(morphemes):
            nxt_tag, nxt, nxt_start, _ = morphemes[j]
            attached = nxt_start == morphemes[j - 1][3]
            # a counter (NNB) may stand apart ("1,030억 원"); a noun, symbol or suffix must be attached
            if nxt_tag == "NNB" or (attached and nxt_tag in ("NNG", "SW", "SL", "XSN")):
                unit = nxt
        if unit == "여" and j + 1 < len(morphemes) and morphemes[j + 1][0] in ("NNB", "NNG"):
            unit = morphemes[j + 1][1]  # "300여 명": the approximation before the counter
            j += 1
        stop = morphemes[j][3] if unit else morphemes[j - 1][3]
        if not unit and _FOUR_DIGIT_YEAR.match(form):
            kind = "year"
        elif unit in units:
            kind = units[unit]
        elif magnitude:
            kind = "money"  # "1,030억", "5천만": magnitudes are how amounts are written
        else:
            kind = "count" if unit else "bare"
        out.append(((start, stop), kind))
    return out


def _fits(kind: str, asked: Asked) -> bool:
    if asked.slot == "year":
        return kind == "year"
    if asked.slot == "date":
        return kind in ("year", "date")
    if asked.slot == "percent":
        return kind == "percent"
    if asked.slot == "amount":
        return kind in ("money", "percent", "measure")
    if asked.slot == "count":
        return kind in ("count", "money")  # "몇 명" may be answered "1만 명"
    # "얼마나": any quantity, a duration too ("5년", "10일": written with the units of years and dates)
    return kind in ("money", "count", "percent", "measure", "bare", "year", "date")


def _known(span: tuple[int, int], morphemes: Sequence[Morpheme], known: set[str]) -> bool:
    digits = [f.replace(",", "") for t, f, s, e in morphemes if s >= span[0] and e <= span[1] and t in _NUMBER_TAGS]
    return bool(digits) and all(d in known for d in digits)


def _followed_by(morphemes: Sequence[Morpheme], i: int, particles: frozenset[str]) -> bool:
    return i + 1 < len(morphemes) and morphemes[i + 1][0] == "JKB" and morphemes[i + 1][1] in particles


def _quoted(morphemes: Sequence[Morpheme], known: set[str]) -> list[tuple[int, int]]:
    """Spans between opening and closing quotes/brackets holding a word the question lacks."""
    out, opened = [], None
    for i, (tag, form, start, end) in enumerate(morphemes):
        if tag == "SSO":
            opened = i
        elif tag == "SSC" and opened is not None:
            inner = morphemes[opened + 1:i]
            if any(t in _NOUNS and f.lower() not in known for t, f, _, _ in inner):
                out.append((morphemes[opened][3], start))
            opened = None
    return out


def is_command(morphemes: Sequence[Morpheme], lexicon: Lexicon) -> bool:
    """A sentence whose last final ending is imperative ("…라고만 답하라"): addressed to a reader,
    not a statement of fact. A quoted command inside a report ("…하라'고 말했다") is not one."""
    last = next((form for tag, form, _, _ in reversed(morphemes) if tag == "EF"), "")
    return last in lexicon.imperative_endings
