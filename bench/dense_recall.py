"""How many of the exact nearest chunks does Chroma's HNSW return, and at what cost, per `ef_search`?

    nice python bench/dense_recall.py [--sets klue,korquad-open] [--split calibrate] [--efs 100,200,400,800]
        [--out bench/results/dense_recall.json]

The dense retriever asks Chroma for a question's `retrieval.candidates` (30) nearest chunks. HNSW is
approximate: a chunk among the exact 30 can be left out, and which one depends on the graph a process
loaded (the same question can get another 30th chunk in another run). For each eval store (built by
`python -m eval --dataset klue` / `korquad-open`; copied to a temp folder, the original is untouched)
and each `ef_search`, it compares Chroma's answer for every question of the split with the exact
cosine top 30 over all stored vectors: the mean number of exact chunks missed, the share of questions
missing any (and any of the exact top 5), whether two fresh opens of the store agree, and the time of
one query (median, one question at a time, the real e5 query vectors). `same_with_tie_cut`: the same
agreement when `rag.store.TIE_MARGIN` more are asked for and the cut is made with ties to the chunk id,
as the store does.

    nice python bench/dense_recall.py --scale 100000 --efs 100,400,800 --out bench/results/dense_recall_scale.json

`--scale N`: the query time per `ef_search` on a temp collection of N vectors (the KLUE store's, each
copy moved by a little noise), one fresh process per value, 200 KLUE questions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from rag.store import TIE_MARGIN  # noqa: E402

N = 30


def question_texts(name: str, split: str) -> list[str]:
    from eval.__main__ import KLUE_DIR, KLUE_SETS
    from eval.datasets import load_dataset
    from eval.korquad import load_korquad_open
    from eval.selection import select_split

    if name in KLUE_SETS:
        return [q.question for q in select_split(load_dataset(KLUE_DIR / KLUE_SETS[name]), split, "gold")]
    if name == "korquad-open":
        return [q.question for q in load_korquad_open(articles="1-70" if split == "calibrate" else "71-140")[1]]
    raise SystemExit(f"unknown set {name!r}: klue, klue-en or korquad-open")


def store_of(name: str, settings) -> Path:
    from eval.korquad import korquad_open_store_dir

    return korquad_open_store_dir(settings) if name == "korquad-open" else settings.paths.data_dir / "klue" / "store"


def _collection_at(store: Path, name: str | None, ef: int):
    """The store's chunk collection (`name`, or the one that is not the article records), searching at
    `ef`, set before its index is first loaded (a loaded index keeps the breadth it was loaded with)."""
    import chromadb

    client = chromadb.PersistentClient(path=str(store), settings=chromadb.Settings(anonymized_telemetry=False))
    name = name or next(c.name for c in client.list_collections() if not c.name.endswith("-articles"))
    col = client.get_collection(name)
    if col.configuration_json.get("hnsw", {}).get("ef_search") != ef:
        col.modify(configuration={"hnsw": {"ef_search": ef}})
        col = client.get_collection(name)
    return col


def measure(store: Path, vectors_file: Path, ef: int) -> dict:
    """Run in a fresh process: one open of the store, as an app start would."""
    import numpy as np

    col = _collection_at(store, None, ef)
    queries = np.load(vectors_file)
    got = col.get(include=["embeddings"])
    ids = got["ids"]
    matrix = np.asarray(got["embeddings"], dtype=np.float64)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    exact = np.argsort(-(queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ matrix.T, axis=1)[:, :N]
    answers, cut, times = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        answers.append(col.query(query_embeddings=[q.tolist()], n_results=N, include=[])["ids"][0])
        times.append(time.perf_counter() - t0)
        # as rag.store asks: TIE_MARGIN more, cut here with ties to the chunk id
        got = col.query(query_embeddings=[q.tolist()], n_results=N + TIE_MARGIN, include=["distances"])
        cut.append([c for c, _ in sorted(zip(got["ids"][0], got["distances"][0]), key=lambda kv: (kv[1], kv[0]))[:N]])
    missed = [len({ids[i] for i in exact[j]} - set(answers[j])) for j in range(len(queries))]
    missed5 = [len({ids[i] for i in exact[j][:5]} - set(answers[j])) for j in range(len(queries))]
    return {"missed_per_question": statistics.fmean(missed), "questions_missing_any": statistics.fmean(m > 0 for m in missed),
            "questions_missing_a_top5": statistics.fmean(m > 0 for m in missed5), "query_ms_p50": 1000 * statistics.median(times),
            "answers": answers, "cut": cut}


def time_queries(store: Path, vectors_file: Path, ef: int) -> dict:
    import numpy as np

    col = _collection_at(store, "scale", ef)
    queries = np.load(vectors_file)
    for q in queries[:20]:  # warm: the index loads at the first query
        col.query(query_embeddings=[q.tolist()], n_results=N + TIE_MARGIN, include=["distances"])
    times = []
    for q in queries:
        t0 = time.perf_counter()
        col.query(query_embeddings=[q.tolist()], n_results=N + TIE_MARGIN, include=["distances"])
        times.append(time.perf_counter() - t0)
    return {"ef_search": col.configuration_json["hnsw"]["ef_search"], "query_ms_p50": 1000 * statistics.median(times),
            "query_ms_p95": 1000 * statistics.quantiles(times, n=20)[-1]}


def scale(args, settings, embedder) -> int:
    """Query time per ef_search on a store of `args.scale` vectors (recall on noisy copies would say
    little about real chunks: only the time is reported)."""
    import chromadb
    import numpy as np

    source = store_of("klue", settings)
    client = chromadb.PersistentClient(path=str(source), settings=chromadb.Settings(anonymized_telemetry=False))
    base = np.asarray(client.get_collection("articles").get(include=["embeddings"])["embeddings"], dtype=np.float32)
    del client
    rng = np.random.default_rng(0)
    queries = np.asarray(embedder.embed_queries(question_texts("klue", args.split)[:200]), dtype=np.float32)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        client = chromadb.PersistentClient(path=tmp, settings=chromadb.Settings(anonymized_telemetry=False))
        col = client.create_collection("scale", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
        t0 = time.perf_counter()
        for lo in range(0, args.scale, 5000):
            n = min(5000, args.scale - lo)
            vecs = base[rng.integers(0, len(base), n)] + rng.normal(0, 0.01, (n, base.shape[1])).astype(np.float32)
            col.add(ids=[f"c{lo + i}" for i in range(n)], embeddings=vecs)
        built = time.perf_counter() - t0
        del col, client
        vectors = Path(tmp) / "queries.npy"
        np.save(vectors, queries)
        for ef in [int(e) for e in args.efs.split(",")]:
            # a fresh process per value: a loaded index keeps the breadth it was loaded with
            out = subprocess.run([sys.executable, __file__, "--_time", tmp, str(vectors), str(ef)],
                                 capture_output=True, text=True, check=True).stdout
            rows[ef] = json.loads(out.strip().splitlines()[-1])
            print(args.scale, ef, json.dumps(rows[ef]), flush=True)
    result = {"vectors": args.scale, "build_s": built, "queries": len(queries), "load": os.getloadavg()[0],
              "by_ef_search": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="klue,korquad-open")
    parser.add_argument("--split", default="calibrate", choices=["calibrate", "report"])
    parser.add_argument("--efs", default="100,200,400,800")
    parser.add_argument("--out", default="bench/results/dense_recall.json")
    parser.add_argument("--scale", type=int, default=0,
                        help="instead: a temp store of this many vectors (the KLUE store's, each copy moved by "
                             "a little noise so all differ) for the query time per ef_search at that size")
    parser.add_argument("--_measure", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--_time", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from rag.config import apply_offline_env, load_settings

    apply_offline_env()
    if args._time:
        print(json.dumps(time_queries(Path(args._time[0]), Path(args._time[1]), int(args._time[2]))))
        return 0
    if args._measure:
        print(json.dumps(measure(Path(args._measure[0]), Path(args._measure[1]), int(args._measure[2]))))
        return 0
    import numpy as np

    from rag.embedding import load_embedder

    settings = load_settings(None)
    embedder = load_embedder(settings.embedding, settings.paths.cache_dir)
    if args.scale:
        return scale(args, settings, embedder)
    result = {"split": args.split, "n": N, "load": os.getloadavg()[0], "sets": {}}
    for name in args.sets.split(","):
        source = store_of(name, settings)
        if not (source / "chroma.sqlite3").is_file():
            sys.exit(f"no store at {source}: run `python -m eval --dataset {name}` once to build it")
        texts = question_texts(name, args.split)
        rows = {}
        with tempfile.TemporaryDirectory() as tmp:
            vectors = Path(tmp) / "queries.npy"
            np.save(vectors, np.asarray(embedder.embed_queries(texts)))
            for ef in [int(e) for e in args.efs.split(",")]:
                runs = []
                for _ in range(2):  # two fresh processes on two fresh copies: does the answer repeat?
                    store = Path(tmp) / f"store-{ef}-{len(runs)}"
                    shutil.copytree(source, store, ignore=shutil.ignore_patterns(".ingest.lock", "keyword-articles"))
                    out = subprocess.run([sys.executable, __file__, "--_measure", str(store), str(vectors), str(ef)],
                                         capture_output=True, text=True, check=True).stdout
                    runs.append(json.loads(out.strip().splitlines()[-1]))
                    shutil.rmtree(store)
                same = statistics.fmean(a == b for a, b in zip(runs[0].pop("answers"), runs[1].pop("answers")))
                same_cut = statistics.fmean(a == b for a, b in zip(runs[0].pop("cut"), runs[1].pop("cut")))
                rows[ef] = runs[0] | {"same_answer_in_two_opens": same, "same_with_tie_cut": same_cut}
                print(name, ef, json.dumps(rows[ef]), flush=True)
        result["sets"][name] = {"store": str(source), "questions": len(texts), "by_ef_search": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
