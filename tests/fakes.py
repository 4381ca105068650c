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


class ScriptedGenerator:
    """A generator that replays scripted answers piece by piece and records every prompt it was given.

    `fail_after` raises GenerationError after that many pieces (a backend dying mid-stream).
    """

    name = "scripted"

    def __init__(self, *answers: str, fail_after: int | None = None) -> None:
        self.answers = list(answers)
        self.prompts: list[list[dict[str, str]]] = []
        self.fail_after = fail_after

    def stream(self, messages, max_tokens: int, stop=()):
        from rag.generation import GenerationError

        self.prompts.append([dict(m) for m in messages])
        text = self.answers.pop(0) if self.answers else ""
        pieces = [text[i:i + 4] for i in range(0, len(text), 4)]
        for i, piece in enumerate(pieces):
            if self.fail_after is not None and i >= self.fail_after:
                raise GenerationError("scripted backend died")
            yield piece
