"""Extractive answers: the sentences that answer, each cited."""

from __future__ import annotations


from rag.korean import KoreanText
from rag.extractive import extractive_answer
from tests.answer_samples import evidence


def test_extractive_answer_cites_the_sentence_that_answers(korean: KoreanText) -> None:
    ev = evidence(korean, "LG이노텍은 2020년에 펀드를 얼마 증액했나?")
    text, citations = extractive_answer("LG이노텍은 2020년에 펀드를 얼마 증액했나?", ev, korean)
    assert "400억원" in text
    assert citations and all(f"[{c.n}]" in text for c in citations)
    assert extractive_answer("무엇이든", [], korean) == ("", ())


def test_extractive_answer_covers_each_part_of_a_multi_part_question(korean: KoreanText) -> None:
    question = "LG이노텍과 KT의 펀드 규모는 각각 얼마인가?"
    text, citations = extractive_answer(question, evidence(korean, question), korean)
    assert "1,030억" in text and "1000억원" in text
    assert {c.source for c in citations} == {"001_innotek.txt", "004_kt.txt"}
