from __future__ import annotations

import pytest

from rag.antecedents import antecedent, with_particle
from rag.conversation import (carried_names, is_followup, opening_reference, rewrite_followup, with_carried_names,
                               with_earlier_subject)
from rag.korean import KoreanText
from rag.types import Turn
from rag.vocabulary import Lexicon


@pytest.fixture(scope="module")
def korean() -> KoreanText:
    return KoreanText()


WORKSHOP = [Turn("user", "LG전자 협력회 워크숍은 어디서 열렸어?"), Turn("assistant", "경기도 평택 LG디지털파크에서 열렸습니다.")]


def test_a_place_pronoun_becomes_the_event_asked_about(korean: KoreanText) -> None:
    assert antecedent(WORKSHOP, "place", korean) == "LG전자 협력회 워크숍"
    assert rewrite_followup("거기 참석한 협력사 대표는 몇 명이야?", WORKSHOP, korean) == \
        "LG전자 협력회 워크숍에 참석한 협력사 대표는 몇 명이야?"
    assert rewrite_followup("거기서 누가 환영사를 했어?", WORKSHOP, korean) == "LG전자 협력회 워크숍에서 누가 환영사를 했어?"


def test_a_topic_without_a_name_is_not_carried(korean: KoreanText) -> None:
    assert antecedent([Turn("user", "행사는 어디서 열렸어?")], "place", korean) == ""


def test_company_pronoun_still_gets_the_name(korean: KoreanText) -> None:
    history = [Turn("user", "LG이노텍의 동반성장지수 등급은?"), Turn("assistant", "최우수입니다.")]
    assert rewrite_followup("그 회사의 펀드 규모는?", history, korean) == "LG이노텍의 펀드 규모는?"


def test_a_dropped_subject_can_be_carried_from_the_previous_question(korean: KoreanText) -> None:
    history = [Turn("user", "KT의 상생협력펀드 규모는?"), Turn("assistant", "1000억원입니다.")]
    # no pronoun: the rule leaves the question alone; the answerer tries the carried form when needed
    assert rewrite_followup("공동 R&D에는 매년 얼마씩 내?", history, korean) == "공동 R&D에는 매년 얼마씩 내?"
    assert with_carried_names("공동 R&D에는 매년 얼마씩 내?", history, korean) == [("KT 공동 R&D에는 매년 얼마씩 내?", ())]
    assert with_carried_names("KT의 공동 R&D 출연금은?", history, korean) == []


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


FUND = [Turn("user", "KT의 2023년 상생펀드 규모는?"), Turn("assistant", "1000억원입니다 [1].")]


def test_only_a_conversation_under_way_has_follow_ups(korean: KoreanText) -> None:
    assert not is_followup("그 회사의 매출은?", [], korean)
    assert is_followup("그 회사의 매출은?", FUND, korean)


def test_a_reference_with_a_name_beside_it_still_refers_back(korean: KoreanText) -> None:
    # a number is no subject: the determiner + noun written together, and a bare pronoun, still point back
    assert is_followup("해당기업의 2023년 매출은?", FUND, korean)
    assert is_followup("거기서 2023년에 열린 행사는?", FUND, korean)
    # a one-character term (the "3" of "3월") names nothing
    assert is_followup("그럼 3월에는?", FUND, korean)
    # an English pronoun counts as a whole word only ("it" inside "title" is none)
    assert not is_followup("What is the title of the report?", [Turn("user", "KT fund?"), Turn("assistant", "…")],
                           korean)


def test_carried_names_come_from_the_latest_question_that_names_something(korean: KoreanText) -> None:
    history = [Turn("user", "KT의 상생펀드 규모는?"), Turn("assistant", "1000억원"),
               Turn("user", "그럼 올해는?"), Turn("assistant", "모릅니다")]
    assert rewrite_followup("그 회사의 매출은?", history, korean) == "KT의 매출은?"
    # a name the question already has is not carried again
    assert rewrite_followup("그 회사의 2023년 매출은?", FUND, korean) == "KT의 2023년 매출은?"
    # a bare pronoun is kept, the names go in front
    assert rewrite_followup("그들은 얼마를 냈어?", FUND, korean) == "KT 2023년 그들은 얼마를 냈어?"


