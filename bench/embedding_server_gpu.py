"""The embeddings-server route on a real GPU: llama.cpp's `llama-server` (CUDA) serving the packaged e5 as GGUF.

    python bench/embedding_server_gpu.py prep  OUT_DIR            # here: the passages ingest would send
    python bench/embedding_server_gpu.py client URL IN_DIR OUT_DIR  # on the GPU box (stdlib + numpy only)
    python bench/embedding_server_gpu.py compare IN_DIR GPU_DIR     # here: server vs local vectors

`prep` chunks the KLUE dev passages shipped with the project exactly as ingest does (the chunker, the
title line, the local token cut) and writes the request texts — `rag.embedding_server.CHECK_TEXTS` first,
then every passage, each with the "passage: " prefix — to `texts.json`. `client` posts them to the server's
`/v1/embeddings` in batches of 64 (the ingest default, one request at a time, as `ServerEmbedder` does)
and then again with 8 requests in flight, timing both, and writes `vectors.npy` and `timings.json`.
`compare` embeds the same texts with the local model on this CPU and prints the cosine of each server
vector with the local one (the server check accepts a server whose worst cosine on CHECK_TEXTS is
>= 0.99) and the throughput of both; it writes bench/results/embedding_server_gpu.json.
`bench/embedding_server_gpu.sh` is the command run on the GPU box (it builds `llama-server` with CUDA
from the llama.cpp sources vendored in llama-cpp-python's sdist).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KLUE = ROOT / "eval" / "datasets" / "klue_mrc_dev" / "corpus"  # shipped with the project (CC BY-SA 4.0)
BATCH = 64


def prep(out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from rag.chunking import chunk_article
    from rag.config import apply_offline_env, load_settings
    from rag.corpus import load_corpus
    from rag.embedding_server import CHECK_TEXTS
    from rag.ingest import Ingester
    from rag.pipeline import Pipeline

    apply_offline_env()
    settings = load_settings(None)
    pipe = Pipeline(settings)
    embedder, korean = pipe.embedder, pipe.korean
    conf = settings.chunking
    passage_text = Ingester(settings, pipe).passage_text  # the text ingest embeds (title line included)
    texts = list(CHECK_TEXTS)
    for article in load_corpus([KLUE]).articles:
        for chunk in chunk_article(article, korean, embedder.count_tokens, conf.max_tokens, conf.overlap_sentences):
            texts.append(passage_text(chunk))
    prefix = settings.embedding.passage_prefix
    sent = [prefix + embedder.truncate(t, embedder.max_tokens - 2) for t in texts]
    out.mkdir(parents=True, exist_ok=True)
    (out / "texts.json").write_text(json.dumps({"check": len(CHECK_TEXTS), "texts": sent}, ensure_ascii=False))
    print(f"{len(sent)} texts ({len(CHECK_TEXTS)} check texts) -> {out / 'texts.json'}")


def _post(url: str, texts: list[str]) -> list[list[float]]:
    import urllib.request

    body = json.dumps({"model": "e5", "input": texts}).encode("utf-8")
    request = urllib.request.Request(url.rstrip("/") + "/embeddings", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        data = json.loads(response.read())["data"]
    return [row["embedding"] for row in sorted(data, key=lambda r: r["index"])]


def client(url: str, src: Path, out: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    texts = json.loads((src / "texts.json").read_text())["texts"]
    batches = [texts[i:i + BATCH] for i in range(0, len(texts), BATCH)]
    _post(url, texts[:BATCH])  # warm-up
    timings = {}
    started = time.perf_counter()
    vectors = [v for batch in batches for v in _post(url, batch)]
    timings["sequential_s"] = time.perf_counter() - started
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        again = [v for part in pool.map(lambda b: _post(url, b), batches) for v in part]
    timings["in_flight_8_s"] = time.perf_counter() - started
    first, second = np.asarray(vectors, dtype=np.float32), np.asarray(again, dtype=np.float32)
    timings["texts"] = len(texts)
    timings["batch"] = BATCH
    timings["max_abs_diff_between_runs"] = float(np.abs(first - second).max())
    timings["norms"] = [float(np.linalg.norm(first, axis=1).min()), float(np.linalg.norm(first, axis=1).max())]
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "vectors.npy", first)
    (out / "timings.json").write_text(json.dumps(timings, indent=2))
    print(json.dumps(timings, indent=2))


def compare(src: Path, gpu: Path) -> None:
    import os

    import numpy as np

    sys.path.insert(0, str(ROOT))
    from rag.config import apply_offline_env, load_settings
    from rag.pipeline import Pipeline

    apply_offline_env()
    settings = load_settings(None)
    data = json.loads((src / "texts.json").read_text())
    texts, n_check = data["texts"], data["check"]
    prefix = settings.embedding.passage_prefix
    embedder = Pipeline(settings).embedder
    embedder.embed_passages([t[len(prefix):] for t in texts[:8]])  # warm-up
    started = time.perf_counter()
    ours = np.asarray(embedder.embed_passages([t[len(prefix):] for t in texts]), dtype=np.float32)
    local_s = time.perf_counter() - started
    theirs = np.load(gpu / "vectors.npy")
    theirs = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    cosines = (theirs * ours).sum(axis=1)
    timings = json.loads((gpu / "timings.json").read_text())
    result = {
        "texts": len(texts),
        "check_min_cosine": round(float(cosines[:n_check].min()), 5),
        "passages_cosine": {"min": round(float(cosines.min()), 5), "p01": round(float(np.quantile(cosines, 0.01)), 5),
                            "median": round(float(np.median(cosines)), 5)},
        "below_0_99": int((cosines < 0.99).sum()),
        "gpu_server": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in timings.items()},
        "gpu_passages_per_s": {"sequential": round(len(texts) / timings["sequential_s"], 1),
                               "in_flight_8": round(len(texts) / timings["in_flight_8_s"], 1)},
        "local_cpu_s": round(local_s, 2),
        "local_cpu_passages_per_s": round(len(texts) / local_s, 1),
        "local_load": [round(x, 2) for x in os.getloadavg()],
        "local_embedder": embedder.name,
    }
    text = json.dumps(result, indent=2)
    print(text)
    (ROOT / "bench" / "results" / "embedding_server_gpu.json").write_text(text + "\n")


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["help"]
    if command == "prep" and len(args) == 1:
        prep(Path(args[0]))
    elif command == "client" and len(args) == 3:
        client(args[0], Path(args[1]), Path(args[2]))
    elif command == "compare" and len(args) == 2:
        compare(Path(args[0]), Path(args[1]))
    else:
        sys.exit(__doc__)
