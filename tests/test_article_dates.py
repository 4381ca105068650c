from __future__ import annotations

import pytest

from rag.article_dates import absolute_date, korean_date, short_answer_date
from rag.types import Citation

WORKSHOP = "LG전자는 지난 7일 경기도 평택 LG디지털파크에서 ‘협력회 워크숍’을 열었다고 9일 밝혔다."


@pytest.mark.parametrize("value, sentence, published, meant", [
    # a day alone is of the article's month: the day of the event, the day it was announced
    ("7일", WORKSHOP, "2025-11-09", "2025-11-07"),
    ("9일", WORKSHOP, "2025-11-09", "2025-11-09"),
    ("20일", "KT는 20일 파트너스 데이를 개최했다.", "2018-11-20", "2018-11-20"),
    ("7일", "지난달 17일 발표했고 7일 시행됐다.", "2025-11-09", "2025-11-07"),  # not the "7일" of "17일"
    # "지난" looks back across a month's end (March has no 30th before the 2nd: January's), "오는" forward
    ("30일", "지난 30일 발표했다.", "2025-04-02", "2025-03-30"),
    ("30일", "지난 30일 발표했다.", "2025-03-02", "2025-01-30"),
    ("5일", "오는 5일 개최한다.", "2025-04-20", "2025-05-05"),
    # another month or year is written out by the words before the value
    ("28일", "지난달 28일 출시됐다.", "2025-01-09", "2024-12-28"),
    ("지난해", "지난해 매출은 늘었다.", "2025-11-09", "2024"),
    ("3월", "올해 3월 출시된다.", "2025-11-09", "2025-03"),
    ("12월", "지난해 12월 출시됐다.", "2025-03-01", "2024-12"),
    ("12월", "지난 12월 출시됐다.", "2025-01-09", "2024-12"),
    ("1월 5일", "오는 1월 5일 출시된다.", "2025-11-09", "2026-01-05"),
    ("3월 5일", "3월 5일 출시됐다.", "2025-11-09", "2025-03-05"),
    ("지난달", "지난달 출시됐다.", "2025-01-09", "2024-12"),
])
def test_a_day_month_or_year_word_is_read_against_its_articles_date(value, sentence, published, meant) -> None:
    assert absolute_date(value, sentence, published) == meant


@pytest.mark.parametrize("value, sentence, published", [
    ("2024년 3월 5일", "2024년 3월 5일 출시됐다.", "2025-11-09"),  # whole already
    ("2018년도", "2018년도 파트너스 데이", "2018-11-20"),
    ("6일간", "6일간 열린 행사", "2025-11-09"),  # a count of days, no day of a month
    ("3일 만에", "3일 만에 팔렸다", "2025-11-09"),
    ("1,030억 원", "1,030억 원 규모", "2025-11-09"),
    ("7일", WORKSHOP, None),  # an article without a date, or with a year alone: nothing to count from
    ("7일", WORKSHOP, "2025"),
    ("31일", "31일 출시된다.", "2025-04-09"),  # April has no 31st
    ("11월", "제4기 원원 아너스('24.11월)", "2024-11-28"),  # the sentence gives its year right before it
    ("11월 5일", "2023년 11월 5일 열렸다.", "2025-11-09"),
])
def test_nothing_is_made_of_a_whole_date_a_count_or_an_undated_article(value, sentence, published) -> None:
    assert absolute_date(value, sentence, published) == ""


def test_a_short_answer_is_dated_by_the_first_cited_sentence_that_writes_it() -> None:
    undated = Citation(1, "a.txt", "워크숍은 평택에서 열렸다.", 0, 12, date="2025-10-01")
    workshop = Citation(2, "b.txt", WORKSHOP, 0, len(WORKSHOP), date="2025-11-09")
    assert short_answer_date("7일", (undated, workshop)) == "2025-11-07"
    assert short_answer_date("7일", (undated,)) == ""
    assert short_answer_date("", (workshop,)) == ""


def test_a_short_answer_is_dated_by_the_best_claim_that_writes_it_not_the_first_citation() -> None:
    # an extractive answer cites its sentences in article order; the short answer is read from the best claim
    earlier = Citation(1, "a.txt", "지난 7일 협력사 간담회를 열었다.", 0, 18, date="2025-10-20")
    workshop = Citation(2, "b.txt", WORKSHOP, 0, len(WORKSHOP), date="2025-11-09")
    assert short_answer_date("7일", (earlier, workshop), claims=(WORKSHOP, earlier.quote)) == "2025-11-07"
    assert short_answer_date("7일", (earlier, workshop)) == "2025-10-07"  # no claims (an LLM's): citation order


def test_an_iso_date_reads_in_korean() -> None:
    assert [korean_date(d) for d in ("2025-11-07", "2024-12", "2024", "")] == [
        "2025년 11월 7일", "2024년 12월", "2024년", ""]


