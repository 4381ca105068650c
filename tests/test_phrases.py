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


def test_a_blank_claim_gives_no_phrase_and_hides_none(korean, model) -> None:
    question = "하나테크는 협력사 대표들과 함께 무엇을 발표했나?"
    claims = ["하나테크는 지난달 협력사 대표들과 함께 《상생 로드맵》을 발표했다."]
    # the phrase is read from the first claim: a blank one (a caller's, not claims_of's) is no claim
    assert short_answer(question, ["  "] + claims, korean, model) == "상생 로드맵"
    assert short_answer(question, [], korean, model) == "" and short_answer(question, [" ", ""], korean, model) == ""


def test_the_shipped_model_says_how_it_was_fitted(model) -> None:
    meta = model.meta
    assert "KorQuAD" in meta["data"] and "1-70" in meta["data"]
    assert meta["at_threshold"]["right"] >= meta["precision"] and 0 < model.threshold < 1


# what each piece reads, pinned on made-up sentences (bench/results/rule_mutants_2026-12-06.md found them untested)


def features_of(question: str, claim: str, korean) -> dict[str, dict[str, float]]:
    from rag.phrases import FEATURES, phrase_features

    shape = question_shape(question, korean)
    morphemes = korean.morphemes_batch([claim])[0]
    spans, columns = phrase_features(shape, claim, morphemes, candidates(shape, claim, morphemes))
    return {claim[s:e]: {f: columns[f][i] for f in FEATURES} for i, (s, e) in enumerate(spans)}


def test_the_question_word_gap_reads_particle_verb_and_the_words_beside_it(korean) -> None:
    shape = question_shape("하나테크는 협력사 대표들과 무엇을 맺었나?", korean)
    assert (shape.wh_particle, shape.wh_verb, shape.left, shape.right) == ("을", "맺다", "대표", "맺다")
    assert shape.verbs == {"맺다"} and shape.head == ""  # a verb ends the question: no last noun
    assert question_shape("하나테크가 만든 것은 무엇인가?", korean).wh_particle == ""  # 이 of 인가 is a copula
    # a second question word is not the word beside the first
    assert question_shape("누가 얼마를 냈나?", korean).right == "내다"
    assert question_shape("하나테크는 상생 로드맵을 어떻게 발표했나?", korean).sentence  # 어떻게 -> 어떻다


def test_features_of_the_phrase_in_the_gap_and_of_its_rivals(korean) -> None:
    rows = features_of("하나테크는 협력사 대표들과 무엇을 맺었나?",
                       "하나테크는 지난달 협력사 대표들과 상생 협약을 맺었다. 이 협약이 첫 사례다.", korean)
    gap = rows["상생 협약"]  # between the question word's neighbours, with its particle, before its verb
    assert all(gap[f] == 1.0 for f in ("left_match", "right_match", "particle_match", "obj_particle",
                                       "wh_verb_match", "verb_match", "prev_known", "next_known", "has_wh"))
    assert gap["qfrac"] == 0.0 and gap["n_morph"] == 2.0 and gap["subj_particle"] == 0.0
    named = rows["하나테크"]  # the question's own subject
    assert named["all_q"] == 1.0 and named["topic_particle"] == 1.0 and named["nnp"] == 1.0
    assert named["anchor_right"] == 1.0 and named["anchor_left"] == 0.0 and named["pos"] == 0.0
    assert named["log_dist"] == 0.0 and named["right_match"] == 0.0
    assert rows["지난달 협력사 대표들"]["qfrac"] == 0.5 and rows["지난달 협력사 대표들"]["n_morph"] == 4.0
    later = rows["협약"]  # the next sentence's subject
    assert later["subj_particle"] == 1.0 and later["particle_match"] == 0.0 and later["wh_verb_match"] == 0.0
    assert later["log_dist"] > gap["log_dist"] > 0 and later["pos"] > gap["pos"]
    assert rows["사례"]["copula"] == 1.0 and gap["copula"] == 0.0
    assert rows["사례"]["subj_particle"] == 0.0  # the 이 of 이다 is a copula, not a particle
    only = features_of("하나테크가 맺은 것은?", "첫 사례는 이 협약뿐이다.", korean)["협약"]
    assert only["copula"] == 1.0  # a particle, then the copula: "협약뿐이다"


def test_features_of_the_questions_last_noun_quotes_digits_and_linked_names(korean) -> None:
    rows = features_of("하나테크가 협력사와 함께 만든 펀드는?",
                       "하나테크는 2020년 협력사와 함께 '동반 성장 펀드'를 만들었고, 이 펀드는 한빛은행이 운용한다.", korean)
    assert rows["동반 성장 펀드"]["head_in"] == 1.0 and rows["동반 성장 펀드"]["quote"] == 1.0
    assert rows["동반 성장"]["head_before"] == 1.0 and rows["동반 성장"]["is_trim"] == 1.0
    assert rows["동반 성장"]["head_in"] == 0.0 and rows["동반 성장"]["quote"] == 0.0
    assert rows["2020년"]["digit"] == 1.0 and rows["동반 성장"]["digit"] == 0.0
    # a question without a question word: the word before its end is its last noun
    assert rows["한빛은행"]["left_match"] == 1.0 and rows["한빛은행"]["subj_particle"] == 1.0
    assert rows["한빛은행"]["has_wh"] == 0.0 and rows["한빛은행"]["latin"] == 0.0
    linked = features_of("하나테크가 만든 펀드는?", "하나테크는 상생의 펀드를 만들었다.", korean)
    assert linked["상생"]["gen_before"] == 1.0 and linked["상생"]["head_before"] == 0.0  # "상생의 펀드"
    assert features_of("어느 구간을 고쳤나?", "GP 구간을 고쳤다.", korean)["GP"]["latin"] == 1.0


