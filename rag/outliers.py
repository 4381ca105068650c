"""Which input channels of a Linear stay in fp32 when the rest is int8 (shared by torch and ONNX).

int8 dynamic quantization uses one activation scale per call. In e5 the FFN output projection sees a
few input channels at |x| ~ 30-50 while the rest stay under ~5, so those channels would crush every
other value to a few int8 levels (cosine 0.96 vs fp32). A tiny calibration pass finds them; they are
computed in fp32 beside the int8 product (the torch path, cosine >= 0.99 measured) or scaled down
to the other channels' range with the weight columns scaled up to match (the ONNX path).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

# Calibration text for the int8 paths: a few Korean/English sentences like the corpus.
CALIBRATION_TEXTS = (
    "passage: 삼성전자는 2차 협력사까지 대금 지급 기간을 단축하고 동반성장 펀드 1,030억 원을 조성한다고 밝혔다.",
    "passage: LGU+는 U+커넥트 서비스를 중소 협력사와 함께 개발했으며, 상생협력 협약에 따라 기술 지원을 확대한다.",
    "passage: The company signed a win-win cooperation agreement with 120 small suppliers on Tuesday.",
    "query: 대기업과 중소기업의 상생협력 사례는?",
    "query: how much did the fund grow?",
)
OUTLIER_THRESHOLD = 6.0  # |activation| above this marks an input channel as an outlier (as LLM.int8())
MAX_OUTLIERS = 8  # per Linear: more than this and the layer simply stays fp32


def outlier_channels(absmax: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], set[str]]:
    """Per Linear (by name) its outlier input channels, and the Linears with too many to split.

    `absmax[name]` is the largest |input| seen per input channel during calibration.
    """
    split: dict[str, np.ndarray] = {}
    keep_fp32: set[str] = set()
    for name, peak in absmax.items():
        channels = np.flatnonzero(np.asarray(peak) > OUTLIER_THRESHOLD)
        if len(channels) > MAX_OUTLIERS:
            keep_fp32.add(name)
        elif len(channels):
            split[name] = channels
    return split, keep_fp32


def smoothing_factors(absmax: Mapping[str, np.ndarray], outliers: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per Linear with outliers, a divisor per input channel: 1 for ordinary channels, and for an
    outlier channel its peak over the largest peak of the ordinary ones, so that after the division
    no channel exceeds the ordinary range and one int8 scale fits them all.

    >>> smoothing_factors({"fo": np.array([2.0, 40.0, 4.0])}, {"fo": np.array([1])})["fo"].tolist()
    [1.0, 10.0, 1.0]
    """
    factors: dict[str, np.ndarray] = {}
    for name, channels in outliers.items():
        peak = np.asarray(absmax[name], dtype=np.float64)
        ordinary = np.delete(peak, channels)
        ceiling = float(ordinary.max()) if len(ordinary) else 1.0
        f = np.ones(len(peak), dtype=np.float32)
        f[channels] = np.maximum(peak[channels] / max(ceiling, 1e-6), 1.0)
        factors[name] = f
    return factors
