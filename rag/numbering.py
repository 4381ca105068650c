"""Citation numbers as a reader reads them: [1], [2], [3] in order of first appearance, matching the sources.

The answer layer numbers a citation by its evidence sentence ([4]: the fourth sentence handed to the answer),
so an answer could open with [3], or cite [1] and [3] with no [2] once a claim was dropped. The answerer
renumbers every answer here, once, so the chat, the widget, the HTTP APIs, the CLI and the eval all show the
same numbers; `StreamNumbering` gives an answer streamed in pieces the numbers its final text will have.

    text, citations = renumber("A [3]. B [1][3].", citations)   # "A [1]. B [2][1].", citations 3 -> 1, 1 -> 2
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable, Mapping, Sequence

from rag.citations import MARKER, parse_citations
from rag.types import Citation


def first_appearance(text: str, known: Iterable[int] | None = None) -> dict[int, int]:
    """Old number -> new number, 1, 2, 3… in the order the numbers first occur in `text` (only `known` ones)."""
    allowed = None if known is None else set(known)
    mapping: dict[int, int] = {}
    for n in parse_citations(text):
        if (allowed is None or n in allowed) and n not in mapping:
            mapping[n] = len(mapping) + 1
    return mapping


def rewrite_markers(text: str, mapping: Mapping[int, int]) -> str:
    """`text` with each cited number of its markers replaced through `mapping` (other numbers as written)."""

    def number(match: re.Match) -> str:
        return str(mapping.get(int(match.group()), match.group()))

    return MARKER.sub(lambda m: re.sub(r"\d+", number, m.group()), text)


def renumber(text: str, citations: Sequence[Citation]) -> tuple[str, tuple[Citation, ...]]:
    """The answer and its citations numbered 1, 2, 3… in the order the text first cites them; citations listed
    in that order. A citation the text never marks (none does today) is numbered after the marked ones.

    A marker whose number is no citation's (a "[2]" inside a quoted article sentence) is left as written."""
    mapping = first_appearance(text, {c.n for c in citations})
    for c in citations:
        mapping.setdefault(c.n, len(mapping) + 1)
    renumbered = [replace(c, n=mapping[c.n]) for c in citations]
    return rewrite_markers(text, mapping), tuple(sorted(renumbered, key=lambda c: c.n))


class StreamNumbering:
    """`renumber`'s numbers for an answer that arrives in pieces, each piece holding whole markers (the
    verified stream emits whole sentences with their markers): a number takes the next free one when it first
    occurs, so the pieces joined read as the final answer renumbered."""

    def __init__(self) -> None:
        self._mapping: dict[int, int] = {}

    def feed(self, piece: str) -> str:
        for n in parse_citations(piece):
            self._mapping.setdefault(n, len(self._mapping) + 1)
        return rewrite_markers(piece, self._mapping)
