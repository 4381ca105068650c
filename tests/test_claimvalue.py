from __future__ import annotations

import pytest

from rag.answering import Answerer
from rag.citations import asking
from rag.claimvalue import claim_with_value, restates
from rag.config import load_settings
from rag.korean import KoreanText
from rag.types import Article, Chunk, Evidence, Hit
from tests.fakes import ScriptedGenerator


@pytest.fixture(scope="module")
def korean() -> KoreanText:
    return KoreanText()


def sentence(n: int, text: str) -> Evidence:
    return Evidence(n=n, doc_id="a.txt", text=text, start=0, end=len(text))


PROGRAM = sentence(1, "상생결제 확대 사업은 이날 상생협약식에서 함께 발표됐다.")
FUND = sentence(2, "LG이노텍은 2019년 동반성장 펀드를 조성했다.")


def test_a_claim_that_says_the_question_back_is_shown_as_the_sentence_it_cut(korean: KoreanText) -> None:
    # every word of the claim stands in [1], so verification passes; the words that answer are the ones cut
    question = asking("상생협약식에서 함께 발표된 사업은?", korean)
    claim = "상생협약식에서 함께 발표된 사업은 이날 발표됐다 [1]."
    assert restates(claim, question, korean, 1.0)
    assert claim_with_value(claim, [PROGRAM], question, korean, 1.0) == \
        "상생결제 확대 사업은 이날 상생협약식에서 함께 발표됐다 [1]."


def test_a_claim_in_its_own_words_stands(korean: KoreanText) -> None:
    question = asking("상생협약식에서 함께 발표된 사업은?", korean)
    claim = "상생결제 확대 사업이 발표됐습니다 [1]."
    assert not restates(claim, question, korean, 1.0)
    assert claim_with_value(claim, [PROGRAM], question, korean, 1.0) == claim


def test_the_share_of_the_question_a_restatement_holds_is_a_setting(korean: KoreanText) -> None:
    question = asking("상생협약식에서 함께 발표된 사업은?", korean)
    claim = "상생협약식에서 함께 발표된 것은 이날 발표됐다 [1]."  # "사업" left out: 5 of its 6 terms
    assert not restates(claim, question, korean, 1.0)
    assert restates(claim, question, korean, 0.8)
    assert claim_with_value(claim, [PROGRAM], question, korean, 0.8).startswith("상생결제 확대 사업은")


def test_a_restated_question_with_the_sentences_value_stands(korean: KoreanText) -> None:
    # the question asks a year: the claim gives the cited sentence's, so its wording stays the model's
    question = asking("동반성장 펀드를 조성한 해는?", korean)
    claim = "동반성장 펀드를 조성한 해는 2019년입니다 [2]."
    assert claim_with_value(claim, [FUND], question, korean, 1.0) == claim


def test_a_value_the_cited_sentence_does_not_give_gives_way_to_the_sentence(korean: KoreanText) -> None:
    # compared as whole values: the claim's year is not the sentence's, restated or not
    question = asking("동반성장 펀드를 조성한 해는?", korean)
    for claim in ("동반성장 펀드를 조성한 해는 2018년입니다 [2].", "2018년에 만들었습니다 [2]."):
        assert claim_with_value(claim, [FUND], question, korean, 1.0) == "LG이노텍은 2019년 동반성장 펀드를 조성했다 [2]."


def test_every_cited_sentence_is_shown_with_its_marker(korean: KoreanText) -> None:
    question = asking("상생협약식에서 함께 발표된 사업은?", korean)
    claim = "상생협약식에서 함께 발표된 사업은 이날 발표됐다 [1][2]."
    assert claim_with_value(claim, [PROGRAM, FUND], question, korean, 1.0) == \
        "상생결제 확대 사업은 이날 상생협약식에서 함께 발표됐다 [1]. LG이노텍은 2019년 동반성장 펀드를 조성했다 [2]."


# --- in the answerer: the setting answer.llm_claim_keeps_value -------------------------------------------

FORUM = Article(
    doc_id="forum.txt",
    title="상생협약식 열려",
    date="2024-05-02",
    text=("중소벤처기업부는 2일 서울에서 대기업 10곳과 상생협약식을 열었다. "
          "상생결제 확대 사업은 이날 상생협약식에서 함께 발표됐다. "
          "참석 기업들은 협력사 지원을 늘리기로 했다."),
)