def test_carried_names_are_written_once_and_whole(korean: KoreanText) -> None:
    def carried(history: list[Turn]) -> str:
        return [form for form, _ in with_carried_names("매출은?", history, korean)][0]

    assert carried([Turn("user", "KT의 펀드와 KT의 교육 지원은?")]) == "KT 매출은?"
    # a two-character name keeps its last syllable though it looks like a particle ("기아" is not "기" + "아")
    assert carried([Turn("user", "기아 협력사 수는?")]) == "기아 매출은?"
    # "3월" is no name to carry
    assert carried([Turn("user", "KT가 3월에 발표한 펀드는?")]) == "KT 매출은?"


def test_an_earlier_questions_names_are_added_to_the_latest_ones_never_put_in_their_place(korean: KoreanText) -> None:
    """A second follow-up can name a year and still leave out the subject the first question named: the
    forms add the earlier question's names to the latest one's, and answer only about the latest one's."""
    history = [Turn("user", "김철수가 사법시험에 합격한 해는?"), Turn("assistant", "1980년"),
               Turn("user", "1982년 판사로 임관한 법원은?"), Turn("assistant", "서울민사지방법원")]
    assert with_carried_names("졸업한 대학은?", history, korean) == [
        ("1982년 졸업한 대학은?", ()), ("김철수 1982년 졸업한 대학은?", ("1982",))]
    # a question holding the latest names already gets the earlier ones' form only
    assert with_carried_names("1982년 졸업한 대학은?", history, korean) == [("김철수 1982년 졸업한 대학은?", ("1982",))]
    # one question back only (answer.carried_turns = 1): the latest names alone
    assert with_carried_names("졸업한 대학은?", history, korean, turns=1) == [("1982년 졸업한 대학은?", ())]


def test_a_place_pronoun_without_a_topic_to_stand_for_is_left(korean: KoreanText) -> None:
    unnamed = [Turn("user", "행사는 언제 열렸어?"), Turn("assistant", "3일입니다.")]
    assert rewrite_followup("거기 참석한 사람은?", unnamed, korean) == "거기 참석한 사람은?"
    assert antecedent([Turn("user", "3월 행사는 어디서 열렸어?")], "place", korean) == ""
    # a topic longer than 40 characters is a clause, not a name to put in place of "거기"
    long = "LG전자 협력회와 삼성전자 협력사 협의회 공동 주최 2023년 상생협력 기술 교류 워크숍은 어디서 열렸어?"
    assert antecedent([Turn("user", long)], "place", korean) == ""


def test_an_ordinal_reads_the_last_answer_and_its_named_items_only(korean: KoreanText) -> None:
    # a closing sentence that names nothing is no item; a user turn after the answer does not hide it
    closing = [AWARDS[0], Turn("assistant", AWARDS[1].content + " 모두 올해 처음 출품됐습니다.")]
    assert rewrite_followup("마지막 제품의 가격은?", closing, korean) == "네이버 제품의 가격은?"
    assert rewrite_followup("두 번째 제품은?", AWARDS + [Turn("user", "고마워")], korean) == "현대자동차 제품은?"
    # an answer naming one thing is no list, not even for "첫 번째"
    single = [Turn("user", "올해 혁신상은 누가 받았어?"), Turn("assistant", "삼성전자가 받았습니다.")]
    assert rewrite_followup("첫 번째 수상자는?", single, korean) == "첫 번째 수상자는?"


def test_a_lexicon_without_reference_words_only_puts_names_in_front() -> None:
    # a user's own lexicon folder may hold no references.tsv: no pattern may then match the empty string
    korean = KoreanText(lexicon=Lexicon(fingerprint="test-no-references"))
    history = [Turn("user", "LG이노텍의 등급은?"), Turn("assistant", "최우수입니다.")]
    assert rewrite_followup("매출은?", history, korean) == "LG이노텍 매출은?"


FUND_SIZE = [Turn("user", "LG이노텍의 동반성장 펀드 규모는?"), Turn("assistant", "1,030억 원입니다 [1].")]


def test_a_place_pronoun_stands_for_the_company_not_the_asked_slot(korean: KoreanText) -> None:
    # the previous question asked for an attribute (규모) of LG이노텍: "거기" is LG이노텍, not "…펀드 규모"
    assert rewrite_followup("거기 대표는 누구야?", FUND_SIZE, korean) == "LG이노텍 대표는 누구야?"
    assert rewrite_followup("그곳은 몇 년 연속 최우수 등급을 받았어?", FUND_SIZE, korean) == \
        "LG이노텍은 몇 년 연속 최우수 등급을 받았어?"
    # without a genitive, the asked attribute is the topic's last word
    unmarked = [Turn("user", "KT 상생협력 펀드 규모는?"), Turn("assistant", "1000억원")]
    assert rewrite_followup("거기 운용사는 어디야?", unmarked, korean) == "KT 상생협력 펀드 운용사는 어디야?"


