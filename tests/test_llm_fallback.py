"""The fallback diagnostic (bench/llm_fallback.py) names the check that rejected a claim — the same
claims rag.citations.check_claim rejects — and traces what the answerer did with each claim."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from rag.answering import Answerer
from rag.citations import Claim, asking, check_claim
from rag.config import PROJECT_ROOT, load_settings
from rag.korean import KoreanText
from rag.types import Article, Chunk, Evidence, Hit
from tests.fakes import ScriptedGenerator


@pytest.fixture(scope="module")
def korean() -> KoreanText:
    return KoreanText()


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("llm_fallback", PROJECT_ROOT / "bench" / "llm_fallback.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


PLANT = Evidence(n=1, doc_id="a.txt", text="누리전자는 2021년 청주에 반도체 공장을 세웠다.", start=0, end=27, title="누리전자 새 공장")
STAFF = Evidence(n=2, doc_id="a.txt", text="공장에는 직원 350명이 일한다.", start=28, end=45, title="누리전자 새 공장")


@pytest.mark.parametrize("question, claim, reason", [
    ("누리전자가 공장을 세운 곳은?", Claim("누리전자는 청주에 공장을 세웠다.", ()), "uncited"),
    ("누리전자가 공장을 세운 곳은?", Claim("누리전자는 청주에 공장을 세웠다.", (9,)), "cites a number not given"),
    ("누리전자가 공장을 세운 곳은?", Claim("누리전자가 공장을 세운 곳은 다음과 같습니다.", (1,)), "says the question back"),
    ("누리전자가 공장을 세운 곳은?", Claim("누리전자는 반도체 공장을 세웠다.", (1,)), "no value of the asked kind"),
    ("누리전자가 공장을 세운 곳은?", Claim("누리전자는 대전에 공장을 세웠다.", (1,)),
     "unsupported: name not in the cited sentences"),
    ("누리전자 공장의 직원은 몇 명인가?", Claim("공장에는 직원 500명이 일한다.", (2,)),
     "unsupported: number not in the cited sentences"),
    ("누리전자가 공장을 세운 곳은?", Claim("누리전자는 청주에 연구소와 물류센터와 본사를 두고 이전했다.", (1,)),
     "unsupported: too few of its words in the cited sentences"),
])
def test_each_rejected_claim_is_given_the_check_that_rejected_it(korean, bench, question, claim, reason) -> None:
    asked = asking(question, korean)
    assert check_claim(claim, [PLANT, STAFF], korean, 0.67, asked) is None
    assert bench.why_rejected(claim, [PLANT, STAFF], korean, 0.67, asked) == reason


def test_a_supported_answer_passes_the_check_the_diagnostic_mirrors(korean) -> None:
    asked = asking("누리전자가 공장을 세운 곳은?", korean)
    assert check_claim(Claim("누리전자는 청주에 공장을 세웠다.", (1,)), [PLANT, STAFF], korean, 0.67, asked)


ARTICLE = Article(doc_id="a.txt", title="누리전자 새 공장", date="2024-05-02",
                  text="누리전자는 2021년 청주에 반도체 공장을 세웠다. 공장에는 직원 350명이 일한다.")


def retrieve(question: str, k: int) -> list[Hit]:
    chunk = Chunk(chunk_id="a.txt#0", doc_id=ARTICLE.doc_id, text=ARTICLE.text, start=0, end=len(ARTICLE.text),
                  title=ARTICLE.title, date=ARTICLE.date)
    return [Hit(chunk, score=0.9)]


class Question:
    def __init__(self, text: str, answers: list) -> None:
        self.id, self.question, self.history, self.answers = "q1", text, (), answers


def test_the_answerer_is_traced_claim_by_claim(korean, bench, monkeypatch) -> None:
    # an uncited right answer falls back to the draft; the trace says why and that the raw text held the gold
    generator = ScriptedGenerator("누리전자는 청주에 공장을 세웠다.")
    settings = load_settings(None, env={"RAG_GENERATION__BACKEND": "local"})
    answerer = Answerer(settings, korean, retrieve, {ARTICLE.doc_id: ARTICLE}.get, lambda: generator)
    seen = bench._Seen(generator)
    answerer._generator_factory = lambda: seen
    tracer = bench.Tracer()
    tracer.install(monkeypatch.setattr)
    question = Question("누리전자가 공장을 세운 곳은?", [["청주"]])
    row = bench.answer_all(answerer, [question], settings, seen, tracer)[0]
    assert row["outcome"] == "fell back" and row["mode"] == "extractive" and row["notice"]
    assert row["reason"] == "uncited" and row["reason_on_gold_claim"] and row["raw_correct"]
    assert [c["outcome"] for c in row["claims"]] == ["rejected"]
    # the same answer with its marker is shown as the model wrote it
    generator.answers = ["누리전자는 청주에 공장을 세웠다 [1]."]
    row = bench.answer_all(answerer, [question], settings, seen, tracer)[0]
    assert row["outcome"] == "LLM answer" and row["correct"] and row["claims"][0]["outcome"] == "kept"
