from __future__ import annotations

import pytest

from rag.korean import KoreanText
from rag.synthesis import (
    PROMPTS_DIR,
    PromptError,
    Prompts,
    assess_grounding,
    build_condense_messages,
    build_messages,
    extractive_answer,
    is_refusal,
    parse_citations,
    render_prompt,
    select_evidence,
    split_claims,
    trim_evidence,
    verify_answer,
)
from rag.types import Article, Chunk, Evidence, Hit

INNOTEK = Article(
    doc_id="001_innotek.txt",
    title="LG이노텍, 협력사 상생으로 고객경험 혁신할 것",
    date="2022-09-21",
    text=(
        "LG이노텍, 협력사 상생으로 고객경험 혁신할 것\n\n"
        "LG이노텍은 금융분야에서 1,030억 원 규모의 동반성장 펀드를 운영 중이다. "
        "코로나19로 경영난을 겪는 협력사를 돕기 위해 2020년, 기존 630억 원에서 400억원을 증액해 지원하고 있다.\n\n"
        "정철동 LG이노텍 사장도 이날 협력사와 대화에 적극 나서며 소통을 강화했다. "
        "지난해 1,300여명의 협력사 임직원들을 대상으로 직무역량 교육을 실시했다."
    ),
)
KT = Article(
    doc_id="004_kt.txt",
    title="KT, 중소 협력사와 5G 생태계 조성",
    date="2018-11-20",
    text=(
        "KT는 20일 서울 서초구 더케이호텔에서 2018년도 파트너스 데이를 개최했다. "
        "총 1000억원 규모의 상생협력펀드 대출 지원을 시행할 방침이다. "
        "상생결재('23. 2차사 이하 1.1조원) 실적도 소개됐다."
    ),
)
ARTICLES = {a.doc_id: a for a in (INNOTEK, KT)}


@pytest.fixture(scope="module")
def korean() -> KoreanText:
    return KoreanText()


def chunk_of(article: Article, first: str, last: str) -> Chunk:
    """The exact article span from the sentence starting with `first` to the one ending with `last`."""
    start = article.text.index(first)
    end = article.text.index(last) + len(last)
    return Chunk(chunk_id=f"{article.doc_id}#{start}", doc_id=article.doc_id, text=article.text[start:end],
                 start=start, end=end, title=article.title, date=article.date)


def hits() -> list[Hit]:
    return [
        Hit(chunk_of(INNOTEK, "LG이노텍은 금융", "지원하고 있다."), score=0.9, rank=1),
        Hit(chunk_of(INNOTEK, "정철동", "실시했다."), score=0.7, rank=2),
        Hit(chunk_of(KT, "KT는 20일", "실적도 소개됐다."), score=0.5, rank=3),
    ]


def evidence(korean: KoreanText, question: str = "LG이노텍의 동반성장 펀드 규모는?") -> list[Evidence]:
    return select_evidence(question, hits(), ARTICLES.get, korean, max_evidence=8, max_chars=2000)


# ---------------------------------------------------------------- prompts


def test_render_prompt_refuses_missing_and_unused_placeholders() -> None:
    assert render_prompt("질문: {question}", question="무엇?") == "질문: 무엇?"
    with pytest.raises(PromptError, match="question"):
        render_prompt("질문: {question} 근거: {evidence}", evidence="x")
    with pytest.raises(PromptError, match="extra"):
        render_prompt("질문: {question}", question="q", extra="x")


def test_every_prompt_file_renders(korean: KoreanText) -> None:
    files = sorted(p.name for p in PROMPTS_DIR.glob("*.txt"))
    assert files == ["answer.txt", "condense.txt", "refusal.txt", "system.txt"]
    prompts = Prompts.load()
    assert prompts.refusal in prompts.system  # the model is told the exact refusal sentence
    assert "{" not in prompts.system
    messages = build_messages(prompts, "LG이노텍의 펀드 규모는?", evidence(korean))
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "[1] " in messages[1]["content"] and "LG이노텍의 펀드 규모는?" in messages[1]["content"]
    condense = build_condense_messages(prompts, "그 회사의 펀드 규모는?", [("user", "LG이노텍의 등급은?")])
    assert "LG이노텍의 등급은?" in condense[0]["content"] and "그 회사의 펀드 규모는?" in condense[0]["content"]