def test_a_reference_to_what_was_asked_stands_for_the_answer(korean: KoreanText) -> None:
    # "…를 연 곳은?" describes the place it asks for: "거기" is the answer when the answer is a bare name,
    # else the question's own description of it
    venue = [Turn("user", "중기부 장관이 간담회를 연 곳은?"), Turn("assistant", "기술보증기금입니다 [1].")]
    assert rewrite_followup("거기서 소개된 사례는?", venue, korean) == "기술보증기금에서 소개된 사례는?"
    assert rewrite_followup("그곳은 어디에 있어?", venue, korean) == "기술보증기금은 어디에 있어?"
    long = [venue[0], Turn("assistant", "중소벤처기업부는 28일 서울 63빌딩 기술보증기금에서 상생협력 우수 기업과의 "
                                       "간담회를 개최했다고 밝혔다 [1].")]
    assert rewrite_followup("거기서 소개된 사례는?", long, korean) == "중기부 장관이 간담회를 연 곳에서 소개된 사례는?"
    speaker = [Turn("user", "KT 파트너스 데이에서 인사말을 한 사람은?"), Turn("assistant", "황창규 회장입니다.")]
    assert rewrite_followup("그 사람은 어느 회사 소속이야?", speaker, korean) == "황창규 회장은 어느 회사 소속이야?"
    assert rewrite_followup("그는 무엇을 발표했어?", speaker, korean) == "황창규 회장은 무엇을 발표했어?"


def test_a_person_pronoun_is_not_an_event_nor_a_verb(korean: KoreanText) -> None:
    # nothing says the workshop is a person: the names are carried as before, the pronoun kept
    assert rewrite_followup("그 사람은 누구야?", WORKSHOP, korean) == "LG전자 그 사람은 누구야?"
    # "그은" is 긋다 ("선을 그은"), never "he"
    speaker = [Turn("user", "KT 파트너스 데이에서 인사말을 한 사람은?"), Turn("assistant", "황창규 회장입니다.")]
    assert "황창규" not in rewrite_followup("협력사와 선을 그은 날은?", speaker, korean)


def test_a_replaced_reference_keeps_its_particle_in_the_names_form(korean: KoreanText) -> None:
    assert rewrite_followup("그 회사는 언제 최우수 등급을 받았어?", FUND_SIZE, korean) == "LG이노텍은 언제 최우수 등급을 받았어?"
    skt = [Turn("user", "SKT는 중소벤처진흥공단과 무엇을 했어?"), Turn("assistant", "업무협약을 맺었습니다.")]
    assert rewrite_followup("그 회사는 협력사에 얼마를 지급했어?", skt, korean) == "SKT는 협력사에 얼마를 지급했어?"


def test_a_time_reference_is_the_time_of_the_event_asked_about(korean: KoreanText) -> None:
    assert rewrite_followup("그때 발표한 내용은?", WORKSHOP, korean) == "LG전자 협력회 워크숍 때 발표한 내용은?"
    # after a clause of the question's own, "이때" is that clause's time
    assert "워크숍 때" not in rewrite_followup("협력사 대표가 발언했는데 이때 나온 요청은?", WORKSHOP, korean)


def test_a_name_alone_asks_the_previous_question_of_it(korean: KoreanText) -> None:
    rnd = [Turn("user", "KT가 공동 R&D에 출연하는 금액은?"), Turn("assistant", "100억원입니다.")]
    assert rewrite_followup("그럼 LG이노텍은?", rnd, korean) == "LG이노텍이 공동 R&D에 출연하는 금액은?"
    assert rewrite_followup("그럼 LG는?", rnd, korean) == "LG가 공동 R&D에 출연하는 금액은?"
    # a number takes the place of the number
    yearly = [Turn("user", "KT의 2018년 상생펀드 규모는?"), Turn("assistant", "1000억원")]
    assert rewrite_followup("그럼 2019년은?", yearly, korean) == "KT의 2019년 상생펀드 규모는?"
    # an attribute asked anew is no name to put in the previous question
    assert rewrite_followup("협력사 수는?", yearly, korean) == "KT 2018년 협력사 수는?"
    assert rewrite_followup("2019년 매출액은?", yearly, korean) == "2019년 매출액은?"


