"""Grounding: refuse what the passages cannot answer, accept what they can."""

from __future__ import annotations

import pytest

from rag.korean import KoreanText
from rag.evidence import select_evidence
from rag.grounding import as_asked, assess_grounding, is_refusal, unnamed_in_cited
from rag.prompts import Prompts
from rag.vocabulary import Lexicon
from tests.answer_samples import TABLE, evidence, hits, table_hit


def test_grounding_refuses_a_company_the_articles_never_mention(korean: KoreanText) -> None:
    question = "삼성전자의 협력사 지원 펀드 규모는?"
    verdict = assess_grounding(question, hits(), evidence(korean, question), korean)
    assert not verdict.answerable and verdict.missing == ("삼성전자",)


def test_a_name_written_in_two_scripts_is_checked_whole(korean: KoreanText) -> None:
    # Kiwi reads "SK하이닉스" as SK / 하이닉스; "SK" alone is in another SK company's article
    from rag.types import Article, Chunk, Hit

    eco = Article(doc_id="eco.txt", title="SK에코플랜트, 협력사 지원",
                  text="SK에코플랜트는 500억 원 규모의 동반성장 펀드를 운영한다. 협력사 120곳이 지원을 받았다.")
    found = [Hit(Chunk(chunk_id="eco#0", doc_id=eco.doc_id, text=eco.text, start=0, end=len(eco.text),
                       title=eco.title), score=0.8, rank=1)]
    question = "SK하이닉스의 동반성장 펀드 규모는?"
    ev = select_evidence(question, found, {eco.doc_id: eco}.get, korean, max_evidence=8, max_chars=2000)
    verdict = assess_grounding(question, found, ev, korean)
    assert not verdict.answerable and verdict.missing == ("sk하이닉스",)
    # Kiwi reads "SK온" SK / 온 (a common noun): the name is checked whole all the same
    gone = "SK온의 동반성장 펀드 규모는?"
    verdict = assess_grounding(gone, found, select_evidence(gone, found, {eco.doc_id: eco}.get, korean,
                                                            max_evidence=8, max_chars=2000), korean)
    assert not verdict.answerable and verdict.missing == ("sk온",)
    asked = "SK에코플랜트의 동반성장 펀드 규모는?"  # the company the article is about is answered
    assert assess_grounding(asked, found, select_evidence(asked, found, {eco.doc_id: eco}.get, korean,
                                                          max_evidence=8, max_chars=2000), korean).answerable


def test_latin_letters_before_common_nouns_are_one_name_where_the_passages_use_them_for_a_group(korean) -> None:
    # Kiwi reads "LG에너지솔루션" LG / 에너지 / 솔루션 and "KBS드라마" KBS / 드라마: where a passage writes the letters
    # before another name ("LG이노텍"), they are a group's and the name is checked whole; elsewhere the letters are
    from rag.grounding import grounding_signals
    from rag.types import Chunk, Evidence, Hit

    def check(question: str, text: str) -> tuple[list[str], list[str]]:
        hit = [Hit(Chunk("a#0", "a.txt", text, 0, len(text), title="소식"), score=0.6)]
        return grounding_signals(question, hit, [Evidence(1, "a.txt", text, 0, len(text), score=0.6)], korean)[1:]

    group = "LG이노텍은 1,030억 원 규모의 동반성장 펀드를 운영한다."
    assert check("LG에너지솔루션의 동반성장 펀드 규모는?", group) == (["lg에너지솔루션"], ["lg에너지솔루션"])
    assert check("LG이노텍의 동반성장 펀드 규모는?", group) == ([], ["lg이노텍"])
    assert check("LG에너지솔루션의 동반성장 펀드 규모는?", "LG에너지솔루션 펀드는 500억 원이다.")[0] == []
    drama = "배우는 KBS 2TV 드라마 '공부의 신'에서 첫 주연을 맡았다."
    assert check("KBS드라마에서 첫 주연을 맡은 작품은?", drama) == ([], ["kbs"])
    assert check("KBS드라마에서 첫 주연을 맡은 작품은?", "KBS연기대상은 12월에 열린다. " + drama)[0] == ["kbs드라마"]
    assert check("K뱅크의 대출 규모는?", "케이뱅크는 대출을 늘렸다.") == ([], [])  # one letter: no name
    # letters and a proper noun ("SK하이닉스", Kiwi's SK / 하이닉스) are one name wherever (the 2026-12-06 rule)
    assert check("SK하이닉스의 펀드 규모는?", "SK는 반도체 협력사 펀드를 운영한다.")[0] == ["sk하이닉스"]


