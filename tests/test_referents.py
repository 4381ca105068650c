"""Who "정 회장" is: an answer naming a person by surname and title takes the sentence naming them in full."""

from __future__ import annotations

from rag.korean import KoreanText
from rag.referents import introduction, short_names, with_introductions
from rag.types import Article, Citation, Evidence

ARTICLE = Article(
    doc_id="a.txt",
    title="새솔산업, 협력사와 기술 공유",
    text=(
        "새솔산업이 협력사와 기술을 나누는 협약을 맺었다.\n"
        "정하늘 새솔산업 회장은 이날 협약식에서 협력사 대표들과 만났다. 협약은 3년간 이어진다.\n"
        "정 회장은 행사장에서 협력사 기술자 20명에게 직접 상을 건넸다."
    ),
)
LEAD = "정 회장은 행사장에서 협력사 기술자 20명에게 직접 상을 건넸다."


def _lead_evidence() -> list[Evidence]:
    start = ARTICLE.text.index(LEAD)
    return [Evidence(1, "a.txt", LEAD, start, start + len(LEAD), title=ARTICLE.title, score=0.7)]


def _answer(korean: KoreanText, question: str, evidence: list[Evidence]):
    lead = evidence[0]
    text = f"{LEAD.rstrip('.')} [1]."
    cited = (Citation(n=1, source="a.txt", quote=lead.text, start=lead.start, end=lead.end),)
    return with_introductions(question, evidence, text, cited, {"a.txt": ARTICLE}.get, korean)


def test_short_names_are_a_surname_before_a_title(korean: KoreanText) -> None:
    read = lambda s: short_names(korean.morphemes_batch([s])[0])  # noqa: E731
    assert read("정 회장은 말했다.") == [("정", "회장")]
    assert read("박 전 대표는 고소장을 냈다.") == [("박", "대표")]
    assert read("김씨는 대회에 나왔다.") == [("김", "씨")]
    # "이 회사" is "this company", and a full name is no short form
    assert read("이 회사는 협약을 맺었다.") == []
    assert read("정하늘 회장은 말했다.") == []


def test_introduction_is_the_first_sentence_naming_the_person_in_full(korean: KoreanText) -> None:
    a, b, name = introduction(ARTICLE.text, "정", "회장", korean)
    assert name == "정하늘" and ARTICLE.text[a:b].startswith("정하늘 새솔산업 회장은")
    # two people of that surname and title: which one is meant is unknown
    two = ARTICLE.text + "\n정바다 한결물산 회장도 자리에 함께했다."
    assert introduction(two, "정", "회장", korean) is None
    assert introduction(ARTICLE.text, "정", "사장", korean) is None


def test_a_person_answer_takes_the_sentence_that_names_them(korean: KoreanText) -> None:
    evidence, text, cited = _answer(korean, "협력사 기술자에게 상을 건넨 사람은 누구인가?", _lead_evidence())
    assert "정하늘" in text and text.index("정하늘") < text.index("정 회장")  # in article order
    assert len(evidence) == 2 and evidence[1].n == 2 and evidence[1].score == 0.0
    assert [c.n for c in cited] == [2, 1] and all(f"[{c.n}]" in text for c in cited)
    assert all(ARTICLE.text[c.start:c.end] == c.quote for c in cited)  # the quotes are the article's


def test_the_introduction_already_in_the_evidence_is_cited_as_numbered(korean: KoreanText) -> None:
    start = ARTICLE.text.index("정하늘")
    end = ARTICLE.text.index("만났다.") + len("만났다.")
    known = Evidence(2, "a.txt", ARTICLE.text[start:end], start, end, score=0.1)
    evidence, text, cited = _answer(korean, "상을 건넨 사람의 이름은?", _lead_evidence() + [known])
    assert len(evidence) == 2 and [c.n for c in cited] == [2, 1]


def test_other_questions_and_the_questions_own_names_are_left_alone(korean: KoreanText) -> None:
    evidence = _lead_evidence()
    # an amount is not answered by a name
    assert _answer(korean, "정 회장은 기술자 몇 명에게 상을 건넸나?", evidence)[1] == f"{LEAD.rstrip('.')} [1]."
    # the question calls him 정 회장 itself: the person it asks for is someone else
    assert "정하늘" not in _answer(korean, "정 회장에게 상을 받은 사람은 누구인가?", evidence)[1]


def test_a_headline_repeating_the_introduction_adds_no_second_copy(korean: KoreanText) -> None:
    intro = "정하늘 새솔산업 회장은 이날 협약식에서 협력사 대표들과 만났다."
    article = Article(doc_id="a.txt", title=intro, text=f"{intro}\n{ARTICLE.text}")
    start = article.text.index(intro, 1)
    known = Evidence(2, "a.txt", intro, start, start + len(intro), score=0.1)
    lead_at = article.text.index(LEAD)
    lead = Evidence(1, "a.txt", LEAD, lead_at, lead_at + len(LEAD), score=0.7)
    cited = (Citation(n=1, source="a.txt", quote=LEAD, start=lead.start, end=lead.end),)
    evidence, text, cited = with_introductions("상을 건넨 사람의 이름은?", [lead, known], f"{LEAD.rstrip('.')} [1].",
                                               cited, {"a.txt": article}.get, korean)
    assert len(evidence) == 2 and text.count("정하늘") == 1 and [c.n for c in cited] == [2, 1]


def test_only_the_text_near_the_sentence_is_read(korean: KoreanText) -> None:
    # a document of thousands of lines (a PDF report) is not analyzed whole for one answer: the person is
    # introduced within REACH characters of the sentence that calls them by surname and title
    from rag.referents import REACH

    filler = "김포 공장의 설비는 정기 점검을 받았다.\n" * (REACH // 20)
    intro = "정하늘 새솔산업 회장은 이날 협약식에서 협력사 대표들과 만났다.\n"
    near = f"{filler}{intro}{LEAD}"
    far = f"{intro}{filler}{LEAD}"
    at = near.index(LEAD)
    assert introduction(near, "정", "회장", korean, near=(at, at + len(LEAD)))[2] == "정하늘"
    at = far.index(LEAD)
    assert introduction(far, "정", "회장", korean, near=(at, at + len(LEAD))) is None
