"""Citation numbers run 1, 2, 3 in the order an answer cites them, and an article cited for several sentences is
one source: the pure rules (rag/numbering.py, rag/sources.py), the answerer that applies them once for every
surface, and what the JSON, the CLI and the chat page make of them."""

from __future__ import annotations

import re

import pytest

from rag.__main__ import sources_text
from rag.answering import Answerer
from rag.config import load_settings
from rag.korean import KoreanText
from rag.numbering import StreamNumbering, renumber
from rag.prompts import without_title_notes
from rag.serialize import answer_to_dict
from rag.sources import cited_articles
from rag.types import Answer, Article, Chunk, Citation, Hit
from rag.web import render
from rag.web.completions import completion_dict


def cite(n: int, source: str = "a.txt", start: int = 0, quote: str = "") -> Citation:
    return Citation(n, source, quote or f"문장 {n}.", start, start + 5, title=f"{source} 제목", date="2024-05-02",
                    publisher="테스트일보")


def test_numbers_follow_the_first_appearance_in_the_text() -> None:
    text, citations = renumber("공장은 청주에 있다 [3]. 직원은 350명이다 [1][3].", [cite(1, start=10), cite(3)])
    assert text == "공장은 청주에 있다 [1]. 직원은 350명이다 [2][1]."
    assert [(c.n, c.start) for c in citations] == [(1, 0), (2, 10)]  # listed in the reader's order


def test_a_dropped_claim_leaves_no_gap() -> None:
    # [2] was cited by a claim the verification dropped
    text, citations = renumber("가 [1]. 나 [3].", [cite(1), cite(3, start=20)])
    assert text == "가 [1]. 나 [2]." and [c.n for c in citations] == [1, 2]


def test_a_bracketed_number_that_cites_nothing_is_left_as_written() -> None:
    text, citations = renumber("각주 [7]가 붙은 문장 [4].", [cite(4)])
    assert text == "각주 [7]가 붙은 문장 [1]." and [c.n for c in citations] == [1]


def test_a_streamed_answer_gets_the_numbers_of_its_final_text() -> None:
    pieces = ["공장은 청주에 있다 [4]. ", "직원은 350명이다 [2][4]. ", "증설했다 [5]."]
    numbering = StreamNumbering()
    streamed = "".join(numbering.feed(p) for p in pieces)
    assert streamed == renumber("".join(pieces), [cite(2), cite(4), cite(5)])[0]
    assert streamed == "공장은 청주에 있다 [1]. 직원은 350명이다 [2][1]. 증설했다 [3]."


def test_an_article_cited_twice_is_one_source_with_both_sentences() -> None:
    citations = [cite(1, "a.txt", start=40), cite(2, "b.txt"), cite(3, "a.txt", start=5), cite(3, "a.txt", start=5)]
    sources = cited_articles(citations)
    assert [s.source for s in sources] == ["a.txt", "b.txt"]  # in the order of their first number
    assert sources[0].numbers == (1, 3) and [c.start for c in sources[0].citations] == [5, 40]  # article order
    assert sources[0].title == "a.txt 제목" and sources[1].numbers == (2,)


def two_sentence_answer() -> Answer:
    return Answer(question="누리전자 공장은?", text="공장은 청주에 있다 [1]. 직원은 350명이다 [2].", refused=False,
                  citations=(cite(1, quote="공장은 청주에 있다."), cite(2, start=30, quote="직원은 350명이다.")))


def test_the_json_lists_each_article_once_beside_the_unchanged_citations() -> None:
    data = answer_to_dict(two_sentence_answer())
    assert [c["n"] for c in data["citations"]] == [1, 2]  # as before: one entry per [n]
    assert data["sources"] == [{"source": "a.txt", "title": "a.txt 제목", "publisher": "테스트일보", "date": "2024-05-02",
                                "citations": [1, 2]}]
    completion = completion_dict(two_sentence_answer(), "id", "sangsaeng-qa")
    assert completion["sources"] == data["sources"]
    assert completion["choices"][0]["message"]["reference"]["doc_aggs"] == [
        {"doc_id": "a.txt", "doc_name": "a.txt 제목", "count": 2, "citations": [1, 2]}]
    # a sentence cited by two claims is one [n]: the document's aggregate counts it once, as `sources` does
    twice = Answer(question="q", text="가 [1]. 나 [1].", refused=False, citations=(cite(1), cite(1)))
    assert completion_dict(twice, "id", "m")["choices"][0]["message"]["reference"]["doc_aggs"] == [
        {"doc_id": "a.txt", "doc_name": "a.txt 제목", "count": 1, "citations": [1]}]


def test_the_cli_prints_one_heading_per_article() -> None:
    assert sources_text(two_sentence_answer()) == (
        "[1][2] a.txt · a.txt 제목 · 테스트일보 · 2024-05-02\n"
        "    [1] “공장은 청주에 있다.”\n"
        "    [2] “직원은 350명이다.”\n")


