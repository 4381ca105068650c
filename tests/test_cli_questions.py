"""`rag ask --questions FILE`: a file that is not JSONL text is one clear error line, not a traceback."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from rag.__main__ import _ask_batch


class UntouchablePipeline:
    def ask(self, *args, **kwargs):  # the file is refused before any question is asked
        raise AssertionError("asked a question from a binary file")


@pytest.mark.parametrize("content", [bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "질문".encode("utf-16")])
def test_binary_questions_file_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture, content: bytes) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_bytes(content)
    args = argparse.Namespace(questions=path, mode="extractive", k=None)
    assert _ask_batch(UntouchablePipeline(), args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"error: {path} is not a UTF-8 JSONL file")
