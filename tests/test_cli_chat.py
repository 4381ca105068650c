"""`rag chat`: a conversation on the command line. The loop's logic, with a small fake pipeline; the real models
answer a follow-up in tests/test_cli.py."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator

import rag.__main__ as cli
from rag.config import load_settings
from rag.question import check_question
from rag.types import Answer, Event


class ScriptedPipeline:
    """Answers "Qn" with "An"; records the history each question came with and whether its stream was closed."""

    def __init__(self, interrupt_on: str = "") -> None:
        self.asked: list[tuple[str, list[tuple[str, str]]]] = []
        self.closed: list[str] = []
        self.interrupt_on = interrupt_on

    def is_empty(self) -> bool:
        return False

    def stream(self, question, history=(), **kwargs) -> Iterator[Event]:
        check_question(question, 20)  # raises QuestionError before the stream starts, as the pipeline does
        self.asked.append((question, [(t.role, t.content) for t in history]))
        return self._events(question)

    def _events(self, question: str) -> Iterator[Event]:
        try:
            yield Event("status", "관련 기사를 찾는 중")
            if question == self.interrupt_on:
                raise KeyboardInterrupt  # as a Ctrl-C arrives while the answer is being written
            yield Event("final", answer=Answer(question=question, text=question.replace("Q", "A"), refused=False))
        finally:
            self.closed.append(question)


def _chat(monkeypatch, capsys, lines: str, pipe: ScriptedPipeline) -> tuple[int, str, str]:
    monkeypatch.setattr(cli, "_pipeline", lambda settings, args=None: pipe)
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    args = argparse.Namespace(mode="extractive", k=None, date_from=None, date_to=None, publisher=None, source=None)
    code = cli.cmd_chat(args, load_settings())
    out = capsys.readouterr()
    return code, out.out, out.err


def test_each_question_comes_with_the_turns_before_it_and_new_starts_over(monkeypatch, capsys):
    pipe = ScriptedPipeline()
    code, out, _ = _chat(monkeypatch, capsys, "Q1\n\n  Q2  \n/new\nQ3\n", pipe)
    assert code == 0
    assert pipe.asked == [
        ("Q1", []),
        ("Q2", [("user", "Q1"), ("assistant", "A1")]),
        ("Q3", []),  # /new: the conversation starts over
    ]
    assert out.split() == ["A1", "A2", "A3"]  # stdout holds the answers only (no prompt when piped)
    assert pipe.closed == ["Q1", "Q2", "Q3"]


def test_a_refused_question_or_a_ctrl_c_loses_nothing_of_the_conversation(monkeypatch, capsys):
    pipe = ScriptedPipeline(interrupt_on="Q2")
    code, out, err = _chat(monkeypatch, capsys, "Q1\n" + "긴" * 30 + "\nQ2\nQ3\n/quit\nQ4\n", pipe)
    assert code == 0
    assert "error: " in err and "(중지됨)" in err
    # the too-long question was never asked; the stopped one left no turn; /quit ended before Q4
    assert [q for q, _ in pipe.asked] == ["Q1", "Q2", "Q3"]
    assert pipe.asked[-1] == ("Q3", [("user", "Q1"), ("assistant", "A1")])
    assert "Q2" in pipe.closed
    assert out.split() == ["A1", "A3"]


def test_history_is_bounded_to_what_the_pipeline_reads(monkeypatch, capsys):
    pipe = ScriptedPipeline()
    turns = load_settings().answer.history_turns
    _chat(monkeypatch, capsys, "".join(f"Q{i}\n" for i in range(turns + 3)), pipe)
    assert len(pipe.asked[-1][1]) == 2 * turns



def test_a_mistyped_command_is_reported_not_asked(monkeypatch, capsys):
    pipe = ScriptedPipeline()
    code, out, err = _chat(monkeypatch, capsys, "Q1\n/nwe\nQ2\n", pipe)
    assert code == 0
    # "/nwe" is neither asked nor a new conversation: Q2 still follows Q1
    assert pipe.asked == [("Q1", []), ("Q2", [("user", "Q1"), ("assistant", "A1")])]
    assert "/nwe" in err and "/new" in err


def test_no_stdin_is_one_error_line(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", None)
    args = argparse.Namespace(mode="extractive", k=None, date_from=None, date_to=None, publisher=None, source=None)
    assert cli.cmd_chat(args, load_settings()) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_bytes_that_are_not_utf8_are_reported_and_the_conversation_goes_on(monkeypatch, capsys):
    pipe = ScriptedPipeline()
    stdin = io.TextIOWrapper(io.BytesIO("Q1\n".encode() + b"\xc1\xd6\xb9\xae\n" + "Q2\n".encode()), encoding="utf-8")
    monkeypatch.setattr(cli, "_pipeline", lambda settings, args=None: pipe)
    monkeypatch.setattr("sys.stdin", stdin)
    args = argparse.Namespace(mode="extractive", k=None, date_from=None, date_to=None, publisher=None, source=None)
    assert cli.cmd_chat(args, load_settings()) == 0
    out = capsys.readouterr()
    assert "UTF-8" in out.err and out.out.split() == ["A1", "A2"]
    assert [q for q, _ in pipe.asked] == ["Q1", "Q2"]


def test_a_line_longer_than_any_question_is_refused_and_its_rest_is_not_asked(monkeypatch, capsys):
    pipe = ScriptedPipeline()
    longest = load_settings().app.max_question_chars
    code, out, err = _chat(monkeypatch, capsys, "Q1\n" + "Q" * (3 * longest) + "\nQ2\n", pipe)
    assert code == 0 and "error: " in err
    assert f"{3 * longest:,} characters" in err  # the whole line's length, not that of the part read
    assert [q for q, _ in pipe.asked] == ["Q1", "Q2"] and out.split() == ["A1", "A2"]


def test_ctrl_c_at_the_prompt_ends_the_session_as_an_interrupt(monkeypatch, capsys):
    class Interrupted(io.StringIO):
        def readline(self, *args):
            raise KeyboardInterrupt

    pipe = ScriptedPipeline()
    monkeypatch.setattr(cli, "_pipeline", lambda settings, args=None: pipe)
    monkeypatch.setattr("sys.stdin", Interrupted())
    args = argparse.Namespace(mode="extractive", k=None, date_from=None, date_to=None, publisher=None, source=None)
    assert cli.cmd_chat(args, load_settings()) == 130 and pipe.asked == []
