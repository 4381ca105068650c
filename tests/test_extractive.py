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


def test_a_second_sentence_joins_when_the_ranker_cannot_tell_the_two_apart(korean: KoreanText) -> None:
    from rag.types import Evidence

    question = "노아의 방주는 무엇으로 만들었나?"
    first = "노아는 방주를 만들고 가족과 함께 배에 올랐다."
    second = "방주의 재료는 고페르나무였다고 전한다."
    # (a sentence further on in the article: the lead's neighbour has a rule of its own, below)
    pool = lambda share: [Evidence(1, "a.txt", first, 0, len(first), score=0.6),  # noqa: E731
                          Evidence(2, "a.txt", second, len(first) + 40, len(first) + 40 + len(second), score=share * 0.6)]
    text, citations = extractive_answer(question, pool(0.8), korean)
    assert "고페르나무" in text and len(citations) == 2
    # far less likely than the first: the answer stays one sentence
    text, citations = extractive_answer(question, pool(0.2), korean)
    assert "고페르나무" not in text and len(citations) == 1


def test_the_sentence_next_to_the_lead_joins_at_a_lower_bar(korean: KoreanText) -> None:
    from rag.config import AnswerSettings
    from rag.types import Evidence

    question = "별도 통신 장치를 달아야 쓸 수 있는 기능은?"
    named = "새 모델에는 원격 시동 기능이 들어갔다."
    lead = "이 기능은 별도 통신 장치를 달아야 쓸 수 있다."  # restates the question; the name is before it
    after = len(named) + 1

    def pool(gap: int, share: float) -> list[Evidence]:
        return [Evidence(1, "a.txt", lead, after, after + len(lead), score=0.6),
                Evidence(2, "a.txt", named, after - len(named) - 1 - gap, after - 1 - gap, score=share * 0.6)]

    # the ranker gives the naming sentence a fifth of the lead: too little for a second sentence
    # anywhere else, enough for the lead's neighbour
    text, citations = extractive_answer(question, pool(0, 0.2), korean, neighbour_share=AnswerSettings.neighbour_share)
    assert "원격 시동" in text and len(citations) == 2
    assert text.index("원격 시동") < text.index("이 기능은")  # in article order
    # (this lead also says the question back, which has a rule of its own, below: off here)
    for kept in (extractive_answer(question, pool(0, 0.2), korean, neighbour_share=0.0,  # rule off
                                   restatement_words=0)[0],
                 extractive_answer(question, pool(30, 0.2), korean, restatement_words=0)[0],  # not next to the lead
                 extractive_answer(question, pool(0, 0.05), korean,  # the ranker all but rules it out
                                   restatement_words=0)[0]):
        assert "원격 시동" not in kept
    # a question asking a number: a neighbour without a figure is no part of its answer
    numeric = "별도 통신 장치는 몇 개가 필요한가?"
    text, citations = extractive_answer(numeric, pool(0, 0.2), korean)
    assert len(citations) == 1


def test_a_full_answer_takes_the_leads_neighbour_when_the_ranker_can_hardly_tell_it_from_the_lead(
        korean: KoreanText) -> None:
    from rag.config import AnswerSettings
    from rag.types import Evidence

    question = "새 물류센터는 어떤 설비를 갖췄나?"
    lead = "새 물류센터는 올해 문을 열었다."
    beside = "이곳에는 자동 분류 로봇 200대가 들어갔다."  # the answer, right after the lead
    far = "물류센터 설비 투자는 계속된다."  # further on in the article: the second sentence

    def pool(share: float) -> list[Evidence]:
        after = len(lead) + 1
        return [Evidence(1, "a.txt", lead, 0, len(lead), score=0.6),
                Evidence(2, "a.txt", far, 200, 200 + len(far), score=0.59),
                Evidence(3, "a.txt", beside, after, after + len(beside), score=share * 0.6)]

    assert AnswerSettings.third_share > 0
    text, citations = extractive_answer(question, pool(0.95), korean, third_share=AnswerSettings.third_share)
    assert "분류 로봇" in text and len(citations) == 3
    assert text.index("올해") < text.index("분류 로봇") < text.index("계속된다")  # in article order
    for kept in (extractive_answer(question, pool(0.95), korean, third_share=0.0),  # rule off
                 extractive_answer(question, pool(0.95), korean, neighbour_share=0.0),  # off with the neighbour rule
                 extractive_answer(question, pool(0.6), korean),  # the ranker tells them apart
                 extractive_answer(question, pool(0.95), korean, max_sentences=2)):  # a caller's own limit
        assert "분류 로봇" not in kept[0] and len(kept[1]) == 2


