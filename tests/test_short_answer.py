"""The short answer read from an answer's cited claims (rag/short_answer.py), with the real Kiwi."""

from __future__ import annotations

from rag.short_answer import claims_of, short_answer


def test_an_amount_question_gets_the_amount_with_its_unit(korean) -> None:
    claims = ["LG이노텍은 금융분야에서 1,030억 원 규모의 동반성장 펀드를 운영 중이다."]
    assert short_answer("LG이노텍의 동반성장 펀드 규모는 얼마인가?", claims, korean) == "1,030억 원"


def test_a_date_split_by_spaces_is_one_value(korean) -> None:
    claims = ["그는 1989년 2월 15일 시위를 주도한 혐의로 지명수배되었다."]
    assert short_answer("그가 지명수배된 날은 언제인가?", claims, korean) == "1989년 2월 15일"


def test_glued_pieces_of_the_word_belong_to_the_value_but_particles_do_not(korean) -> None:
    claims = ["김현웅은 2015년 7월 제64대 법무부 장관에 임용되었다."]
    assert short_answer("김현웅은 몇 대 법무부 장관에 임용되었나?", claims, korean) == "제64대"
    claims = ["대회는 2014년 7월 14일에 열렸다."]
    assert short_answer("대회가 열린 날은 언제인가?", claims, korean) == "2014년 7월 14일"


def test_a_value_the_question_names_is_not_the_answer_and_the_next_claim_is_read(korean) -> None:
    claims = ["KT는 2018년 파트너스 데이를 열었다.", "KT는 1000억원 규모의 상생협력펀드를 운영한다."]
    assert short_answer("KT가 2018년 파트너스 데이에서 밝힌 펀드 규모는 얼마인가?", claims, korean) == "1000억원"


def test_of_two_values_the_one_beside_the_questions_words_is_chosen(korean) -> None:
    claims = ["회사는 2010년 설립됐고, 본사는 판교로 2019년 옮겼다."]
    assert short_answer("회사가 본사를 옮긴 해는?", claims, korean) == "2019년"


def test_questions_that_ask_no_kind_of_value_get_none(korean) -> None:
    claims = ["협력사 직원의 복지를 위해 상생 펀드를 만들었다."]
    assert short_answer("상생 펀드를 만든 이유는 무엇인가?", claims, korean) == ""
    assert short_answer("LG이노텍의 펀드 규모는 얼마인가?", [], korean) == ""
    assert short_answer("LG이노텍의 펀드 규모는 얼마인가?", ["협력사와 대화에 나섰다."], korean) == ""


def test_claims_are_the_text_before_each_citation_marker() -> None:
    assert claims_of("A사는 2019년 설립됐다 [1]. 본사는 서울 [2, 3].") == ["A사는 2019년 설립됐다", "본사는 서울"]
    assert claims_of("인용이 없는 답") == []


def test_a_place_name_beats_a_common_noun_before_a_particle(korean) -> None:
    # "주최로" (a noun before 로) reads as a place too, and it stands nearer the question's words
    claim = "20일 서울 서초구 더케이호텔에서 KT 주최로 열린 파트너스 데이에서 회장이 인사말을 하고 있다"
    assert short_answer("KT 파트너스 데이는 어디에서 열렸나?", [claim], korean).startswith("서울 서초구")


# made-up sentences for the rules the rule mutants found untested (bench/results/rule_mutants_2026-12-03.md)


def test_markers_side_by_side_give_no_empty_claim() -> None:
    assert claims_of("한빛랩스는 2019년 세워졌다 [1][2]. 본사는 세종 [3] [4].") == ["한빛랩스는 2019년 세워졌다", "본사는 세종"]


def test_a_claim_sharing_no_word_with_the_question_still_gives_its_value(korean) -> None:
    # no word of the question to measure the distance from: the value is the claim's first
    assert short_answer("펀드 규모는 얼마인가?", ["총 500억 원이 모였다."], korean) == "500억 원"


