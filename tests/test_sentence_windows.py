"""The sentences around a chunk, from the lines around it: exactly AROUND sentences beyond it where the
text has them, the same spans the whole-text split gives there, and no line more than it needs."""

from __future__ import annotations

import re

import pytest

from rag.korean import KoreanText
from rag.sentence_windows import AROUND, sentences_around


class Periods:
    """Splits a line after each ". " (a deterministic stand-in for Kiwi); counts the lines it splits."""

    def __init__(self) -> None:
        self.split: list[str] = []

    def sentences(self, text: str) -> list[tuple[int, int]]:
        self.split.append(text)
        return [m.span() for m in re.finditer(r"[^.]+\.", text)]

    def sentences_batch(self, texts):
        return [self.sentences(t) for t in texts]


def _text(lines: list[str]) -> str:
    return "\n".join(lines)


def _chunk(text: str, piece: str) -> tuple[str, int, int]:
    at = text.index(piece)
    return text, at, at + len(piece)


def test_one_sentence_lines_give_exactly_around_sentences_each_side() -> None:
    text = _text([f"문장{i}." for i in range(9)])
    spans = sentences_around(Periods(), [_chunk(text, "문장4.")])[0]
    assert [text[a:b] for a, b in spans] == [f"문장{i}." for i in range(4 - AROUND, 5 + AROUND)]


def test_a_long_line_holding_enough_sentences_is_not_widened() -> None:
    text = _text(["가. 나. 다.", "라. 마. 바.", "사. 아. 자.", "차. 카. 타.", "파. 하. 거."])
    splitter = Periods()
    spans = sentences_around(splitter, [_chunk(text, "아.")])[0]
    # the chunk's line and one line each side (four sentences before, four after): nothing more is split
    assert [text[a:b].strip() for a, b in spans] == ["라.", "마.", "바.", "사.", "아.", "자.", "차.", "카.", "타."]
    assert "가. 나. 다." not in splitter.split and "파. 하. 거." not in splitter.split


def test_near_the_ends_the_window_stops_at_the_text() -> None:
    text = _text([f"문장{i}." for i in range(4)])
    first = sentences_around(Periods(), [_chunk(text, "문장0.")])[0]
    assert [text[a:b] for a, b in first] == ["문장0.", "문장1.", "문장2."]
    last = sentences_around(Periods(), [_chunk(text, "문장3.")])[0]
    assert [text[a:b] for a, b in last] == ["문장1.", "문장2.", "문장3."]


def test_a_chunk_cutting_sentences_counts_only_the_whole_ones_inside() -> None:
    text = _text([f"문장{i}." for i in range(11)])
    at, end = text.index("장4."), text.index("문장6.") + 2  # from inside 문장4 to inside 문장6: 문장5 inside
    spans = sentences_around(Periods(), [(text, at, end)])[0]
    assert [text[a:b] for a, b in spans] == [f"문장{i}." for i in range(3, 8)]


def test_a_chunk_holding_no_whole_sentence_gets_its_lines_and_their_neighbours() -> None:
    text = _text([f"문장{i}." for i in range(9)])
    at = text.index("장4")
    spans = sentences_around(Periods(), [(text, at, at + 2)])[0]
    assert [text[a:b] for a, b in spans] == ["문장3.", "문장4.", "문장5."]


@pytest.mark.parametrize("piece", ["협력사 20곳이 참여했다.", "KT는 20일 행사를 열었다.", "마지막 문장이다."])
def test_kiwi_spans_are_the_whole_texts_spans_there(piece: str, korean: KoreanText) -> None:
    text = ("KT는 20일 행사를 열었다. 협력사 20곳이 참여했다.\n\n행사는 서울에서 열렸다.\n"
            "“상생이 먼저다”라고 그는 말했다. 기금은 1000억원이다. 마지막 문장이다.")
    spans = sentences_around(korean, [_chunk(text, piece)])[0]
    whole = korean.sentences(text)
    assert spans == whole[whole.index(spans[0]):whole.index(spans[-1]) + 1]
    inside = [s for s in whole if text[s[0]:s[1]] == piece][0]
    i = whole.index(inside)
    assert whole[max(0, i - AROUND):i + AROUND + 1] == [s for s in spans if abs(whole.index(s) - i) <= AROUND]
