"""The hand-written e5 graph's parts on tiny graphs through the real ONNX Runtime (no model needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.e5_graph import MS, OPSET, Fp32Linear, GraphBuilder, Int8Linear
from rag.outliers import outlier_channels, smoothing_factors


def _save(g: GraphBuilder, path: Path, inputs: dict[str, int], output: str) -> Path:
    from onnx import TensorProto, helper, save

    g.nodes.append(helper.make_node("Identity", [output], ["y"]))
    graph = helper.make_graph(
        g.nodes, "t", [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", "tokens", d]) for n, d in inputs.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)])
    model.ir_version = 8
    save(model, str(path))
    return path


def _linear(linear, weight: np.ndarray, bias: np.ndarray, x: np.ndarray, path: Path) -> np.ndarray:
    from rag.onnx_embedder import open_session

    g = GraphBuilder()
    out = linear(g, "fo", "x", weight, bias)
    return open_session(_save(g, path, {"x": x.shape[-1]}, out)).run(["y"], {"x": x})[0]


def test_smoothing_keeps_an_int8_linear_with_an_outlier_channel_close_to_fp32(tmp_path) -> None:
    # e5's FFN output projection: one input channel at ~40 while the rest stay under ~4 crushes the
    # others to a few int8 levels under one activation scale; smoothing divides it down, weights up
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (8, 32, 96)).astype(np.float32)  # 8 texts of 32 tokens
    x[..., 7] *= 40.0
    weight = rng.normal(0, 0.05, (48, 96)).astype(np.float32)
    bias = rng.normal(0, 0.1, 48).astype(np.float32)
    absmax = {"fo": np.abs(x).reshape(-1, 96).max(axis=0)}
    outliers, keep = outlier_channels(absmax)
    assert outliers["fo"].tolist() == [7] and not keep
    factors = smoothing_factors(absmax, outliers)
    assert factors["fo"][7] > 20 and np.all(np.delete(factors["fo"], 7) == 1.0)

    exact = _linear(Fp32Linear(), weight, bias, x, tmp_path / "fp32.onnx")
    plain = _linear(Int8Linear(), weight, bias, x, tmp_path / "plain.onnx")
    smooth = _linear(Int8Linear(factors), weight, bias, x, tmp_path / "smooth.onnx")
    error = {name: float(np.abs(y - exact).mean()) for name, y in (("plain", plain), ("smooth", smooth))}
    assert error["smooth"] < 0.5 * error["plain"], error


def test_smoothing_factors_leave_a_linear_without_outliers_alone() -> None:
    absmax = {"ao": np.array([1.0, 2.0, 3.0]), "fo": np.array([2.0, 40.0, 4.0])}
    outliers, _ = outlier_channels(absmax)
    factors = smoothing_factors(absmax, outliers)
    assert set(factors) == {"fo"} and factors["fo"].tolist() == [1.0, 10.0, 1.0]


def test_a_linear_with_more_outlier_channels_than_the_limit_stays_fp32() -> None:
    from rag.outliers import MAX_OUTLIERS, OUTLIER_THRESHOLD

    def peaks(outliers: int) -> np.ndarray:
        return np.array([OUTLIER_THRESHOLD * 4] * outliers + [1.0] * 16)

    split, keep = outlier_channels({"at": peaks(MAX_OUTLIERS), "over": peaks(MAX_OUTLIERS + 1)})
    assert keep == {"over"} and set(split) == {"at"} and split["at"].tolist() == list(range(MAX_OUTLIERS))


def test_sessions_keep_add_and_layer_norm_apart(tmp_path) -> None:
    # ORT would fuse them into SkipLayerNormalization, 5x slower on this CPU than the pair
    import onnx

    from rag.onnx_embedder import open_session

    g = GraphBuilder()
    total = g.op("Add", ["x", "r"])
    out = g.op("LayerNormalization", [total, g.const("w", np.ones(8, np.float32)), g.const("b", np.zeros(8, np.float32))],
               axis=-1, epsilon=1e-12)
    path = _save(g, tmp_path / "norm.onnx", {"x": 8, "r": 8}, out)
    open_session(path, save_optimized=tmp_path / "run.onnx")
    ops = {node.op_type for node in onnx.load(str(tmp_path / "run.onnx")).graph.node}
    assert "SkipLayerNormalization" not in ops and "LayerNormalization" in ops
