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