def test_system_prompt_is_identical_across_questions(korean: KoreanText) -> None:
    # the backend keeps the KV cache of a common prefix: the system message must not vary
    prompts = Prompts.load()
    a = build_messages(prompts, "질문 하나", evidence(korean))[0]
    b = build_messages(prompts, "다른 질문", evidence(korean, "KT의 상생협력펀드 규모는?"))[0]
    assert a == b


def test_a_broken_prompt_folder_is_reported(tmp_path) -> None:
    (tmp_path / "system.txt").write_text("규칙 {refusal} {oops}", encoding="utf-8")
    for name in ("answer", "condense", "refusal"):
        (tmp_path / f"{name}.txt").write_text("x", encoding="utf-8")
    with pytest.raises(PromptError, match="oops"):
        Prompts.load(tmp_path)


# ---------------------------------------------------------------- evidence


def test_evidence_is_sentences_with_offsets_into_the_article(korean: KoreanText) -> None:
    found = evidence(korean)
    assert [ev.n for ev in found] == list(range(1, len(found) + 1))
    for ev in found:
        assert ARTICLES[ev.doc_id].text[ev.start:ev.end] == ev.text
        assert "\n" not in ev.text
    assert "1,030억 원" in found[0].text  # the sentence that answers comes first


def test_evidence_respects_the_prompt_budget(korean: KoreanText) -> None:
    small = select_evidence("LG이노텍의 동반성장 펀드 규모는?", hits(), ARTICLES.get, korean, max_evidence=2, max_chars=2000)
    assert len(small) == 2
    short = select_evidence("LG이노텍의 동반성장 펀드 규모는?", hits(), ARTICLES.get, korean, max_evidence=8, max_chars=60)
    assert len(short) == 1
    trimmed = trim_evidence(evidence(korean), 2, 10_000)
    assert [ev.n for ev in trimmed] == [1, 2]


def test_evidence_falls_back_to_chunk_text_without_the_article(korean: KoreanText) -> None:
    found = select_evidence("LG이노텍 펀드", hits(), lambda doc_id: None, korean, max_evidence=3, max_chars=2000)
    assert found and all(ARTICLES[ev.doc_id].text[ev.start:ev.end] == ev.text for ev in found)


# ---------------------------------------------------------------- citations


def test_parse_citations_reads_every_marker_form() -> None:
    assert parse_citations("가 [1]. 나 [2, 3]. 다[4][5]") == [1, 2, 3, 4, 5]
    assert parse_citations("표시 없음") == []


def test_split_claims_moves_a_leading_marker_to_the_sentence_before(korean: KoreanText) -> None:
    claims = split_claims("펀드는 1,030억 원이다. [1] 증액은 400억 원이다 [2].", korean)
    assert [c.cites for c in claims] == [(1,), (2,)]
    assert claims[0].text.startswith("펀드는 1,030억 원이다")


def test_verify_keeps_a_supported_claim_with_its_exact_span(korean: KoreanText) -> None:
    ev = evidence(korean)
    n = next(e.n for e in ev if "1,030억" in e.text)
    text, citations = verify_answer(f"LG이노텍은 1,030억 원 규모의 동반성장 펀드를 운영합니다 [{n}].", ev, korean, 0.5)
    assert f"[{n}]" in text and "1,030억" in text
    (citation,) = citations
    assert citation.source == "001_innotek.txt"
    assert INNOTEK.text[citation.start:citation.end] == citation.quote


def test_verify_drops_a_claim_whose_number_is_not_in_its_evidence(korean: KoreanText) -> None:
    ev = evidence(korean)
    n = next(e.n for e in ev if "1,030억" in e.text)
    text, citations = verify_answer(
        f"LG이노텍은 2,000억 원 규모의 펀드를 운영합니다 [{n}]. LG이노텍은 1,030억 원 규모의 동반성장 펀드를 운영합니다 [{n}].",
        ev, korean, 0.5)
    assert "2,000억" not in text and "1,030억" in text
    assert len(citations) == 1