def test_a_value_next_to_a_name_the_passage_spaces_differently_is_next_to_it(korean: KoreanText) -> None:
    from rag.types import Article, Chunk, Hit

    cup = Article(doc_id="cup.txt", title="슬램덩크 챔피언컵 개막",
                  text="챔피언컵 결승전은 온라인으로 중계된다. 대표 BJ 주노는 오는 20일 중계진으로 처음 출연한다.")
    found = [Hit(Chunk(chunk_id="cup#0", doc_id=cup.doc_id, text=cup.text, start=0, end=len(cup.text),
                       title=cup.title), score=0.8, rank=1)]
    question = "BJ주노가 중계진으로 처음 출연하는 날은?"  # the name whole ("bj주노"), the passage spaced
    ev = select_evidence(question, found, {cup.doc_id: cup}.get, korean, max_evidence=8, max_chars=2000)
    verdict = assess_grounding(question, found, ev, korean)
    assert verdict.code != "value_not_near_name" and verdict.signals["value_near"] == 1.0


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


def _plant_articles(with_year: bool = True) -> tuple[list, list]:
    """A made-up fund article (its year written out, or none) and a plant article with an abbreviated year."""
    from rag.types import Chunk, Evidence, Hit

    fund = f"대성제약은 {'2023년 ' if with_year else ''}협력사 지원 펀드를 500억원으로 늘렸다."
    plant = "누리화학은 '23년 새 공장을 울산에 짓고 직원 300명을 뽑는다."
    found = [Hit(Chunk("a#0", "a.txt", fund, 0, len(fund), title="대성제약 소식"), score=0.8, dense=0.7),
             Hit(Chunk("b#0", "b.txt", plant, 0, len(plant), title="화학 소식"), score=0.5)]
    return found, [Evidence(1, "a.txt", fund, 0, len(fund), score=0.8),
                   Evidence(2, "b.txt", plant, 0, len(plant), score=0.5)]


def test_which_passage_holds_a_number_or_a_name_of_the_question(korean: KoreanText) -> None:
    from rag.grounding import grounding_signals
    from rag.types import Chunk, Hit

    found, ev = _plant_articles()
    # a year written out is found as written; an abbreviated one ('23) only next to one of the question's names
    assert grounding_signals("대성제약의 2023년 펀드 규모는?", found, ev, korean)[1] == []
    assert grounding_signals("대성제약의 2023년 펀드 규모는?", *_plant_articles(with_year=False), korean)[1] == ["2023"]
    # a misspelled name is found one edit away; a name inside a longer word of the passage ("KX380" of a
    # variant "KX380NG") is found as a substring, for `missing` and for `together` alike
    assert grounding_signals("대성재약의 펀드 규모는?", found, ev, korean)[1:] == ([], ["대성재약"])
    text = "누리항공은 KX380NG 두 대를 들여왔다."
    jets = [Hit(Chunk("c#0", "c.txt", text, 0, len(text), title="항공 소식"), score=0.5), found[0]]
    signals, missing, names = grounding_signals("KX380을 들여온 항공사는?", jets, ev, korean)
    assert (missing, names, signals["together"]) == ([], ["kx380"], 1.0)
    # a one-letter name ("B" of "B공장" stands inside other words) and a question word are not checked
    assert grounding_signals("대성제약 B공장의 펀드 규모는?", found, ev, korean)[1:] == ([], ["대성"])
    assert grounding_signals("대성제약 펀드 조성 year는?", found, ev, korean)[1:] == ([], ["대성"])


def test_an_english_question_checks_its_numbers_and_its_names_not_its_english_words(korean: KoreanText) -> None:
    from rag.grounding import grounding_signals

    found, ev = _plant_articles()
    signals, missing, names = grounding_signals("What plant does Nuri build in 2024?", found, ev, korean)
    assert (missing, names) == (["2024", "nuri"], ["nuri"])
    # its words share nothing with Korean sentences: coverage is not measured
    assert (signals["coverage"], signals["anchored"]) == (1.0, 1.0)


