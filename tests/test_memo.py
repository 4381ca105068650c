"""The memo in front of Kiwi: same answers as Kiwi, one pass for terms and tags, bounded."""

from __future__ import annotations

from rag.korean import KoreanText
from rag.memo import MemoKorean


class Counting:
    """KoreanText that counts how many texts reach Kiwi."""

    def __init__(self, inner: KoreanText) -> None:
        self.inner, self.analysed, self.calls = inner, 0, 0
        self.lexicon = inner.lexicon

    def analyze_batch(self, texts):
        self.analysed += len(texts)
        self.calls += 1
        return self.inner.analyze_batch(texts)

    def sentences(self, text):
        return self.inner.sentences(text)


def test_terms_and_tags_come_from_one_pass_and_are_remembered(korean: KoreanText) -> None:
    counting = Counting(korean)
    memo = MemoKorean(counting, capacity=3)
    texts = ["LG이노텍은 1,030억 원 규모의 펀드를 운영한다.", "KT는 20일 행사를 열었다."]
    assert memo.tokens_batch(texts) == korean.tokens_batch(texts)
    assert memo.morphemes_batch(texts) == korean.morphemes_batch(texts)
    assert counting.analysed == 2  # the tags were filled by the pass that made the terms
    assert counting.calls == 1  # the new texts of a batch go to Kiwi together, in one call
    memo.tokens_batch(texts)
    assert counting.calls == 1  # nothing new: Kiwi is not called at all
    memo.tokens_batch(texts + ["셋째 문장이다.", "넷째 문장이다."])
    assert len(memo._memos["tokens"]) <= 3 and len(memo._memos["morphemes"]) <= 3
    # a batch of new texts larger than the memo: each is read from this call's analysis, none analysed twice
    calls = counting.calls
    batch = [f"{n}번째 새 문장이다." for n in range(5)]
    assert memo.tokens_batch(batch) == korean.tokens_batch(batch) and counting.calls == calls + 1


def test_the_split_that_finds_the_sentences_also_gives_their_terms_and_tags(korean: KoreanText) -> None:
    class CountingSplit(Counting):
        def sentences_analyzed(self, texts):
            return self.inner.sentences_analyzed(texts)

    counting = CountingSplit(korean)
    memo = MemoKorean(counting)
    text = "LG이노텍은 1,030억 원 규모의 펀드를 운영한다. KT는 20일 행사를 열었다.\n정철동 사장이 참석했다."
    sentences = [text[a:b] for a, b in memo.sentences_batch([text])[0]]
    assert len(sentences) == 3
    assert memo.tokens_batch(sentences) == korean.tokens_batch(sentences)
    assert memo.morphemes_batch(sentences) == korean.morphemes_batch(sentences)
    assert counting.analysed == 0  # Kiwi analyzed them once, while splitting the lines


def test_tags_first_then_terms_is_one_pass_too(korean: KoreanText) -> None:
    counting = Counting(korean)
    memo = MemoKorean(counting)
    texts = ["KT는 20일 행사를 열었다."]
    assert memo.morphemes_batch(texts) == korean.morphemes_batch(texts)
    assert memo.tokens_batch(texts) == korean.tokens_batch(texts) and counting.calls == 1


def test_a_stand_in_that_only_splits_is_enough_and_split_analyses_stay_bounded(korean: KoreanText) -> None:
    class SplitOnly:
        lexicon = korean.lexicon

        def sentences_batch(self, texts):
            return korean.sentences_batch(texts)

    text = "첫 문장이다. 둘째 문장이다."
    assert MemoKorean(SplitOnly()).sentences_batch([text]) == korean.sentences_batch([text])

    class Splitting(Counting):
        def sentences_analyzed(self, texts):
            return self.inner.sentences_analyzed(texts)

    memo = MemoKorean(Splitting(korean), capacity=2)
    memo.sentences_batch(["하나다. 둘이다. 셋이다. 넷이다."])
    assert len(memo._memos["tokens"]) <= 2 and len(memo._memos["morphemes"]) <= 2
