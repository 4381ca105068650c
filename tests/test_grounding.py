"""Grounding: refuse what the passages cannot answer, accept what they can."""

from __future__ import annotations

import pytest

from rag.korean import KoreanText
from rag.evidence import select_evidence
from rag.grounding import assess_grounding, is_refusal
from rag.prompts import Prompts
from rag.vocabulary import Lexicon
from tests.answer_samples import TABLE, evidence, hits, table_hit


def test_grounding_refuses_a_company_the_articles_never_mention(korean: KoreanText) -> None:
    question = "삼성전자의 협력사 지원 펀드 규모는?"
    verdict = assess_grounding(question, hits(), evidence(korean, question), korean)
    assert not verdict.answerable and verdict.missing == ("삼성전자",)


def test_grounding_refuses_a_year_the_articles_never_mention(korean: KoreanText) -> None:
    question = "LG이노텍의 2024년 동반성장 펀드 규모는?"
    verdict = assess_grounding(question, hits(), evidence(korean, question), korean)
    assert not verdict.answerable and "2024" in verdict.missing


def test_grounding_accepts_an_answerable_question(korean: KoreanText) -> None:
    question = "LG이노텍의 동반성장 펀드 규모는?"
    assert assess_grounding(question, hits(), evidence(korean, question), korean).answerable


def test_grounding_reads_abbreviated_years_next_to_the_name(korean: KoreanText) -> None:
    question = "KT의 2023년 상생결재 규모는?"
    assert assess_grounding(question, hits(), evidence(korean, question), korean).answerable


def test_grounding_refuses_without_passages(korean: KoreanText) -> None:
    assert not assess_grounding("LG이노텍 펀드?", [], [], korean).answerable


def test_is_refusal_reads_the_models_verdict() -> None:
    refusal = Prompts.load().refusal
    cues = Lexicon.load().refusal_cues
    assert is_refusal(refusal, refusal)
    assert is_refusal("The context does not say. The answer is not in the context.", refusal, cues)
    assert not is_refusal("The context does not say. The answer is not in the context.", refusal, ())
    assert not is_refusal("LG이노텍은 1,030억 원 규모의 펀드를 운영합니다 [1].", refusal)
    assert not is_refusal("", refusal)


@pytest.mark.parametrize("question", ["현대자동차의 상생결재 규모는 얼마인가?", "롯데건설의 상생결재 규모는?"])
def test_grounding_refuses_an_amount_that_belongs_to_another_row(korean: KoreanText, question: str) -> None:
    found = [table_hit()]
    ev = select_evidence(question, found, {TABLE.doc_id: TABLE}.get, korean, max_evidence=8, max_chars=2000)
    verdict = assess_grounding(question, found, ev, korean)
    assert not verdict.answerable and "value" in verdict.reason


def test_grounding_accepts_the_amount_in_the_companys_own_row(korean: KoreanText) -> None:
    question = "LG전자의 상생결재 규모는 얼마인가?"
    found = [table_hit()]
    ev = select_evidence(question, found, {TABLE.doc_id: TABLE}.get, korean, max_evidence=8, max_chars=2000)
    assert assess_grounding(question, found, ev, korean).answerable


def test_english_question_finds_the_korean_sentence_through_the_glossary(korean: KoreanText) -> None:
    question = "How large is LG Innotek's shared growth fund?"
    ev = evidence(korean, question)
    assert "1,030억" in ev[0].text
    verdict = assess_grounding("What is Samsung Electronics' supplier fund?", hits(), ev, korean)
    assert not verdict.answerable and "삼성전자" in verdict.missing


def test_an_english_question_about_a_name_no_passage_or_glossary_knows_is_refused(korean: KoreanText) -> None:
    question = "How large is Hanwha's shared growth fund?"
    verdict = assess_grounding(question, hits(), evidence(korean, question), korean)
    assert not verdict.answerable and "hanwha" in verdict.missing
    # the glossary (optional user data) knows LG Innotek by its Korean name: that one is answerable
    question = "How large is LG Innotek's shared growth fund?"
    assert assess_grounding(question, hits(), evidence(korean, question), korean).answerable


def test_a_misspelled_name_is_still_found_and_one_missing_name_of_several_does_not_refuse(korean: KoreanText) -> None:
    from rag.grounding import _within_one_edit, grounding_signals

    assert _within_one_edit("아쓰오카", "마쓰오카") and _within_one_edit("eps", "esp") and _within_one_edit("헤밋", "헤밋트")
    assert not _within_one_edit("현대자동차", "현대중공업")
    # one syllable off (KorQuAD's questions misspell names): still found
    _, missing, _ = grounding_signals("LG이노텡의 동반성장 펀드 규모는?", hits(), evidence(korean), korean)
    assert missing == []
    # a second name no passage holds is weighed, not a refusal by itself; the only name missing is one
    two = "대한민국 LG이노텍의 동반성장 펀드 규모는?"
    assert "names something" not in assess_grounding(two, hits(), evidence(korean, two), korean).reason
    one = "삼성전자의 동반성장 펀드 규모는?"
    assert "names something" in assess_grounding(one, hits(), evidence(korean, one), korean).reason
