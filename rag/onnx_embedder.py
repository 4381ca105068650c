"""multilingual-e5-small on ONNX Runtime: tokenizers + onnxruntime + numpy, no torch.

    folder = materialize_e5_onnx(cache_dir)                     # rag/e5_onnx.py, built once
    embedder = OnnxEmbedder(OnnxEncoder(folder, quantize=True), name, settings)
    embedder.embed_passages(["LGU+는 ..."])                     # (n, 384) float32, unit rows

The 250k x 384 word table is a memory-mapped .npy beside the graph: a Korean corpus touches a small
share of its rows, so the process maps 384 MB but keeps only those pages resident, and every process
on the machine shares them through the page cache. The graph gets the summed embeddings.

Cores are used one batch each (data parallel), not by splitting every operator across threads: each
forward pass runs single-threaded, and `workers` batches run at once (ORT releases the GIL). On 2 cores
it measured 5.5-6.2 chunks per CPU-second against 5.0-5.5 for ORT's own 2-thread operator pool (KLUE
chunks, machine load ~8), and it never waits for a busy second core at every operator; a query is
one batch on the caller's thread.

A small call (the e5 re-ranking of ~8 evidence sentences, 25-150 tokens each) is not cut into batches:
a batch pads to its longest text, and cutting by length put the longest four sentences in one batch,
which the other core finished long before. Each text runs alone (no padding; ORT's per-call overhead
is well under a millisecond), the texts spread over the workers so that each gets about the same number
of tokens (`balance`). A text's vector then no longer depends on which texts share its call (int8
activation scales are per batch), so a memoized sentence vector is the one a fresh call would give.
"""

from __future__ import annotations

import heapq
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import numpy as np

from rag.config import EmbeddingSettings
from rag.e5_graph import UNFUSED
from rag.embedder_base import PrefixedEmbedder

ENCODER_FILES = {False: "encoder-fp32.onnx", True: "encoder-int8.onnx"}
WORD_TABLE = "word_embeddings.npy"
POSITION_TABLE = "positions.npy"  # position rows with token type 0 already added
# tokens per forward pass (texts x padded length): amortizes per-call overhead, bounds attention scratch
TOKEN_BUDGET = 4096
# a call of at most this many tokens in all runs each text alone, balanced over the workers (see above)
SMALL_CALL_TOKENS = 1024


T = TypeVar("T")
R = TypeVar("R")


def balance(lengths: Sequence[int], bins: int) -> list[list[int]]:
    """Indices of `lengths` in at most `bins` non-empty groups of about equal sum: longest first, each
    to the group with the least so far (within 4/3 of the best split; exact enough for ~8 texts)."""
    heap = [(0, b) for b in range(max(1, min(bins, len(lengths))))]
    groups: list[list[int]] = [[] for _ in heap]
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        total, b = heapq.heappop(heap)
        groups[b].append(i)
        heapq.heappush(heap, (total + lengths[i], b))
    return [g for g in groups if g]


def open_session(graph: Path, save_optimized: Path | None = None):
    """An ORT session for one of rag/e5_graph.py's graphs, single-threaded (see the module docstring);
    `save_optimized` writes the graph ORT actually runs, after its fusions."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one core per forward pass
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if save_optimized is not None:
        options.optimized_model_filepath = str(save_optimized)
    return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=list(UNFUSED))  # see rag/e5_graph.py


class OnnxEncoder:
    """One loaded graph + tokenizer + embedding tables; shared by every embedder built on it."""

    def __init__(self, folder: Path, quantize: bool, workers: int = 0) -> None:
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.quantize = quantize
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.bos = self.tokenizer.token_to_id("<s>")
        self.eos = self.tokenizer.token_to_id("</s>")
        self.pad = self.tokenizer.token_to_id("<pad>")
        self.words = np.load(self.folder / WORD_TABLE, mmap_mode="r")
        self.positions = np.load(self.folder / POSITION_TABLE)
        self.workers = workers if workers > 0 else min(os.cpu_count() or 1, 8)
        self.session = open_session(self.folder / ENCODER_FILES[quantize])
        self.dimension = int(self.words.shape[1])
        self.max_positions = int(self.positions.shape[0])
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """`fn` over `items` on the workers' threads (one long-lived pool: starting two threads for
        every query-time call cost ~5 ms)."""
        if len(items) <= 1 or self.workers == 1:
            return [fn(x) for x in items]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="e5-onnx")
            pool = self._pool
        return list(pool.map(fn, items))

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids without <s> </s>, untruncated."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def run(self, ids: list[list[int]]) -> np.ndarray:
        """Unit vectors for id lists that already hold <s> ... </s> (one forward pass, padded)."""
        longest = max(len(x) for x in ids)
        tokens = np.full((len(ids), longest), self.pad, dtype=np.int64)
        mask = np.zeros((len(ids), longest), dtype=np.float32)
        for row, x in enumerate(ids):
            tokens[row, : len(x)] = x
            mask[row, : len(x)] = 1.0
        hidden = self.words[tokens] + self.positions[:longest]
        return self.session.run(["embedding"], {"hidden": hidden, "mask": mask})[0]


class OnnxEmbedder(PrefixedEmbedder):
    """The embedder protocol (see tests/fakes.py) over an `OnnxEncoder`."""

    def __init__(self, encoder: OnnxEncoder, name: str, settings: EmbeddingSettings) -> None:
        self._encoder = encoder
        self._settings = settings
        self.name = name
        self.folder = encoder.folder
        self.dimension = encoder.dimension
        self.max_tokens = min(settings.max_tokens, encoder.max_positions)

    def with_settings(self, settings: EmbeddingSettings) -> "OnnxEmbedder":
        """Another embedder over the same loaded graph (other prefixes), no reload."""
        return OnnxEmbedder(self._encoder, self.name, settings)

    def token_ids(self, text: str, special_tokens: bool = False) -> list[int]:
        """The model tokenizer's ids for `text` as given (no prefix, no truncation)."""
        ids = self._encoder.content_ids([text])[0]
        return [self._encoder.bos, *ids, self._encoder.eos] if special_tokens else ids

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest start of `text` holding at most `max_tokens` tokens (no specials)."""
        encoding = self._encoder.tokenizer.encode(text, add_special_tokens=False)
        return text if len(encoding.ids) <= max_tokens else text[: encoding.offsets[max_tokens - 1][1]]

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        enc = self._encoder
        # as transformers' truncation: the content is cut, <s> and </s> always stay
        ids = [[enc.bos, *x[: self.max_tokens - 2], enc.eos] for x in enc.content_ids(texts)]
        if sum(len(x) for x in ids) <= SMALL_CALL_TOKENS:
            groups = balance([len(x) for x in ids], enc.workers)
            for group, vectors in zip(groups, enc.map(lambda g: [enc.run([ids[i]])[0] for i in g], groups)):
                for i, vector in zip(group, vectors):
                    out[i] = vector
            return out
        # longest first: a batch pads to its longest text, so similar lengths waste the least work
        order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))
        # at least one batch per worker, so a small call still uses every core
        most = max(1, min(self._settings.batch_size * 4, math.ceil(len(texts) / enc.workers)))
        batches, start = [], 0
        while start < len(order):
            size = max(1, min(most, TOKEN_BUDGET // len(ids[order[start]])))
            batches.append(order[start : start + size])
            start += size
        results = enc.map(lambda b: enc.run([ids[i] for i in b]), batches)
        for batch, vectors in zip(batches, results):
            out[batch] = vectors
        return out
