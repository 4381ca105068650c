"""Citations: parse the [n] markers of an answer and keep only the claims their sentences support.

    text, citations = verify_answer(llm_text, evidence, korean, min_support=0.67, question=question)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

from rag.evidence import Tokenizer, question_terms, to_citation
from rag.extractive import extractive_answer
from rag.dates import dates_supported
from rag.glossary import mostly_latin as _mostly_latin
from rag.slots import NUMERIC, Asked, asked_slot, slot_values
from rag.types import Citation, Evidence


MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\s*\]")
_TWO_SCRIPTS = re.compile(r"^(?=.*[a-z])(?=.*[가-힣])")  # a key term in Latin and Hangul letters
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
YEAR = re.compile(r"^(19|20)(\d\d)$")


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer and the evidence numbers it cites."""

    text: str  # without the [n] markers
    cites: tuple[int, ...]


def parse_citations(text: str) -> list[int]:
    """Every cited number in order of appearance: "[1] … [2, 3]" -> [1, 2, 3]."""
    return [int(n) for m in MARKER.finditer(text) for n in re.split(r"[,，]", m.group(1))]


def split_claims(text: str, korean: Tokenizer) -> list[Claim]:
    """Sentences of an answer with their markers; a marker opening a sentence belongs to the one before."""
    claims: list[Claim] = []
    for a, b in korean.sentences(text):
        sentence = text[a:b]
        lead = re.match(r"^(?:\s*\[\s*\d{1,3}(?:\s*[,，]\s*\d{1,3})*\s*\][.!?。]?)+", sentence)
        if lead and claims:
            prev = claims[-1]
            claims[-1] = Claim(prev.text, prev.cites + tuple(parse_citations(lead.group())))
            sentence = sentence[lead.end():]
        if not MARKER.sub("", sentence).strip(" .!?。"):
            continue
        body = " ".join(MARKER.sub("", sentence).split())
        body = re.sub(r"\s+([.!?,。])", r"\1", body)
        claims.append(Claim(body, tuple(parse_citations(sentence))))
    return claims


@dataclass(frozen=True)
class Asking:
    """What the claim checks need to know of the question: its terms and the kind of value it asks for."""

    terms: frozenset[str] = frozenset()
    asked: Asked = Asked()
    latin: bool = False  # an English question: English names cannot be checked literally


def asking(question: str | None, korean: Tokenizer) -> Asking:
    if question is None:
        return Asking()
    return Asking(frozenset(question_terms(question, korean)), asked_slot(korean.morphemes_batch([question])[0], korean.lexicon),
                  _mostly_latin(question))


@dataclass(frozen=True)
class Verdict:
    """A claim checked: written with the citations that support it ("… [1][3].") and each one's
    support, or `reason`, the first check it fails (a code for diagnostics; "" when it stands)."""

    text: str = ""
    support: dict[int, float] = field(default_factory=dict)
    reason: str = ""


def check_claim(claim: Claim, evidence: Sequence[Evidence], korean: Tokenizer, min_support: float,
                question: Asking) -> tuple[str, dict[int, float]] | None:
    """The claim written with the citations that support it ("… [1][3].") and each one's support,
    or None when it is uncited, unsupported, a restatement of the question, or no answer to it
    (`judge_claim` says which)."""
    verdict = judge_claim(claim, evidence, korean, min_support, question)
    return None if verdict.reason else (verdict.text, verdict.support)