def test_a_lead_that_says_the_question_back_is_completed_by_the_sentence_beside_it(korean: KoreanText) -> None:
    from rag.config import AnswerSettings
    from rag.types import Evidence

    question = "주민들의 민원 불편을 줄이려고 구청이 새로 도입한 제도는?"
    lead = "그래서 구청은 주민들의 민원 불편을 줄이는 제도를 새로 도입했다."  # the question said back
    telling = "구청이 주말에도 문을 여는 '찾아가는 민원실'이 그것이다."
    busy = "구청은 지난해 민원 처리 기간을 닷새에서 사흘로 줄였고 상담 창구도 두 곳 늘렸다."  # adds much

    def pool(first: str, share: float) -> list[Evidence]:
        return [Evidence(1, "a.txt", first, 0, len(first), score=0.6),
                Evidence(2, "a.txt", telling, len(first) + 1, len(first) + 1 + len(telling), score=share * 0.6)]

    # the ranker all but rules the next sentence out (a 50th of the lead): it joins all the same
    text, citations = extractive_answer(question, pool(lead, 0.02), korean,
                                        restatement_words=AnswerSettings.restatement_words)
    assert AnswerSettings.restatement_words > 0
    assert "찾아가는 민원실" in text and len(citations) == 2
    assert text.index("그래서 구청은") < text.index("찾아가는")  # in article order
    # the rule off, or a lead that says more than the question: the answer stays the lead
    assert "찾아가는" not in extractive_answer(question, pool(lead, 0.02), korean, restatement_words=0)[0]
    assert "찾아가는" not in extractive_answer(question, pool(busy, 0.02), korean, restatement_words=3)[0]
    # past the sentence limit: a lead and a second sentence nearly as sure still get the one beside the lead
    other = "이웃 구청들도 비슷한 제도를 검토하고 있다."
    third = pool(lead, 0.02) + [Evidence(3, "a.txt", other, 400, 400 + len(other), score=0.55)]
    text, citations = extractive_answer(question, third, korean, restatement_words=3)
    assert "찾아가는 민원실" in text and "이웃 구청들" in text and len(citations) == 3
    # a lead holding a value of the asked kind answers: a name for 누구, a new figure for a number
    for asked, answered in (("민원 제도를 새로 도입한 구청장은 누구인가?", "김민수 구청장이 민원 제도를 새로 도입했다."),
                            ("결승전은 몇 대 몇으로 끝났나?", "결승전은 3:1로 끝났다.")):
        after = "결승전에는 관중 2만 명이 모였고 구청장도 자리를 지켰다."
        beside = [Evidence(1, "b.txt", answered, 0, len(answered), score=0.6),
                  Evidence(2, "b.txt", after, len(answered) + 1, len(answered) + 1 + len(after), score=0.006)]
        assert extractive_answer(asked, beside, korean, restatement_words=3)[0].count("[") == 1, asked


def test_a_part_of_a_question_is_not_found_by_its_unit_alone(korean: KoreanText) -> None:
    from rag.types import Evidence

    # the second part's words left uncovered are 년 (of "2020년") and 체결: a sentence sharing only the
    # unit ("2015년 시작해") says nothing of the part; the one that 체결s a 협약 holds it
    question = "한빛전자가 처음으로 맺은 협약과 2020년 상생 행사에서 체결한 협약은 각각 무엇인가?"
    sentences = [("한빛전자는 처음으로 중소기업과 ‘기술 나눔’ 협약을 맺었다.", 0.6),
                 ("한빛전자는 2020년도 상생 행사를 서울에서 열었다.", 0.5),
                 ("행사는 2015년 시작해 올해로 6회째를 맞았다.", 0.1),
                 ("이날 ‘공정 거래’ 협약을 체결했다.", 0.1)]
    pool, start = [], 0
    for n, (text, score) in enumerate(sentences, 1):
        pool.append(Evidence(n, "a.txt", text, start, start + len(text), score=score))
        start += len(text) + 50
    text, _ = extractive_answer(question, pool, korean)
    assert "기술 나눔" in text and "공정 거래" in text and "2015년" not in text


def test_a_name_kiwi_does_not_tag_is_left_to_the_ranker_but_a_number_is_not(korean: KoreanText) -> None:
    from rag.types import Evidence

    def pool(first: str, second: str) -> list[Evidence]:
        return [Evidence(1, "a.txt", first, 0, len(first), score=0.6),
                Evidence(2, "a.txt", second, len(first) + 1, len(first) + 1 + len(second), score=0.5)]

    # "하나님" is no proper noun to Kiwi: the sentence holding it still joins when the ranker is unsure
    text, _ = extractive_answer("노아는 누구의 명령에 따라 배를 만들었나?",
                                pool("노아는 방주를 만들고 가족과 함께 배에 올랐다.", "그것은 하나님의 명령이었다고 전한다."), korean)
    assert "하나님" in text
    # a year has a shape: a sentence without one is no part of the answer to "…한 해는?"
    text, _ = extractive_answer("노아가 배를 만든 해는?",
                                pool("노아는 기원전 2348년에 방주를 만들었다.", "노아는 방주를 만들고 가족과 함께 배에 올랐다."), korean)
    assert "2348년" in text and "가족" not in text


