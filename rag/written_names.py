"""Names as a text writes them: the checks' lower-case name widened to its written word, less its particles."""

from __future__ import annotations

from typing import Sequence

from rag.korean import Morpheme, closes_word
from rag.memo import MemoKorean


def as_written(names: Sequence[str], korean: MemoKorean, *texts: str) -> tuple[str, ...]:
    """Each lower-case name as the first of `texts` holding it writes it ("lg이노텍" -> "LG이노텍"), widened
    to the word it is written in, less its particles ("대한" -> "대한제철": Kiwi reads 대한/NNP + 제철/NNG, and
    "기사에 나오지 않는 말: 대한" would tell a reader nothing); else as given."""
    out = []
    for name in names:
        for text in texts:
            lowered = text.lower()
            at = lowered.find(name)
            if at >= 0 and len(lowered) == len(text):  # (a letter whose lower case is longer shifts every offset)
                start, end = written_word(korean.morphemes_batch([text])[0], text, at, at + len(name))
                out.append(text[start:end])
                break
        else:
            out.append(name)
    return tuple(dict.fromkeys(out))


def written_word(morphemes: Sequence[Morpheme], text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened to the word of `text` it lies in, less the particles, endings and punctuation that
    close the word ("삼성바이오로직스의" -> "삼성바이오로직스": Kiwi's reading inside a name can be anything — it
    reads 스 there as a verb — but what closes it is a particle)."""
    word_start = next((i + 1 for i in range(start - 1, -1, -1) if _ends_word(text[i])), 0)
    word_end = next((i for i in range(end, len(text)) if _ends_word(text[i])), len(text))
    inside = [m for m in morphemes if word_start <= m[2] and m[3] <= word_end]
    while inside and closes_word(inside[-1][0]) and inside[-1][2] >= end:
        word_end = inside.pop()[2]
    return word_start, word_end


# a space, a quote or a bracket: where a written name begins or ends ("Hanwha's", "“삼성”의")
_WORD_EDGES = frozenset("\"'“”‘’()[]{}<>「」『』《》〈〉,·")


def _ends_word(char: str) -> bool:
    return char.isspace() or char in _WORD_EDGES