def judge_claim(claim: Claim, evidence: Sequence[Evidence], korean: Tokenizer, min_support: float,
                question: Asking) -> Verdict:
    """`check_claim`'s checks in their order; a rejected claim gets the first one it fails:
    "uncited", "cites a number not given", "a question, not an answer", "says the question back",
    "no value of the asked kind", or "unsupported: " and `measure_support`'s reason for all its cited
    sentences together."""
    by_n = {ev.n: ev for ev in evidence}
    latin_names = not question.latin
    valid = [n for n in dict.fromkeys(claim.cites) if n in by_n]
    if not valid:
        return Verdict(reason="cites a number not given" if claim.cites else "uncited")
    if claim.text.rstrip().endswith(("?", "？")):
        # "…교육을 담당했는가 [1]?": a small model's yes/no question in place of an answer asserts nothing
        return Verdict(reason="a question, not an answer")
    if question.terms and not _adds_to(claim.text, set(question.terms), korean):
        # "… 금액은 다음과 같습니다 [1][2]": the question said back, nothing answered
        return Verdict(reason="says the question back")
    if question.asked.slot and not _answers(claim.text, question, korean):
        # "공정거래법이 좋은 예다 [1]" for "바뀐 명칭은?": supported, but no answer
        return Verdict(reason="no value of the asked kind")
    alone = [measure_support(claim.text, [by_n[n]], korean, min_support, latin_names) for n in valid]
    good = [n for n, s in zip(valid, alone) if s.value is not None]
    together = alone[0]  # the reason of a rejection: all the cited sentences together
    if not good and len(valid) > 1:
        # facts split across several cited sentences: accept the set, keep the ones that contribute
        together = measure_support(claim.text, [by_n[n] for n in valid], korean, min_support, latin_names)
        if together.value is not None:
            good = [n for n in valid if _contributes(claim.text, by_n[n], korean)]
    if not good:
        # the model cited a neighbour of the sentence that holds a fact ("SKT" in the sentence
        # before the amount): given sentences of the same articles may complete the support
        good = _repair_citations(claim.text, valid, evidence, korean, min_support, latin_names)
    if not good:
        return Verdict(reason="unsupported: " + (together.reason or "other (no single cited sentence, no contributing one)"))
    # a sentence's support alone was measured above when it passed (the value does not depend on the bar)
    measured = {n: s.value for n, s in zip(valid, alone) if s.value is not None}
    support_of = {n: (measured.get(n) or claim_support(claim.text, [by_n[n]], korean, 0.0, latin_names)
                      or claim_support(claim.text, [by_n[m] for m in good], korean, 0.0, latin_names) or 0.0)
                  for n in good}
    body = claim.text.rstrip()
    end = body[-1] if body and body[-1] in ".!?。" else ""
    body = body[:-1] if end else body
    return Verdict(f"{body} {''.join(f'[{n}]' for n in good)}{end or '.'}", support_of)


def _answers(claim: str, question: Asking, korean: Tokenizer) -> bool:
    """Whether the claim holds a value of the kind the question asks for that the question lacks.
    An English claim is only held to the numbers a quantity needs (its names are not Korean)."""
    if _mostly_latin(claim):
        return question.asked.slot not in NUMERIC or bool(NUMBER.search(claim))
    return bool(slot_values(korean.morphemes_batch([claim])[0], question.asked, set(question.terms), korean.lexicon.units))


def verify_answer(
    answer_text: str,
    evidence: Sequence[Evidence],
    korean: Tokenizer,
    min_support: float,
    question: str | None = None,
    fallback: bool = True,
) -> tuple[str, tuple[Citation, ...]]:
    """Keep the claims their citations support and that answer the question; drop the rest.

    A citation supports a claim when every number, date and name of the claim occurs in the cited
    sentence (names also in its article title), and at least `min_support` of the claim's terms do.
    If nothing survives and `question` is given, the extractive answer is returned instead
    (`fallback=False` returns ("", ()) so the caller can decide).
    """
    by_n = {ev.n: ev for ev in evidence}
    facts = asking(question, korean)
    kept: list[str] = []
    support_of: dict[int, float] = {}
    for claim in split_claims(answer_text, korean):
        checked = check_claim(claim, evidence, korean, min_support, facts)
        if checked is None:
            continue
        kept.append(checked[0])
        for n, value in checked[1].items():
            support_of[n] = max(support_of.get(n, 0.0), value)
    if not kept:
        if question is not None and fallback:
            return extractive_answer(question, evidence, korean)
        return "", ()
    return " ".join(kept), cite(kept, by_n, support_of)


