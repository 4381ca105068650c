"""Question / sentence relevance from the embedding model already loaded for search (e5 scores short
sentences well; the local model, never an embeddings server), with bounded caches: the same passages
come back question after question.

    relevance = SentenceRelevance(lambda: pipe.embedder)
    relevance("정책 금융기관 통폐합이 거론된 해는?", ["…2013년 …", "…"])   # cosine of each sentence
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np


class SentenceRelevance:
    """Cosine similarity of the question's query vector and each sentence's passage vector."""

    def __init__(self, embedder: Callable[[], Any], capacity: int = 20_000) -> None:
        self._embedder = embedder  # a factory: the model loads lazily, with the pipeline's
        self._capacity = capacity
        self._passages: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, question: str, sentences: Sequence[str]) -> list[float]:
        if not sentences:
            return []
        query = self._vectors([question], self._queries, "embed_queries")[0]
        passages = self._vectors(list(sentences), self._passages, "embed_passages")
        return [float(np.dot(query, p)) for p in passages]

    def _model(self) -> Any:
        # an embedder whose passages come from a server (rag/embedding_server.py) keeps the same model
        # locally: a question must never need the server (it may be down, or busy with an ingest)
        embedder = self._embedder()
        return getattr(embedder, "local", embedder)

    def _vectors(self, texts: list[str], memo: OrderedDict[str, np.ndarray], method: str) -> list[np.ndarray]:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in memo))
        if missing:
            vectors = getattr(self._model(), method)(missing)
            with self._lock:
                for text, vector in zip(missing, vectors):
                    memo[text] = np.asarray(vector, dtype=np.float32)
                    memo.move_to_end(text)
                while len(memo) > self._capacity:
                    memo.popitem(last=False)
        found = []
        for text in texts:
            with self._lock:
                vector = memo.get(text)
            # evicted between the two steps by another thread: embed it again
            found.append(vector if vector is not None else
                         np.asarray(getattr(self._model(), method)([text])[0], dtype=np.float32))
        return found