def test_a_place_without_a_proper_noun_is_the_common_noun_before_the_locative(korean) -> None:
    assert short_answer("행사는 어디에서 열렸나?", ["행사는 시청 앞 광장에서 열렸다."], korean) == "광장"


def test_for_a_name_the_proper_noun_is_not_preferred_the_value_beside_the_questions_words_is(korean) -> None:
    # the preference for a proper noun is for places: a Latin name of the asked kind is as good
    claim = "자문은 누리회계가 맡았고, 한빛랩스를 인수한 회사는 NuriSoft다."
    assert short_answer("한빛랩스를 인수한 회사 이름은?", [claim], korean) == "NuriSoft"


def test_a_noun_the_question_repeats_anchors_the_value(korean) -> None:
    # "본사", "이전" are nouns of the question: the year beside them, not the claim's first year
    claim = "회사는 2010년 설립됐고, 본사 이전은 2019년 이뤄졌다."
    assert short_answer("본사 이전 연도는?", [claim], korean) == "2019년"


def test_a_counter_glued_after_the_value_belongs_to_it_a_bracket_before_it_does_not(korean) -> None:
    assert short_answer("단지는 아파트 몇 개동인가?", ["단지는 아파트 12개동으로 이뤄졌다."], korean) == "12개동"
    for claim in ("한빛랩스 본사는 (2019년) 세워졌다.", "한빛랩스 본사는 '2019년' 세워졌다."):
        assert short_answer("한빛랩스 본사는 언제 세워졌나?", [claim], korean) == "2019년"


# the fitted value model (rag/fitted/value.json, `python -m eval.fit value`): every claim's values are
# candidates, and a value the model is unsure of is not shown


def _model(weights: dict[str, float], threshold: float = 0.0):
    from rag.ranker import LogisticModel
    from rag.short_answer import VALUE_FEATURES

    return LogisticModel(VALUE_FEATURES, tuple(weights.get(f, 0.0) for f in VALUE_FEATURES), 0.0, threshold=threshold)


def test_the_value_model_reads_the_values_of_every_claim(korean) -> None:
    claims = ["총 500억 원이 모였다.", "올해 300억 원을 더했다."]
    question = "펀드 규모는 얼마인가?"
    assert short_answer(question, claims, korean) == "500억 원"  # the rule: the first claim holding one
    assert short_answer(question, claims, korean, values=_model({"claim_index": 5.0})) == "300억 원"
    assert short_answer(question, claims, korean, values=_model({"claim_index": -5.0})) == "500억 원"


def test_a_value_the_model_is_unsure_of_is_not_shown_and_the_phrase_rule_takes_over(korean) -> None:
    claims = ["총 500억 원이 모였다.", "올해 300억 원을 더했다."]
    question = "펀드 규모는 얼마인가?"
    even = _model({}, threshold=0.6)  # two candidates, equal logits: each has half of the softmax
    assert short_answer(question, claims, korean, values=even) == ""
    # on a tie that is shown, the earlier claim's value
    assert short_answer(question, claims, korean, values=_model({}, threshold=0.4)) == "500억 원"
    seen = []

    class Phrases:  # stands in for the phrase model: records that it was asked, shows nothing
        threshold = 1.01  # a lone candidate has all of the softmax

        def logits(self, columns):
            seen.append(len(next(iter(columns.values()))))
            return [0.0] * seen[-1]

    assert short_answer(question, claims, korean, Phrases(), values=even) == "" and seen  # the phrase rule ran


def test_value_candidates_carry_their_claim_and_the_features_the_model_reads(korean) -> None:
    from rag.short_answer import VALUE_FEATURES, value_candidates

    claims = ["1395년 정도전은 정총(鄭摠) 등과 함께 《고려국사》(高麗國史)를 편찬하였다.", "그는 한양을 설계했다."]
    found, columns = value_candidates("정도전이 1395년 정총과 함께 편찬한 책의 이름은?", claims, korean)
    texts = [claims[i][s:e] for i, (s, e) in found]
    assert "고려국사" in texts and "高麗國史" in texts and set(columns) == set(VALUE_FEATURES)
    assert all(len(v) == len(found) for v in columns.values())
    hanja = dict(zip(texts, columns["hanja"]))
    assert hanja["高麗國史"] == 1.0 and hanja["고려국사"] == 0.0
    assert [c for (i, _), c in zip(found, columns["first_claim"]) if i == 0] == [1.0] * sum(i == 0 for i, _ in found)
    assert value_candidates("상생 펀드를 만든 이유는 무엇인가?", claims, korean) == ([], {})


