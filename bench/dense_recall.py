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


def measure(store: Path, vectors_file: Path, ef: int) -> dict:
    """Run in a fresh process: one open of the store, as an app start would."""
    import chromadb
    import numpy as np

    client = chromadb.PersistentClient(path=str(store), settings=chromadb.Settings(anonymized_telemetry=False))
    name = next(c.name for c in client.list_collections() if not c.name.endswith("-articles"))
    col = client.get_collection(name)
    if col.configuration_json.get("hnsw", {}).get("ef_search") != ef:
        col.modify(configuration={"hnsw": {"ef_search": ef}})
        col = client.get_collection(name)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="klue,korquad-open")
    parser.add_argument("--split", default="calibrate", choices=["calibrate", "report"])
    parser.add_argument("--efs", default="100,200,400,800")
    parser.add_argument("--out", default="bench/results/dense_recall.json")
    parser.add_argument("--_measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from rag.config import apply_offline_env, load_settings

    apply_offline_env()
    if args._measure:
        print(json.dumps(measure(Path(args._measure[0]), Path(args._measure[1]), int(args._measure[2]))))
        return 0
    import numpy as np

    from rag.embedding import load_embedder

    settings = load_settings(None)
    embedder = load_embedder(settings.embedding, settings.paths.cache_dir)
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