def test_particles_take_the_form_of_the_names_last_sound() -> None:
    assert with_particle("LG이노텍", "는") == "LG이노텍은"
    assert with_particle("SKT", "은") == "SKT는"  # 티: a vowel
    assert with_particle("LG", "이") == "LG가"
    assert with_particle("3M", "를") == "3M을"  # 엠: a consonant
    assert with_particle("서울", "으로") == "서울로"
    assert with_particle("기술보증기금", "에서") == "기술보증기금에서"
    # "R" is read "알": ㄹ takes "로", a consonant "은"
    assert with_particle("HMR", "으로") == "HMR로"
    assert with_particle("hmr", "는") == "hmr은"


def test_a_conversation_of_names_alone_keeps_asking_the_last_whole_question(korean: KoreanText) -> None:
    history = [Turn("user", "KT가 공동 R&D에 출연하는 금액은?"), Turn("assistant", "100억원입니다."),
               Turn("user", "그럼 LG는?"), Turn("assistant", "…")]
    # the user's turns are kept as typed: "그럼 LG는?" is no question to put SKT into
    assert rewrite_followup("그럼 SKT는?", history, korean) == "SKT가 공동 R&D에 출연하는 금액은?"
    # and "거기" after it is the name it asked about
    assert rewrite_followup("거기 대표는 누구야?", history, korean) == "LG 대표는 누구야?"


def test_a_plural_reference_is_replaced_whole(korean: KoreanText) -> None:
    two = [Turn("user", "LG전자와 LG유플러스는 협력사와 무엇을 논의했어?"), Turn("assistant", "상생방안을 논의했습니다.")]
    assert rewrite_followup("그 회사들의 대표는 누구야?", two, korean) == "LG전자 LG유플러스의 대표는 누구야?"


def test_a_question_naming_its_own_subject_does_not_inherit_the_previous_one(korean: KoreanText) -> None:
    # a determiner before a plain noun ("이 기사") is no reference back when the question names its subject
    assert rewrite_followup("이 기사에서 SKT는 무엇을 했어?", FUND_SIZE, korean) == "이 기사에서 SKT는 무엇을 했어?"
    assert rewrite_followup("LG유플러스는 협력사와 무엇을 논의했어?", FUND_SIZE, korean) == "LG유플러스는 협력사와 무엇을 논의했어?"
    # naming no one, it still points back ("그 펀드" is LG이노텍's)
    assert rewrite_followup("그 펀드는 언제 증액됐어?", FUND_SIZE, korean) == "LG이노텍 그 펀드는 언제 증액됐어?"


def test_the_company_asked_for_is_what_that_company_stands_for(korean: KoreanText) -> None:
    winner = [Turn("user", "KT 파트너스 데이에서 상을 받은 업체는?"), Turn("assistant", "한빛테크입니다.")]
    assert rewrite_followup("그 업체의 매출은?", winner, korean) == "한빛테크의 매출은?"
    # an answer that is a sentence: the question's own description of the company
    told = [winner[0], Turn("assistant", "㈜한빛테크 김 대표가 상을 받았습니다.")]
    assert rewrite_followup("그 업체의 매출은?", told, korean) == "KT 파트너스 데이에서 상을 받은 업체의 매출은?"
    # a company that was not asked for is the previous question's name, as before
    assert rewrite_followup("그 회사의 대표는?", WORKSHOP, korean) == "LG전자의 대표는?"


def test_a_reference_word_is_a_whole_word(korean: KoreanText) -> None:
    # "이분법" is no "이분" (this person), "회의록" no "회의", "회사원" no "회사", "기업가" no "기업" + "가"
    speaker = [Turn("user", "KT 파트너스 데이에서 인사말을 한 사람은?"), Turn("assistant", "김철수입니다.")]
    assert "김철수" not in rewrite_followup("이분법적 사고의 문제는?", speaker, korean)
    assert "워크숍록" not in rewrite_followup("그 회의록은 공개됐어?", WORKSHOP, korean)
    assert "LG이노텍원" not in rewrite_followup("그 회사원은 몇 명이야?", FUND_SIZE, korean)
    assert "LG이노텍이는" not in rewrite_followup("그 기업가는 누구야?", FUND_SIZE, korean)
    # a second particle stacked on the first is still the word's own ("그때부터", "거기에는", "그분과는")
    assert rewrite_followup("그때부터 바뀐 것은?", WORKSHOP, korean) == "LG전자 협력회 워크숍 때부터 바뀐 것은?"
    assert rewrite_followup("거기에는 누가 참석했어?", WORKSHOP, korean) == "LG전자 협력회 워크숍에는 누가 참석했어?"
    assert rewrite_followup("그분과는 무슨 사이야?", speaker, korean) == "김철수와는 무슨 사이야?"


