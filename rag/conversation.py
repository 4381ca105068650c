"""Follow-up questions made standalone: "그 회사의 펀드 규모는?" after a question about LG이노텍
becomes "LG이노텍의 펀드 규모는?", so retrieval finds the LG이노텍 article.

A cheap rule first (works in extractive mode and costs nothing); the answerer asks the LLM to
condense only when the rule finds nothing to carry over.
"""

from __future__ import annotations

import re
from typing import Protocol, Sequence

from rag.types import Turn


class _Terms(Protocol):
    def key_terms(self, text: str) -> list[str]: ...


# "그 회사" / "해당 기업" / "이곳" … : replaced wholesale by the carried name
_REFERRING_NOUN = re.compile(r"(?<![가-힣])(?:그|이|저|해당|위)\s*(?:회사|기업|업체|곳|기관|단체|사업자)")
# bare pronouns and determiners that point back ("거기", "그 행사", "it", "they")
_PRONOUN = re.compile(
    r"(?<![가-힣])(?:거기|여기|그곳|이곳|그들|이들|그것|이것|그\s|이\s|저\s|해당\s)"
    r"|\b(?:it|its|they|them|their|that|this|there)\b",
    re.IGNORECASE,
)
# particles stripped from a carried name ("LG이노텍은" -> "LG이노텍")
_JOSA = re.compile(r"(?:은|는|이|가|을|를|의|에서|에게|에|와|과|도|로|으로|께서|이나|나|야|아|란|이란|까지|부터)$")


def is_followup(question: str, history: Sequence[Turn], korean: _Terms) -> bool:
    """A question that refers back: it has a pronoun, or names nothing while a conversation is going on."""
    if not any(t.role == "user" for t in history):
        return False
    if _REFERRING_NOUN.search(question) or _PRONOUN.search(question + " "):
        return True
    return not [t for t in korean.key_terms(question) if len(t) > 1]


def carried_names(history: Sequence[Turn], korean: _Terms, limit: int = 4) -> list[str]:
    """Names (as written) from the latest user turn that has any, e.g. ["KT", "2018년도", "파트너스"]."""
    for turn in reversed(history):
        if turn.role != "user":
            continue
        names = _surfaces(turn.content, korean)
        if names:
            return names[:limit]
    return []


def rewrite_followup(question: str, history: Sequence[Turn], korean: _Terms) -> str:
    """The rule-based standalone question; unchanged when it is not a follow-up or nothing can be carried."""
    question = question.strip()
    if not is_followup(question, history, korean):
        return question
    names = carried_names(history, korean)
    own = {t for t in korean.key_terms(question)}
    names = [n for n in names if not (set(korean.key_terms(n)) <= own)]
    if not names:
        return question
    subject = " ".join(names)
    replaced, count = _REFERRING_NOUN.subn(subject, question, count=1)
    if count:
        return replaced
    return f"{subject} {question}"


def _surfaces(text: str, korean: _Terms) -> list[str]:
    """The words of `text` that hold a name or number, particles stripped, in order, no repeats."""
    terms = [t for t in korean.key_terms(text) if len(t) > 1]
    out: list[str] = []
    for word in text.split():
        core = word.strip("?!.,\"'“”‘’()[]")
        lowered = core.lower()
        if any(term in lowered for term in terms):
            core = _JOSA.sub("", core) if len(core) > 2 else core
            if core and core not in out:
                out.append(core)
    return out
