"""Phrase answers (rag/phrases.py): the noun phrase of a claim that answers a question no kind of value
answers, with the real Kiwi and the shipped model (rag/fitted/phrase.json). Sentences made up here."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.phrases import best_phrase, candidates, question_shape, score_candidates
from rag.ranker import FITTED_DIR, load_models
from rag.short_answer import short_answer


@pytest.fixture(scope="module")
def model():
    return load_models(FITTED_DIR / "phrase.json")["phrase"]


def spans(question: str, claim: str, korean) -> set[str]:
    shape = question_shape(question, korean)
    return {claim[s:e] for s, e in candidates(shape, claim, korean.morphemes_batch([claim])[0])}


def test_the_question_words_gap_is_read_its_particle_verb_and_neighbours(korean) -> None:
    shape = question_shape("하나테크는 협력사 대표들과 함께 무엇을 발표했나?", korean)
    # the content word before the question word (an adverb such as 함께 is none) and the one after it
    assert shape.has_wh and shape.wh_particle == "을" and shape.left == "대표" and shape.right == "발표"
    assert "하나테크" in shape.known and not shape.sentence
    assert question_shape("새솔전자가 인수한 회사는?", korean).head == "회사"


def test_candidates_are_noun_runs_with_the_questions_words_cut_off_and_quoted_text(korean) -> None:
    claim = "새솔전자는 2019년 부품 회사 '한빛 정밀'을 인수했다."
    found = spans("새솔전자가 인수한 부품 회사는?", claim, korean)
    assert "한빛 정밀" in found  # quoted, and the run "한빛 정밀" with no question word in it
    # the run "2019년 부품 회사" whole, and with the question's words cut off its edge; never those words alone
    assert {"2019년 부품 회사", "2019년"} <= found and "부품 회사" not in found
    assert not any(len(f) > 40 for f in found)


def test_the_phrase_in_the_questions_gap_is_the_answer(korean, model) -> None:
    claim = "하나테크는 지난달 협력사 대표들과 함께 《상생 로드맵》을 발표했다."
    assert best_phrase("하나테크는 협력사 대표들과 함께 무엇을 발표했나?", claim, korean, model) == "상생 로드맵"


def test_why_and_how_questions_get_no_phrase(korean, model) -> None:
    claim = "하나테크는 협력사의 자금난을 덜기 위해 《상생 로드맵》을 발표했다."
    assert question_shape("하나테크는 왜 상생 로드맵을 발표했나?", korean).sentence
    assert best_phrase("하나테크는 왜 상생 로드맵을 발표했나?", claim, korean, model) == ""
    assert best_phrase("하나테크는 상생 로드맵을 어떻게 발표했나?", claim, korean, model) == ""


def test_no_phrase_below_the_models_threshold(korean, model) -> None:
    question, claim = "하나테크는 협력사 대표들과 함께 무엇을 발표했나?", "하나테크는 지난달 협력사 대표들과 함께 《상생 로드맵》을 발표했다."
    share = score_candidates(question_shape(question, korean), claim, korean.morphemes_batch([claim])[0], model)[0][0]
    assert 0 < share <= 1
    assert best_phrase(question, claim, korean, replace(model, threshold=min(share + 0.01, 1.01))) == ""
    assert best_phrase(question, claim, korean, replace(model, threshold=share)) == "상생 로드맵"


def test_a_value_of_the_asked_kind_comes_first_then_the_phrase(korean, model) -> None:
    claims = ["LG이노텍은 금융분야에서 1,030억 원 규모의 동반성장 펀드를 운영 중이다."]
    assert short_answer("LG이노텍의 동반성장 펀드 규모는 얼마인가?", claims, korean, model) == "1,030억 원"
    claims = ["하나테크는 지난달 협력사 대표들과 함께 《상생 로드맵》을 발표했다."]
    assert short_answer("하나테크는 협력사 대표들과 함께 무엇을 발표했나?", claims, korean) == ""  # no model: none
    assert short_answer("하나테크는 협력사 대표들과 함께 무엇을 발표했나?", claims, korean, model) == "상생 로드맵"


def test_the_shipped_model_says_how_it_was_fitted(model) -> None:
    meta = model.meta
    assert "KorQuAD" in meta["data"] and "1-70" in meta["data"]
    assert meta["at_threshold"]["right"] >= meta["precision"] and 0 < model.threshold < 1
