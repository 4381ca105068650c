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