def test_a_name_alone_takes_the_place_of_the_previous_questions_subject(korean: KoreanText) -> None:
    # the subject is KT (marked 가), not the question's first name "국내"
    among = [Turn("user", "국내 IT 기업 중 KT가 출연하는 금액은?"), Turn("assistant", "100억원입니다.")]
    assert rewrite_followup("그럼 LG이노텍은?", among, korean) == "국내 IT 기업 중 LG이노텍이 출연하는 금액은?"
    # the owner of an asked attribute ("KT의 … 규모") is the subject too
    owned = [Turn("user", "SKT와 겨루는 KT의 상생펀드 규모는?"), Turn("assistant", "1000억원")]
    assert rewrite_followup("그럼 LG는?", owned, korean) == "SKT와 겨루는 LG의 상생펀드 규모는?"


def test_a_name_written_with_a_space_is_carried_whole(korean: KoreanText) -> None:
    # Kiwi reads "알렉산더 헤이그" as one name across the space: carried as written, not dropped
    history = [Turn("user", "알렉산더 헤이그와 1950년 5월 결혼한 상대는?"), Turn("assistant", "퍼트리샤 폭스")]
    assert rewrite_followup("졸업한 대학은?", history, korean) == "알렉산더 헤이그 1950년 졸업한 대학은?"
    assert carried_names([Turn("user", "반기문과 경쟁하던 샤시 타루르의 국적은?")], korean) == ["반기문", "샤시 타루르"]


def test_a_follow_up_naming_nothing_gets_the_older_subject_too_and_must_be_about_the_latest_names(korean: KoreanText) -> None:
    history = [Turn("user", "KT 파트너스 데이는 어디서 열렸어?"), Turn("assistant", "더케이호텔"),
               Turn("user", "LG이노텍의 2022년 동반성장지수 등급은?"), Turn("assistant", "최우수")]
    assert rewrite_followup("매출은?", history, korean) == "LG이노텍 2022년 매출은?"
    form, about = with_earlier_subject("매출은?", history, korean)
    assert form == "KT 파트너스 LG이노텍 2022년 매출은?" and {"lg이노텍", "2022"} <= set(about) and "kt" not in about
    # a reference word the rule resolves, a follow-up of one named question, a question of its own: no such form
    assert rewrite_followup("그곳의 대표는?", history, korean) == "LG이노텍의 대표는?"
    assert with_earlier_subject("그곳의 대표는?", history, korean) == ("", ())
    assert with_earlier_subject("매출은?", history[:2], korean) == ("", ())
    assert with_earlier_subject("삼성전자의 매출은?", history, korean) == ("", ())
    # one question back only
    assert with_earlier_subject("매출은?", history, korean, turns=1) == ("", ())


def test_a_name_the_older_question_wrote_whole_is_carried_once(korean: KoreanText) -> None:
    """"헤이그" after "알렉산더 헤이그", "LG" after "LG이노텍": the form adding the older question's names names each
    once, in the older question's fuller form, and its answer must still be about the latest names."""
    history = [Turn("user", "알렉산더 헤이그와 1950년 5월 결혼한 상대는?"), Turn("assistant", "퍼트리샤 폭스"),
               Turn("user", "헤이그가 졸업한 대학은?"), Turn("assistant", "웨스트포인트")]
    assert rewrite_followup("근무한 곳은?", history, korean) == "헤이그 근무한 곳은?"
    assert with_earlier_subject("근무한 곳은?", history, korean) == ("알렉산더 헤이그 1950년 근무한 곳은?", ("헤이그",))
    assert with_carried_names("근무한 곳은?", history, korean) == [
        ("헤이그 근무한 곳은?", ()), ("알렉산더 헤이그 1950년 근무한 곳은?", ("헤이그",))]
    history = [Turn("user", "LG이노텍의 동반성장 펀드 규모는?"), Turn("assistant", "1,030억 원"),
               Turn("user", "LG는 2022년에 몇 곳과 협약했어?"), Turn("assistant", "300곳")]
    assert with_earlier_subject("대출 지원 규모는?", history, korean)[0] == "LG이노텍 2022년 대출 지원 규모는?"