def test_coverage_counts_the_questions_other_words_and_anchored_only_passages_naming_it(korean: KoreanText) -> None:
    from rag.grounding import grounding_signals
    from rag.types import Chunk, Evidence, Hit

    found, ev = _plant_articles()
    # every other word of the question stands in the plant sentence (its name does not: it is not counted);
    # the passage naming 대성제약 holds none of them
    signals = grounding_signals("대성제약의 새 공장은 어디에 짓나?", found, ev, korean)[0]
    assert (signals["coverage"], signals["anchored"]) == (1.0, 0.0)
    # a question naming nothing is anchored by any passage
    assert grounding_signals("새 공장은 어디에 짓나?", found, ev, korean)[0]["anchored"] == 1.0
    # a name in the article's title anchors its passage
    text = "협력사 지원 펀드는 올해 500억원으로 늘었다."
    titled = [Hit(Chunk("c#0", "c.txt", text, 0, len(text), title="대성제약 소식"), score=0.8), found[1]]
    signals = grounding_signals("대성제약의 협력사 지원 펀드는 얼마로 늘었나?", titled,
                                [Evidence(1, "c.txt", text, 0, len(text), score=0.8), ev[1]], korean)[0]
    assert signals["anchored"] == 1.0
    # a question of its number alone has nothing else to cover
    signals = grounding_signals("2023?", found, ev, korean)[0]
    assert (signals["coverage"], signals["anchored"]) == (1.0, 1.0)


def test_the_value_near_a_name_check_is_only_for_a_value_about_one_name(korean: KoreanText) -> None:
    from rag.grounding import _value_near_name
    from rag.types import Chunk, Hit

    text = "공장 직원은 모두 300명이다."
    staff = [Hit(Chunk("d#0", "d.txt", text, 0, len(text), title="공장 소식"), score=0.5)]
    assert not _value_near_name("대성제약 공장 직원은 몇 명인가?", staff, ["대성제약"], korean)
    assert _value_near_name("공장 직원은 몇 명인가?", staff, [], korean)  # no name
    assert _value_near_name("대성제약과 누리화학의 직원 수는 각각 몇 명인가?", staff, ["대성제약", "누리화학"], korean)
    # a two-letter name is not read across a word boundary ("대한 화학" holds 한화 unspaced)
    text = "대한 화학 협회는 협력사에 500억 원을 지원했다."
    other = [Hit(Chunk("c#0", "c.txt", text, 0, len(text), title="협회 소식"), score=0.5)]
    assert not _value_near_name("한화의 협력사 지원금은 얼마인가?", other, ["한화"], korean)


def test_unknown_names_are_an_english_questions_capitalized_words_nothing_else_covers() -> None:
    import re

    from rag.grounding import unknown_names
    from rag.vocabulary import GlossEntry

    lexicon = Lexicon.load()
    glossary = [GlossEntry(kind="name", pattern=re.compile(r"Nuri\s*Chemical", re.I), forms=("누리화학",))]
    # not its first word, not a question word, not a glossary name, not a single letter
    assert unknown_names("Tell me: Who founded Hanbit?", glossary, lexicon) == ["hanbit"]
    assert unknown_names("Does Hanbit run Plant B of Nuri Chemical?", glossary, lexicon) == ["hanbit", "plant"]
    # a keyword query is no sentence: its capitalized first word is a name too
    assert unknown_names("Hanbit fund", glossary, lexicon, sentence=False) == ["hanbit"]
    assert unknown_names("Hanbit fund", glossary, lexicon) == []


def test_a_keyword_query_about_a_company_no_passage_knows_is_refused(korean: KoreanText) -> None:
    from dataclasses import replace

    # "Hanwha fund" asks nothing in words, and its "fund" (the glossary's 펀드) finds passages by keyword;
    # but it names a company the articles never mention: not LG이노텍's fund
    found = [replace(h, keyword=2.0) for h in hits()]
    verdict = assess_grounding("Hanwha fund", found, evidence(korean, "Hanwha fund"), korean)
    assert not verdict.answerable and "hanwha" in verdict.missing
    # the glossary knows LG Innotek: the same query about it is checked as before
    assert assess_grounding("LG Innotek fund", found, evidence(korean), korean).missing == ()


