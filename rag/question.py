"""What makes a question askable: one rule for the CLI, the pipeline, the answerer and the HTTP API."""

from __future__ import annotations


class QuestionError(ValueError):
    """The question cannot be asked as given (empty, too long)."""


def check_question(question: str, max_chars: int) -> str:
    """The stripped question, or QuestionError with a bilingual message for the user."""
    text = (question or "").strip()
    if not text:
        raise QuestionError("질문이 비어 있습니다. 질문을 입력해 주세요. (The question is empty.)")
    if len(text) > max_chars:
        raise QuestionError(
            f"질문이 너무 깁니다: {len(text):,}자 (최대 {max_chars:,}자). "
            f"(The question is too long: {len(text):,} characters, limit {max_chars:,}.)"
        )
    return text
