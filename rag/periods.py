"""Periods a question names ("2021년", "2023년 이후", "지난해", "최근 3년") and the preference for
articles of that period in the hybrid ranking. It prefers, it never filters: a filter is the user's
explicit `Filters`; here the question's own words decide what comes first.

    period = find_period("지난해 상생결제 실적은?", today=date(2025, 3, 1))
    period.start, period.end, period.phrase   # "2024-01-01", "2024-12-31", "지난해"
    ranking_coverage = credit_period(coverage, chunks, terms, period, keyword_index)

Relative words count from a reference date: today, or `retrieval.reference_date` when set (tests,
reproducible evaluation of an archive). The words are the calendar of the language, not of a
corpus: they belong here, not in a user's vocabulary file.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Mapping, Protocol, Sequence

from rag.types import Chunk

_MIN, _MAX = date(1, 1, 1), date(9999, 12, 31)

# a year the question states, with what may narrow it (a half, a quarter, a month) and what may open it
_YEAR = re.compile(
    r"(?<!\d)(?P<year>(?:19|20)\d{2})\s*년\s*도?"
    r"(?:\s*(?:(?P<half>상|하)\s*반기|(?P<quarter>[1-4])\s*분기|(?P<month>1[0-2]|0?[1-9])\s*월))?"
    r"(?P<open>\s*(?:이후|부터|이래|이전|까지))?"
)
# years counted back from the reference date
RELATIVE_YEARS = {"재작년": -2, "지난해": -1, "작년": -1, "전년": -1, "올해": 0, "금년": 0, "내년": 1}
_RELATIVE_YEAR = re.compile(
    r"(?P<word>" + "|".join(sorted(RELATIVE_YEARS, key=len, reverse=True)) + r")"
    r"(?:\s*(?:(?P<half>상|하)\s*반기|(?P<quarter>[1-4])\s*분기|(?P<month>1[0-2]|0?[1-9])\s*월))?"
)
_RELATIVE_MONTH = re.compile(r"(?P<word>지난\s*달|지난달|이번\s*달|이달)")
# "최근", "최근 3년", "지난 6개월": a window ending on the reference date
_RECENT = re.compile(r"(?:최근|지난)\s*(?:(?P<n>\d{1,3})\s*(?P<unit>년|개월|달|주|일))?")
RECENT_DAYS = 365  # bare "최근": the year up to the reference date


@dataclass(frozen=True)
class Period:
    start: str  # ISO, inclusive
    end: str  # ISO, inclusive
    phrase: str  # the question's words that named it (their keyword terms get credited)

    def holds(self, iso: str | None) -> bool:
        return bool(iso) and self.start <= iso <= self.end  # type: ignore[operator]


def find_period(question: str, today: date) -> Period | None:
    """The span of every period the question names (None when it names none)."""
    spans: list[tuple[date, date, str]] = []
    for m in _YEAR.finditer(question):
        start, end = _narrow(int(m["year"]), m["half"], m["quarter"], m["month"])
        spans.append((*_opened(start, end, (m["open"] or "").strip()), m.group(0).strip()))
    for m in _RELATIVE_YEAR.finditer(question):
        year = today.year + RELATIVE_YEARS[m["word"]]
        spans.append((*_narrow(year, m["half"], m["quarter"], m["month"]), m.group(0).strip()))
    for m in _RELATIVE_MONTH.finditer(question):
        first = today.replace(day=1)
        if m["word"].startswith("지난"):
            first = (first - timedelta(days=1)).replace(day=1)
        spans.append((first, _month_end(first.year, first.month), m.group(0)))
    for m in _RECENT.finditer(question):
        if m.group(0).strip() == "지난":
            continue  # "지난" alone is no period ("지난해", "지난달" were read above)
        days = _window_days(int(m["n"]), m["unit"]) if m["n"] else RECENT_DAYS
        spans.append((today - timedelta(days=days), today, m.group(0).strip()))
    if not spans:
        return None
    return Period(*_span(spans), " ".join(s[2] for s in spans))


def _span(spans: list[tuple[date, date, str]]) -> tuple[str, str]:
    """Closed periods are joined; "2014년부터 … 2021년까지" bounds each other instead of opening both ends."""
    closed = [(a, b) for a, b, _ in spans if a != _MIN and b != _MAX]
    starts = [a for a, _ in closed] + [a for a, b, _ in spans if b == _MAX]
    ends = [b for _, b in closed] + [b for a, b, _ in spans if a == _MIN]
    return (min(starts) if starts else _MIN).isoformat(), (max(ends) if ends else _MAX).isoformat()


def _narrow(year: int, half: str | None, quarter: str | None, month: str | None) -> tuple[date, date]:
    if half:
        return (date(year, 1, 1), date(year, 6, 30)) if half == "상" else (date(year, 7, 1), date(year, 12, 31))
    if quarter:
        first = 3 * (int(quarter) - 1) + 1
        return date(year, first, 1), _month_end(year, first + 2)
    if month:
        return date(year, int(month), 1), _month_end(year, int(month))
    return date(year, 1, 1), date(year, 12, 31)


def _opened(start: date, end: date, word: str) -> tuple[date, date]:
    """"2023년 이후/부터/이래" runs on; "까지" ends with that year; "이전" ends before it."""
    if word in ("이후", "부터", "이래"):
        return start, _MAX
    if word == "까지":
        return _MIN, end
    if word == "이전":
        return _MIN, start - timedelta(days=1)
    return start, end


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _window_days(n: int, unit: str) -> int:
    return n * {"년": 365, "개월": 31, "달": 31, "주": 7, "일": 1}[unit]


class TermIndex(Protocol):
    """What crediting needs from the keyword index (rag.keyword.KeywordIndex)."""

    def query_terms(self, question: str) -> list[str]: ...
    def weights(self, terms: Sequence[str]) -> dict[str, float]: ...
    def score(self, terms: Sequence[str], chunk_ids: Sequence[str]) -> dict[str, float]: ...


def credit_period(
    coverage: Mapping[str, float], chunks: Mapping[str, Chunk], terms: Sequence[str], period: Period, index: TermIndex
) -> dict[str, float]:
    """Keyword coverage for *ranking*: a chunk of an article dated in the period counts the period's
    words as present, as if its text said them. The size of the preference is thus the share of the
    question's IDF mass those words carry — no weight of its own to tune. Chunks outside the period,
    or undated, keep their coverage; `Hit.score` (the evidence strength) never sees the credit.
    `terms` are the question's keyword terms, as the coverage was computed with them."""
    period_terms = set(index.query_terms(period.phrase)) & set(terms)
    if not period_terms:
        return dict(coverage)
    weights = index.weights(terms)  # the weights coverage was computed with
    total = sum(weights.values())
    if total <= 0:
        return dict(coverage)
    dated = [c for c in coverage if c in chunks and period.holds(chunks[c].date)]
    present = {t: set(index.score([t], dated)) for t in period_terms}
    out = dict(coverage)
    for cid in dated:
        missing = sum(weights[t] for t in period_terms if cid not in present[t])
        out[cid] = min(1.0, coverage[cid] + missing / total)
    return out