def cite(kept: Sequence[str], by_n: dict[int, Evidence], support_of: dict[int, float]) -> tuple[Citation, ...]:
    """The citations of verified claims, in order of first mention."""
    order = list(dict.fromkeys(parse_citations(" ".join(kept))))
    return tuple(to_citation(by_n[n], support_of.get(n, 1.0)) for n in order)


def claim_support(claim: str, cited: Sequence[Evidence], korean: Tokenizer, min_support: float,
                  latin_names: bool = True) -> float | None:
    """Lexical support of `claim` by the cited sentences, or None when a fact is missing there."""
    return measure_support(claim, cited, korean, min_support, latin_names).value


class Support(NamedTuple):
    """`claim_support`'s value, and the first of its steps the claim fails ("" when it passes)."""

    value: float | None
    reason: str = ""


def measure_support(claim: str, cited: Sequence[Evidence], korean: Tokenizer, min_support: float,
                    latin_names: bool = True) -> Support:
    """`claim_support` with its reason: a number, a date or a name missing from the cited sentences,
    numbers bound to another name, no content word, or too few of its words there."""
    text = " ".join(ev.text for ev in cited)
    context = text + " " + " ".join(ev.title for ev in cited)
    # whole numbers only: "500" must not be found inside "5000", and an approximate "500여" of the
    # claim needs the same approximation in the evidence. Values come from the cited sentences, not
    # from titles: a headline's "500억원" next to an unrelated sentence supports nothing (a year may
    # stand in the title: it dates the article)
    numbers = {m.group().replace(",", "").rstrip("."): m.end() for m in NUMBER.finditer(text)}
    approx = {m.group().replace(",", "").rstrip(".") for m in NUMBER.finditer(text)
              if text[m.end():m.end() + 1] == "여"}
    for m in NUMBER.finditer(claim):
        digits = m.group().replace(",", "").rstrip(".")
        if len(digits) <= 1 or year_in(digits, context) or (YEAR.match(digits) and digits in context):
            continue
        if digits not in numbers:
            return Support(None, "number not in the cited sentences")
        if claim[m.end():m.end() + 1] == "여" and digits not in approx:
            return Support(None, "number not in the cited sentences")
    if not dates_supported(claim, [ev.text for ev in cited]):
        return Support(None, "date not in the cited sentences")
    if len(cited) > 1 and not _bound(claim, cited, korean):
        return Support(None, "number bound to another name")
    context_terms = set(korean.tokens(context))
    # a name in two scripts ("SK하이닉스", which Kiwi reads SK / 하이닉스) may be spaced in the sentence ("SK 하이닉스")
    unspaced = "".join(context.lower().split())
    latin_claim = _mostly_latin(claim) and not _mostly_latin(text)
    for name in korean.key_terms(claim):
        if (latin_claim or not latin_names) and name.isascii() and not name.isdigit():
            continue  # English names ("LG Innotek") are spelled in Hangul in the evidence
        if name.isdigit() and year_in(name, context):
            continue  # checked with the numbers above: "2023" written "'23" in the evidence
        if len(name) > 1 and name not in context_terms and name not in context.lower() \
                and not (_TWO_SCRIPTS.match(name) and name in unspaced):
            return Support(None, "name not in the cited sentences")
    if _mostly_latin(claim) and not _mostly_latin(text):
        # an English answer over Korean evidence shares no words with it: its numbers (checked
        # above) are the only literal check left, so it must have at least one
        if any(len(n.replace(",", "")) > 1 for n in NUMBER.findall(claim)):
            return Support(1.0)
        return Support(None, "English claim without a number")
    terms = [t for t in korean.tokens(claim) if t not in korean.lexicon.question_words]
    if not terms:
        return Support(None, "no content word")
    evidence_terms = set(korean.tokens(text)) | context_terms
    share = sum(1 for t in terms if t in evidence_terms) / len(terms)
    return Support(share) if share >= min_support else Support(None, "too few of its words in the cited sentences")



