"""Calibration-only probe (issue 9): does e5 reading the question and the sentence *together* (one input,
attention across both) tell the answer sentence from its neighbours, where its separate vectors cannot
(`bench/ranker_interaction.py`)?

e5 is a bi-encoder: it was trained on one text at a time. Fed "<s> query: Q </s></s> passage: S </s>", the
sentence's tokens attend to the question's, and their final states may carry how the sentence stands to it.
Columns for each of a question's re-ranked few (the rows of `bench/ranker_interaction.py`, its cache):
- `joint`: the mean of the sentence part's final token states (384 values), as e5 pools, then unit length;
- `joint_cos`: the cosine of the question part's and the sentence part's pooled states in that one pass.
Both are read from the fp32 ONNX graph the project materializes (`data/cache/…-onnx/encoder-fp32.onnx`), with
the final hidden states added as an output here (nothing in rag/ changes).

Models, folds and top-1 as `bench/ranker_interaction.py` (conditional logit, the sixteen features lightly
regularized, the new columns at {1, 10, 100, 1000} x that; two folds by question, three seeds).

Rule, written before any number was read (the same bar as the separate vectors'): an end-to-end calibration run
only if one variant raises KLUE odd top-1 by at least 0.02 over the sixteen features alone AND lowers KorQuAD
1-70 top-1 by no more than 0.002.

    python bench/ranker_interaction.py            # rows first (writes its cache with the texts)
    python bench/ranker_joint.py [--reuse]                 # --reuse: the joint columns of the last run
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ranker_interaction as ri  # noqa: E402

JOINT_CACHE = ROOT / "data" / "fit" / "probe-joint-columns.npz"


def joint_session():
    """An onnxruntime session of the fp32 e5 graph that also outputs its final hidden states, and the encoder
    whose tables and tokenizer feed it."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    from rag.onnx_embedder import ENCODER_FILES, OnnxEncoder

    folder = next((ROOT / "data" / "cache").glob("multilingual-e5-small@*-onnx"), None)
    if folder is None:
        raise SystemExit("no ONNX e5 under data/cache/: run `python -m rag models` first")
    model = onnx.load(str(folder / ENCODER_FILES[False]))
    # the pooling multiplies the final states by the unsqueezed mask: that Mul's other input is what we want
    unsqueezed = {n.output[0] for n in model.graph.node if n.op_type == "Unsqueeze" and "mask" in n.input}
    final = next(i for n in model.graph.node if n.op_type == "Mul" and set(n.input) & unsqueezed
                 for i in n.input if i not in unsqueezed)
    model.graph.output.append(helper.make_tensor_value_info(final, TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session, final, OnnxEncoder(folder, quantize=False)


def joint_columns(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    session, final, encoder = joint_session()
    qtext, stext = data["qtext"], data["stext"]
    out = np.zeros((len(qtext), encoder.dimension), np.float32)
    cos = np.zeros(len(qtext), np.float32)
    q_ids: dict[str, list[int]] = {}
    start = 0
    n = len(qtext)
    while start < n:  # one question's rows at a time: one padded batch
        end = start
        while end < n and qtext[end] == qtext[start] and data["groups"][end] == data["groups"][start]:
            end += 1
        q = str(qtext[start])
        if q not in q_ids:
            q_ids[q] = encoder.content_ids([f"query: {q}"])[0][:64]
        s_ids = encoder.content_ids([f"passage: {s}" for s in stext[start:end]])
        rows = [[encoder.bos, *q_ids[q], encoder.eos, encoder.eos, *s[:190], encoder.eos] for s in s_ids]
        longest = max(len(r) for r in rows)
        tokens = np.asarray([r + [encoder.eos] * (longest - len(r)) for r in rows])
        mask = np.asarray([[1.0] * len(r) + [0.0] * (longest - len(r)) for r in rows], np.float32)
        hidden = (encoder.words[tokens] + encoder.positions[:longest]).astype(np.float32)
        states = session.run([final], {"hidden": hidden, "mask": mask})[0]
        a = len(q_ids[q]) + 2  # <s> question </s>
        for k, r in enumerate(rows):
            qpart = states[k, 1:a - 1].mean(0)
            spart = states[k, a + 1:len(r) - 1].mean(0)
            qpart /= np.linalg.norm(qpart) + 1e-9
            spart /= np.linalg.norm(spart) + 1e-9
            out[start + k] = spart
            cos[start + k] = float(qpart @ spart)
        start = end
    return out, cos


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reuse", action="store_true", help="reuse the joint columns computed before")
    args = p.parse_args()
    data = dict(np.load(ri.CACHE))
    if "qtext" not in data:
        raise SystemExit("the rows cache has no texts: run python bench/ranker_interaction.py first")
    if args.reuse and JOINT_CACHE.is_file():
        saved = np.load(JOINT_CACHE)
        joint, cos = saved["joint"], saved["cos"]
    else:
        joint, cos = joint_columns(data)
        np.savez(JOINT_CACHE, joint=joint, cos=cos)
    base = data["features"]
    variants = [("sixteen features", base), ("+ joint_cos", np.column_stack([base, cos])),
                ("+ joint", np.column_stack([base, joint])), ("+ joint + joint_cos", np.column_stack([base, joint, cos]))]
    print("| variant | new columns' L2 | " + " | ".join(f"{s} top-1" for s in ri.SETS) + " |")
    print("|---|---:|" + "---:|" * len(ri.SETS))
    for label, x in variants:
        for l2 in ((1.0,) if x.shape[1] <= base.shape[1] + 1 else (1.0, 10.0, 100.0, 1000.0)):
            result = ri.cv_top1(x, data, l2)
            print(f"| {label} | {l2:g} | " + " | ".join(f"{result[s]:.4f}" for s in ri.SETS) + " |", flush=True)


if __name__ == "__main__":
    main()
