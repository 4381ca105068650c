from __future__ import annotations

import pytest

from rag.conversation import previous_topic, rewrite_followup, with_carried_names
from rag.korean import KoreanText
from rag.types import Turn


@pytest.fixture(scope="module")
def korean() -> KoreanText:
    return KoreanText()


WORKSHOP = [Turn("user", "LG전자 협력회 워크숍은 어디서 열렸어?"), Turn("assistant", "경기도 평택 LG디지털파크에서 열렸습니다.")]


def test_a_place_pronoun_becomes_the_event_asked_about(korean: KoreanText) -> None:
    assert previous_topic(WORKSHOP, korean) == "LG전자 협력회 워크숍"
    assert rewrite_followup("거기 참석한 협력사 대표는 몇 명이야?", WORKSHOP, korean) == \
        "LG전자 협력회 워크숍에 참석한 협력사 대표는 몇 명이야?"
    assert rewrite_followup("거기서 누가 환영사를 했어?", WORKSHOP, korean) == "LG전자 협력회 워크숍에서 누가 환영사를 했어?"


def test_a_topic_without_a_name_is_not_carried(korean: KoreanText) -> None:
    assert previous_topic([Turn("user", "행사는 어디서 열렸어?")], korean) == ""


def test_company_pronoun_still_gets_the_name(korean: KoreanText) -> None:
    history = [Turn("user", "LG이노텍의 동반성장지수 등급은?"), Turn("assistant", "최우수입니다.")]
    assert rewrite_followup("그 회사의 펀드 규모는?", history, korean) == "LG이노텍의 펀드 규모는?"


def test_a_dropped_subject_can_be_carried_from_the_previous_question(korean: KoreanText) -> None:
    history = [Turn("user", "KT의 상생협력펀드 규모는?"), Turn("assistant", "1000억원입니다.")]
    # no pronoun: the rule leaves the question alone; the answerer tries the carried form when needed
    assert rewrite_followup("공동 R&D에는 매년 얼마씩 내?", history, korean) == "공동 R&D에는 매년 얼마씩 내?"
    assert with_carried_names("공동 R&D에는 매년 얼마씩 내?", history, korean) == "KT 공동 R&D에는 매년 얼마씩 내?"
    assert with_carried_names("KT의 공동 R&D 출연금은?", history, korean) == ""


AWARDS = [Turn("user", "올해 혁신상은 어떤 제품들이 받았어?"),
          Turn("assistant", "삼성전자의 반도체 검사 장비, 현대자동차의 수소 트럭 및 네이버의 물류 로봇이 받았습니다 [1].")]


def test_an_ordinal_picks_that_item_of_the_previous_answers_list(korean: KoreanText) -> None:
    # the question names nothing: without the item's names retrieval cannot tell the products apart
    assert rewrite_followup("세 번째 제품은 누가 개발했어?", AWARDS, korean) == "네이버 제품은 누가 개발했어?"
    assert rewrite_followup("첫째 제품은 언제 나왔어?", AWARDS, korean) == "삼성전자 제품은 언제 나왔어?"
    assert rewrite_followup("마지막 제품의 가격은?", AWARDS, korean) == "네이버 제품의 가격은?"
    assert rewrite_followup("두번째 제품의 가격은?", AWARDS, korean) == "현대자동차 제품의 가격은?"


def test_an_ordinal_that_picks_no_listed_item_changes_nothing(korean: KoreanText) -> None:
    # out of range, an adverb ("두 번째로" = secondly), an answer that lists one thing
    assert rewrite_followup("네 번째 제품은?", AWARDS, korean) == "네 번째 제품은?"
    assert rewrite_followup("두 번째로 많이 팔린 건?", AWARDS, korean) == "두 번째로 많이 팔린 건?"
    single = [Turn("user", "올해 혁신상은 누가 받았어?"), Turn("assistant", "삼성전자가 받았습니다.")]
    assert "두 번째" in rewrite_followup("두 번째 수상자는?", single, korean)


def test_an_english_follow_up_picks_an_item_only_by_the_one_phrase(korean: KoreanText) -> None:
    assert rewrite_followup("Who developed the second one?", AWARDS, korean) == "Who developed 현대자동차?"
    # "first" alone names a quarter, a time, a half: not the list's first item
    assert "삼성전자" not in rewrite_followup("What happened in the first quarter?", AWARDS, korean)
