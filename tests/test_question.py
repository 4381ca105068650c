"""One rule for what can be asked, with a message the user reads in Korean and English."""

from __future__ import annotations

import unicodedata

import pytest

from rag.question import QuestionError, check_question


def test_a_question_is_stripped_and_held_to_its_limit() -> None:
    assert check_question("  펀드 규모는?\n", 10) == "펀드 규모는?"
    with pytest.raises(QuestionError, match="너무 깁니다: 11자 \\(최대 10자") as too_long:
        check_question("가" * 11, 10)
    # like every over-limit message, it names the setting an operator would raise
    assert "app.max_question_chars" in str(too_long.value)
    for empty in ("", "  \n", None):  # a JSON null or a missing field is an empty question, not a crash
        with pytest.raises(QuestionError, match="The question is empty"):
            check_question(empty, 10)


def test_a_decomposed_question_is_asked_composed() -> None:
    composed = "한빛전자 양극재 공장의 총 투자액은 얼마인가?"
    decomposed = unicodedata.normalize("NFD", composed)
    assert len(decomposed) > 2 * len(composed)
    assert check_question(decomposed, 30) == composed  # composed, and held to the limit as composed


def test_a_question_holding_a_lone_surrogate_is_refused_in_words() -> None:
    # bytes read with surrogateescape, or a JSON body's "\ud800": the Korean analyzer fails on them
    import pytest

    from rag.question import QuestionError, check_question

    with pytest.raises(QuestionError, match="UTF-8"):
        check_question("납품대금 \udcc1\udcd6 얼마?", 100)
