"""Dates are checked whole: a year from one sentence and a month/day from another is no date at all."""

from __future__ import annotations

from rag.dates import Date, dates_in, dates_supported


def test_dates_are_read_in_their_written_and_serial_forms():
    assert dates_in("2013년 6월 1일부터") == [Date(2013, 6, 1)]
    assert dates_in("6월 1일과 12월 1일") == [Date(None, 6, 1), Date(None, 12, 1)]
    assert dates_in("발표일 2024.11.28") == [Date(2024, 11, 28)]
    assert dates_in("'23년 3월") == [Date(2023, 3, None)]
    assert dates_in("2013년에") == []  # a bare year is a number: the number check holds it


def test_a_date_assembled_from_two_sentences_is_rejected():
    sentences = ["정부는 2013년 정책금융기관 개편안을 내놓았다.", "새 제도는 12월 1일부터 시행된다."]
    assert not dates_supported("새 제도는 2013년 1월 1일부터 시행된다", sentences)  # "1월 1일" is not "12월 1일"
    assert not dates_supported("새 제도는 2013년 12월 1일부터 시행된다", sentences)  # the year stands elsewhere
    assert dates_supported("새 제도는 12월 1일부터 시행된다", sentences)
    assert dates_supported("2013년 12월 1일부터 시행", ["2013년 개편안에 따라 12월 1일부터 시행된다."])
    assert dates_supported("2024년 11월 28일 발표", ["발표일 2024.11.28"])


def test_only_a_real_month_and_day_are_a_date():
    assert dates_in("연말정산은 13월의 월급이라 불린다") == []  # a figure of speech, not a month
    assert dates_in("12월 32일") == []
    assert dates_in("12월 31일") == [Date(None, 12, 31)]


def test_a_date_is_stated_only_with_its_own_month_day_and_year():
    assert not dates_supported("12월 1일부터 시행", ["1월 1일부터 시행된다."])  # the month differs
    assert not dates_supported("12월 5일 발표", ["12월 1일 발표했다."])  # the day differs
    assert dates_supported("12월에 시행", ["12월 1일부터 시행된다."])  # a claim without a day takes any day of it
    assert dates_supported("12월 1일부터 시행", ["2013년 12월 1일부터 시행된다."])  # nor a year: any year
    # a year elsewhere in the sentence stands for a date written without one, not for one with another year
    assert not dates_supported("2013년 12월 1일 시행", ["2013년 개정안은 2014년 12월 1일부터 시행된다."])
