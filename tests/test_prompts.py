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
    with pytest.raises(PromptError, match="answer.txt") as caught:
        Prompts.load(tmp_path)  # a folder alone must hold every file
    assert str(tmp_path) in str(caught.value)  # the message names where it looked
    with pytest.raises(PromptError, match="folder not found"):
        Prompts.load([PROMPTS_DIR, tmp_path / "mistyped"])


def test_each_articles_title_follows_its_first_sentence_only_shortened() -> None:
    from rag.prompts import format_evidence
    from rag.types import Evidence

    long_title = "LG이노텍, 협력사 상생으로 고객경험 혁신할 것이라고 밝혀 업계의 주목을 받아"
    lines = format_evidence([
        Evidence(1, "a.txt", "첫 문장이다.", 0, 7, title=long_title),
        Evidence(2, "b.txt", "다른 기사다.", 0, 7, title="KT 파트너스 데이"),
        Evidence(3, "a.txt", "둘째 문장이다.", 8, 16, title=long_title),
        Evidence(4, "c.txt", "제목 없는 기사다.", 0, 10),
    ]).splitlines()
    assert lines[0] == f"[1] 첫 문장이다. (기사: {long_title[:29]}…)"  # 30 characters at most
    assert lines[1] == "[2] 다른 기사다. (기사: KT 파트너스 데이)"
    assert lines[2:] == ["[3] 둘째 문장이다.", "[4] 제목 없는 기사다."]  # once per article; no title, no note


def test_the_condensing_prompt_names_who_said_each_turn() -> None:
    prompts = Prompts.load()
    content = build_condense_messages(prompts, " 그 회사는? ", [("user", "KT의 펀드 규모는?"), ("assistant", "1000억원입니다.")])
    assert "사용자: KT의 펀드 규모는?\n도우미: 1000억원입니다." in content[0]["content"]


def test_no_prompt_folder_at_all_is_reported() -> None:
    with pytest.raises(PromptError, match=r"system.txt in none of \(no folder\)"):
        Prompts.load([])