def test_the_cues_of_a_question_in_several_parts_are_lexicon_data(tmp_path) -> None:
    from rag.slots import asks_several
    from rag.vocabulary import DEFAULT_LEXICON, Lexicon

    bundled = Lexicon.load()
    assert asks_several("LG이노텍과 KT의 펀드 규모는 각각 얼마인가?", bundled)
    assert asks_several("Which funds did LG Innotek and KT each run?", bundled)
    assert not asks_several("LG이노텍의 펀드 규모는 얼마인가?", bundled)
    # a cue the bundled file lacks counts once a user's folder adds it
    question = "LG이노텍과 KT의 펀드 규모는 둘 다 얼마인가?"
    (tmp_path / "multi_part_cues.txt").write_text("# my cues\n둘 다\n", encoding="utf-8")
    extended = Lexicon.load([DEFAULT_LEXICON, tmp_path])
    assert not asks_several(question, bundled) and asks_several(question, extended)
    assert extended.fingerprint != bundled.fingerprint  # part of the token-cache key, like every lexicon file
    plain, mine = KoreanText(lexicon=bundled), KoreanText(lexicon=extended)
    one, _ = extractive_answer(question, evidence(plain, question), plain)
    both, citations = extractive_answer(question, evidence(mine, question), mine)
    assert not ("1,030억" in one and "1000억원" in one)
    assert "1,030억" in both and "1000억원" in both
    assert {c.source for c in citations} == {"001_innotek.txt", "004_kt.txt"}


def test_a_sentence_the_ranker_is_far_surer_of_leads_though_the_value_reading_misses_its_value(korean: KoreanText) -> None:
    from rag.config import AnswerSettings
    from rag.types import Evidence

    question = "결승전은 몇 대 몇으로 끝났나?"
    first = "결승전은 3:1로 끝났다."  # "3:1" is no count to the value reading ("몇 대 몇")
    second = "결승전에는 관중 2만 명이 모였다."  # a count, but the ranker gives it a twelfth
    pool = [Evidence(1, "a.txt", first, 0, len(first), score=0.6),
            Evidence(2, "a.txt", second, len(first) + 1, len(first) + 1 + len(second), score=0.05)]
    text, _ = extractive_answer(question, pool, korean, slot_miss_factor=AnswerSettings.slot_miss_factor)
    assert text.startswith("결승전은 3:1")
    # with the asked kind of value deciding alone, the count leads and the answer is lost
    text, _ = extractive_answer(question, pool, korean, slot_miss_factor=0.0)
    assert "3:1" not in text
    # when the ranker is about as sure of both, the sentence holding the asked kind still leads
    close = [Evidence(1, "a.txt", first, 0, len(first), score=0.6),
             Evidence(2, "a.txt", second, len(first) + 1, len(first) + 1 + len(second), score=0.4)]
    text, _ = extractive_answer("결승전에 모인 관중은 몇 명인가?", close, korean)
    assert text.startswith("결승전에는 관중 2만 명")
    text, _ = extractive_answer("결승전에 모인 관중은 몇 명인가?", close, korean, slot_miss_factor=1.0)
    assert text.startswith("결승전은 3:1")


def test_a_part_named_only_earlier_in_the_paragraph_gets_its_value_sentence(korean: KoreanText) -> None:
    from rag.types import Evidence

    # news names a paragraph's subject once: the sentence with 한빛은행's amount does not repeat it
    question = "한빛은행과 누리카드가 올해 기부한 금액은 각각 얼마인가?"
    first = "누리카드는 올해 지역 복지관에 40억원을 기부했다."
    lead = "한빛은행은 올해 봉사단을 새로 꾸렸다. 임직원 300명이 참여했다. "
    named = "한빛은행은 올해 봉사단을 새로 꾸렸다."
    value = "또한 연말에는 복지관 세 곳에 25억원을 기부했다."
    other = "지난해에는 누리카드 임직원이 12억원을 모았다."
    pool = [Evidence(1, "a.txt", first, 500, 500 + len(first), score=0.6),
            Evidence(2, "a.txt", named, 100, 100 + len(named), score=0.2, preceding=""),
            Evidence(3, "a.txt", value, 100 + len(lead), 100 + len(lead) + len(value), score=0.1, preceding=lead),
            Evidence(4, "a.txt", other, 400, 400 + len(other), score=0.1, preceding="누리카드 사회공헌 ")]
    text, citations = extractive_answer(question, pool, korean)
    assert "40억원" in text and "25억원" in text
    # a sentence whose paragraph named another part is not the missing part's
    assert "12억원" not in text


def test_the_part_a_paragraph_named_last_is_the_longest_name_ending_there(korean: KoreanText) -> None:
    from rag.types import Evidence

    # "SKT는" holds "KT" too: the paragraph is SKT's
    question = "KT와 SKT가 올해 기부한 금액은 각각 얼마인가?"
    first = "KT는 올해 지역 복지관에 40억원을 기부했다."
    lead = "SKT는 올해 봉사단을 새로 꾸렸다. "
    value = "또한 연말에는 복지관 세 곳에 25억원을 기부했다."
    pool = [Evidence(1, "a.txt", first, 500, 500 + len(first), score=0.6),
            Evidence(2, "a.txt", lead.strip(), 100, 100 + len(lead) - 1, score=0.2),
            Evidence(3, "a.txt", value, 100 + len(lead), 100 + len(lead) + len(value), score=0.1, preceding=lead)]
    text, _ = extractive_answer(question, pool, korean)
    assert "40억원" in text and "25억원" in text