class SaysTheQuestionBack(ScriptedGenerator):
    """A model that restates the question and keeps the rest of the sentence it cites, cutting the answer."""

    def stream(self, messages, max_tokens, stop=()):
        user = messages[-1]["content"]
        n = next(line[1:line.index("]")] for line in user.splitlines() if "상생결제" in line)
        self.answers = [f"상생협약식에서 함께 발표된 사업은 이날 발표됐다 [{n}]."]
        yield from super().stream(messages, max_tokens, stop)


def retrieve_forum(question: str, k: int) -> list[Hit]:
    chunk = Chunk(chunk_id="forum.txt#0", doc_id=FORUM.doc_id, text=FORUM.text, start=0, end=len(FORUM.text),
                  title=FORUM.title, date=FORUM.date)
    return [Hit(chunk, score=0.9)]


@pytest.mark.parametrize("on", [True, False])
def test_the_answerer_shows_the_cited_sentence_in_place_of_a_restated_question(korean: KoreanText, on: bool) -> None:
    env = {"RAG_GENERATION__BACKEND": "local", "RAG_ANSWER__LLM_CLAIM_KEEPS_VALUE": str(on).lower()}
    generator = SaysTheQuestionBack()
    answerer = Answerer(load_settings(None, env=env), korean, retrieve_forum, {FORUM.doc_id: FORUM}.get,
                        lambda: generator)
    events = list(answerer.stream("상생협약식에서 함께 발표된 사업은?"))
    answer = events[-1].answer
    assert answer.mode == "llm" and generator.prompts
    shown = "".join(e.text for e in events if e.kind == "token")
    if on:
        assert "상생결제 확대 사업은" in answer.text and shown == answer.text  # what streamed is the answer
        assert answer.citations and answer.citations[0].quote.rstrip(".") in answer.text  # the cited span itself
    else:
        assert answer.text.startswith("상생협약식에서 함께 발표된 사업은 이날") and "상생결제" not in answer.text


def test_the_restatement_share_is_checked(korean: KoreanText) -> None:
    from rag.config import SettingsError

    assert load_settings(None, env={}).answer.llm_restatement_share == 1.0
    assert load_settings(None, env={"RAG_ANSWER__LLM_RESTATEMENT_SHARE": "0.8"}).answer.llm_restatement_share == 0.8
    with pytest.raises(SettingsError, match="answer.llm_restatement_share"):
        load_settings(None, env={"RAG_ANSWER__LLM_RESTATEMENT_SHARE": "0"})


def test_two_claims_cut_from_one_sentence_show_it_once(korean: KoreanText) -> None:
    from rag.streaming import VerifiedStream

    program = Evidence(n=1, doc_id="a.txt", text=PROGRAM.text, start=0, end=len(PROGRAM.text), title="상생협약식 열려")
    stream = VerifiedStream([program, FUND], korean, 0.67, asking("상생협약식에서 함께 발표된 사업은?", korean),
                            restatement_share=1.0)
    stream.feed("상생협약식에서 함께 발표된 사업은 이날 발표됐다 [1]. 상생협약식에서 함께 발표된 사업은 확대 사업이다 [1].")
    stream.finish()
    assert stream.kept == ["상생결제 확대 사업은 이날 상생협약식에서 함께 발표됐다 [1]."]


def test_a_claim_without_a_cited_sentence_is_left_as_it_is(korean: KoreanText) -> None:
    question = asking("상생협약식에서 함께 발표된 사업은?", korean)
    claim = "상생협약식에서 함께 발표된 사업은 이날 발표됐다 [1]."  # a restatement, but nothing to show instead
    assert claim_with_value(claim, [], question, korean, 1.0) == claim


def test_a_claim_stands_when_its_sentences_hold_no_value_of_the_asked_kind(korean: KoreanText) -> None:
    # the question asks a year and [1] gives none: there is no value to keep, and the claim says no question back
    question = asking("상생결제 확대 사업이 발표된 해는?", korean)
    claim = "이날 상생협약식에서 함께 발표됐습니다 [1]."
    assert claim_with_value(claim, [PROGRAM], question, korean, 1.0) == claim


def test_a_question_of_question_words_alone_has_nothing_to_say_back(korean: KoreanText) -> None:
    question = asking("무엇인가?", korean)
    assert not restates("무엇인가 [1].", question, korean, 1.0)
