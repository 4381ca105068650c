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


def test_a_questions_path_that_is_no_file_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # a folder was an IsADirectoryError traceback; a missing file a bare "[Errno 2]"
    for path, why in ((tmp_path, "Is a directory"), (tmp_path / "nope.jsonl", "No such file or directory")):
        args = argparse.Namespace(questions=path, mode="extractive", k=None)
        assert _ask_batch(UntouchablePipeline(), args) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == f"error: cannot read the questions file {path}: {why}\n"


def test_a_question_and_a_questions_file_together_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # the question given was dropped without a word and only the file's were answered
    from rag.__main__ import main

    path = tmp_path / "questions.jsonl"
    path.write_text('{"question": "펀드 규모는?"}\n', encoding="utf-8")
    assert main(["ask", "LG이노텍의 동반성장 펀드 규모는?", "--questions", str(path), "--store", str(tmp_path / "store")]) == 2
    assert capsys.readouterr().err == "error: give a question or --questions FILE.jsonl, not both\n"


class EchoPipeline:
    """Answers every question with its own words (the batch loop's logic, not the answerer, is under test)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, list]] = []

    def ask(self, question, history=(), **kwargs):
        from rag.types import Answer

        self.asked.append((question, [(t.role, t.content) for t in history]))
        return Answer(question=question, text=f"{question}에 대한 답", refused=False)


def test_a_bad_batch_line_says_what_the_line_should_hold(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import json

    path = tmp_path / "questions.jsonl"
    lines = ['{"id": 1, "question": 123}',
             '{"id": 2, "question": "펀드 규모는?", "history": [{"role": "user"}]}',
             '["not", "an", "object"]',
             '{"id": 4, "question": "그 회사의 펀드 규모는?", "history": [{"role": "user", "content": "LG이노텍은?"}]}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pipe = EchoPipeline()
    args = argparse.Namespace(questions=path, mode="extractive", k=None, date_from=None, date_to=None, publisher=None,
                              source=None)
    assert _ask_batch(pipe, args) == 1
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o.get("error") for o in out[:3]] == [
        'line 1: "question" must be a string',
        'line 2: "history" must be a list of {"role": "user" | "assistant", "content": "..."}',
        'line 3: each line must be a JSON object: {"question": "...", "history": [...]}']
    assert out[0]["id"] == 1 and out[2]["id"] is None
    assert out[3]["answer"] == "그 회사의 펀드 규모는?에 대한 답" and out[3]["id"] == 4
    assert pipe.asked == [("그 회사의 펀드 규모는?", [("user", "LG이노텍은?")])]  # only the good line was asked


@pytest.mark.parametrize("k", ["0", "-5", "21", "many"])
def test_k_outside_1_to_20_is_refused_by_the_cli(k: str, capsys: pytest.CaptureFixture) -> None:
    from rag.__main__ import main

    for command in ("search", "ask"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "LG이노텍의 동반성장 펀드 규모는?", "--k", k])
        assert exit_.value.code == 2
        assert "argument --k:" in capsys.readouterr().err