def test_the_draft_lead_is_the_sentence_the_extractive_answer_leads_with(korean: KoreanText) -> None:
    # the agreement check's gate reads the ranker's probability of this sentence: the ranker's first
    # when it holds the asked kind of value, else the first sentence that does
    from rag.extractive import draft_lead
    from rag.types import Evidence

    first = "결승전은 서울에서 열렸다."
    second = "결승전에는 관중 2만 명이 모였다."
    pool = [Evidence(1, "a.txt", first, 0, len(first), score=0.6),
            Evidence(2, "a.txt", second, len(first) + 100, len(first) + 100 + len(second), score=0.4)]
    question = "결승전에 모인 관중은 몇 명인가?"
    text, _ = extractive_answer(question, pool, korean)
    assert text.startswith("결승전에는 관중 2만 명") and draft_lead(question, pool, korean) is pool[1]
    assert draft_lead("결승전은 어땠나?", pool, korean) is pool[0]  # no kind asked: the ranker's order
    assert draft_lead(question, [], korean) is None


def _apart(*scored: tuple[str, float], gap: int = 40) -> list:
    """Evidence sentences of one article, `gap` characters apart (at 40 no two are neighbours), in the
    ranker's order."""
    from rag.types import Evidence

    out, at = [], 0
    for n, (text, score) in enumerate(scored, 1):
        out.append(Evidence(n, "a.txt", text, at, at + len(text), score=score))
        at += len(text) + gap
    return out


def test_an_answer_holds_two_sentences_three_for_a_question_in_several_parts_or_as_many_as_asked(
        korean: KoreanText) -> None:
    # the ranker cannot tell four sentences apart: a plain question gets two, one in several parts three
    sentences = [("물류센터는 지난해 문을 열었다.", 0.6), ("물류센터에는 로봇 200대가 들어갔다.", 0.59),
                 ("물류센터는 하루 10만 상자를 처리한다.", 0.58), ("물류센터 직원은 300명이다.", 0.57)]
    _, citations = extractive_answer("물류센터는 어떤 곳인가?", _apart(*sentences), korean)
    assert len(citations) == 2
    _, citations = extractive_answer("물류센터는 어떤 곳인가?", _apart(*sentences), korean, max_sentences=1)
    assert len(citations) == 1
    _, citations = extractive_answer("물류센터와 본사는 각각 어떤 곳인가?", _apart(*sentences), korean)
    assert len(citations) == 3


def test_one_sentence_asked_is_one_sentence_though_its_neighbour_would_join(korean: KoreanText) -> None:
    # (the answerer asks for the single best sentence this way)
    from rag.types import Evidence

    first, second = "새 공장은 경기도에 들어선다.", "이 공장은 전기차 부품을 만든다."
    pool = [Evidence(1, "a.txt", first, 0, len(first), score=0.6),
            Evidence(2, "a.txt", second, len(first) + 1, len(first) + 1 + len(second), score=0.2)]
    assert len(extractive_answer("새 공장은 무엇을 만드나?", pool, korean)[1]) == 2  # the neighbour joins
    assert len(extractive_answer("새 공장은 무엇을 만드나?", pool, korean, max_sentences=1)[1]) == 1
    # a sentence of another article is no neighbour, whatever its offsets
    other = [pool[0], Evidence(2, "b.txt", second, len(first) + 1, len(first) + 1 + len(second), score=0.2)]
    assert len(extractive_answer("새 공장은 무엇을 만드나?", other, korean)[1]) == 1


def test_a_sentence_joins_once_though_it_is_both_close_and_the_leads_neighbour(korean: KoreanText) -> None:
    from rag.types import Evidence

    first, second = "새 공장은 경기도에 들어선다.", "이 공장은 전기차 부품을 만든다."
    pool = [Evidence(1, "a.txt", first, 0, len(first), score=0.6),
            Evidence(2, "a.txt", second, len(first) + 1, len(first) + 1 + len(second), score=0.55)]
    text, citations = extractive_answer("새 공장은 무엇을 만드나?", pool, korean, max_sentences=3)
    assert [c.n for c in citations] == [1, 2] and text.count("[2]") == 1


def test_a_name_kiwi_does_not_tag_joins_when_the_ranker_is_unsure_though_it_is_not_the_leads_neighbour(
        korean: KoreanText) -> None:
    # the rule of the test above, with the two sentences apart: no neighbour rule can let it in
    pool = _apart(("노아는 방주를 만들고 가족과 함께 배에 올랐다.", 0.6), ("그것은 하나님의 명령이었다고 전한다.", 0.5))
    text, _ = extractive_answer("노아는 누구의 명령에 따라 배를 만들었나?", pool, korean)
    assert "하나님" in text
    # the ranker far surer of the first: a sentence holding no name of the asked kind does not join
    pool = _apart(("노아는 방주를 만들고 가족과 함께 배에 올랐다.", 0.6), ("그것은 하나님의 명령이었다고 전한다.", 0.1))
    text, _ = extractive_answer("노아는 누구의 명령에 따라 배를 만들었나?", pool, korean)
    assert "하나님" not in text


