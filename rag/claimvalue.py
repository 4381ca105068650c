"""Whether an LLM claim keeps the answer its cited sentence gives; the sentence itself when it does not.

Verification proves each word of a claim stands in the cited sentence, not that the claim kept the
words that answer. A small model says the question back and fills the frame with the rest of the one
sentence it cites — "토너먼트 경기는 일반적으로 … 이루어진다" becomes "일반적으로 … 이루어지는 경기는
일반적으로 … 이루어진다" — or puts another word where the sentence's answer stood. When the question
asks no kind of value there is nothing to compare such a claim with, so the sentence it cites is shown
whole in its place (the verified claim was cut from it: nothing true is lost). When the question asks
a kind of value (a year, a name, an amount: rag/slots.py), a claim stands as long as it holds one of
the cited sentences' values of that kind, compared as whole values.

    text = claim_with_value("…경기는 … 이루어진다 [1].", cited, asking(question, korean), korean, 1.0)
    # -> "토너먼트 경기는 일반적으로 … 이루어진다 [1]."
"""

from __future__ import annotations

import re
from typing import Sequence

from rag.citations import MARKER, Asking
from rag.evidence import Tokenizer
from rag.extractive import written
from rag.slots import slot_values
from rag.types import Evidence

# values are compared whole, spacing and thousands separators aside ("1,030억 원" = "1030억원")
_SPACING = re.compile(r"[\s,]")


def claim_with_value(claim: str, cited: Sequence[Evidence], question: Asking, korean: Tokenizer,
                     restatement_share: float) -> str:
    """`claim` ("… [1].") as it is, or the cited sentences written as the extractive answer writes them,
    when the claim restates the question (holds `restatement_share` of its content terms) without one of
    their values of the asked kind, or holds none of their values where they hold some."""
    if not cited:
        return claim
    body = MARKER.sub("", claim)
    if question.asked.slot:
        held = _values(body, question, korean)
        given = set().union(*(_values(ev.text, question, korean) for ev in cited))
        if held & given:
            return claim  # the claim gives the sentence's value: its wording is the model's to choose
        if given:
            return written(cited)  # another value than the one the cited sentence gives
    if restates(body, question, korean, restatement_share):
        return written(cited)
    return claim


def restates(text: str, question: Asking, korean: Tokenizer, share: float) -> bool:
    """Whether `text` holds at least `share` of the question's content terms (question words and the
    words of an answer's frame aside): the question's own frame, said back."""
    terms = set(question.terms) - korean.lexicon.question_words - korean.lexicon.frame_words
    if not terms:
        return False
    return len(terms & set(korean.tokens(text))) >= share * len(terms)


def _values(text: str, question: Asking, korean: Tokenizer) -> set[str]:
    spans = slot_values(korean.morphemes_batch([text])[0], question.asked, set(question.terms), korean.lexicon.units)
    return {_SPACING.sub("", text[a:b]) for a, b in spans}

