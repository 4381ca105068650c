"""Metadata filters: validated once at the edge, then matched the same way by every retriever."""

from __future__ import annotations

import pytest

from rag.filters import FilterError, date_number, make_filters, matches, source_matches
from rag.types import Filters


def test_make_filters_validates_and_normalizes() -> None:
    f = make_filters(date_from=" 2024-01-05 ", date_to="", publisher=["중기부", " 중기부 ", ""], source="2024/")
    assert f == Filters(date_from="2024-01-05", date_to=None, publisher=("중기부",), source=("2024/",))
    assert make_filters() == Filters()
    assert make_filters(date_to="2024-01-31") == Filters(date_to="2024-01-31")  # one end alone
    assert make_filters(date_from="2024-01-01", date_to="2024-01-01").date_to == "2024-01-01"  # one day
    with pytest.raises(FilterError, match="date_from '2024-13-01' is not a date"):
        make_filters(date_from="2024-13-01")
    with pytest.raises(FilterError, match="after date_to"):
        make_filters(date_from="2024-02-01", date_to="2024-01-01")
    with pytest.raises(FilterError, match="publisher must be a list of strings"):
        make_filters(publisher=["중기부", 3])


def test_dates_are_inclusive_and_an_undated_article_passes_no_date_filter() -> None:
    since = Filters(date_from="2024-01-01")
    until = Filters(date_to="2024-01-31")
    assert matches(since, "a.txt", "2024-01-01", None) and not matches(since, "a.txt", "2023-12-31", None)
    assert matches(until, "a.txt", "2024-01-31", None) and not matches(until, "a.txt", "2024-02-01", None)
    assert not matches(since, "a.txt", None, None) and not matches(until, "a.txt", "", None)
    assert matches(None, "a.txt", None, None) and matches(Filters(publisher=()), "a.txt", None, None)


def test_publisher_and_source_match_any_listed_value() -> None:
    f = Filters(publisher=("중기부", "KT"), source=("2024/", "b.txt"))
    assert matches(f, "2024/a.txt", None, "KT") and matches(f, "b.txt", None, "중기부")
    assert not matches(f, "2024/a.txt", None, None)  # no publisher is not a listed one
    assert not matches(f, "2025/a.txt", None, "KT")
    assert source_matches("2024", "2024/a.txt") and not source_matches("2024", "20245/a.txt")


def test_dates_become_comparable_numbers() -> None:
    assert date_number("2024-05-01") == 20240501 and date_number(None) == 0