def test_the_shipped_value_model_picks_or_holds_back_where_the_nearest_word_rule_was_wrong(korean) -> None:
    from rag.ranker import FITTED_DIR, load_models

    values = load_models(FITTED_DIR / "value.json")["value"]
    assert 0 < values.threshold < 1  # chosen on KorQuAD 1-70 (eval/fit_value.py)
    claims = ["1395년 정도전은 정총(鄭摠) 등과 함께 《고려국사》(高麗國史)를 편찬하였다."]
    question = "정도전이 1395년 정총과 함께 편찬한 책의 이름은?"
    assert short_answer(question, claims, korean) == "鄭摠"  # the rule: nearest the question's words
    assert short_answer(question, claims, korean, values=values) == "고려국사"
    claims = ["기존에는 물자, 공사, 용역 등 5개 분야를 중심으로 협업이 이뤄졌다면 앞으로는 스타트업, 신사업, 글로벌 등 "
              "10개 분야 사업 중심으로 재편될 예정이다."]
    question = "협업은 앞으로 몇 개 분야로 재편되나?"
    assert short_answer(question, claims, korean) == "5개"
    assert short_answer(question, claims, korean, values=values) == "10개"
    # seven names and a place, none beside the office asked for: no value is surer than a sixth of the softmax
    claims = ["왼쪽부터 홍 사장, 송종희 온파워네트웍스 대표, 김찬국 비엔에프 대표, 이상범 비플 대표, 류수석 엑티브아이티 대표, "
              "김성남 드레니 대표, 권용현 LG유플러스 기업부문장.",
              "홍범식 LG유플러스 사장이 서울 송파구 시그니엘서울 그랜드볼룸에서 기념 촬영하고 있다."]
    question = "LG유플러스 기업부문장 이름은?"
    assert short_answer(question, claims, korean) == "김성남 드레니"
    assert short_answer(question, claims, korean, values=values) == ""
    # one value, sure: shown as the rule shows it
    claims = ["LG이노텍은 금융분야에서 1,030억 원 규모의 동반성장 펀드를 운영 중이다."]
    assert short_answer("LG이노텍의 동반성장 펀드 규모는 얼마인가?", claims, korean, values=values) == "1,030억 원"


def test_each_value_feature_tells_its_candidates_apart(korean) -> None:
    # a feature equal for every candidate of a question moves no softmax share: each must single some out
    # (the rule mutants of 2026-12-07 found these untested)
    question, claims = "협력사는 몇 곳인가?", ["행사에는 5개 기관과 협력사 170여 곳이 참여했다."]
    assert short_answer(question, claims, korean, values=_model({})) == "5개"  # a tie: the first
    assert short_answer(question, claims, korean, values=_model({"unit_match": 5.0})) == "170여 곳"  # 몇 곳: "곳"
    question, claims = "행사는 어디에서 열렸나?", ["행사는 광장에서 열렸고 서울시가 주관했다."]
    assert short_answer(question, claims, korean, values=_model({"place_name": 5.0})) == "서울시"  # a proper noun
    question, claims = "합병한 회사 이름은?", ["NuriSoft와 한빛랩스가 합병했다."]  # a name, not a place
    assert short_answer(question, claims, korean, values=_model({"place_name": 5.0})) == "NuriSoft"
    # Hanja alone, not any value without Hangul ("KT", first in the claim)
    question, claims = "책의 이름은?", ["그는 KT와 《고려국사》(高麗國史)를 썼다."]
    assert short_answer(question, claims, korean, values=_model({"hanja": 5.0})) == "高麗國史"
    assert short_answer(question, claims, korean, values=_model({"hanja": -5.0})) == "KT"
