"""Prompt files render strictly and build the messages the generator gets."""

from __future__ import annotations

import pytest

from rag.korean import KoreanText
from rag.prompts import PROMPTS_DIR, PromptError, Prompts, build_condense_messages, build_messages, build_translate_messages, render_prompt
from tests.answer_samples import evidence


def test_render_prompt_refuses_missing_and_unused_placeholders() -> None:
    assert render_prompt("질문: {question}", question="무엇?") == "질문: 무엇?"
    with pytest.raises(PromptError, match="question"):
        render_prompt("질문: {question} 근거: {evidence}", evidence="x")
    with pytest.raises(PromptError, match="extra"):
        render_prompt("질문: {question}", question="q", extra="x")


def test_every_prompt_file_renders(korean: KoreanText) -> None:
    files = sorted(p.name for p in PROMPTS_DIR.glob("*.txt"))
    assert files == ["answer.txt", "condense.txt", "refusal.txt", "system.txt", "translate.txt"]
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


def test_system_prompt_is_identical_across_questions(korean: KoreanText) -> None:
    # the backend keeps the KV cache of a common prefix: the system message must not vary
    prompts = Prompts.load()
    a = build_messages(prompts, "질문 하나", evidence(korean))[0]
    b = build_messages(prompts, "다른 질문", evidence(korean, "KT의 상생협력펀드 규모는?"))[0]
    assert a == b


def test_a_broken_prompt_folder_is_reported(tmp_path) -> None:
    (tmp_path / "system.txt").write_text("규칙 {refusal} {oops}", encoding="utf-8")
    for name in ("answer", "condense", "refusal", "translate"):
        (tmp_path / f"{name}.txt").write_text("x", encoding="utf-8")
    with pytest.raises(PromptError, match="oops"):
        Prompts.load(tmp_path)


def _translate_examples() -> list[tuple[str, str]]:
    """The worked (English, Korean) pairs the translate prompt shows before the asked question."""
    import re

    text = (PROMPTS_DIR / "translate.txt").read_text(encoding="utf-8")
    return [(en, ko) for en, ko in re.findall(r"\[질문\] (.+)\n\[번역\] (.+)", text) if "{" not in en]


def test_the_translate_prompt_shows_names_in_hangul_and_amounts_in_korean_units() -> None:
    # the 1.5B model left romanized names in Latin script inside its Korean ("Park Jun-beom이 …"): the
    # passages write them in Hangul, so the question was refused (bench/results/english_route_2026-12-03.md)
    import re

    examples = _translate_examples()
    latin = re.compile(r"[A-Za-z][A-Za-z-]*")
    named = [(en, ko) for en, ko in examples if any(w[0].isupper() and not w.isupper() for w in latin.findall(en)[1:])]
    assert named, "no example with a romanized name"
    for en, ko in named:
        assert all(w.isupper() for w in latin.findall(ko)), ko  # only acronyms stay in Latin script
        assert re.search(r"[가-힣]", ko)
    assert any(re.search(r"\d+(?:\.\d+)? (?:billion|million)", en) and re.search(r"\d+억|\d+만", ko)
               for en, ko in examples), "no example of an English amount in Korean units"


def test_the_translate_prompt_names_no_entity_of_an_eval_set() -> None:
    from pathlib import Path

    root = Path(PROMPTS_DIR).parent
    text = (PROMPTS_DIR / "translate.txt").read_text(encoding="utf-8")
    corpora = [(root / "eval" / "data" / "KorQuAD_v1.0_dev.json").read_text(encoding="utf-8")]
    corpora += [p.read_text(encoding="utf-8") for p in (root / "eval" / "datasets" / "klue_mrc_dev" / "corpus").glob("*.txt")]
    corpora += [p.read_text(encoding="utf-8") for p in (root / "seeds").glob("*.txt")]
    corpora += [p.read_text(encoding="utf-8") for p in (root / "eval" / "datasets").rglob("*.jsonl")]
    for name in ("한빛로보틱스", "Hanbit", "이서연", "Seo-yeon", "청솔바이오", "Cheongsol", "김민수", "Min-su"):
        assert name in text  # the made-up names of its examples…
        assert not any(name in c for c in corpora), name  # …occur in no eval corpus or question set