def test_for_a_name_a_sentence_the_ranker_is_far_surer_of_leads_without_a_figure(korean: KoreanText) -> None:
    # the digits rule is for numbers only: a name question's lead needs no figure in digits
    pool = _apart(("그것은 하나님의 명령이었다고 전한다.", 0.6), ("이 배는 김철수 목수가 지었다고 전한다.", 0.05))
    text, _ = extractive_answer("노아는 누구의 명령에 따라 배를 만들었나?", pool, korean)
    assert text.startswith("그것은 하나님의 명령") and "김철수" not in text
    from rag.extractive import draft_lead

    assert draft_lead("노아는 누구의 명령에 따라 배를 만들었나?", pool, korean) is pool[0]
    # for a number the far surer sentence leads only with a figure in digits
    counted = _apart(("결승전은 3:1로 끝났다.", 0.6), ("결승전에는 관중 2만 명이 모였다.", 0.05))
    assert draft_lead("결승전은 몇 대 몇으로 끝났나?", counted, korean) is counted[0]
    words = _apart(("결승전은 싱겁게 끝났다.", 0.6), ("결승전에는 관중 2만 명이 모였다.", 0.05))
    assert draft_lead("결승전은 몇 대 몇으로 끝났나?", words, korean) is words[1]


def test_sentences_holding_the_asked_number_join_when_the_ranker_cannot_tell_them_apart(korean: KoreanText) -> None:
    pool = _apart(("물류센터에는 로봇 200대가 들어갔다.", 0.6), ("2공장에는 로봇 150대가 더 들어간다.", 0.55))
    text, _ = extractive_answer("물류센터에 들어간 로봇은 몇 대인가?", pool, korean)
    assert "200대" in text and "150대" in text


def test_a_part_named_only_in_an_articles_title_gets_that_articles_sentence(korean: KoreanText) -> None:
    # a question in several parts that asks no kind of value: the part no chosen sentence names gets the
    # sentence of the article whose title names it, past the sentences a question in parts may hold
    from rag.types import Evidence

    question = "한빛전자와 누리화학은 각각 무엇을 만드나?"
    hanbit = ["한빛전자는 반도체를 만든다.", "한빛전자는 경기도에 공장이 있다.", "한빛전자 직원은 500명이다."]
    pool = [Evidence(n, "a.txt", text, 60 * n, 60 * n + len(text), title="한빛전자 소식", score=0.6 - 0.01 * n)
            for n, text in enumerate(hanbit, 1)]
    other = "이 회사는 접착제를 만든다."
    pool.append(Evidence(4, "b.txt", other, 0, len(other), title="누리화학 새 공장", score=0.1))
    text, citations = extractive_answer(question, pool, korean)
    assert "접착제" in text and len(citations) == 4


def test_each_part_of_a_question_in_parts_gets_a_sentence_holding_its_own_words(korean: KoreanText) -> None:
    # "A사가 맺은 협약과 B 행사에서 체결한 협약은 각각": the sentences the ranker likes best all answer the
    # first part; the second part's words pick one more sentence — only for a question in parts
    first = ["한빛전자가 맺은 협약은 기술 협력 협약이다.", "한빛전자가 맺은 협약은 3년 동안 이어진다.",
             "한빛전자가 맺은 협약에는 협력사 20곳이 참여했다."]
    pool = _apart(*[(t, 0.6 - 0.01 * n) for n, t in enumerate(first)], ("지난달 박람회에서는 수출 협약이 체결됐다.", 0.05))
    text, _ = extractive_answer("한빛전자가 맺은 협약과 지난달 박람회에서 체결한 협약은 각각 무엇인가?", pool, korean)
    assert "수출 협약" in text
    text, _ = extractive_answer("한빛전자가 맺은 협약과 지난달 박람회에서 체결한 협약은 무엇인가?", pool, korean)
    assert "수출 협약" not in text


def test_the_parts_of_a_question_and_the_part_a_paragraph_names_last() -> None:
    from rag.extractive import _named_last, _question_parts

    assert _question_parts("한빛전자와 누리화학은 각각 무엇을 만드나?") == ["한빛전자", "누리화학은 각각 무엇을 만드나?"]
    assert _question_parts("Hanbit and Nuri each make what?") == ["Hanbit", "Nuri each make what?"]
    assert _question_parts("한빛전자는 무엇을 만드나?") == []
    assert _question_parts("갑과 을은 각각 누구인가?") == ["을은 각각 누구인가?"]  # a one-letter part is no part
    spellings = {"한빛": {"한빛"}, "누리": {"누리", "누리화학"}}
    assert _named_last("한빛은 반도체를, 누리화학은 접착제를", spellings) == "누리"
    assert _named_last("한빛은 반도체를 만든다", spellings) == "한빛"
    assert _named_last("이 회사는 접착제를 만든다", spellings) == ""