def test_the_chat_shows_one_card_with_each_sentence_marked_under_its_own_id() -> None:
    article = Article("a.txt", "공장은 청주에 있다. 이 문장은 사이에 있다. 직원은 350명이다.", title="a.txt 제목")
    answer = Answer(question="누리전자 공장은?", text="공장은 청주에 있다 [1]. 직원은 350명이다 [2].", refused=False,
                    citations=(Citation(1, "a.txt", "공장은 청주에 있다.", 0, 11, title="a.txt 제목"),
                               Citation(2, "a.txt", "직원은 350명이다.", 27, 38, title="a.txt 제목")))
    cards = render.source_cards_html(answer, {"a.txt": article}.get, anchor_prefix="src-3")
    assert cards.count('class="source-card"') == 1 and 'id="src-3-card-1"' in cards
    marks = re.findall(r'<mark class="span" id="(src-3-\d)">(.*?)</mark>', cards)
    assert [m[0] for m in marks] == ["src-3-1", "src-3-2"] and "350" in marks[1][1]
    bubble = render.chat_message_html(answer, anchor_prefix="src-3")
    sources_line = bubble.split('class="cite-list"')[1]
    assert sources_line.count("cite-title") == 1 and 'href="#src-3-2"' in sources_line


def test_far_apart_sentences_get_a_window_each_in_one_card() -> None:
    text = "앞 문장이다. " + "가" * 600 + " 뒤 문장이다."
    html = render.passages_html(text, [(0, 7, "m-1", "[1]"), (len(text) - 7, len(text), "m-2", "[2]")], context=20)
    assert html.count('<div class="passage">') == 2 and 'id="m-1"' in html and 'id="m-2"' in html


def test_a_span_near_the_end_of_a_longer_one_shares_its_window() -> None:
    # [1] is long, [2] lies inside it, [3] begins just after [1] ends: one window, not a second one opening
    # inside the text [1]'s window already shows (measured from [2]'s end, [3] looked far away)
    text = "가나다라 " * 100
    spans = [(0, 310, "m-1", "[1]"), (5, 20, "m-2", "[2]"), (320, 330, "m-3", "[3]")]
    html = render.passages_html(text, spans, context=20)
    assert html.count('<div class="passage">') == 1 and 'id="m-3"' in html


# --- the answerer numbers every answer once, for every surface ---------------------------------------------

ARTICLE = Article(doc_id="a.txt", title="누리전자 새 공장", date="2024-05-02",
                  text="누리전자는 2021년 청주에 반도체 공장을 세웠다. 공장에는 직원 350명이 일한다. "
                       "누리전자는 2023년 공장을 두 배로 증설했다.")


def retrieve(question: str, k: int) -> list[Hit]:
    chunk = Chunk(chunk_id="a.txt#0", doc_id=ARTICLE.doc_id, text=ARTICLE.text, start=0, end=len(ARTICLE.text),
                  title=ARTICLE.title, date=ARTICLE.date)
    return [Hit(chunk, score=0.9)]


class LastFirstGenerator:
    """Writes the prompt's last sentence first, then a claim the verification drops, then its first sentence:
    cited by evidence number, that answer reads [3] … [1], with the dropped claim's number missing."""

    name = "last-first"

    def __init__(self) -> None:
        self.written = ""

    def stream(self, messages, max_tokens: int, stop=()):
        lines = dict(re.findall(r"^\[(\d+)\] (.+)$", messages[-1]["content"], flags=re.M))
        numbers = sorted(int(n) for n in lines)
        sentence = {n: without_title_notes(lines[str(n)]).strip().rstrip(".") for n in numbers}
        first, middle, last = numbers[0], numbers[1], numbers[-1]
        self.written = (f"{sentence[last]} [{last}]. 누리전자는 부산에 본사를 옮겼다 [{middle}]. "
                        f"{sentence[first]} [{first}].")
        yield from (self.written[i:i + 5] for i in range(0, len(self.written), 5))


@pytest.fixture(scope="module")
def korean() -> KoreanText:
    return KoreanText()


def test_the_answerer_numbers_its_answer_and_stream_in_reading_order(korean) -> None:
    generator = LastFirstGenerator()
    # (the check that a claim agrees with the extractive draft's lead would keep only the lead's sentence here)
    settings = load_settings(None, env={"RAG_GENERATION__BACKEND": "local", "RAG_ANSWER__LLM_AGREES_WITH_DRAFT": "false"})
    answerer = Answerer(settings, korean, retrieve, {ARTICLE.doc_id: ARTICLE}.get, lambda: generator)
    events = list(answerer.stream("누리전자의 반도체 공장에 대해 알려줘"))
    answer = events[-1].answer
    assert answer.mode == "llm" and len(answer.citations) == 2, (generator.written, answer)
    assert "부산" not in answer.text  # the dropped claim, whose number is gone with it
    assert re.findall(r"\[(\d+)\]", answer.text) == ["1", "2"]
    assert [c.n for c in answer.citations] == [1, 2]
    assert answer.citations[0].quote.startswith(answer.text.split(" [1]")[0][:10])  # [1] is the sentence it follows
    streamed = "".join(e.text for e in events if e.kind == "token")
    assert streamed.strip() == answer.text  # what a client streamed carries the final numbers
    draft = next(e.text for e in events if e.kind == "draft")
    assert re.findall(r"\[(\d+)\]", draft)[0] == "1"


def test_no_citation_takes_the_number_a_bracket_citing_nothing_holds() -> None:
    # "제[1]조" is the article's own text: were citation [4] renumbered [1], the bracket would read (and link) as it
    text, citations = renumber("협약서 제[1]조에 따라 지원한다 [4]. 공장은 청주에 있다 [6].", [cite(4), cite(6, start=30)])
    assert text == "협약서 제[1]조에 따라 지원한다 [2]. 공장은 청주에 있다 [3]."
    assert [c.n for c in citations] == [2, 3]
    numbering = StreamNumbering(known={4, 6})
    streamed = "".join(numbering.feed(p) for p in ("협약서 제[1]조에 따라 지원한다 [4]. ", "공장은 청주에 있다 [6]."))
    assert streamed == text