def test_no_older_names_are_carried_when_the_latest_ones_give_no_term_to_hold_the_answer_to(korean: KoreanText) -> None:
    history = [Turn("user", "KT 파트너스 데이는 어디서 열렸어?"), Turn("assistant", "더케이호텔"),
               Turn("user", "성 베드로 광장은 누가 설계했나?"), Turn("assistant", "잔 로렌초 베르니니")]
    # the forms carried KT's names with nothing to check the answer against: an answer about KT
    assert with_earlier_subject("대출 지원 규모는?", history, korean) == ("", ())
    assert with_carried_names("대출 지원 규모는?", history, korean) == []


def test_the_older_subject_is_offered_only_where_the_rule_carries_the_latest_names(korean: KoreanText) -> None:
    """"그 2018년 행사 규모는?" after a question naming only 2018: the rule carries nothing (the question names 2018
    itself), and an LLM condenses it; no form with the older names is put in the place of that."""
    history = [Turn("user", "KT 파트너스 데이는 어디서 열렸어?"), Turn("assistant", "더케이호텔"),
               Turn("user", "2018년에는?"), Turn("assistant", "서초구")]
    assert rewrite_followup("그 2018년 행사 규모는?", history, korean) == "그 2018년 행사 규모는?"
    assert with_earlier_subject("그 2018년 행사 규모는?", history, korean) == ("", ())
    # a follow-up naming nothing, which the rule gives 2018: the older names are offered
    assert with_earlier_subject("규모는?", history, korean)[0].startswith("KT 파트너스 2018년")


def test_the_reference_word_a_first_question_opens_with_is_said_without_its_particles(korean: KoreanText) -> None:
    for question, word in (("그 회사의 펀드 규모는?", "그 회사"), ("거기서 열린 행사는?", "거기"),
                           ("그는 누구에게 밀려 수상에 실패하였는가?", "그"), ("해당 기업들은 어디야?", "해당 기업들"),
                           ("그때 발표한 내용은?", "그때"), ('  "그 사람"은 누구야?', "그 사람"),
                           ("그 규모는?", "그 규모"),  # a determiner before a noun, in a question naming no one
                           ("이 “회사”의 펀드는?", "이 회사"), ("그 ", "그")):
        assert opening_reference(question, (), korean) == word, question
    assert opening_reference("그 회사의 펀드 규모는?", (Turn("user", "LG이노텍의 펀드는?"),), korean) == ""


def test_a_reference_inside_a_question_or_a_surname_before_a_title_is_no_dangling_reference(korean: KoreanText) -> None:
    for question in ("남산외인아파트가 철거된 뒤 그 자리에 조성된 것은?",  # points inside the question
                     "이 회장은 협력사에 대해 뭐라고 했어?",  # Kiwi reads 이 as a surname before a title
                     "이 기사에서 SKT는 무엇을 했어?",  # a determiner, but the question names its subject
                     "There is a fund for suppliers?", "LG이노텍의 동반성장 펀드 규모는?",
                     "이곳저곳에서 열린 상생 행사는?"):  # "이곳저곳" (here and there) is a word of its own
        assert opening_reference(question, (), korean) == "", question


def test_an_english_turn_names_what_it_capitalizes_not_every_english_word(korean: KoreanText) -> None:
    # Kiwi reads each English word as a foreign word: "When did it start the fund?" was carried as four names
    history = (Turn("user", "LG이노텍의 동반성장 펀드 규모는?"), Turn("assistant", "1,030억 원 규모입니다 [1]."),
               Turn("user", "When did it start the fund?"), Turn("assistant", "2020년입니다 [1]."))
    assert carried_names(history, korean) == ["LG이노텍"]
    assert carried_names((Turn("user", "What did LG Innotek pay its suppliers in 2020?"),), korean) == [
        "LG", "Innotek", "2020"]
    form, _ = with_carried_names("How large is its fund?", history, korean)[0]
    assert form == "LG이노텍 How large is its fund?"
