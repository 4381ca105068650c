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
    """Old number -> new number, 1, 2, 3… in the order the numbers first occur in `text` (only `known` ones),
    skipping any number the text writes in brackets that is none of them ("제[1]조"): a new number equal to it
    would make that bracket read (and link) as the citation."""
    allowed = None if known is None else set(known)
    written = parse_citations(text)
    inert = set() if allowed is None else {n for n in written if n not in allowed}
    mapping: dict[int, int] = {}
    for n in written:
        if (allowed is None or n in allowed) and n not in mapping:
            mapping[n] = _next_free(mapping, inert)
    return mapping


def _next_free(mapping: Mapping[int, int], inert: set[int]) -> int:
    """The smallest number above those given out that no inert bracket holds."""
    n = max(mapping.values(), default=0) + 1
    while n in inert:
        n += 1
    return n


def rewrite_markers(text: str, mapping: Mapping[int, int]) -> str:
    """`text` with each cited number of its markers replaced through `mapping` (other numbers as written)."""

    def number(match: re.Match) -> str:
        return str(mapping.get(int(match.group()), match.group()))

    return MARKER.sub(lambda m: re.sub(r"\d+", number, m.group()), text)


def renumber(text: str, citations: Sequence[Citation]) -> tuple[str, tuple[Citation, ...]]:
    """The answer and its citations numbered 1, 2, 3… in the order the text first cites them; citations listed
    in that order. A citation the text never marks (none does today) is numbered after the marked ones.

    A marker whose number is no citation's (a "[2]" inside a quoted article sentence) is left as written, and
    no citation is given its number."""
    known = {c.n for c in citations}
    mapping = first_appearance(text, known)
    inert = {n for n in parse_citations(text) if n not in known}
    for c in citations:
        if c.n not in mapping:
            mapping[c.n] = _next_free(mapping, inert)
    renumbered = [replace(c, n=mapping[c.n]) for c in citations]
    return rewrite_markers(text, mapping), tuple(sorted(renumbered, key=lambda c: c.n))


class StreamNumbering:
    """`renumber`'s numbers for an answer that arrives in pieces, each piece holding whole markers (the
    verified stream emits whole sentences with their markers): a number of `known` (the evidence the answer may
    cite) takes the next free one when it first occurs, so the pieces joined read as the final answer renumbered.
    A bracketed number that is none of `known` is left as written and its number is not given out after it
    was seen (one only a later piece writes can still have been given out: the final text is then numbered
    around it, the streamed text was not)."""

    def __init__(self, known: Iterable[int] | None = None) -> None:
        self._known = None if known is None else set(known)
        self._mapping: dict[int, int] = {}
        self._inert: set[int] = set()

    def feed(self, piece: str) -> str:
        for n in parse_citations(piece):
            if self._known is not None and n not in self._known:
                self._inert.add(n)
            elif n not in self._mapping:
                self._mapping[n] = _next_free(self._mapping, self._inert)
        return rewrite_markers(piece, self._mapping)
