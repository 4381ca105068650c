"""The e5 encoder as an ONNX graph, written node by node from its weights (no exporter, no torch).

    graph = encoder_graph(weights, config, linear=Fp32Linear())          # the reference
    graph = encoder_graph(weights, config, linear=Int8Linear(outliers))  # what ingest runs

Input `hidden` is the summed token + position + type embeddings (the 250k-row word table stays a
memory-mapped array outside the graph, see rag/onnx_embedder.py), input `mask` is 1.0 for real tokens
and 0.0 for padding; output `embedding` is the L2-normalized mean of the last layer over real tokens,
exactly what the sentence-transformers folder (Transformer, mean Pooling, Normalize) computes.
Every Linear goes through a `linear` strategy, so fp32 and int8 share one graph description.

Op choices measured on ingest batches (20 chunks x 200 tokens, one thread, ORT 1.32, Intel Xeon with
AVX-512 VNNI): the int8 products themselves are only ~25% of the time; the rest was fp32 attention,
SkipLayerNormalization (5x slower here than Add + LayerNormalization on the same tensor) and the
outlier side products. See bench/results/forward_pass.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

OPSET = 17  # LayerNormalization is a standard op from 17 on
MS = "com.microsoft"  # ORT's CPU contrib ops: MultiHeadAttention, Gelu, DynamicQuantizeMatMul
# ORT fuses Add + LayerNormalization into SkipLayerNormalization, whose CPU kernel is slower than the two
# (see above): sessions of these graphs are created with this fusion disabled (rag/onnx_embedder.py)
UNFUSED = ("SkipLayerNormFusion",)


@dataclass
class GraphBuilder:
    """Nodes and initializers of one graph, with generated unique names."""

    nodes: list = field(default_factory=list)
    initializers: list = field(default_factory=list)
    _count: int = 0

    def const(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], domain: str = "", outputs: int = 1, **attrs) -> str | list[str]:
        from onnx import helper

        self._count += 1
        names = [f"{op_type}_{self._count}" + (f"_{i}" if outputs > 1 else "") for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=f"n{self._count}", domain=domain, **attrs))
        return names if outputs > 1 else names[0]


class Fp32Linear:
    """y = x W^T + b in fp32 (the reference every other strategy is checked against)."""

    def __call__(self, g: GraphBuilder, name: str, x: str, weight: np.ndarray, bias: np.ndarray) -> str:
        y = g.op("MatMul", [x, g.const(name + ".w", weight.T.astype(np.float32))])
        return g.op("Add", [y, g.const(name + ".b", bias.astype(np.float32))])


@dataclass
class Int8Linear:
    """Int8 weights (one scale per output column) and int8 activations quantized per call by ORT.

    Weights use 7 bits ([-63, 63]): without VNNI, ORT's AVX2 kernel multiplies u8 x s8 pairs into int16
    with saturation, which 7-bit weights cannot reach. A few input channels of some Linears reach
    tens while the rest stay under ~5 (LayerNorm outputs, the FFN output projection): one per-tensor
    activation scale would crush every other channel. `smoothing[name]` divides each input channel
    by a factor and multiplies the weight column by it (x W^T is unchanged; SmoothQuant), bringing
    those channels down to the others' range (rag/outliers.py chooses the factors). That costs one
    Mul on the input; splitting the channels into an fp32 product beside the int8 one (the torch
    path, rag/int8.py) cost a Gather, a MatMul and an Add of the whole output: 21% of the time.
    """

    smoothing: dict[str, np.ndarray] = field(default_factory=dict)
    keep_fp32: set[str] = field(default_factory=set)  # Linears with too many outliers to smooth

    def __call__(self, g: GraphBuilder, name: str, x: str, weight: np.ndarray, bias: np.ndarray) -> str:
        if name in self.keep_fp32:
            return Fp32Linear()(g, name, x, weight, bias)
        weight = weight.astype(np.float32)
        if name in self.smoothing:
            factors = np.asarray(self.smoothing[name], dtype=np.float32)
            x = g.op("Mul", [x, g.const(name + ".smooth", (1.0 / factors).astype(np.float32))])
            weight = weight * factors[None, :]
        scale = np.maximum(np.abs(weight).max(axis=1), 1e-12) / 63.0
        q = np.clip(np.rint(weight / scale[:, None]), -63, 63).astype(np.int8)
        return g.op("DynamicQuantizeMatMul", [
            x, g.const(name + ".qw", q.T.copy()), g.const(name + ".scale", scale.astype(np.float32)),
            g.const(name + ".zp", np.zeros(len(scale), dtype=np.int8)), g.const(name + ".b", bias.astype(np.float32)),
        ], domain=MS)


def encoder_graph(weights: dict[str, np.ndarray], config: dict, linear, tap_linear_inputs: bool = False):
    """The ONNX ModelProto of the encoder; `tap_linear_inputs` also outputs every Linear's input
    (named after the Linear) so a calibration pass can read activation ranges."""
    from onnx import TensorProto, helper

    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    eps = float(config["layer_norm_eps"])
    head_dim = hidden // heads
    g = GraphBuilder()
    taps: list[str] = []

    def lin(name: str, x: str, w: np.ndarray, b: np.ndarray) -> str:
        if tap_linear_inputs:  # an Identity whose output carries the Linear's name
            g.op("Identity", [x])
            g.nodes[-1].output[0] = name
            taps.append(name)
        return linear(g, name, x, w, b)

    def w(key: str) -> np.ndarray:
        return np.asarray(weights[key], dtype=np.float32)

    def add_norm(y: str, residual: str, name: str, key: str) -> str:
        # Add + LayerNormalization, not SkipLayerNormalization: see UNFUSED
        norm_w, norm_b = g.const(name + ".w", w(key + ".weight")), g.const(name + ".b", w(key + ".bias"))
        return g.op("LayerNormalization", [g.op("Add", [y, residual]), norm_w, norm_b], axis=-1, epsilon=eps)

    key_padding = g.op("Cast", ["mask"], to=6)  # int32 1/0 per key: padding keys get no attention
    x = g.op("LayerNormalization", ["hidden", g.const("emb.ln.w", w("embeddings.LayerNorm.weight")),
                                    g.const("emb.ln.b", w("embeddings.LayerNorm.bias"))], axis=-1, epsilon=eps)
    thirds = g.const("thirds", np.array([hidden] * 3, dtype=np.int64))
    scale = 1.0 / math.sqrt(head_dim)
    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}."
        # one fused Q|K|V product; the attention scale is folded into Q's weights
        qkv_w = np.concatenate([w(p + "attention.self.query.weight") * scale, w(p + "attention.self.key.weight"),
                                w(p + "attention.self.value.weight")])
        qkv_b = np.concatenate([w(p + "attention.self.query.bias") * scale, w(p + "attention.self.key.bias"),
                                w(p + "attention.self.value.bias")])
        qkv = lin(f"l{layer}.qkv", x, qkv_w, qkv_b)
        q, k, v = g.op("Split", [qkv, thirds], outputs=3, axis=-1)
        # ORT's fused kernel: 7% less CPU time than MatMul/Add/Softmax/Transpose ops at 200 tokens (no
        # [batch, heads, tokens, tokens] bias add, no head transposes); its packed-QKV input is not
        # implemented on CPU, and three separate int8 products instead of the Split measured no faster
        context = g.op("MultiHeadAttention", [q, k, v, "", key_padding], domain=MS, num_heads=heads, scale=1.0)
        attn = lin(f"l{layer}.ao", context, w(p + "attention.output.dense.weight"), w(p + "attention.output.dense.bias"))
        x = add_norm(attn, x, p + "aln", p + "attention.output.LayerNorm")
        inner = g.op("Gelu", [lin(f"l{layer}.fi", x, w(p + "intermediate.dense.weight"), w(p + "intermediate.dense.bias"))],
                     domain=MS)
        out = lin(f"l{layer}.fo", inner, w(p + "output.dense.weight"), w(p + "output.dense.bias"))
        x = add_norm(out, x, p + "oln", p + "output.LayerNorm")
    # mean over real tokens, then unit length (sentence-transformers' Pooling + Normalize)
    mask3 = g.op("Unsqueeze", ["mask", g.const("axis_2", np.array([2], dtype=np.int64))])
    axis1 = g.const("axis_1", np.array([1], dtype=np.int64))
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask3]), axis1], keepdims=0)
    counts = g.op("ReduceSum", ["mask", axis1], keepdims=1)
    pooled = g.op("Div", [summed, g.op("Max", [counts, g.const("tiny", np.float32(1e-9))])])
    g.nodes.append(helper.make_node("LpNormalization", [pooled], ["embedding"], name="normalize", axis=-1, p=2))

    batch_time = ["batch", "tokens"]
    inputs = [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, batch_time + [hidden]),
              helper.make_tensor_value_info("mask", TensorProto.FLOAT, batch_time)]
    outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])]
    outputs += [helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in taps]
    graph = helper.make_graph(g.nodes, "multilingual-e5-small", inputs, outputs, g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)],
                              producer_name="sangsaeng-qa")
    model.ir_version = 8  # understood by every onnxruntime since 1.10
    return model
