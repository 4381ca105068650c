"""Who "정 회장" is: an answer naming a person by surname and title takes the sentence naming them in full."""

from __future__ import annotations

from rag.korean import KoreanText
from rag.referents import full_names, introduction, short_names, with_introductions
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


def test_short_and_full_names_read_only_what_they_say(korean: KoreanText) -> None:
    read = lambda s: short_names(korean.morphemes_batch([s])[0])  # noqa: E731
    assert read("행사에서 정 회장은 말했다.") == [("정", "회장")]  # anywhere in the sentence, not only first
    assert read("대표정 회장은 말했다.") == []  # a syllable glued to the word before is part of that word
    assert read("정은 말했다.") == []  # a surname needs its title
    assert read("상을 받은 사람은 김") == []  # a surname ending the sentence has no title
    # a one-letter proper noun that is not Hangul is no Korean surname (morphemes written by hand:
    # Kiwi tags a lone Latin letter SL)
    assert short_names([("NNP", "J", 0, 1), ("NNG", "회장", 2, 4)]) == []
    full = lambda s: full_names(korean.morphemes_batch([s])[0], "정", "회장")  # noqa: E731
    assert full("정하늘 새솔산업 회장은 말했다.") == ["정하늘"]
    assert full("정부 회장은 말했다.") == []  # a common noun starting with the syllable is no name
    assert full("정 회장은 말했다.") == []  # the short form itself is not a full name
    assert full_names([("NNP", "정하늘바다산", 0, 6), ("NNG", "회장", 7, 9)], "정", "회장") == []  # too long
    assert full_names([("NNP", "정K", 0, 2), ("NNG", "회장", 3, 5)], "정", "회장") == []  # not all Hangul


def test_a_question_asking_no_person_is_left_alone(korean: KoreanText) -> None:
    assert _answer(korean, "기술자 몇 명에게 상을 건넸나?", _lead_evidence())[1] == f"{LEAD.rstrip('.')} [1]."


def test_nothing_found_leaves_the_answer_as_it_was(korean: KoreanText) -> None:
    lead = _lead_evidence()
    cited = (Citation(n=1, source="a.txt", quote=LEAD, start=lead[0].start, end=lead[0].end),)
    text = "정 회장이다 [1]."  # not the sentence as written: an answer left alone keeps its own words
    question = "상을 건넨 사람은 누구인가?"
    nobody = Article(doc_id="a.txt", title="", text=ARTICLE.text.replace("정하늘 새솔산업 회장은", "회장단은"))
    for lookup in ({}.get, {"a.txt": nobody}.get):  # the article gone, or naming no one in full
        evidence, out, out_cited = with_introductions(question, lead, text, cited, lookup, korean)
        assert (evidence, out, out_cited) == (lead, text, cited)
    # a citation of no given sentence is passed over, not an error
    assert with_introductions(question, [], text, cited, {"a.txt": ARTICLE}.get, korean)[1] == text


def test_a_name_the_answer_or_question_already_gives_is_not_added_again(korean: KoreanText) -> None:
    lead = _lead_evidence()
    cited = (Citation(n=1, source="a.txt", quote=LEAD, start=lead[0].start, end=lead[0].end),)
    said = "정하늘 회장, 곧 정 회장이 상을 건넸다 [1]."
    assert with_introductions("상을 건넨 사람은 누구인가?", lead, said, cited, {"a.txt": ARTICLE}.get, korean)[1] == said
    plain = f"{LEAD.rstrip('.')} [1]."
    asked = "정하늘 회장과 함께 상을 건넨 사람은 누구인가?"
    assert with_introductions(asked, lead, plain, cited, {"a.txt": ARTICLE}.get, korean)[1] == plain
    # the introduction is itself cited already: not a second time
    start = ARTICLE.text.index("정하늘")
    intro = ARTICLE.text[start:ARTICLE.text.index("만났다.") + len("만났다.")]
    both = lead + [Evidence(2, "a.txt", intro, start, start + len(intro), score=0.5)]
    two = cited + (Citation(n=2, source="a.txt", quote=intro, start=start, end=start + len(intro)),)
    text = f"{LEAD.rstrip('.')} [1]. {intro.rstrip('.')} [2]."
    out = with_introductions("상을 건넨 사람은 누구인가?", both, text, two, {"a.txt": ARTICLE}.get, korean)
    assert out[1] == text


def test_a_known_introduction_is_found_by_its_place_in_its_own_article(korean: KoreanText) -> None:
    start = ARTICLE.text.index("정하늘")
    intro = ARTICLE.text[start:ARTICLE.text.index("만났다.") + len("만났다.")]
    # the candidate starting there holds the next sentence too: still the same place, cited as numbered
    wider = Evidence(2, "a.txt", intro + " 협약은 3년간 이어진다.", start, start + len(intro) + 13, score=0.1)
    evidence, _, cited = _answer(korean, "상을 건넨 사람의 이름은?", _lead_evidence() + [wider])
    assert len(evidence) == 2 and [c.n for c in cited] == [2, 1]
    # another article's sentence at the same offset is not it: the introduction is added as new evidence
    other = Evidence(2, "b.txt", "다른 기사의 문장이다.", start, start + 11, score=0.1)
    evidence, _, cited = _answer(korean, "상을 건넨 사람의 이름은?", _lead_evidence() + [other])
    assert len(evidence) == 3 and evidence[2].doc_id == "a.txt" and evidence[2].text == intro


def test_two_sentences_calling_the_same_person_add_one_introduction(korean: KoreanText) -> None:
    second = "정 회장은 협력사와 3년 동안 기술을 나누기로 했다."
    article = Article(doc_id="a.txt", title=ARTICLE.title, text=f"{ARTICLE.text}\n{second}")
    at = article.text.index(second)
    lead = _lead_evidence() + [Evidence(2, "a.txt", second, at, at + len(second), score=0.6)]
    cited = tuple(Citation(n=ev.n, source="a.txt", quote=ev.text, start=ev.start, end=ev.end) for ev in lead)
    text = f"{LEAD.rstrip('.')} [1]. {second.rstrip('.')} [2]."
    evidence, out, out_cited = with_introductions("상을 건넨 사람은 누구인가?", lead, text, cited,
                                                  {"a.txt": article}.get, korean)
    assert len(evidence) == 3 and out.count("정하늘") == 1 and [c.n for c in out_cited] == [3, 1, 2]
