"""Citation numbers run 1, 2, 3 in the order an answer cites them, and an article cited for several sentences is
one source: the pure rules (rag/numbering.py, rag/sources.py), the answerer that applies them once for every
surface, and what the JSON, the CLI and the chat page make of them."""

from __future__ import annotations

import re

import pytest

from rag.answering import Answerer
from rag.config import load_settings
from rag.korean import KoreanText
from rag.numbering import StreamNumbering, renumber
from rag.prompts import without_title_notes
from rag.types import Article, Chunk, Citation, Hit


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