def test_a_swap_is_of_two_neighbouring_letters_each_in_the_others_place() -> None:
    from rag.grounding import _within_one_edit

    assert _within_one_edit("마쓰오카", "마오쓰카")
    assert not _within_one_edit("마쓰오카", "마카오쓰")  # not neighbours
    assert not _within_one_edit("마쓰오카", "마아쓰카") and not _within_one_edit("마쓰오카", "마오아카")  # only one moved


def test_a_refusal_is_not_read_from_an_empty_refusal_text_nor_from_a_cited_sentence() -> None:
    assert not is_refusal("대성제약은 펀드를 늘렸다 [1].", "")
    cues = ("not in the context",)
    assert is_refusal("That is not in the context.", "", cues)
    assert not is_refusal("The plant is not in the context of the fund [1].", "", cues)


def test_a_name_written_in_another_spelling_of_its_alias_group_is_in_the_passage(tmp_path) -> None:
    # an alias group of the lexicon (made up here): the passage writes 누리에어, the question 누리항공
    from rag.grounding import grounding_signals
    from rag.types import Chunk, Evidence, Hit
    from rag.vocabulary import DEFAULT_LEXICON

    (tmp_path / "aliases.tsv").write_text("누리항공\t누리에어\n", encoding="utf-8")
    korean = KoreanText(lexicon=Lexicon.load([DEFAULT_LEXICON, tmp_path]))
    text = "누리에어는 KX380NG 두 대를 들여왔다."
    found = [Hit(Chunk("c#0", "c.txt", text, 0, len(text), title="항공 소식"), score=0.5)]
    signals, missing, _ = grounding_signals("누리항공이 들여온 기종은?", found, [Evidence(1, "c.txt", text, 0, len(text))],
                                            korean)
    assert (missing, signals["together"]) == ([], 1.0)


def test_a_name_is_checked_whole_not_by_a_shorter_name_inside_it(tmp_path) -> None:
    # a made-up user word and glossary entry: "HB전자" is one name; its piece "hb" is in HB화학's article too,
    # and must not count as the question's name being there (nor for an English question naming it)
    from rag.grounding import grounding_signals
    from rag.types import Chunk, Evidence, Hit
    from rag.vocabulary import DEFAULT_LEXICON

    (tmp_path / "user_words.tsv").write_text("HB전자\tNNP\n", encoding="utf-8")
    (tmp_path / "glossary.tsv").write_text("name\tHB\\s*Electronics\tHB전자\n", encoding="utf-8")
    korean = KoreanText(lexicon=Lexicon.load([DEFAULT_LEXICON, tmp_path]))
    text = "HB화학은 협력사 펀드를 500억원으로 늘렸다."
    found = [Hit(Chunk("a#0", "a.txt", text, 0, len(text), title="화학 소식"), score=0.5)]
    ev = [Evidence(1, "a.txt", text, 0, len(text))]
    assert grounding_signals("HB전자의 펀드 규모는?", found, ev, korean)[1:] == (["hb전자"], ["hb전자"])
    assert grounding_signals("How large is HB Electronics' fund?", found, ev, korean)[1:] == (["hb전자"], ["hb전자"])


def test_a_name_written_without_the_passages_spaces_is_in_the_passage(korean: KoreanText) -> None:
    from rag.grounding import grounding_signals
    from rag.types import Chunk, Evidence, Hit

    text = "이 말은 조지 콜먼의 쇼에서 처음 쓰였다고 전해진다."
    found = [Hit(Chunk("a#0", "a.txt", text, 0, len(text), title="블루스의 역사"), score=0.7)]
    ev = [Evidence(1, "a.txt", text, 0, len(text), score=0.5)]
    # writers space a transliterated name differently: "조지콜먼" is the passage's "조지 콜먼"
    assert grounding_signals("조지콜먼의 쇼에서 유래한 말은?", found, ev, korean)[1] == []
    # a name the passage does not hold, spaced or not, is still missing
    assert grounding_signals("조지해리슨의 쇼에서 유래한 말은?", found, ev, korean)[1]
    # a shorter name is not read across the passage's spaces ("A B" holds no "AB"), and is found inside a
    # longer word as written ("KX" of "KX380NG")
    two = "이 제품은 A B 두 가지 모델로 나온다. 누리항공은 KX380NG 두 대를 들여왔다."
    found = [Hit(Chunk("b#0", "b.txt", two, 0, len(two), title="제품 소식"), score=0.7)]
    ev = [Evidence(1, "b.txt", two, 0, len(two), score=0.5)]
    assert grounding_signals("AB 모델의 출시일은?", found, ev, korean)[1] == ["ab"]
    assert grounding_signals("KX 기종을 들여온 항공사는?", found, ev, korean)[1] == []


