"""What every local embedder shares: the errors a user can meet, and the role prefixes over one `_embed`.

    class MyEmbedder(PrefixedEmbedder):
        def _embed(self, texts: list[str]) -> np.ndarray: ...      # (n, dimension) unit rows
        def token_ids(self, text: str, special_tokens: bool = False) -> list[int]: ...
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be loaded: the message names the setting to change."""


class EmbeddingServerError(EmbeddingModelError):
    """The embeddings server is down, slow, broken or serves other vectors: one line for the user."""


class PrefixedEmbedder:
    """embed_passages / embed_queries / count_tokens of the embedder protocol (tests/fakes.py), with the
    e5 roles ("passage: ", "query: ") taken from the settings."""

    _settings: object  # an EmbeddingSettings

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._settings.passage_prefix + t for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._settings.query_prefix + t for t in texts])

    def count_tokens(self, text: str) -> int:
        return len(self.token_ids(text))

    def _embed(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def token_ids(self, text: str, special_tokens: bool = False) -> list[int]:
        raise NotImplementedError
