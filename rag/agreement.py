"""Whether the LLM's verified answer says what the extractive draft says.

Verification proves that each word of a claim stands in a cited sentence, not that the claim picked
the right sentence: a small model restates the question and fills in the value of a neighbouring
sentence ("금강산 육로 관광이 시작된 해는 1998년 …" where the draft's sentence gives 2003년). The
draft's sentences were chosen by the fitted ranker, which on the calibration halves is right more
often than the model's choice. So the model's answer is shown when its new words — the values of
the asked kind, or else its content words the question lacks — are the draft's; when they are all
elsewhere, the two answerers disagree and the draft stands.

    agrees_with_draft(llm_text, draft_text, asking(question, korean), korean)  # False -> show the draft
"""

from __future__ import annotations

import re

from rag.citations import MARKER, Asking
from rag.evidence import Tokenizer
from rag.slots import slot_values

_SPACING = re.compile(r"[\s,]")


def agrees_with_draft(answer: str, draft: str, question: Asking, korean: Tokenizer) -> bool:
    """True when one value of the asked kind in `answer` (or, when no kind is asked or the answer holds
    none, one of its content words the question lacks) also stands in `draft`; True for an answer
    that adds nothing to compare."""
    answer = MARKER.sub("", answer)
    if question.asked.slot:
        spans = slot_values(korean.morphemes_batch([answer])[0], question.asked, set(question.terms),
                            korean.lexicon.units)
        values = {_SPACING.sub("", answer[a:b]) for a, b in spans}
        if values:
            flat = _SPACING.sub("", MARKER.sub("", draft))
            return any(value in flat for value in values)
    ignored = set(question.terms) | korean.lexicon.frame_words | korean.lexicon.question_words
    new = set(korean.tokens(answer)) - ignored
    if not new:
        return True
    return bool(new & set(korean.tokens(MARKER.sub("", draft))))