def test_a_text_of_numbers_and_signs_or_latin_words_no_passage_holds_is_not_answered(korean: KoreanText) -> None:
    from dataclasses import replace

    # passages the multilingual embedding found for anything at all, none matched by keyword
    found, ev = hits(), evidence(korean)
    for text in ("[1] [2]", "12", "?!", "hello", "asdf qwer", "ab"):
        verdict = assess_grounding(text, found, ev, korean)
        assert not verdict.answerable, text
        assert verdict.reason in ("the question has no words", "no word of the question occurs in the articles")
    # a Latin question that asks (a question word of the lexicon) goes the English route as before
    for asked in ("What is the supplier fund?", "Tell me about the partnership", "supplier fund?"):
        assert assess_grounding(asked, found, ev, korean).reason != "no word of the question occurs in the articles"
    # and one whose word a passage holds by keyword (a glossary form, a Hangul name it sounds as)
    matched = [replace(found[0], keyword=3.2)] + found[1:]
    assert assess_grounding("Innotek fund", matched, ev, korean).reason != "no word of the question occurs in the articles"
    # Korean text is judged by the fitted model and the rules after it, not by this one
    assert assess_grounding("LG이노텍 펀드", found, ev, korean).reason != "no word of the question occurs in the articles"


def test_unnamed_in_cited_gives_the_names_only_when_no_cited_article_mentions_any(korean: KoreanText) -> None:
    pay = "한빛전자, 협력사 납품대금 조기 지급\n한빛전자는 납품대금 160억원을 조기 지급했다."
    assert unnamed_in_cited(("대성반도체",), [pay], korean) == ("대성반도체",)
    assert unnamed_in_cited(("대성반도체", "한빛전자"), [pay], korean) == ()  # one of them is there
    assert unnamed_in_cited(("대성반도체",), [pay, "대성반도체는 공장을 짓는다."], korean) == ()  # in another cited one
    assert unnamed_in_cited(("sk하이닉스",), ["SK 하이닉스는 대금을 지급했다."], korean) == ()  # spaced otherwise
    assert unnamed_in_cited(("마쓰오카",), ["아쓰오카 씨는 대금을 지급했다."], korean) == ()  # one edit: a misspelling
    # a two-letter name is not read across a word boundary: "대한 화학" does not name 한화
    assert unnamed_in_cited(("한화",), ["대한 화학 업계는 협력사에 500억 원을 지원했다."], korean) == ("한화",)
    assert unnamed_in_cited((), [pay], korean) == () and unnamed_in_cited(("대성반도체",), [], korean) == ()


def test_an_answerable_grounding_keeps_the_questions_names(korean: KoreanText) -> None:
    grounding = assess_grounding("LG이노텍의 동반성장 펀드 규모는?", hits(), evidence(korean), korean)
    assert grounding.answerable and "lg이노텍" in grounding.names


def test_names_are_shown_as_the_question_writes_them() -> None:
    assert as_asked(("lg전자", "엘지전자"), "LG전자의 펀드는?") == ("LG전자",)  # the alias it does not write goes
    assert as_asked(("sk하이닉스",), "SK하이닉스가 지급한 대금은?") == ("SK하이닉스",)
    assert as_asked(("엘지전자",), "What is LG Electronics' fund?") == ("엘지전자",)  # none written: as read
    assert as_asked((), "질문") == ()
    assert as_asked(("i̇stanbul",), "İstanbul의 인구는?") == ("i̇stanbul",)  # lower case is longer: kept as read