def _adds_to(claim: str, asked: set[str], korean: Tokenizer) -> bool:
    """Whether the claim says something the question did not: a content word or a number. Both are
    compared as index terms, which spell "1,030" as "1030" whichever way the claim or question wrote it."""
    # words of an answer's frame ("다음과 같습니다", "…입니다") and of questions answer nothing
    ignored = asked | korean.lexicon.frame_words | korean.lexicon.question_words
    return any(t not in ignored for t in korean.tokens(claim))


def _bound(claim: str, cited: Sequence[Evidence], korean: Tokenizer) -> bool:
    """Each number of the claim stands in one cited sentence with the name the claim gives it.

    "SKT: 160억원 [1][2]" with SKT in [1] and "LGU+ … 160억원" in [2] has every fact somewhere in
    the citations, and is still wrong: the name nearest before a number (the one the claim
    attributes it to) must be in the sentence holding the number, or in that article's title."""
    lowered = claim.lower()
    names = [(lowered.find(t), t) for t in korean.key_terms(claim) if len(t) > 1 and not t.isdigit()]
    names = sorted((at, t) for at, t in names if at >= 0)
    for m in NUMBER.finditer(claim):
        digits = m.group().replace(",", "").rstrip(".")
        if len(digits) <= 1 or YEAR.match(digits):
            continue
        before = [t for at, t in names if at + len(t) <= m.start()]
        if not before:
            continue
        # (a one-letter piece of the name is no spelling of it: "B" of "B공장" stands inside "Web")
        spellings = {t for t in korean.key_terms(before[-1]) if len(t) > 1} | {before[-1]}
        holders = [ev for ev in cited if _has_number(ev.text, digits)]
        if holders and not any(any(n in f"{ev.title}\n{ev.text}".lower() for n in spellings) for ev in holders):
            return False
    return True


def _has_number(text: str, digits: str) -> bool:
    return any(m.group().replace(",", "").rstrip(".") == digits for m in NUMBER.finditer(text))


def _repair_citations(claim: str, valid: Sequence[int], evidence: Sequence[Evidence], korean: Tokenizer,
                      min_support: float, latin_names: bool) -> list[int]:
    """The cited sentences plus the fewest same-article sentences that hold the claim's missing
    numbers and names, when together they support it; [] otherwise."""
    by_n = {ev.n: ev for ev in evidence}
    docs = {by_n[n].doc_id for n in valid}
    cited = list(valid)
    facts = [m.group().replace(",", "").rstrip(".") for m in NUMBER.finditer(claim)]
    facts = [f for f in facts if len(f) > 1]
    if latin_names:
        facts += [t for t in korean.key_terms(claim) if len(t) > 1 and not t.isdigit()]
    for fact in facts:
        if any(fact in by_n[n].text.replace(",", "").lower() for n in cited):
            continue
        holder = next((ev.n for ev in evidence if ev.doc_id in docs and ev.n not in cited
                       and fact in ev.text.replace(",", "").lower()), None)
        if holder is not None:
            cited.append(holder)
    if len(cited) == len(valid):
        return []
    if claim_support(claim, [by_n[n] for n in cited], korean, min_support, latin_names) is None:
        return []
    return sorted(cited)


def _contributes(claim: str, ev: Evidence, korean: Tokenizer) -> bool:
    return bool(set(korean.tokens(claim)) & set(korean.tokens(ev.text)))


def year_in(digits: str, text: str) -> bool:
    """"2023" also matches the abbreviated "'23" of tables and press releases ("'23년 매출": a counter may
    follow it, but no third digit)."""
    m = YEAR.match(digits)
    return bool(m) and re.search(rf"['‘’]{m.group(2)}(?!\d)", text) is not None
