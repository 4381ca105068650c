"""An answer's sources as a reader sees them: one entry per article, holding every sentence cited from it.

An answer citing two sentences of one article has two citations ([1] and [2]) and one source: the chat and
the widget show one card with both sentences highlighted, the CLI one heading, the JSON APIs a `sources` list
beside the unchanged `citations`.

    for source in cited_articles(answer.citations):
        source.numbers      # (1, 2)
        source.citations    # its cited sentences in the article's order, one per number
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rag.types import Citation


@dataclass(frozen=True)
class CitedArticle:
    """One cited article: what it is, and the sentences the answer cites from it."""

    source: str  # the doc id
    title: str = ""
    date: str | None = None
    publisher: str | None = None
    citations: tuple[Citation, ...] = ()  # in the article's order

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(sorted(c.n for c in self.citations))


def cited_articles(citations: Sequence[Citation]) -> list[CitedArticle]:
    """The articles of `citations`, in the order of their first number; a number cited twice counts once."""
    seen: set[int] = set()
    by_source: dict[str, list[Citation]] = {}
    for c in sorted(citations, key=lambda c: c.n):
        if c.n in seen:
            continue
        seen.add(c.n)
        by_source.setdefault(c.source, []).append(c)
    out = []
    for source, cited in by_source.items():
        # the title, outlet and date of its first citation that has them (every citation of it carries the same)
        first = next((c for c in cited if c.title), cited[0])
        out.append(CitedArticle(source=source, title=first.title, date=first.date, publisher=first.publisher,
                                citations=tuple(sorted(cited, key=lambda c: (c.start, c.end, c.n)))))
    return out
