from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rag.gguf import INSTALL_HINT, PACKAGED_MODELS, ModelNotFoundError, PackagedModel, assemble, resolve_model, sha256_of


def install_fake_parts(site: Path, prefix: str, blobs: list[bytes]) -> None:
    """A minimal installed distribution per part, as pip leaves it: dist-info + RECORD + data file."""
    for i, blob in enumerate(blobs, start=1):
        package = f"{prefix.replace('-', '_')}{i}"
        data = site / package / "data" / f"part{i:02d}.bin"
        data.parent.mkdir(parents=True)
        data.write_bytes(blob)
        info = site / f"{package}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {prefix}{i}\nVersion: 1.0\n")
        (info / "RECORD").write_text(f"{package}/data/part{i:02d}.bin,,\n{package}-1.0.dist-info/METADATA,,\n")


def spec(blobs: list[bytes], sha: str | None = None, prefix: str = "fakegguf-part") -> PackagedModel:
    digest = sha or hashlib.sha256(b"".join(blobs)).hexdigest()
    return PackagedModel(name="fake", file_name="fake.gguf", package_prefix=prefix, version="1.0",
                         parts=len(blobs), sha256=digest, size=sum(map(len, blobs)))


BLOBS = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]


def test_parts_are_assembled_in_order_and_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_parts(tmp_path / "site", "fakegguf-part", BLOBS)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    path = assemble(spec(BLOBS), tmp_path / "cache")
    assert path.read_bytes() == b"".join(BLOBS)
    assert path.parent == tmp_path / "cache" / "models"
    # a second call reuses the verified file instead of rewriting it
    mtime = path.stat().st_mtime_ns
    assert assemble(spec(BLOBS), tmp_path / "cache") == path and path.stat().st_mtime_ns == mtime


def test_a_wrong_checksum_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_parts(tmp_path / "site", "fakegguf-part", BLOBS)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(ModelNotFoundError, match="sha256"):
        assemble(spec(BLOBS, sha="0" * 64), tmp_path / "cache")
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_a_changed_file_is_reassembled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_parts(tmp_path / "site", "fakegguf-part", BLOBS)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    path = assemble(spec(BLOBS), tmp_path / "cache")
    path.write_bytes(b"truncated")
    assert assemble(spec(BLOBS), tmp_path / "cache").read_bytes() == b"".join(BLOBS)


def test_a_missing_part_package_names_the_install_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_parts(tmp_path / "site", "fakegguf-part", BLOBS[:2])
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(ModelNotFoundError) as error:
        assemble(spec(BLOBS), tmp_path / "cache")
    assert "fakegguf-part3" in str(error.value) and INSTALL_HINT in str(error.value)
    assert "\n" not in str(error.value)


def test_resolve_model_accepts_a_gguf_path_and_rejects_unknown_names(tmp_path: Path) -> None:
    gguf = tmp_path / "any.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model(str(gguf), tmp_path) == gguf
    with pytest.raises(ModelNotFoundError, match="not found"):
        resolve_model(str(tmp_path / "missing.gguf"), tmp_path)
    with pytest.raises(ModelNotFoundError, match="qwen2.5-coder-1.5b"):
        resolve_model("gpt-5", tmp_path)


def test_packaged_models_are_pinned() -> None:
    assert set(PACKAGED_MODELS) == {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"}
    for model in PACKAGED_MODELS.values():
        assert len(model.sha256) == 64 and model.size > 100_000_000


@pytest.mark.slow
def test_the_small_packaged_model_assembles_to_its_pinned_checksum(tmp_path: Path) -> None:
    model = PACKAGED_MODELS["qwen2.5-coder-0.5b"]
    path = resolve_model(model.name, tmp_path)
    assert path.stat().st_size == model.size
    assert sha256_of(path) == model.sha256
    assert path.read_bytes()[:4] == b"GGUF"
