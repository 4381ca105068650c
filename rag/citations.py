"""Citations: parse the [n] markers of an answer and keep only the claims their sentences support.

    text, citations = verify_answer(llm_text, evidence, korean, min_support=0.67, question=question)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from rag.evidence import Tokenizer, to_citation
from rag.extractive import extractive_answer
from rag.glossary import mostly_latin as _mostly_latin
from rag.types import Citation, Evidence


MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\s*\]")
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


def verify_answer(
    answer_text: str,
    evidence: Sequence[Evidence],
    korean: Tokenizer,
    min_support: float,
    question: str | None = None,
    fallback: bool = True,
) -> tuple[str, tuple[Citation, ...]]:
    """Keep the claims their citations support; drop unsupported citations and uncited claims.

    A citation supports a claim when every number and name of the claim occurs in the cited
    sentence (or its article title), and at least `min_support` of the claim's terms do.
    If nothing survives and `question` is given, the extractive answer is returned instead
    (`fallback=False` returns ("", ()) so the caller can decide).
    """
    by_n = {ev.n: ev for ev in evidence}
    # an English question gets "LG Innotek" for "LG이노텍": English names cannot be checked literally
    latin_names = not (question is not None and _mostly_latin(question))
    kept: list[str] = []
    support_of: dict[int, float] = {}
    asked = set(korean.tokens(question)) if question is not None else set()
    for claim in split_claims(answer_text, korean):
        valid = [n for n in dict.fromkeys(claim.cites) if n in by_n]
        if not valid:
            continue
        if asked and not _adds_to(claim.text, asked, korean):
            continue  # "… 금액은 다음과 같습니다 [1][2]": the question said back, nothing answered
        good = [n for n in valid if claim_support(claim.text, [by_n[n]], korean, min_support, latin_names) is not None]
        if not good and len(valid) > 1:
            # facts split across several cited sentences: accept the set, keep the ones that contribute
            if claim_support(claim.text, [by_n[n] for n in valid], korean, min_support, latin_names) is not None:
                good = [n for n in valid if _contributes(claim.text, by_n[n], korean)]
        if not good:
            # the model cited a neighbour of the sentence that holds a fact ("SKT" in the sentence
            # before the amount): given sentences of the same articles may complete the support
            good = _repair_citations(claim.text, valid, evidence, korean, min_support, latin_names)
        if not good:
            continue
        for n in good:
            s = (claim_support(claim.text, [by_n[n]], korean, 0.0, latin_names)
                 or claim_support(claim.text, [by_n[m] for m in good], korean, 0.0, latin_names) or 0.0)
            support_of[n] = max(support_of.get(n, 0.0), s)
        body = claim.text.rstrip()
        end = body[-1] if body and body[-1] in ".!?。" else ""
        body = body[:-1] if end else body
        kept.append(f"{body} {''.join(f'[{n}]' for n in good)}{end or '.'}")
    if not kept:
        if question is not None and fallback:
            return extractive_answer(question, evidence, korean)
        return "", ()
    order = list(dict.fromkeys(parse_citations(" ".join(kept))))
    citations = tuple(to_citation(by_n[n], support_of.get(n, 1.0)) for n in order)
    return " ".join(kept), citations


def claim_support(claim: str, cited: Sequence[Evidence], korean: Tokenizer, min_support: float,
                  latin_names: bool = True) -> float | None:
    """Lexical support of `claim` by the cited sentences, or None when a fact is missing there."""
    text = " ".join(ev.text for ev in cited)
    context = text + " " + " ".join(ev.title for ev in cited)
    # whole numbers only: "500" must not be found inside "5000", and an approximate "500여" of the
    # claim needs the same approximation in the evidence
    numbers = {m.group().replace(",", "").rstrip("."): m.end() for m in NUMBER.finditer(context)}
    approx = {m.group().replace(",", "").rstrip(".") for m in NUMBER.finditer(context)
              if context[m.end():m.end() + 1] == "여"}
    for m in NUMBER.finditer(claim):
        digits = m.group().replace(",", "").rstrip(".")
        if len(digits) <= 1 or year_in(digits, context):
            continue
        if digits not in numbers:
            return None
        if claim[m.end():m.end() + 1] == "여" and digits not in approx:
            return None
    if len(cited) > 1 and not _bound(claim, cited, korean):
        return None
    context_terms = set(korean.tokens(context))
    latin_claim = _mostly_latin(claim) and not _mostly_latin(text)
    for name in korean.key_terms(claim):
        if (latin_claim or not latin_names) and name.isascii() and not name.isdigit():
            continue  # English names ("LG Innotek") are spelled in Hangul in the evidence
        if len(name) > 1 and name not in context_terms and name not in context.lower():
            return None
    if _mostly_latin(claim) and not _mostly_latin(text):
        # an English answer over Korean evidence shares no words with it: its numbers (checked
        # above) are the only literal check left, so it must have at least one
        return 1.0 if any(len(n.replace(",", "")) > 1 for n in NUMBER.findall(claim)) else None
    terms = [t for t in korean.tokens(claim) if t not in korean.lexicon.question_words]
    if not terms:
        return None
    evidence_terms = set(korean.tokens(text)) | context_terms
    support = sum(1 for t in terms if t in evidence_terms) / len(terms)
    return support if support >= min_support else None



def _adds_to(claim: str, asked: set[str], korean: Tokenizer) -> bool:
    """Whether the claim says something the question did not: a number, or a content word."""
    if any(len(m.group().replace(",", "")) > 1 and m.group() not in asked for m in NUMBER.finditer(claim)):
        return True
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
        spellings = set(korean.key_terms(before[-1])) | {before[-1]}
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
    """"2023" also matches the abbreviated "'23" of tables and press releases."""
    m = YEAR.match(digits)
    return bool(m) and re.search(rf"['‘’]{m.group(2)}\b", text) is not None