def test_runs_are_cut_at_a_wider_gap_and_a_bound_noun_starts_none(korean) -> None:
    question = "하나테크가 협력사 펀드로 한 것은?"
    assert {"한빛", "정밀"} <= spans(question, "한빛  정밀이 참여할 수 있다", korean)  # two spaces part them
    assert "수" not in spans(question, "한빛  정밀이 참여할 수 있다", korean)
    assert "상생 협약" in spans(question, "하나테크가 맺은 것은 상생 협약", korean)  # a run at the very end


def test_question_words_are_cut_off_a_runs_edges_or_out_of_it(korean) -> None:
    question = "하나테크가 협력사 펀드로 한 것은?"
    claim = "하나테크는 펀드 운용 협력사 선정 펀드를 발표했다."
    found = {claim[s:e]: kinds for (s, e), kinds in
             candidates(question_shape(question, korean), claim, korean.morphemes_batch([claim])[0]).items()}
    assert found["펀드 운용 협력사 선정 펀드"] == {"run"}
    assert found["운용 협력사 선정"] == {"trim"}  # the question's words cut off its edges
    assert found["운용"] == {"seg"} and found["선정"] == {"seg"}  # and out of it
    assert "협력사" not in found
    quoted = '하나테크는 "연구 카메라"를 팔았다.'
    kinds = candidates(question_shape(question, korean), quoted, korean.morphemes_batch([quoted])[0])
    assert {"quote", "run"} <= kinds[(quoted.index("연구"), quoted.index("연구") + len("연구 카메라"))]
    long_run = "하나테크는 " + " ".join(["상생협력"] * 12) + "을 했다."
    assert all(len(s) <= 40 for s in spans(question, long_run, korean))


def test_a_claim_without_a_noun_gives_no_phrase(korean, model) -> None:
    assert best_phrase("하나테크는 무엇을 했나?", "그렇다.", korean, model) == ""
    assert best_phrase("하나테크는 무엇을 했나?", "", korean, model) == ""


def test_a_feature_needs_both_sides_present_to_match(korean) -> None:
    # the question has nothing before its question word, no particle after it, no verb after it
    rows = features_of("무엇?", "상생 협약을 맺었고 기금을 냈다", korean)
    first = rows["상생 협약"]
    assert first["left_match"] == 0.0 and first["particle_match"] == 0.0 and first["wh_verb_match"] == 0.0
    rows = features_of("하나테크가 맺은 것은 무엇?", "하나테크는 협력사와 맺은 상생 협약", korean)
    last = rows["상생 협약"]  # nothing follows it in the claim: no particle, verb, copula or next word
    assert last["right_match"] == 0.0 and last["copula"] == 0.0 and last["obj_particle"] == 0.0
    assert last["particle_match"] == 0.0 and last["wh_verb_match"] == 0.0  # "" on both sides is no match
    assert rows["하나테크"]["left_match"] == 0.0  # the claim's first word has no word before it
    rows = features_of("하나테크가 맺은 것은?", "하나테크는 협약을 맺고 기금을 냈다", korean)
    assert rows["협약"]["verb_match"] == 1.0 and rows["기금"]["verb_match"] == 0.0  # 내다 is not the question's


def test_which_candidates_a_run_gives_and_what_they_count(korean) -> None:
    rows = features_of("하나테크가 협력사와 함께 만든 펀드는?",
                       "하나테크는 2020년 협력사와 함께 '동반 성장 펀드'를 만들었고, 이 펀드는 한빛은행이 운용한다.", korean)
    assert rows["한빛은행"]["head_in"] == 0.0  # the last noun earlier in the claim is not inside it
    assert rows["동반 성장"]["gen_before"] == 0.0  # a space, no link word, before the last noun
    assert "성장" not in rows and "동반" not in rows  # a run without the question's words is not cut up
    question = "하나테크가 협력사 펀드로 한 것은?"
    claim = "하나테크는 상생 협약을 맺었다."
    found = candidates(question_shape(question, korean), claim, korean.morphemes_batch([claim])[0])
    assert found[(claim.index("상생"), claim.index("상생") + len("상생 협약"))] == {"run", "seg"}  # nothing to trim
    quoted = "하나테크는 '함께 가는 길'을 열었다."
    assert features_of(question, quoted, korean)["함께 가는 길"]["n_morph"] == 1.0  # nouns only: 길
    assert all(s < e for s, e in candidates(question_shape(question, korean), "그는 ' '라고 했다.",
                                            korean.morphemes_batch(["그는 ' '라고 했다."])[0]))