# A question in parts (rule mutants, bench/results/rule_mutants_2026-12-03.md, the (L) items): made-up cases
# that take one route each — no name for the part-name rule, no "과/와" for the part-words rule where
# the case is not about them.


def _side_by_side(*scored: tuple[str, float]) -> list:
    """Evidence sentences of one article, each the neighbour of the one before, in the ranker's order."""
    return _apart(*scored, gap=1)


def _articles(*rows: tuple[str, float, str, str]) -> list:
    """One evidence sentence per article: (text, score, title, its paragraph before it)."""
    from rag.types import Evidence

    return [Evidence(n, f"{n}.txt", text, 0, len(text), title=title, score=score, preceding=before)
            for n, (text, score, title, before) in enumerate(rows, 1)]


def test_a_sentence_adding_words_of_another_part_joins_though_the_ranker_is_far_less_sure(
        korean: KoreanText) -> None:
    question = "공장, 연구소는 각각 올해 무엇을 만들어 팔았나?"
    pool = _apart(("공장은 올해 배터리를 만들어 팔았다.", 0.6),
                  ("공장은 올해 많이 팔았다.", 0.2),  # much of the question, nothing the first lacks
                  ("연구소 주차장은 넓다.", 0.12),  # the other part's word, little of the question
                  ("연구소는 올해 새 소재를 만들어 팔았다.", 0.1))
    _, citations = extractive_answer(question, pool, korean)
    assert [c.n for c in citations] == [1, 4]
    _, citations = extractive_answer(question.replace("각각 ", ""), pool, korean)  # one question: one sentence
    assert [c.n for c in citations] == [1]


def test_in_a_question_in_parts_a_sentence_nearly_as_good_joins_past_a_higher_second_sentence_bar(
        korean: KoreanText) -> None:
    question = "공장, 연구소는 각각 무엇을 만드나?"
    pool = _apart(("공장은 배터리를 만든다.", 0.6), ("공장 배터리는 인기가 많다.", 0.5), ("공장 주차장은 넓다.", 0.45))
    # 0.5 is at least 0.8 of the first: it joins; 0.45 is not, and asks no kind of value to hold
    assert [c.n for c in extractive_answer(question, pool, korean, second_share=0.9)[1]] == [1, 2]
    assert [c.n for c in extractive_answer(question.replace("각각 ", ""), pool, korean, second_share=0.9)[1]] == [1]


def test_in_a_question_in_parts_a_sentence_holding_the_asked_kind_joins_at_a_lower_bar(korean: KoreanText) -> None:
    question = "공장, 연구소는 각각 어디에 있나?"
    pool = _apart(("공장은 청주에 있다.", 0.6),
                  ("공장 물류창고는 천안에 있다.", 0.43),  # a place, 0.72 of the first
                  ("연구소는 규모가 크다.", 0.1))  # the other part's word, but no place: it answers nothing
    assert [c.n for c in extractive_answer(question, pool, korean, second_share=0.9)[1]] == [1, 2]


def test_the_leads_neighbour_joins_without_a_name_but_not_without_a_number(korean: KoreanText) -> None:
    # a name Kiwi did not tag may be there; a number is told by its shape
    pool = _side_by_side(("한빛랩스 공장은 청주에 있다.", 0.6), ("이 공장은 배터리를 만든다.", 0.1))
    assert len(extractive_answer("한빛랩스 공장은 어디에 있나?", pool, korean)[1]) == 2
    pool = _side_by_side(("한빛랩스 직원은 120명이다.", 0.6), ("이 가운데 연구원은 40명이다.", 0.1))
    assert len(extractive_answer("한빛랩스 직원은 몇 명인가?", pool, korean)[1]) == 2
    pool = _side_by_side(("한빛랩스 직원은 120명이다.", 0.6), ("이 회사는 배터리를 만든다.", 0.1))
    assert len(extractive_answer("한빛랩스 직원은 몇 명인가?", pool, korean)[1]) == 1


def test_the_part_words_rule_stops_two_sentences_past_the_answers_size(korean: KoreanText) -> None:
    question = "공장과 연구소와 창고와 매장은 각각 무엇을 만드나?"
    pool = _apart(("공장은 배터리를 만든다.", 0.6), ("연구소는 소재를 만든다.", 0.1), ("창고는 포장재를 만든다.", 0.1),
                  ("매장은 간식을 만든다.", 0.1))
    assert [c.n for c in extractive_answer(question, pool, korean, max_sentences=1)[1]] == [1, 2, 3]
    assert len(extractive_answer(question, pool, korean)[1]) == 4


