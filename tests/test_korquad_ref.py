"""KorQuAD follow-ups that refer to their article ("그 정치인이 …"): the head noun of the first sentence, the
particle re-formed for it, articles without one skipped, withheld articles still to be refused (real Kiwi)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.korquad_ref import head_noun, load_korquad_followup_ref, referring_question


@pytest.fixture(scope="module")
def korean():
    from rag.korean import KoreanText

    return KoreanText()


def _noun(korean, sentence: str, title: str) -> str | None:
    return head_noun(sentence, korean.morphemes_batch([sentence])[0], title)


def test_the_head_noun_is_the_common_noun_the_first_sentence_says_the_title_is(korean):
    assert _noun(korean, "임종석(任鍾晳, 1966년 ~ )은 대한민국의 정치인이다.", "임종석") == "정치인"
    assert _noun(korean, "임세영은 광동성 출신으로 정육점을 경영하던 사람이었다.", "임세영") == "사람"  # past copula
    # the title's words, compared on letters alone, and its disambiguator left out
    assert _noun(korean, "칭짱고원이라고도 불리는 티베트 고원은 동아시아의 넓고 높은 고원이다.", "티베트고원") == "고원"
    assert _noun(korean, "박대성(1978년 8월 ~ )은 대한민국의 인터넷 논객이다.", "박대성 (1978년)") == "논객"


def test_no_head_noun_where_the_first_sentence_does_not_define_the_title(korean):
    # the copula inside the sentence describes someone else
    assert _noun(korean, "1945년 곽영주가 동향 선배인 이정재의 도움으로 경찰학교에 입교하였다.", "곽영주") is None
    # a sentence about something else that the article's title is not
    assert _noun(korean, "미국 텔레비전 시스템 위원회는 1940년에 설립한 단체이다.", "NTSC") is None
    assert _noun(korean, "임종석은 1989년에 지명수배되었다.", "임종석") is None  # no copula
    assert _noun(korean, "역산이란 역법에 따라 행하는 계산을 부르는 말이다.", "역산") is None  # one syllable
    assert _noun(korean, "한빛이 쓰이는 것은 비가 오는 경우이다.", "한빛") is None  # a grammatical noun


def test_the_built_question_carries_the_particle_in_the_form_the_noun_takes():
    assert referring_question("1989년 임종석이 주도한 시위는?", "임종석", "배우") == "1989년 그 배우가 주도한 시위는?"
    assert referring_question("누리는 어느 도시 출신인가?", "누리", "정치인") == "그 정치인은 어느 도시 출신인가?"
    assert referring_question("누리를 만든 사람은?", "누리", "정치인") == "그 정치인을 만든 사람은?"
    assert referring_question("임종석과 함께 일한 사람은?", "임종석", "배우") == "그 배우와 함께 일한 사람은?"
    assert referring_question("한빛으로 옮긴 해는?", "한빛", "도시") == "그 도시로 옮긴 해는?"
    assert referring_question("한빛으로 옮긴 해는?", "한빛", "마을") == "그 마을로 옮긴 해는?"  # ㄹ takes 로
    assert referring_question("한빛으로 옮긴 해는?", "한빛", "회관") == "그 회관으로 옮긴 해는?"
    assert referring_question("임종석의 고향은?", "임종석", "정치인") == "그 정치인의 고향은?"  # one form only
    assert referring_question("임종석은행의 대표는?", "임종석", "배우") is None  # a longer name, not the title


def _article(title: str, lead: str, qas: list[tuple[str, str, str]]) -> dict:
    context = lead + " " + " ".join(f"{answer}." for _, _, answer in qas)
    return {"title": title, "paragraphs": [{"context": context, "qas": [
        {"id": qid, "question": text, "answers": [{"text": answer, "answer_start": context.index(answer)}]}
        for qid, text, answer in qas]}]}


def test_followups_refer_to_the_article_by_its_head_noun_and_withheld_ones_must_be_refused(tmp_path: Path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps({"data": [
        _article("한빛", "한빛(1990년 ~ )은 대한민국의 회사이다.",
                 [("a", "한빛이 세워진 해는 언제인가?", "1990년"), ("b", "한빛의 본사가 있는 도시는?", "세종")]),
        _article("누리", "누리(1966년 ~ )는 대한민국의 정치인이다.",
                 [("c", "누리가 만든 정당은 무엇인가?", "새정당"), ("d", "누리는 어느 도시 출신인가?", "부산")]),
        # the first sentence defines nothing: the article's follow-ups are skipped and counted
        _article("가람", "가람은 2001년 서울에서 태어났다.",
                 [("e", "가람이 다닌 학교는 어디인가?", "한빛고"), ("f", "가람의 첫 작품은 무엇인가?", "바다")]),
    ]}, ensure_ascii=False), encoding="utf-8")
    corpus, questions, skipped = load_korquad_followup_ref(path, None, every=2)  # article 2 is withheld
    by_id = {q.id: q for q in questions}
    assert sorted(by_id) == ["a", "b", "c", "d"]
    assert by_id["a"].question == "그 회사가 세워진 해는 언제인가?"  # 이 re-formed after a vowel
    assert by_id["b"].question == "그 회사의 본사가 있는 도시는?"
    assert by_id["a"].history[0].content == "한빛의 본사가 있는 도시는?"  # the turn before names the article
    assert by_id["a"].type == "korquad-followup-ref" and by_id["a"].gold == ("korquad-001-01",)
    assert by_id["a"].answers == (("1990년",),)
    assert by_id["c"].question == "그 정치인이 만든 정당은 무엇인가?"  # 가 re-formed after a consonant
    assert by_id["d"].question == "그 정치인은 어느 도시 출신인가?"
    assert all(by_id[i].type == "korquad-followup-ref-withheld" and by_id[i].unanswerable for i in ("c", "d"))
    assert skipped.articles == ("가람",) and skipped.questions == 2
    assert [a.doc_id for a in corpus] == ["korquad-001-01", "korquad-003-01"]  # open QA's corpus


def test_the_set_is_a_korquad_dataset_with_the_halves_of_the_others():
    import eval.__main__ as cli

    assert cli.is_korquad("korquad-followup-ref") and cli.is_korquad("korquad-followup-ref:1-70")
    assert cli._korquad_range("korquad-followup-ref", "calibrate") == "1-70"
    assert cli._dataset_label("korquad-followup-ref:1-70") == "korquad-followup-ref-1-70"
