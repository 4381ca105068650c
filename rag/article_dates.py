"""A short answer's date read against the date of the article that gives it.

News writes a day without its month ("지난 7일", "9일 밝혔다") and a year as a word ("지난해", "올해 3월"): the
article's date completes it. In an archive of several years, "7일" alone does not tell a reader which 7th, so the
short answer carries the date the article meant ("7일" of "LG전자는 지난 7일 … 워크숍을 열었다고 9일 밝혔다" in an
article of 2025-11-09 is 2025-11-07). The words are the calendar of the language (rag/periods.py reads the
same words in questions), never a corpus's.

    absolute_date("7일", "LG전자는 지난 7일 … 열었다고 9일 밝혔다.", "2025-11-09")   # "2025-11-07"
    absolute_date("지난해", "지난해 매출은 …", "2025-11-09")                       # "2024"
    korean_date("2025-11-07")                                                    # "2025년 11월 7일"

News marks a day of another month and a month of another year ("지난달 28일", "지난해 3월"): a day alone is of the
article's month, a month alone of its year. "지난" looks back from the article's date ("지난 30일" in an article of
2 April is 30 March) and "오는" forward.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Sequence

from rag.periods import RELATIVE_YEARS
from rag.types import Citation

# a year already written out, in the value or right before it ("2023년 11월", "('24.11월)", "24년 11월"): the value
# needs nothing
_FULL_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)|['‘’]\d\d\s*(?:년|[./-])|(?<!\d)\d\d\s*[년./]\s*\d{1,2}\s*월")
_YEAR_BEFORE = re.compile(r"(?:(?<!\d)(?:19|20)\d\d\s*(?:년\s*도?|[./-])|['‘’]\d\d\s*(?:년|[./-]))\s*$")
# what makes "N일" a count of days or a day before or after something, not a day of a month ("6일간", "3일 만에")
_COUNT_WORDS = "동안|만에|이내|가량|정도|간|째|만|내|전|후|뒤|치|분|씩"
# "3월 5일", "5일", "3월"; the count words inside the value
_MONTH_DAY = re.compile(r"(?<!\d)(?:(?P<month>1[0-2]|0?[1-9])\s*월\s*)?(?P<day>3[01]|[12]\d|0?[1-9])\s*일"
                        rf"(?!\s*(?:{_COUNT_WORDS}))")
# the same count written after a day value in its sentence ("3일 동안", "10일 만에", "7일 전에"), as a word of its own:
# "9일 전했다", "9일 후원", "9일 내놓은" are days
_COUNT_AFTER = re.compile(rf"\s*(?:{_COUNT_WORDS})(?:에는|에|의|로|부터|까지)?(?![가-힣])")
# a period of days or months, in the value or running into it ("3~5일", "3~4월"): no one date
_RANGE = re.compile(r"\d\s*[일월]?\s*[~∼〜～–-]\s*\d")
_RANGE_BEFORE = re.compile(r"\d\s*[일월]?\s*[~∼〜～–-]\s*$")
# a month glued to a noun is a name ("6월항쟁", "4월혁명"), its part is its month ("3월말", "3월초")
_MONTH_ONLY = re.compile(r"(?<!\d)(?P<month>1[0-2]|0?[1-9])\s*월(?!\s*(?:간|동안|째|만에|이내|분|씩))"
                         r"(?![가-힣](?<![말초중께경쯤]))")
# a month counted from the article's
_RELATIVE_MONTHS = (("지난달", -1), ("지난 달", -1), ("전달", -1), ("이달", 0), ("이번 달", 0), ("이번달", 0),
                    ("다음 달", 1), ("다음달", 1), ("내달", 1))
# the direction a day or month is counted in, read just before it
_BACK, _FORWARD = ("지난",), ("오는", "다음")
# such a word stands on its own: not "전달했다" (handed over), "나오는", "다음과", "내달리는"; "이달 말", "이달말" are
_ON_ITS_OWN = r"(?<![가-힣]){}(?=$|[^가-힣]|말|초|중)"
_LOOK_BACK = 8  # characters before the value where "지난"/"오는"/"지난해" bind to it ("지난 7일", "지난해 3월")


def absolute_date(value: str, sentence: str, published: str | None) -> str:
    """The ISO date (YYYY-MM-DD, YYYY-MM or YYYY) that `value` — a day, month or year word of `sentence` — means in
    an article of `published` (ISO); "" when it names no day, month or relative year, gives its year already, or the
    article has no full date."""
    day0 = _parse(published)
    if day0 is None or not value.strip() or _FULL_YEAR.search(value):
        return ""
    # each time the sentence writes it ("" where it does not: no words before it to read); which one the short
    # answer was read from is not known, so two that mean different days give none
    dates = {_date_at(value, sentence, found_at, day0)
             for found_at in _written(value, sentence)}
    return dates.pop() if len(dates) == 1 else ""


def _date_at(value: str, sentence: str, found_at: re.Match, day0: date) -> str:
    """`absolute_date` of the value where the sentence writes it at `found_at`."""
    at = found_at.start()
    before = sentence[max(0, at - _LOOK_BACK):at]
    if _YEAR_BEFORE.search(before) or _RANGE.search(value) or _RANGE_BEFORE.search(before):
        return ""
    if value.rstrip().endswith("일") and _COUNT_AFTER.match(sentence, found_at.end()):
        return ""  # a count of days, no day of a month
    context = before + value
    year_shift = _year_word(context)
    month_shift = _month_word(context)
    direction = -1 if _has_word(_BACK, context) else 1 if _has_word(_FORWARD, context) else 0
    if year_shift is not None:
        direction = 0  # "지난해 3월": the year is given, the month is not counted from the article's
    found = _MONTH_DAY.search(value)
    if found:
        month = int(found.group("month")) if found.group("month") else None
        day = int(found.group("day"))
        if month is None and month_shift is None:
            return _day_of_month(day0, day, direction)
        year, month = _year_month(day0, month, month_shift, year_shift, direction)
        return f"{year:04d}-{month:02d}-{day:02d}" if day <= calendar.monthrange(year, month)[1] else ""
    month_only = _MONTH_ONLY.search(value)
    if month_only or month_shift is not None:
        month = int(month_only.group("month")) if month_only else None
        year, month = _year_month(day0, month, month_shift, year_shift, direction)
        return f"{year:04d}-{month:02d}"
    if year_shift is not None and _year_word(value) is not None:
        return f"{day0.year + year_shift:04d}"
    return ""


def short_answer_date(short: str, citations: Sequence[Citation], claims: Sequence[str] = ()) -> str:
    """`absolute_date` of a short answer, read in the first cited sentence that writes it, against that sentence's
    article date; "" when none does. `claims` (best first, as the short answer is read from them) order the cited
    sentences that are claims: "7일" of the best claim is its article's 7th, not that of a sentence cited before it."""
    best = {claim: i for i, claim in reversed(list(enumerate(claims)))}
    for citation in sorted(citations, key=lambda c: best.get(c.quote, len(best))):
        if short and _written(short, citation.quote):
            return absolute_date(short, citation.quote, citation.date)
    return ""


