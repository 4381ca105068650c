"""Verified streaming (rag/streaming.py): each checked sentence reaches the client as soon as it is final."""

from __future__ import annotations

from rag.citations import asking
from rag.korean import KoreanText
from rag.streaming import VerifiedStream
from rag.types import Evidence


def test_a_sentence_is_shown_once_the_next_begins_and_the_pieces_make_the_answer(korean: KoreanText) -> None:
    first, second = "한빛랩스는 반도체 검사 장비를 만든다.", "이 장비는 청주 공장에서 만든다."
    evidence = [Evidence(1, "a.txt", first, 0, len(first)),
                Evidence(2, "a.txt", second, len(first) + 1, len(first) + 1 + len(second))]
    stream = VerifiedStream(evidence, korean, 0.5, asking("한빛랩스는 무엇을 만드나?", korean))
    pieces = ["한빛랩스는 반도체 검사 ", "장비를 만듭니다 [1", "]. 이 장비는 ", "청주 공장에서 만듭니다 [2]."]
    shown = [stream.feed(piece) for piece in pieces]
    # final once the next sentence has begun, before the model stops — not held back to the end
    assert shown[:3] == [[], [], ["한빛랩스는 반도체 검사 장비를 만듭니다 [1]."]]
    shown.append(stream.finish())
    # what the client joins is the verified answer: the pieces after the first carry their separating space
    assert "".join(text for texts in shown for text in texts) == stream.text
    assert stream.text == "한빛랩스는 반도체 검사 장비를 만듭니다 [1]. 이 장비는 청주 공장에서 만듭니다 [2]."


def test_a_sentence_the_model_says_twice_is_shown_once(korean: KoreanText) -> None:
    first, second = "한빛랩스는 반도체 검사 장비를 만든다.", "이 장비는 청주 공장에서 만든다."
    evidence = [Evidence(1, "a.txt", first, 0, len(first)),
                Evidence(2, "a.txt", second, len(first) + 1, len(first) + 1 + len(second))]
    stream = VerifiedStream(evidence, korean, 0.5, asking("한빛랩스는 무엇을 만드나?", korean))
    # the small model repeats its claim with other markers
    stream.feed("한빛랩스는 반도체 검사 장비를 만듭니다 [1]. 한빛랩스는 반도체 검사 장비를 만듭니다 [1][2]. ")
    stream.feed("이 장비는 청주 공장에서 만듭니다 [2].")
    stream.finish()
    assert stream.text == "한빛랩스는 반도체 검사 장비를 만듭니다 [1]. 이 장비는 청주 공장에서 만듭니다 [2]."