def test_the_part_name_rule_stops_one_sentence_past_the_answers_size(korean: KoreanText) -> None:
    question = "Hanbit, Nuri, Daon은 각각 무엇을 만드나?"
    pool = _articles(("Hanbit은 반도체를 만든다.", 0.6, "", ""), ("Nuri는 접착제를 만든다.", 0.1, "", ""),
                     ("Daon은 타이어를 만든다.", 0.1, "", ""))
    assert [c.n for c in extractive_answer(question, pool, korean, max_sentences=1)[1]] == [1, 2]
    assert len(extractive_answer(question, pool, korean)[1]) == 3


def test_a_part_is_found_in_a_sentences_text_before_an_articles_title(korean: KoreanText) -> None:
    # (the third sentence holds too little of the question to join as one adding words)
    question = "Hanbit, Nuri는 각각 올해 어떤 신제품을 만들어 팔았나?"
    pool = _articles(("Hanbit은 올해 반도체 신제품을 만들어 팔았다.", 0.6, "Hanbit 소식", ""),
                     ("이 회사는 공장을 늘린다.", 0.2, "Nuri 소식", ""), ("Nuri는 접착제를 앞세웠다.", 0.1, "업계 소식", ""))
    assert [c.n for c in extractive_answer(question, pool, korean)[1]] == [1, 3]
    # a part no sentence and no title names adds nothing
    assert [c.n for c in extractive_answer(question, pool[:1], korean)[1]] == [1]


def test_a_part_named_with_its_value_is_not_taken_from_a_paragraph_that_named_it(korean: KoreanText) -> None:
    question = "Hanbit, Nuri의 올해 연구 인력 채용 규모는 각각 몇 명인가?"
    pool = _articles(("Hanbit은 올해 연구 인력 120명을 채용한다.", 0.6, "", ""),
                     ("이 회사는 80명을 뽑는다.", 0.2, "", "Nuri는 공장을 늘린다. "),  # its paragraph named Nuri
                     ("Nuri는 공장을 늘린다.", 0.15, "", ""),  # names the part, holds no number
                     ("Nuri는 90명을 뽑았다.", 0.1, "", ""))
    text, citations = extractive_answer(question, pool, korean)
    assert [c.n for c in citations] == [1, 4] and "90명" in text


def test_a_parts_sentence_holding_the_asked_kind_is_taken_not_a_surer_one_holding_none(korean: KoreanText) -> None:
    # the ranker is sure enough of the second to let it lead, not to let it join; the third holds too
    # little of the question to join as one adding words: only the part-name rule can take it
    question = "Hanbit, Nuri의 새 반도체 공장은 각각 올해 어디에 들어섰나?"
    pool = _articles(("Hanbit의 새 반도체 공장은 올해 규모가 크다.", 0.9, "", ""),
                     ("Nuri의 새 반도체 공장은 올해 완공됐다.", 0.41, "", ""), ("Nuri는 천안에 있다.", 0.2, "", ""))
    assert [c.n for c in extractive_answer(question, pool, korean)[1]] == [1, 3]


def test_a_part_named_without_its_value_gets_the_sentence_of_the_article_its_title_names(
        korean: KoreanText) -> None:
    question = "Hanbit, Nuri의 올해 연구 인력 채용 규모는 각각 몇 명인가?"
    hanbit = ("Hanbit은 올해 연구 인력 120명을 채용한다.", 0.6, "", "")
    titled = ("이 회사는 90명을 뽑았다.", 0.1, "Nuri 채용 소식", "")
    pool = _articles(hanbit, ("Nuri는 공장을 늘린다.", 0.15, "", ""), titled)
    assert [c.n for c in extractive_answer(question, pool, korean)[1]] == [1, 3]
    # a paragraph that named the part ties to it only a sentence holding a value, and naming no other part
    after_nuri = "Nuri는 창립 10주년을 맞았다. "
    for carried in (("이 회사는 공장을 늘린다.", 0.2, "", after_nuri), ("Hanbit도 하반기에 30명을 더 뽑는다.", 0.2, "", after_nuri)):
        pool = _articles(hanbit, carried, ("Nuri는 공장을 늘린다.", 0.15, "", ""), titled)
        assert [c.n for c in extractive_answer(question, pool, korean)[1]] == [1, 4]


def test_a_number_in_a_question_in_parts_is_no_part(korean: KoreanText) -> None:
    # "2024" is a term that names something, not a part: no sentence is taken for it alone (the third
    # holds too little of the question to join as one adding words)
    question = "Hanbit, Nuri의 2024년 새 반도체 공장 투자액은 각각 얼마인가?"
    pool = _articles(("Hanbit의 새 반도체 공장 투자액은 500억원이다.", 0.6, "", ""),
                     ("Nuri의 새 반도체 공장 투자액은 300억원이다.", 0.1, "", ""),
                     ("2024년 업계 전체로는 9000억원이 몰렸다.", 0.05, "", ""))
    assert [c.n for c in extractive_answer(question, pool, korean)[1]] == [1, 2]


