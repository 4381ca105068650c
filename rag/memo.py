"""KoreanText with bounded memos: the same retrieved passages come back question after question,
and the extractive answer must stay instant on 2 busy cores.

    korean = MemoKorean(KoreanText(lexicon=lexicon))
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Sequence


class MemoKorean:
    """The KoreanText API, each analysis remembered per text (first in, first out past `capacity`)."""

    def __init__(self, korean: Any, capacity: int = 20_000) -> None:
        self._korean = korean
        self._capacity = capacity
        self._memos: dict[str, OrderedDict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def lexicon(self):
        return self._korean.lexicon

    @property
    def version(self) -> str:
        return self._korean.version

    def _batch(self, kind: str, texts: Sequence[str], analyze: Callable[[list[str]], list[Any]]) -> list[Any]:
        with self._lock:
            memo = self._memos.setdefault(kind, OrderedDict())
            missing = list(dict.fromkeys(t for t in texts if t not in memo))
        fresh = dict(zip(missing, analyze(missing))) if missing else {}
        with self._lock:
            for text, value in fresh.items():
                memo[text] = value
                if len(memo) > self._capacity:
                    memo.popitem(last=False)
            found = [fresh[t] if t in fresh else memo.get(t) for t in texts]
        # a text evicted meanwhile by another thread is simply analysed again
        return [list(v) if v is not None else list(analyze([t])[0]) for v, t in zip(found, texts)]

    def _both(self, texts: list[str], want: int) -> list[Any]:
        # one Kiwi pass fills both memos: evidence selection asks for the terms and the tags of the
        # same sentences
        analyzed = self._korean.analyze_batch(texts)
        other = "morphemes" if want == 0 else "tokens"
        with self._lock:
            memo = self._memos.setdefault(other, OrderedDict())
            for text, pair in zip(texts, analyzed):
                memo.setdefault(text, pair[1 - want])
            while len(memo) > self._capacity:
                memo.popitem(last=False)
        return [pair[want] for pair in analyzed]

    def tokens_batch(self, texts: Sequence[str]) -> list[list[str]]:
        return self._batch("tokens", texts, lambda ts: self._both(ts, 0))

    def tokens(self, text: str) -> list[str]:
        return self.tokens_batch([text])[0]

    def morphemes_batch(self, texts: Sequence[str]) -> list[list[tuple[str, str, int, int]]]:
        return self._batch("morphemes", texts, lambda ts: self._both(ts, 1))

    def sentences(self, text: str) -> list[tuple[int, int]]:
        return self.sentences_batch([text])[0]

    def sentences_batch(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        return self._batch("sentences", texts, self._split)

    def _split(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        split = getattr(self._korean, "sentences_analyzed", None)
        if split is None:  # a KoreanText stand-in that only splits
            return self._korean.sentences_batch(texts)
        # the pass that splits the lines also gives each sentence's terms and tags: evidence
        # selection asks for exactly those next, so Kiwi does not analyze them a second time
        spans, analyses = split(texts)
        with self._lock:
            for kind, index in (("tokens", 0), ("morphemes", 1)):
                memo = self._memos.setdefault(kind, OrderedDict())
                for sentence, pair in analyses.items():
                    memo.setdefault(sentence, pair[index])
                while len(memo) > self._capacity:
                    memo.popitem(last=False)
        return spans

    def key_terms(self, text: str) -> list[str]:
        return self._batch("keys", [text], lambda ts: [self._korean.key_terms(t) for t in ts])[0]
