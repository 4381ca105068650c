from __future__ import annotations

import pytest

from rag.agreement import agrees_with_draft
from rag.citations import asking
from rag.korean import KoreanText


@pytest.fixture(scope="module")
def korean() -> KoreanText:
    return KoreanText()


DRAFT = "2003년 2월 14일 DMZ를 통과하는 육로 관광이 시범 운영된 뒤로 육로 관광이 계속 유지되고 있다 [1]."


def test_a_value_of_the_asked_kind_from_another_sentence_disagrees(korean: KoreanText) -> None:
    question = asking("DMZ를 통과하는 금강산 육로관광이 시작된 해는?", korean)
    assert not agrees_with_draft("금강산 육로 관광이 시작된 해는 1998년 11월 18일입니다 [2][3].", DRAFT, question, korean)
    assert agrees_with_draft("금강산 육로 관광은 2003년에 시작되었습니다 [1].", DRAFT, question, korean)


def test_a_count_is_compared_as_written(korean: KoreanText) -> None:
    question = asking("홈스에서 숨진 10명의 장례식 중 군의 발포로 몇명이 숨졌나?", korean)
    draft = "다음 날에는 홈스에서 전날 숨진 10명을 기리는 장례식 중 군의 발포로 11명이 숨진 사실이 보도되었다 [1]."
    assert not agrees_with_draft("홈스 등에서 총 23명의 희생자가 발생했습니다 [2].", draft, question, korean)
    assert agrees_with_draft("장례식 중 군의 발포로 11명이 숨졌습니다 [1].", draft, question, korean)


def test_without_an_asked_kind_the_new_words_must_be_the_drafts(korean: KoreanText) -> None:
    question = asking("육군사관학교에서 졸업한 헤이그가 제일 처음 소위로 발령받은 부대는 무엇이었나?", korean)
    draft = "22세의 소위로 헤이그는 처음에 캔자스 주 포트라일리에서 정통 제병 연합부대로 배치되었다 [1]."
    assert not agrees_with_draft("알렉산더 헤이그 [1].", draft, question, korean)
    assert agrees_with_draft("헤이그가 처음 발령받은 부대는 정통 제병 연합부대입니다 [1].", draft, question, korean)


def test_an_answer_that_adds_nothing_is_left_to_the_other_checks(korean: KoreanText) -> None:
    question = asking("헤이그가 발령받은 부대는?", korean)
    assert agrees_with_draft("헤이그가 발령받은 부대는 [1].", DRAFT, question, korean)



def test_an_answer_without_a_value_of_the_asked_kind_is_compared_by_its_new_words(korean: KoreanText) -> None:
    # the year is asked, the answer gives none: its new words decide, as for a question asking no kind
    question = asking("새 물류센터가 문을 연 해는?", korean)
    draft = "새 물류센터는 2021년 3월 문을 연 뒤로 하루 10만 상자를 처리하고 있다 [1]."
    assert agrees_with_draft("물류센터는 하루 10만 상자를 처리합니다 [1].", draft, question, korean)
    assert not agrees_with_draft("물류센터는 로봇 200대를 들였습니다 [2].", draft, question, korean)