def _written(value: str, sentence: str) -> list[re.Match]:
    """Each place the sentence writes the value as a word of its own: "7일" is not the end of "17일"."""
    return list(re.finditer(r"(?<!\d)" + re.escape(value), sentence))


def korean_date(iso: str) -> str:
    """"2025-11-07" -> "2025년 11월 7일", "2025-11" -> "2025년 11월", "2024" -> "2024년"; "" for ""."""
    parts = [int(p) for p in iso.split("-") if p.isdigit()] if iso else []
    return " ".join(f"{n}{unit}" for n, unit in zip(parts, ("년", "월", "일")))


def _parse(published: str | None) -> date | None:
    try:
        return date.fromisoformat((published or "")[:10])
    except ValueError:
        return None  # no date, or a year or month alone: nothing to count a day from


def _year_word(text: str) -> int | None:
    for word, shift in sorted(RELATIVE_YEARS.items(), key=lambda item: len(item[0]), reverse=True):
        if word in text:
            return shift
    return None


def _month_word(text: str) -> int | None:
    return next((shift for word, shift in _RELATIVE_MONTHS if _has_word((word,), text)), None)


def _has_word(words: Sequence[str], text: str) -> bool:
    return any(re.search(_ON_ITS_OWN.format(re.escape(word)), text) for word in words)


def _year_month(day0: date, month: int | None, month_shift: int | None, year_shift: int | None,
                direction: int) -> tuple[int, int]:
    """The year and month of a value that gives a month, a relative month word, or neither (the article's)."""
    if month is None:
        index = day0.year * 12 + day0.month - 1 + (month_shift or 0)
        return index // 12, index % 12 + 1
    if year_shift is not None:
        return day0.year + year_shift, month
    # news marks another year ("지난해 3월", "내년 3월"): a month alone is of the article's year, unless "지난"
    # or "오는" points past it ("지난 12월" in January is last year's)
    if direction < 0 and month > day0.month:
        return day0.year - 1, month
    if direction > 0 and month < day0.month:
        return day0.year + 1, month
    return day0.year, month


def _day_of_month(day0: date, day: int, direction: int) -> str:
    """The date of day `day` that `day0` (the article's) means: of its own month (news marks another: "지난달
    28일"), or the latest one not after it for "지난", the earliest one not before it for "오는"; "" when its month
    has no such day."""
    months = {0: (0,), -1: (0, -1, -2), 1: (0, 1, 2)}[direction]
    for shift in months:
        index = day0.year * 12 + day0.month - 1 + shift
        year, month = index // 12, index % 12 + 1
        if day > calendar.monthrange(year, month)[1]:
            continue
        found = date(year, month, day)
        if direction == 0 or (found - day0).days * direction >= 0:
            return found.isoformat()
    return ""