def test_a_one_letter_part_name_is_no_name_its_letter_stands_inside_other_words(korean: KoreanText) -> None:
    # "B" of "B사": a sentence holding "Web" does not name it
    question = "Daon, B사는 각각 올해 어떤 신제품을 만들어 팔았나?"
    pool = _articles(("Daon은 올해 반도체 신제품을 만들어 팔았다.", 0.6, "", ""), ("이 회사는 Web 서비스도 한다.", 0.1, "", ""))
    assert [c.n for c in extractive_answer(question, pool, korean)[1]] == [1]


def test_a_parts_other_spellings_are_no_parts_but_still_name_it(tmp_path) -> None:
    # an alias group of the lexicon (made up here): "한빛랩스" is another spelling of the part Hanbit
    from rag.vocabulary import DEFAULT_LEXICON, Lexicon

    (tmp_path / "aliases.tsv").write_text("hanbit\t한빛랩스\n", encoding="utf-8")
    korean = KoreanText(lexicon=Lexicon.load([DEFAULT_LEXICON, tmp_path]))
    # the question writes "Hanbit": "한빛랩스" is no part of its own to take a sentence for
    question = "Hanbit, Nuri는 각각 올해 어떤 신제품을 만들어 팔았나?"
    pool = _articles(("Hanbit은 올해 반도체 신제품을 만들어 팔았다.", 0.6, "", ""), ("한빛랩스 공장은 청주에 있다.", 0.1, "", ""))
    assert [c.n for c in extractive_answer(question, pool, korean)[1]] == [1]
    # a sentence naming Hanbit by its other spelling is Hanbit's, whatever its paragraph named before
    question = "Hanbit, Nuri의 올해 연구 인력 채용 규모는 각각 몇 명인가?"
    pool = _articles(("Hanbit은 올해 연구 인력 120명을 채용한다.", 0.6, "", ""),
                     ("한빛랩스는 하반기에 30명을 더 뽑는다.", 0.2, "", "Nuri는 창립 10주년을 맞았다. "),
                     ("Nuri는 공장을 늘린다.", 0.15, "", ""), ("이 회사는 90명을 뽑았다.", 0.1, "Nuri 채용 소식", ""))
    assert [c.n for c in extractive_answer(question, pool, korean)[1]] == [1, 4]


def test_a_lead_saying_back_a_question_that_asks_a_value_is_completed_beside_it_within_a_callers_limit(korean: KoreanText) -> None:
    from rag.types import Evidence

    def pool(lead: str, telling: str) -> list[Evidence]:  # the lead, and beside it a sentence the ranker all but rules out
        return [Evidence(1, "a.txt", lead, 0, len(lead), score=0.6),
                Evidence(2, "a.txt", telling, len(lead) + 1, len(lead) + 1 + len(telling), score=0.012)]

    # a question asking a count: the lead says it back (its only figure is the question's own year) and
    # the count stands in the next sentence
    question = "2021년 누리 축제에 온 사람은 몇 명인가?"
    count = pool("2021년 누리 축제에는 많은 사람이 왔다.", "방문객은 모두 5000여명이었다.")
    assert "5000여명" in extractive_answer(question, count, korean, restatement_words=2)[0]
    assert "5000여명" not in extractive_answer(question, count, korean, restatement_words=0)[0]
    # a caller's limit that leaves room lets the rule complete the lead; one that does not, holds
    assert "5000여명" in extractive_answer(question, count, korean, max_sentences=2, restatement_words=2)[0]
    assert "5000여명" not in extractive_answer(question, count, korean, max_sentences=1, restatement_words=2)[0]
    # a figure the lead adds blocks the rule only for a question asking a number: for a name it is no answer
    named = pool("그래서 구청은 3월 주민들의 민원 불편을 줄이는 제도를 새로 도입했다.",
                 "구청이 주말에도 문을 여는 '찾아가는 민원실'이 그것이다.")
    assert "찾아가는 민원실" in extractive_answer("주민들의 민원 불편을 줄이려고 구청이 새로 도입한 제도는?", named, korean,
                                           restatement_words=3)[0]


def test_a_sentence_is_cited_once_though_it_is_also_the_part_its_title_names(korean: KoreanText) -> None:
    # 누리카드's value sentence joins by score and names no part; the part's holder found through its article's
    # title is that same sentence: it is not written (and cited) a second time
    from rag.types import Evidence

    question = "한빛은행과 누리카드의 상생펀드 규모는 각각 얼마인가?"
    first = "한빛은행은 상생펀드를 500억원 규모로 운영한다."
    value = "또 총 300억원 규모의 상생펀드 대출을 지원한다."
    named = "누리카드는 협력사 간담회를 열었다."
    pool = [Evidence(1, "a.txt", first, 0, len(first), title="한빛은행 상생 소식", score=0.6),
            Evidence(2, "b.txt", value, 200, 200 + len(value), title="누리카드, 협력사와 상생", score=0.5),
            Evidence(3, "b.txt", named, 0, len(named), title="누리카드, 협력사와 상생", score=0.1)]
    text, citations = extractive_answer(question, pool, korean)
    assert "500억원" in text and "300억원" in text
    assert text.count("300억원") == 1 and len(citations) == len({c.n for c in citations})
