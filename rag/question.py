"""What makes a question askable: one rule for the CLI, the pipeline, the answerer and the HTTP API."""

from __future__ import annotations

import re
import unicodedata


class QuestionError(ValueError):
    """The question cannot be asked as given (empty, too long)."""


SETTING = "app.max_question_chars"
MAX_K = 20  # passages one answer or search may read, on every surface (CLI --k, /api/ask, /v1, Gradio's /ask)
# a lone surrogate: no character of any text, and the Korean analyzer fails on it
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_question(question: str, max_chars: int) -> str:
    """The stripped NFC question, or QuestionError with a bilingual message for the user.

    The too-long message names the setting that sets the limit, as every over-limit message does:
    an operator reading it in a 400 or on the CLI learns what to raise.
    """
    # composed (NFC), as every article is: a question pasted from a decomposed source (a macOS file name, some
    # PDFs) shared no word with the articles, and its length counted each jamo
    text = unicodedata.normalize("NFC", question or "").strip()
    if not text:
        raise QuestionError("질문이 비어 있습니다. 질문을 입력해 주세요. (The question is empty.)")
    if _SURROGATE.search(text):  # undecodable input read with surrogateescape, or a JSON "\ud800": not text
        raise QuestionError("질문에 글자가 아닌 부분이 있습니다. UTF-8 텍스트로 다시 입력해 주세요. "
                            "(The question holds bytes that are not text: send it as UTF-8.)")
    if len(text) > max_chars:
        raise too_long(len(text), max_chars)
    return text


def too_long(length: int, max_chars: int) -> QuestionError:
    """The error for a question of `length` characters over the limit (also for a line read only in part)."""
    return QuestionError(
        f"질문이 너무 깁니다: {length:,}자 (최대 {max_chars:,}자, {SETTING}). "
        f"(The question is too long: {length:,} characters, limit {max_chars:,}: {SETTING}.)"
    )