@pytest.mark.parametrize("value, sentence, published, meant", [
    # "전달" of "전달했다" (handed over) is no "last month", "오는" of "나오는" and "다음" of "다음과" point nowhere
    ("9일", "LG이노텍은 지역아동센터에 성금을 전달했다고 9일 밝혔다.", "2025-11-09", "2025-11-09"),
    ("5일", "신제품이 시장에 나오는 5일 행사를 연다.", "2025-11-09", "2025-11-05"),
    ("7일", "다음과 같이 7일 발표했다.", "2025-11-09", "2025-11-07"),
    ("2일", "내달리는 2일 경기", "2025-11-09", "2025-11-02"),
    # the words of their own still count
    ("28일", "지난달 28일 출시됐다.", "2025-01-09", "2024-12-28"),
    ("이달 말", "이달 말 출시된다.", "2025-11-09", "2025-11"),
    ("5일", "내달 5일 출시된다.", "2025-12-09", "2026-01-05"),
])
def test_a_relative_word_counts_only_as_a_word_of_its_own(value, sentence, published, meant) -> None:
    assert absolute_date(value, sentence, published) == meant


@pytest.mark.parametrize("value, sentence", [
    # the count is in the sentence after the value ("얼마나 걸렸나?" → "10일"), not in the value
    ("3일", "행사는 3일 동안 열린다."),
    ("10일", "출시 10일 만에 완판됐다."),
    ("7일", "마감 7일 전에 접수해야 한다."),
    ("3일", "신청 후 3일 이내 처리된다."),
])
def test_a_count_of_days_written_after_the_value_is_no_date(value, sentence) -> None:
    assert absolute_date(value, sentence, "2025-11-20") == ""


@pytest.mark.parametrize("value, sentence, meant", [
    ("9일", "성금을 전달했다고 9일 전했다.", "2025-11-09"),  # "전했다" (said) is no "전" (before)
    ("9일", "9일 후원금을 냈다.", "2025-11-09"),
    ("9일", "9일 내놓은 보고서", "2025-11-09"),
    ("9일", "9일 만난 자리에서", "2025-11-09"),
])
def test_a_word_after_the_day_that_only_begins_like_a_count_leaves_its_date(value, sentence, meant) -> None:
    assert absolute_date(value, sentence, "2025-11-20") == meant


@pytest.mark.parametrize("value, sentence", [
    ("3~5일", "오는 3~5일 열린다."),  # a period of days is no one day (it was dated the 5th)
    ("3∼5일", "3∼5일 열린다."),
    ("11월 3~5일", "11월 3~5일 열린다."),
    ("5일", "3~5일 열린다."),
    ("3~4월", "3~4월 중 출시된다."),
])
def test_a_range_of_days_or_months_is_no_date(value, sentence) -> None:
    assert absolute_date(value, sentence, "2025-11-01") == ""


@pytest.mark.parametrize("value, sentence", [
    # a two-digit year in the value itself ('YY.MM of press releases and tables, "24년 11월"): whole already, not
    # the article's year (these showed 2025-11)
    ("'24.11월", "제4기 원원 아너스('24.11월)"),
    ("24.11월", "제4기 원원 아너스('24.11월)"),
    ("24년 11월", "24년 11월 선정됐다."),
])
def test_a_two_digit_year_in_the_value_makes_it_whole(value, sentence) -> None:
    assert absolute_date(value, sentence, "2025-01-05") == ""


def test_a_value_only_inside_a_longer_number_is_not_its_sentences() -> None:
    """"7일" in a sentence that writes only "17일" is not read there: it was dated with no words before it."""
    assert absolute_date("7일", "지난 17일 발표됐다.", "2025-11-20") == ""
    later = Citation(1, "a.txt", "오는 17일 출시된다.", 0, 11, date="2025-11-20")
    workshop = Citation(2, "b.txt", WORKSHOP, 0, len(WORKSHOP), date="2025-12-09")
    assert short_answer_date("7일", (later, workshop)) == "2025-12-07"  # was 2025-11-07, from "17일"


def test_a_value_written_twice_in_its_sentence_is_dated_only_when_both_agree() -> None:
    """Which "7일" the short answer was read from is not known: two that mean different days give no date (the first
    was taken: 2025-10-07, the day that has not been, the 7th of this month, was as likely the answer)."""
    assert absolute_date("7일", "지난달 7일 발표했고 7일 시행됐다.", "2025-11-09") == ""
    assert absolute_date("9일", "9일 발표했고 9일부터 시행됐다.", "2025-11-09") == "2025-11-09"


@pytest.mark.parametrize("value, meant", [
    ("6월항쟁", ""),  # a name the month is glued to, no month of the article's year (it showed 2025-06)
    ("4월혁명", ""),
    ("3월말", "2025-03"),  # the part of a month is still its month
    ("3월초", "2025-03"),
])
def test_a_month_glued_to_a_noun_is_a_name(value, meant) -> None:
    assert absolute_date(value, f"{value} 행사", "2025-11-09") == meant
