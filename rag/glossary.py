"""English questions over Korean articles: the Korean forms of a question's English words, from the
glossary file (`rag/lexicon/glossary.tsv`, optional user data a user extends for their corpus).

An English question shares no words with a Korean article, so keyword search, evidence selection and
the refusal checks see nothing but its numbers. With an LLM the answerer translates the question
(prompts/translate.txt); the glossary is the route without one, and adds names the model may not know.

    >>> korean_glosses("How large is LG Innotek's shared growth fund?")
    ['LG이노텍', '동반성장', '펀드', '기금', '성장']
"""

from __future__ import annotations

import re
from functools import cache
from typing import Sequence

from rag.vocabulary import GlossEntry, Lexicon


@cache
def _default() -> tuple[GlossEntry, ...]:
    # read once per process: callers that do not pass their own lexicon's glossary get the project's
    return Lexicon.load().glossary


def korean_glosses(text: str, glossary: Sequence[GlossEntry] | None = None) -> list[str]:
    """The Korean forms of the glossary words in an English `text`, in glossary order, no repeats."""
    return _forms(text, _default() if glossary is None else glossary, kinds=("name", "term"))


def korean_names(text: str, glossary: Sequence[GlossEntry] | None = None) -> list[str]:
    """Only the organizations: what the refusal check requires the articles to mention."""
    return _forms(text, _default() if glossary is None else glossary, kinds=("name",))


def _forms(text: str, glossary: Sequence[GlossEntry], kinds: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for entry in glossary:
        if entry.kind in kinds and entry.pattern.search(text):
            out.extend(f for f in entry.forms if f not in out)
    return out


def mostly_latin(text: str) -> bool:
    """An English (or other Latin-script) question: more than twice as many Latin letters as Hangul."""
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    hangul = sum(1 for c in text if "가" <= c <= "힣")
    return latin > 2 * hangul


def mostly_foreign(text: str) -> bool:
    """A question in another language than Korean (English, Chinese, …): under a third of its letters are Hangul."""
    letters = [c for c in text if c.isalpha()]
    hangul = sum(1 for c in letters if "가" <= c <= "힣")
    return bool(letters) and hangul * 3 < len(letters)


def with_glosses(text: str, glossary: Sequence[GlossEntry] | None = None) -> str:
    """An English `text` followed by its Korean glosses, for term-based matching; Korean text unchanged."""
    if not mostly_latin(text):
        return text
    glosses = korean_glosses(text, glossary)
    return f"{text} {' '.join(glosses)}" if glosses else text


# a run of Latin-script words ("Park Jun-beom", "LG Innotek", "Guns, Germs, and Steel")
_LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9.'’&+-]*(?:[ ,]+[A-Za-z][A-Za-z0-9.'’&+-]*)*")


def copied_latin_runs(translation: str, question: str, limit: int = 3) -> list[str]:
    """Runs of Latin-script words a translation copied from the `question` as written, at most `limit`.

    An all-capitals run ("KT", "IPS LCD", "AI") is how Korean news writes it too and is left out.

    >>> copied_latin_runs("Park Jun-beom이 참가하는 AI 세미나는?", "Which AI seminar does Park Jun-beom join?")
    ['Park Jun-beom']
    """
    out: list[str] = []
    for match in _LATIN_RUN.finditer(translation):
        run = match.group().strip(" ,.'’")
        before = translation[match.start() - 1] if match.start() else " "
        # (the tail of a word: "멜로디.ly" kept "ly" of "Musical.ly")
        if run and not before.isalnum() and before != "." and any(c.islower() for c in run) and run.lower() in question.lower() and run not in out:
            out.append(run)
    return out[:limit]


def is_hangul_form(text: str, max_chars: int = 30) -> bool:
    """A transliteration worth using: short, some Hangul, no lower-case Latin letters (an acronym
    stays in Korean names too: "LG이노텍")."""
    return (0 < len(text) <= max_chars and any("가" <= c <= "힣" for c in text)
            and not any(c.isascii() and c.islower() for c in text))