def test_verify_drops_citations_to_evidence_that_was_not_given(korean: KoreanText) -> None:
    ev = evidence(korean)
    text, citations = verify_answer("LG이노텍은 1,030억 원 규모의 동반성장 펀드를 운영합니다 [42].", ev, korean, 0.5)
    assert (text, citations) == ("", ())


def test_verify_drops_a_name_the_evidence_does_not_hold(korean: KoreanText) -> None:
    ev = evidence(korean)
    n = next(e.n for e in ev if "1,030억" in e.text)
    text, _ = verify_answer(f"삼성전자는 1,030억 원 규모의 동반성장 펀드를 운영합니다 [{n}].", ev, korean, 0.5)
    assert text == ""


def test_verify_drops_uncited_claims(korean: KoreanText) -> None:
    ev = evidence(korean)
    n = next(e.n for e in ev if "1,030억" in e.text)
    text, _ = verify_answer(f"LG이노텍은 1,030억 원 규모의 동반성장 펀드를 운영합니다 [{n}]. 이는 업계 최대입니다.",
                            ev, korean, 0.5)
    assert "업계 최대" not in text


def test_verify_falls_back_to_the_extractive_answer_when_nothing_survives(korean: KoreanText) -> None:
    ev = evidence(korean)
    question = "LG이노텍의 동반성장 펀드 규모는?"
    text, citations = verify_answer("모르는 내용입니다 [7].", ev, korean, 0.5, question=question)
    assert (text, citations) == extractive_answer(question, ev, korean)
    assert citations


def test_verify_accepts_an_english_answer_by_its_numbers(korean: KoreanText) -> None:
    ev = evidence(korean)
    n = next(e.n for e in ev if "1,030억" in e.text)
    question = "How large is LG Innotek's fund?"
    text, _ = verify_answer(f"LG Innotek runs a fund of 1,030억 won [{n}].", ev, korean, 0.5, question=question)
    assert "1,030" in text
    text, _ = verify_answer(f"LG Innotek runs a fund of 9,999억 won [{n}].", ev, korean, 0.5, question=question,
                            fallback=False)
    assert text == ""


def test_verify_matches_whole_numbers_and_keeps_approximations(korean: KoreanText) -> None:
    ev = evidence(korean)
    n = next(e.n for e in ev if "1,300여명" in e.text)
    # "300" occurs inside "1,300" and "130" inside "1300": neither is a match
    for wrong in ("300여명", "130명"):
        text, _ = verify_answer(f"LG이노텍은 지난해 협력사 임직원 {wrong}을 교육했습니다 [{n}].", ev, korean, 0.5,
                                fallback=False)
        assert text == "", wrong
    text, _ = verify_answer(f"LG이노텍은 지난해 협력사 임직원 1,300여명을 교육했습니다 [{n}].", ev, korean, 0.5)
    assert "1,300여명" in text
    # an "about" the evidence does not say is an unsupported claim too
    m = next(e.n for e in ev if "400억원" in e.text)
    text, _ = verify_answer(f"LG이노텍은 2020년 펀드를 400여억원 증액했습니다 [{m}].", ev, korean, 0.5, fallback=False)
    assert text == ""


def test_verify_adds_the_same_article_sentence_that_holds_a_missing_name(korean: KoreanText) -> None:
    ev = evidence(korean, "정철동 사장의 회사가 교육한 협력사 임직원은 몇 명인가?")
    n = next(e.n for e in ev if "1,300여명" in e.text)
    holder = next(e.n for e in ev if "정철동" in e.text)
    text, citations = verify_answer(f"정철동 사장의 LG이노텍은 협력사 임직원 1,300여명을 교육했습니다 [{n}].", ev, korean,
                                    0.5, fallback=False)
    assert "1,300여명" in text and {c.n for c in citations} == {n, holder}
    # a sentence of another article is never borrowed
    kt = next(e.n for e in ev if "1000억원" in e.text)
    text, _ = verify_answer(f"정철동 사장의 KT는 1000억원 규모의 펀드 대출을 지원합니다 [{kt}].", ev, korean, 0.5,
                            fallback=False)
    assert text == ""


