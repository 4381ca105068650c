"""Small deterministic fakes that satisfy the same protocols as the real parts (never MagicMock)."""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np


class HashingEmbedder:
    """Character-bigram hashing embedder: texts sharing bigrams get similar vectors.

    Good enough to exercise the store, fusion and pipeline logic without loading a model.
    """

    name = "test-hashing-bigram"
    dimension = 64
    max_tokens = 512

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            compact = "".join(text.split())
            for a, b in zip(compact, compact[1:]):
                digest = hashlib.sha1((a + b).encode("utf-8")).digest()
                out[row, digest[0] % self.dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def count_tokens(self, text: str) -> int:
        return len(text)
