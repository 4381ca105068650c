"""What every local embedder shares: the errors a user can meet, and the role prefixes over one `_embed`.

    class MyEmbedder(PrefixedEmbedder):
        def _embed(self, texts: list[str]) -> np.ndarray: ...      # (n, dimension) unit rows
        def token_ids(self, text: str, special_tokens: bool = False) -> list[int]: ...
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np

# query vectors of the last few questions: search embeds a question and evidence ranking
# (rag.relevance) asks for the same vector moments later, so one model pass is enough. Only a few:
# a benchmark that loops over its questions must keep measuring the model, not this memo
QUERY_MEMO = 4


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be loaded: the message names the setting to change."""


class EmbeddingServerError(EmbeddingModelError):
    """The embeddings server is down, slow, broken or serves other vectors: one line for the user."""


_MEMO_LOCK = threading.Lock()


class PrefixedEmbedder:
    """embed_passages / embed_queries / count_tokens of the embedder protocol (tests/fakes.py), with the
    e5 roles ("passage: ", "query: ") taken from the settings."""

    _settings: object  # an EmbeddingSettings

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._settings.passage_prefix + t for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if len(texts) != 1:
            return self._embed([self._settings.query_prefix + t for t in texts])
        with _MEMO_LOCK:
            memo = self.__dict__.setdefault("_query_memo", OrderedDict())
            found = memo.get(texts[0])
        if found is not None:
            return found[None, :].copy()
        vectors = self._embed([self._settings.query_prefix + texts[0]])
        with _MEMO_LOCK:
            memo[texts[0]] = vectors[0].copy()
            while len(memo) > QUERY_MEMO:
                memo.popitem(last=False)
        return vectors

    def count_tokens(self, text: str) -> int:
        return len(self.token_ids(text))

    def _embed(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def token_ids(self, text: str, special_tokens: bool = False) -> list[int]:
        raise NotImplementedError
