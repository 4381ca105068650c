"""Prompt files render strictly and build the messages the generator gets."""

from __future__ import annotations

import pytest

from rag.korean import KoreanText
from rag.prompts import PROMPTS_DIR, PromptError, Prompts, build_condense_messages, build_messages, build_translate_messages, build_transliterate_messages, render_prompt
from tests.answer_samples import evidence


def test_render_prompt_refuses_missing_and_unused_placeholders() -> None:
    assert render_prompt("질문: {question}", question="무엇?") == "질문: 무엇?"
    with pytest.raises(PromptError, match="question"):
        render_prompt("질문: {question} 근거: {evidence}", evidence="x")
    with pytest.raises(PromptError, match="extra"):
        render_prompt("질문: {question}", question="q", extra="x")


def test_every_prompt_file_renders(korean: KoreanText) -> None:
    files = sorted(p.name for p in PROMPTS_DIR.glob("*.txt"))
    assert files == ["answer.txt", "condense.txt", "refusal.txt", "system.txt", "translate.txt", "transliterate.txt"]
    prompts = Prompts.load()
    assert prompts.refusal in prompts.system  # the model is told the exact refusal sentence
    assert "{" not in prompts.system
    messages = build_messages(prompts, "LG이노텍의 펀드 규모는?", evidence(korean))
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "[1] " in messages[1]["content"] and "LG이노텍의 펀드 규모는?" in messages[1]["content"]
    condense = build_condense_messages(prompts, "그 회사의 펀드 규모는?", [("user", "LG이노텍의 등급은?")])
    assert "LG이노텍의 등급은?" in condense[0]["content"] and "그 회사의 펀드 규모는?" in condense[0]["content"]
    translate = build_translate_messages(prompts, "How large is Hanwha's fund?")
    assert "How large is Hanwha's fund?" in translate[0]["content"] and "{" not in translate[0]["content"]
    transliterate = build_transliterate_messages(prompts, "Hanwha")
    assert "Hanwha" in transliterate[0]["content"] and "{" not in transliterate[0]["content"]


def test_system_prompt_is_identical_across_questions(korean: KoreanText) -> None:
    # the backend keeps the KV cache of a common prefix: the system message must not vary
    prompts = Prompts.load()
    a = build_messages(prompts, "질문 하나", evidence(korean))[0]
    b = build_messages(prompts, "다른 질문", evidence(korean, "KT의 상생협력펀드 규모는?"))[0]
    assert a == b


def test_a_broken_prompt_folder_is_reported(tmp_path) -> None:
    (tmp_path / "system.txt").write_text("규칙 {refusal} {oops}", encoding="utf-8")
    for name in ("answer", "condense", "refusal", "translate", "transliterate"):
        (tmp_path / f"{name}.txt").write_text("x", encoding="utf-8")
    with pytest.raises(PromptError, match="oops"):
        Prompts.load(tmp_path)


def test_a_corpus_folder_replaces_only_the_prompt_files_it_holds(tmp_path) -> None:
    (tmp_path / "system.txt").write_text("당신은 의료 기사에 답하는 도우미입니다. 답이 없으면: {refusal}", encoding="utf-8")
    packaged = Prompts.load()
    prompts = Prompts.load([PROMPTS_DIR, tmp_path])
    assert prompts.system == f"당신은 의료 기사에 답하는 도우미입니다. 답이 없으면: {packaged.refusal}"
    assert (prompts.answer, prompts.condense, prompts.refusal) == (packaged.answer, packaged.condense, packaged.refusal)
    # the order decides: the packaged folder last puts its own system prompt back
    assert Prompts.load([tmp_path, PROMPTS_DIR]).system == packaged.system
    with pytest.raises(PromptError, match="answer.txt"):
        Prompts.load(tmp_path)  # a folder alone must hold every file
    with pytest.raises(PromptError, match="folder not found"):
        Prompts.load([PROMPTS_DIR, tmp_path / "mistyped"])
