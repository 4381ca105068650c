"""Question/sentence relevance from the search model, with bounded caches."""

from __future__ import annotations

import pytest

from rag.relevance import SentenceRelevance
from tests.fakes import HashingEmbedder


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        self.passages = 0

    def embed_passages(self, texts):
        self.passages += len(texts)
        return super().embed_passages(texts)


def test_sentence_vectors_are_cached_and_bounded() -> None:
    embedder = CountingEmbedder()
    relevance = SentenceRelevance(lambda: embedder, capacity=2)
    first = relevance("펀드 규모는?", ["펀드 규모는 1,030억 원이다.", "행사는 호텔에서 열렸다."])
    assert first[0] > first[1]
    assert relevance("펀드 규모는?", ["펀드 규모는 1,030억 원이다."]) == first[:1]
    assert embedder.passages == 2  # the second call embedded nothing new
    relevance("질문", ["셋째 문장", "넷째 문장"])
    assert len(relevance._passages) <= 2


def test_no_sentences_load_no_model_and_cached_ones_call_it_not_again() -> None:
    loads = []
    embedder = CountingEmbedder()
    relevance = SentenceRelevance(lambda: loads.append(1) or embedder)
    assert relevance("질문", []) == [] and loads == []  # the model is not even loaded
    relevance("질문", ["첫 문장"])
    calls = len(loads)
    relevance("질문", ["첫 문장"])  # the question and the sentence are both cached: no model call
    assert len(loads) == calls and embedder.passages == 1


def test_a_batch_larger_than_the_cache_is_still_scored_whole() -> None:
    # the first sentences are evicted by the last before they are read back: embedded again, not lost
    relevance = SentenceRelevance(CountingEmbedder, capacity=1)
    scores = relevance("펀드 규모는?", ["펀드 규모는 1,030억 원이다.", "행사는 호텔에서 열렸다.", "셋째 문장"])
    assert len(scores) == 3 and scores[0] > scores[1]


@pytest.mark.slow
def test_e5_prefers_the_sentence_that_answers(real_embedder) -> None:
    relevance = SentenceRelevance(lambda: real_embedder)
    scores = relevance("정책 금융기관 통폐합이 거론된 해는?",
                       ["정부는 2013년 정책금융공사를 산업은행에 다시 합치는 방안을 발표했다.",
                        "이날 행사에는 협력사 대표 300여 명이 참석했다."])
    assert scores[0] > scores[1]
