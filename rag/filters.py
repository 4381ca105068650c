"""Filters on article metadata: checked once at the edge, matched here, translated by each retriever.

    filters = make_filters(date_from="2023-01-01", publisher=["중기부"])
    matches(filters, doc_id="2024/a.txt", date="2024-05-01", publisher="중기부")   # True

The store turns the same `Filters` into a Chroma `where` clause and the keyword index asks `matches`
once per article, so both retrievers search the same restricted corpus.
"""

from __future__ import annotations

import unicodedata
from datetime import date as _date
from typing import Iterable

from rag.types import Filters


class FilterError(ValueError):
    """A filter value that cannot be used (a date that is not YYYY-MM-DD, a reversed range)."""


def make_filters(
    date_from: str | None = None,
    date_to: str | None = None,
    publisher: Iterable[str] | str | None = None,
    source: Iterable[str] | str | None = None,
) -> Filters:
    """Validated, normalized Filters from user input (CLI flags, a JSON body)."""
    start, end = _iso(date_from, "date_from"), _iso(date_to, "date_to")
    if start and end and start > end:
        raise FilterError(f"date_from {start} is after date_to {end}")
    return Filters(date_from=start, date_to=end, publisher=_names(publisher, "publisher"),
                   source=_names(source, "source"))


def date_number(iso: str | None) -> int:
    """2024-05-01 -> 20240501; 0 for no date (an int lets Chroma compare ranges)."""
    return int(iso.replace("-", "")) if iso else 0


def matches(filters: Filters | None, doc_id: str, date: str | None, publisher: str | None) -> bool:
    if not filters:
        return True
    if filters.date_from or filters.date_to:
        if not date:
            return False
        if filters.date_from and date < filters.date_from:
            return False
        if filters.date_to and date > filters.date_to:
            return False
    if filters.publisher and (publisher or "") not in filters.publisher:
        return False
    return not filters.source or any(source_matches(s, doc_id) for s in filters.source)


def source_matches(source: str, doc_id: str) -> bool:
    """"2024/a.txt" matches itself; "2024/" or "2024" matches every doc id under that folder."""
    folder = source.rstrip("/")
    return doc_id == source or doc_id.startswith(folder + "/")


def _iso(value: str | None, name: str) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        return _date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise FilterError(f"{name} {text!r} is not a date: use YYYY-MM-DD") from exc


def _names(values: Iterable[str] | str | None, name: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    out = []
    for value in values:
        if not isinstance(value, str):
            raise FilterError(f"{name} must be a list of strings")
        if value.strip():
            out.append(unicodedata.normalize("NFC", value.strip()))  # doc ids are NFC (rag/corpus.py)
    return tuple(dict.fromkeys(out))
