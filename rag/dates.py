"""Dates are checked as whole dates: a claim's "2013년 6월 1일" needs one cited sentence that gives that
month and day together, with that year in the same sentence — a year from one sentence and "1월 1일"
from another (where the article says "12월 1일") is not a date any passage states.

    dates_supported("2013년 6월 1일부터 시행된다", ["2013년 6월 1일부터 시행된다."])    # True
    dates_supported("2013년 1월 1일부터", ["2013년 개정안이 나왔다.", "12월 1일부터 시행"])  # False
"""

from __future__ import annotations

import re
from typing import NamedTuple, Sequence

# "2024.11.28", "2024-11-28", "2024/11/28"
_SERIAL = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{1,2})(?!\d)")
# "2013년 6월 1일", "6월 1일", "6월", "'23년 6월"
_WRITTEN = re.compile(r"(?:(?<!\d)((?:19|20)\d\d|['‘’]\d\d)\s*년\s*)?(?<!\d)(\d{1,2})\s*월(?:\s*(\d{1,2})\s*일)?")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


class Date(NamedTuple):
    year: int | None
    month: int
    day: int | None


def dates_in(text: str) -> list[Date]:
    """Every date with a month in `text` (a bare year is a number, checked as one)."""
    found = [Date(int(y), int(m), int(d)) for y, m, d in _SERIAL.findall(text)]
    taken = [m.span() for m in _SERIAL.finditer(text)]
    for m in _WRITTEN.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        year = m.group(1)
        if year and not year[0].isdigit():
            year = "20" + year[1:]  # "'23" in tables and press releases
        found.append(Date(int(year) if year else None, int(m.group(2)), int(m.group(3)) if m.group(3) else None))
    return [d for d in found if 1 <= d.month <= 12 and (d.day is None or 1 <= d.day <= 31)]


def _stated(date: Date, sentence: str) -> bool:
    years = {int(y) for y in _YEAR.findall(sentence)}
    for given in dates_in(sentence):
        if given.month != date.month or (date.day is not None and given.day != date.day):
            continue
        if date.year is None or given.year == date.year or (given.year is None and date.year in years):
            return True
    return False


def dates_supported(claim: str, sentences: Sequence[str]) -> bool:
    """Each date of the claim is stated whole in one of the sentences."""
    return all(any(_stated(date, s) for s in sentences) for date in dates_in(claim))
