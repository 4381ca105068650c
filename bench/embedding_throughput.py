"""Embedder throughput on KLUE-length ingest chunks, every runtime side by side in one run.

    nice -n 10 python bench/embedding_throughput.py                    # 40 KLUE passages -> ~190 chunks, 3 rounds
    nice -n 10 python bench/embedding_throughput.py --articles 80 --rounds 5

Inputs are what ingest embeds: the first `--articles` passages of eval/datasets/klue_mrc_dev/corpus
(sorted by file name), read by rag.corpus, cut by rag.chunking.chunk_article (Kiwi sentences, <= 200
e5 tokens, one sentence overlap) and sent as "title\\ntext" like the pipeline does. Each round embeds
the same chunks with every contender, one after another, so the machine's load hits all alike; the
fp32 torch model (the sentence-transformers folder itself) is the reference for the cosines. Both
wall-clock and CPU-time rates are reported: on a shared 2-core machine the CPU-time rate is steadier.
Writes bench/results/embedding_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import EmbeddingSettings, apply_offline_env, load_settings  # noqa: E402

KLUE = ROOT / "eval" / "datasets" / "klue_mrc_dev"  # shipped with the project (CC BY-SA 4.0: its SOURCE.md)


def klue_chunks(corpus: Path, articles: int, count_tokens) -> list[str]:
    """Ingest's passages for the first `articles` KLUE files: chunked as rag.pipeline does."""
    from rag.chunking import chunk_article
    from rag.corpus import load_corpus
    from rag.korean import KoreanText

    load = load_corpus([corpus])
    chosen = sorted(load.articles, key=lambda a: a.doc_id)[:articles]
    korean = KoreanText()
    passages = []
    for article in chosen:
        for chunk in chunk_article(article, korean, count_tokens, max_tokens=200, overlap_sentences=1):
            passages.append(f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text)
    return passages


def questions(path: Path, n: int) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = [row["question"] for row in rows]
    return qs[:: max(1, len(qs) // n)][:n]


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    c = (np.asarray(a, np.float32) * np.asarray(b, np.float32)).sum(1)
    return {"min": round(float(c.min()), 5), "median": round(float(np.median(c)), 5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--corpus", type=Path, default=KLUE / "corpus")
    parser.add_argument("--only", default="", help="comma-separated contenders (default: all)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: settings paths.cache_dir")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/embedding_throughput.json")
    args = parser.parse_args()

    apply_offline_env()
    cache_dir = args.cache_dir or load_settings().paths.cache_dir
    from rag.embedding import load_embedder

    load_times, embedders = {}, {}
    variants = {
        "torch_int8": EmbeddingSettings(runtime="torch", quantize=True),
        "onnx_int8": EmbeddingSettings(runtime="onnx", quantize=True),
        "onnx_fp32": EmbeddingSettings(runtime="onnx", quantize=False),
        "torch_fp32": EmbeddingSettings(runtime="torch", quantize=False),
    }
    wanted = set(filter(None, args.only.split(","))) or set(variants)
    for name, settings in variants.items():
        if name in wanted or name == "torch_fp32":  # the reference is always loaded
            embedders[name], load_times[name], _ = timed(lambda s=settings: load_embedder(s, cache_dir))
    reference = embedders["torch_fp32"]
    passages = klue_chunks(args.corpus, args.articles, reference.count_tokens)
    tokens = [reference.count_tokens("passage: " + p) + 2 for p in passages]
    qs = questions(args.corpus.parent / "questions.jsonl", args.queries)
    print(f"{len(passages)} chunks of {args.articles} KLUE passages, mean {statistics.mean(tokens):.0f} tokens "
          f"(min {min(tokens)}, max {max(tokens)}); {len(qs)} queries; load {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores", flush=True)

    contenders = {name: e for name, e in embedders.items() if name in wanted}
    for e in contenders.values():  # warm-up: first calls allocate and spin up thread pools
        e.embed_passages(passages[:32])
    rates = {k: {"wall": [], "cpu": []} for k in contenders}
    vectors = {}
    load_start = os.getloadavg()[0]
    for r in range(args.rounds):
        for name, e in contenders.items():
            vectors[name], wall, cpu = timed(lambda: e.embed_passages(passages))
            rates[name]["wall"].append(len(passages) / wall)
            rates[name]["cpu"].append(len(passages) / cpu)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v['wall'][-1]:.2f}/s" for k, v in rates.items()), flush=True)
    if "torch_fp32" not in vectors:
        vectors["torch_fp32"] = reference.embed_passages(passages)

    latency = {name: [] for name in contenders}
    for q in qs:
        for name, e in contenders.items():
            latency[name].append(timed(lambda: e.embed_queries([q]))[1] * 1000)
    reference_queries = reference.embed_queries(qs)

    def median(xs: list[float]) -> float:
        return round(statistics.median(xs), 2)

    summary = {
        name: {
            "passages_per_s_wall": median(v["wall"]), "passages_per_s_cpu": median(v["cpu"]),
            "rounds_wall": [round(x, 2) for x in v["wall"]],
            "single_query_ms_p50": median(latency[name]),
            "load_s": round(load_times[name], 2),
            "cosine_to_torch_fp32_passages": cosines(vectors[name], vectors["torch_fp32"]),
            "cosine_to_torch_fp32_queries": cosines(contenders[name].embed_queries(qs), reference_queries),
        }
        for name, v in rates.items()
    }
    ratios = {}
    if "torch_int8" in rates:
        for name in rates:
            per_round = [a / b for a, b in zip(rates[name]["wall"], rates["torch_int8"]["wall"])]
            ratios[f"{name}_vs_torch_int8_wall_per_round_median"] = round(statistics.median(per_round), 2)
            ratios[f"{name}_vs_torch_int8_cpu"] = round(
                summary[name]["passages_per_s_cpu"] / summary["torch_int8"]["passages_per_s_cpu"], 2)
    result = {
        "what": "passages/s embedding the same KLUE ingest chunks, every runtime side by side",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python bench/embedding_throughput.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": _cpu_model(),
                    "load_avg_at_start": round(load_start, 2), "load_avg_at_end": round(os.getloadavg()[0], 2)},
        "chunks": len(passages), "articles": args.articles, "mean_tokens": round(statistics.mean(tokens), 1),
        "max_tokens": max(tokens), "rounds": args.rounds,
        "embedder_names": {name: e.name for name, e in contenders.items()},
        "throughput": summary,
        "ratios": ratios,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for name, v in summary.items():
        print(f"{name:11s} {v['passages_per_s_wall']:6.2f} chunks/s wall, {v['passages_per_s_cpu']:6.2f} per CPU-s, "
              f"query p50 {v['single_query_ms_p50']:.1f} ms, cosine to fp32 min "
              f"{v['cosine_to_torch_fp32_passages']['min']:.4f} / queries {v['cosine_to_torch_fp32_queries']['min']:.4f}, "
              f"load {v['load_s']:.1f} s")
    print(json.dumps(ratios))
    print(f"wrote {args.out}")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
