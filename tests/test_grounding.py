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


def _two_articles() -> tuple[list, list]:
    """Hits and evidence of two short made-up articles (hits best first; the second without a dense score)."""
    from rag.types import Chunk, Evidence, Hit

    fund = "한빛전자는 올해 협력사 지원 펀드를 500억원으로 늘렸다. 펀드는 협력사 120곳이 쓴다."
    plant = "누리화학은 새 공장을 울산에 짓는다."
    found = [Hit(Chunk("a#0", "a.txt", fund, 0, len(fund), title="한빛전자 소식"), score=0.8, dense=0.7),
             Hit(Chunk("b#0", "b.txt", plant, 0, len(plant), title="누리화학 소식"), score=0.5)]
    first, second = fund.split(". ")
    ev = [Evidence(1, "a.txt", first + ".", 0, len(first) + 1, score=0.6),
          Evidence(2, "a.txt", second, len(first) + 2, len(fund), score=0.3),
          Evidence(3, "b.txt", plant, 0, len(plant), score=0.2)]
    return found, ev


def test_grounding_refuses_without_hits_or_without_evidence(korean: KoreanText) -> None:
    found, ev = _two_articles()
    assert not assess_grounding("한빛전자의 펀드 규모는?", found, [], korean).answerable
    assert not assess_grounding("한빛전자의 펀드 규모는?", [], ev, korean).answerable
    assert assess_grounding("한빛전자의 펀드 규모는?", found, ev, korean).answerable


def test_the_grounding_signals_read_the_question_against_the_passages(korean: KoreanText) -> None:
    from rag.grounding import grounding_signals

    found, ev = _two_articles()
    # a name no passage mentions: half of the question's names are missing, and no passage holds both
    signals, missing, names = grounding_signals("한빛전자와 대성제약의 펀드 규모는?", found, ev, korean)
    assert missing == ["대성제약"] and names == ["한빛전자", "대성제약"]
    assert (signals["missing"], signals["has_names"], signals["together"]) == (0.5, 1.0, 0.5)
    # retrieval strength: the best fused and dense scores (a hit without a dense score counts none)
    assert (signals["top"], signals["dense"], signals["best"], signals["agree"]) == (0.8, 0.7, 0.6, 1.0)
    # a question naming nothing: nothing can be missing, and the names are trivially together
    signals, missing, names = grounding_signals("협력사 지원 펀드는 누가 쓰나?", found, ev, korean)
    assert (signals["missing"], signals["has_names"], signals["together"]) == (0.0, 0.0, 1.0) and not missing
    # the asked kind of value in the best three sentences, and the best sentence from the best hit's article
    asked = "한빛전자의 펀드 규모는 얼마인가?"
    assert grounding_signals(asked, found, ev, korean)[0]["slot_missing"] == 0.0
    assert grounding_signals("한빛전자는 왜 펀드를 늘렸나?", found, [ev[2]], korean)[0]["slot_missing"] == 0.0  # none asked
    signals = grounding_signals(asked, found, [ev[2], ev[1]], korean)[0]
    assert signals["slot_missing"] == 1.0 and signals["agree"] == 0.0
    # the asked value must stand next to the question's name: 누리화학's article holds no amount
    assert grounding_signals("누리화학의 펀드 규모는 얼마인가?", found, ev, korean)[0]["value_near"] == 0.0


def test_the_fitted_model_refuses_below_its_threshold_but_not_an_english_question(korean: KoreanText) -> None:
    from dataclasses import replace

    from rag.ranker import default_refusal_model

    found, ev = _two_articles()
    strict = replace(default_refusal_model(), threshold=0.999)  # a model that believes no passage
    verdict = assess_grounding("한빛전자의 펀드 규모는?", found, ev, korean, strict)
    assert not verdict.answerable and verdict.reason == "the passages do not answer the question"
    assert assess_grounding("한빛전자의 펀드 규모는?", found, ev, korean).answerable
    # fitted on Korean questions: an English one is judged by the rules alone
    english = "How large is the fund of 한빛전자?"
    assert assess_grounding(english, found, ev, korean, strict).reason != "the passages do not answer the question"


def test_a_name_one_edit_away_or_with_a_particle_left_on_is_the_same_name() -> None:
    from rag.grounding import _near_spelling, _within_one_edit

    assert _within_one_edit("마쓰오카", "아쓰오카") and _within_one_edit("마쓰오카", "마오쓰카")  # a letter, a swap
    assert _within_one_edit("한빛전자", "한빛전") and _within_one_edit("한빛전", "한빛전자")  # one letter more or less
    assert not _within_one_edit("마쓰오카", "아스오카") and not _within_one_edit("마쓰오카", "쓰마카오")
    assert not _within_one_edit("한빛전자", "빛전") and not _within_one_edit("한빛전자", "한전자빛")
    assert _near_spelling("방시혁이", {"방시혁"}) and _near_spelling("아쓰오카", {"마쓰오카", "펀드"})
    assert not _near_spelling("나이", {"나"}) and not _near_spelling("펀드", {"편드"})  # too short to guess
    assert not _near_spelling("한빛전자", {"누리화학"}) and _within_one_edit("한빛", "한빛")
    # a particle is only taken off (a name of three letters keeps two), not any last letter
    assert _near_spelling("삼성이", {"삼성"}) and not _near_spelling("삼성측", {"삼성"})
    assert not _near_spelling("한빛이", {"누리"}) and not _near_spelling("삼성전", {"삼성"})
