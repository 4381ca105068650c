"""The fallback diagnostic (bench/llm_fallback.py) traces what the answerer did with each claim, and
gives a rejected claim the reason the check itself gave (rag.citations.judge_claim; its reasons are
tested in tests/test_citations.py)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from rag.answering import Answerer
from rag.config import PROJECT_ROOT, load_settings
from rag.korean import KoreanText
from rag.types import Article, Chunk, Hit
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
    # a claim the support check rejects gets that check's own reason
    generator.answers = ["누리전자는 대전에 공장을 세웠다 [1]."]
    row = bench.answer_all(answerer, [question], settings, seen, tracer)[0]
    assert row["outcome"] == "fell back" and not row["raw_correct"]
    assert row["reason"] == "unsupported: name not in the cited sentences"


def test_a_question_whose_prompt_was_not_recorded_is_left_out_not_answered(korean, bench, monkeypatch) -> None:
    generator = ScriptedGenerator("누리전자는 청주에 공장을 세웠다 [1].")
    settings = load_settings(None, env={"RAG_GENERATION__BACKEND": "local"})
    answerer = Answerer(settings, korean, retrieve, {ARTICLE.doc_id: ARTICLE}.get, lambda: generator)

    class Unrecorded:
        def stream(self, *args, **kwargs):
            bench._no_model()
            yield ""

    seen = bench._Seen(Unrecorded())
    answerer._generator_factory = lambda: seen
    tracer = bench.Tracer()
    tracer.install(monkeypatch.setattr)
    row = bench.answer_all(answerer, [Question("누리전자가 공장을 세운 곳은?", [["청주"]])], settings, seen, tracer)[0]
    assert row["outcome"] == "prompt not recorded"