# ---------------------------------------------------------------- extractive answers and refusal


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
    assert is_refusal(refusal, refusal)
    assert is_refusal("The context does not say. The answer is not in the context.", refusal)
    assert not is_refusal("LG이노텍은 1,030억 원 규모의 펀드를 운영합니다 [1].", refusal)
    assert not is_refusal("", refusal)



# ---------------------------------------------------------------- answers that pass word checks but are wrong

TABLE = Article(
    doc_id="003_table.txt",
    title="오영주 장관, 상생협력 우수 기업을 만나 의견 청취",
    date="2024-11-28",
    text=(
        "연번 구분 기관 비고\n"
        "1 대기업 LG전자 · 동반성장지수 최우수(8회) · 상생결재('23. 2차사 이하 1.1조원)\n"
        "3 현대자동차 · 동반성장지수 최우수(5년 연속) · 제3기 원원 아너스\n"
        "4 롯데건설 · 동반성장지수 최우수('23, 신규)"
    ),
)


def table_hit() -> Hit:
    text = TABLE.text
    return Hit(Chunk(chunk_id="003#0", doc_id=TABLE.doc_id, text=text, start=0, end=len(text), title=TABLE.title,
                     date=TABLE.date), score=0.8, rank=1)


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


def number_of(ev: list[Evidence], fragment: str) -> int:
    return next(e.n for e in ev if fragment in e.text)


def test_verify_rejects_a_number_pinned_to_the_wrong_company(korean: KoreanText) -> None:
    question = "LG이노텍과 KT의 펀드 규모는 각각 얼마인가?"
    ev = evidence(korean, question)
    innotek, kt = number_of(ev, "1,030억"), number_of(ev, "1000억원")
    # every fact is somewhere in the two cited sentences, but 1,030억 is LG이노텍's, not KT's
    wrong, _ = verify_answer(f"KT의 펀드는 1,030억 원입니다 [{innotek}][{kt}].", ev, korean, 0.67, fallback=False)
    assert wrong == ""
    right, citations = verify_answer(f"KT의 펀드는 1000억원입니다 [{innotek}][{kt}].", ev, korean, 0.67,
                                     fallback=False)
    assert "1000억원" in right and [c.n for c in citations] == [kt]


def test_verify_drops_a_claim_that_only_restates_the_question(korean: KoreanText) -> None:
    question = "LG이노텍의 동반성장 펀드 규모는?"
    ev = evidence(korean, question)
    n = number_of(ev, "1,030억")
    text, _ = verify_answer(f"LG이노텍의 동반성장 펀드 규모는 다음과 같습니다 [{n}].", ev, korean, 0.67,
                            question=question, fallback=False)
    assert text == ""
    text, _ = verify_answer(f"LG이노텍의 동반성장 펀드 규모는 1,030억 원입니다 [{n}].", ev, korean, 0.67,
                            question=question, fallback=False)
    assert "1,030억" in text


def test_verify_rejects_a_restated_question_answered_from_an_unrelated_sentence(korean: KoreanText) -> None:
    # the question's words make up most of the claim; the cited sentence names the man, and says
    # nothing of the training he is claimed to run (4 of 7 words supported: enough at 0.5)
    question = "LG이노텍 협력사 임직원 교육을 맡은 사장은 누구인가?"
    ev = evidence(korean, question)
    n = number_of(ev, "정철동")
    claim = f"LG이노텍 협력사 임직원 교육을 맡은 사장은 정철동입니다 [{n}]."
    assert verify_answer(claim, ev, korean, 0.5, question=question, fallback=False)[0]
    assert verify_answer(claim, ev, korean, 0.67, question=question, fallback=False)[0] == ""


def test_english_question_finds_the_korean_sentence_through_the_glossary(korean: KoreanText) -> None:
    question = "How large is LG Innotek's shared growth fund?"
    ev = evidence(korean, question)
    assert "1,030억" in ev[0].text
    verdict = assess_grounding("What is Samsung Electronics' supplier fund?", hits(), ev, korean)
    assert not verdict.answerable and "삼성전자" in verdict.missing
