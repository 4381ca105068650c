"""Kill-and-edit soak: ingest real passages while SIGKILLing the ingest at random moments, edit and
delete files, and check the store equals a clean ingest of the final folder.

    python bench/soak.py                                   # 200 KLUE passages, 10 kills, real e5 model
    python bench/soak.py --passages 20 --kills 3 --edits 3 --deletes 5 --embedder fake   # the test's size

Each ingest is a real `python -m rag ingest` process (`--embedder fake`: the same ingest with the
tests' hashing embedder, for speed). Kill moments are uniform over the duration of a clean ingest.
Checked at the end against a clean ingest of the final folder into a fresh store: the same doc ids and
content hashes, the same chunk ids and texts, a keyword index holding exactly the stored chunks, no
orphan chunk, and no search (the first sentence of every deleted or edited passage) returning a deleted
article or a chunk that is not the current text of its article. Writes bench/results/soak.json / .md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the KLUE-MRC dev passages the project ships (eval/datasets/klue_mrc_dev, CC BY-SA 4.0: its SOURCE.md)
KLUE = ROOT / "eval" / "datasets" / "klue_mrc_dev" / "corpus"


def settings_for(store: Path):
    from rag.config import load_settings

    s = load_settings(None, env={})
    return replace(s, store=replace(s.store, dir=store), paths=replace(s.paths, data_dir=store.parent))


def pipeline(store: Path, fake: bool):
    from rag.pipeline import build_pipeline

    if fake:
        from tests.fakes import HashingEmbedder

        return build_pipeline(settings_for(store), embedder=HashingEmbedder())
    return build_pipeline(settings_for(store))


def ingest_command(store: Path, corpus: Path, fake: bool) -> list[str]:
    if fake:
        return [sys.executable, str(Path(__file__).resolve()), "--worker", str(store), str(corpus)]
    return [sys.executable, "-m", "rag", "ingest", str(corpus), "--store", str(store), "--quiet"]


def run_ingest(store: Path, corpus: Path, fake: bool, kill_after: float | None) -> bool:
    """One ingest process; SIGKILLed after `kill_after` seconds unless it finished. True if it finished."""
    return run_killable(ingest_command(store, corpus, fake), kill_after)


def run_killable(command: list[str], kill_after: float | None) -> bool:
    """Runs `command` from the project root, SIGKILLed after `kill_after` seconds unless it finished
    (True if it finished); a failure of its own is an error."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return False
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    return True


def snapshot(store: Path, fake: bool) -> dict:
    """What the store holds: records, chunks (id -> text), keyword index rows, orphans."""
    pipe = pipeline(store, fake)
    raw = pipe.raw_store()
    view = pipe._searcher.view()
    records = {d: i.content_hash for d, i in view.articles.items()}
    owners = list(raw.chunk_owners())
    chunks = raw.chunks([c for c, _, _ in owners])
    orphans = [c for c, d, h in owners if records.get(d) != h]
    out = {"records": records, "chunks": {c: s.chunk.text for c, s in chunks.items()},
           "keyword": sorted(view.keyword.chunk_ids()), "orphans": orphans, "dirty": raw.state().dirty}
    pipe.close()
    return out


def check_searches(store: Path, fake: bool, probes: list[str], deleted: set[str]) -> tuple[list[str], int]:
    """Every hit and every citation must be a live article's current text; no deleted article may
    come back. Returns the problems and how many citations were checked."""
    pipe = pipeline(store, fake)
    problems: list[str] = []
    checked = 0
    for question in probes:
        for hit in pipe.search(question, k=10):
            article = pipe.article(hit.chunk.doc_id)
            if hit.chunk.doc_id in deleted or article is None:
                problems.append(f"{question[:30]!r} returned deleted {hit.chunk.doc_id}")
            elif article.text[hit.chunk.start:hit.chunk.end] != hit.chunk.text:
                problems.append(f"{question[:30]!r} returned a stale chunk of {hit.chunk.doc_id}")
        # what a user sees: the extractive answer's verified citations must quote a live article's text
        for cite in pipe.ask(question, mode="extractive").citations:
            article = pipe.article(cite.source)
            if cite.source in deleted or article is None:
                problems.append(f"{question[:30]!r} cited deleted {cite.source}")
            elif article.text[cite.start:cite.end] != cite.quote:
                problems.append(f"{question[:30]!r} cited a stale span of {cite.source}")
            checked += 1
    pipe.close()
    return problems, checked


def kill_loop(run, files: list[Path], rng: random.Random, kills: int, duration: float, log: list[dict],
              phase: str) -> int:
    """Runs `run(kill_after)` until `kills` runs were SIGKILLed. Once a run finishes, the folder holds
    nothing new and a re-run would finish before any kill: a random 40% of the files then get a
    trailing space (a new content hash, so re-chunked and re-embedded), so every run has work to cut."""
    killed = 0
    while killed < kills:
        moment = rng.uniform(0.05, 0.5) * duration
        finished = run(moment)
        log.append({"phase": phase, "kill_after_s": round(moment, 1), "finished": finished})
        killed += not finished
        if finished:
            for path in rng.sample(files, max(1, len(files) * 2 // 5)):
                path.write_text(path.read_text(encoding="utf-8") + " ", encoding="utf-8")
    return killed


def first_sentence(path: Path) -> str:
    text = path.read_text(encoding="utf-8").strip()
    return text.split(". ")[0][:200]


def soak(args) -> dict:
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    corpus, store, clean = work / "corpus", work / "store" / "s", work / "clean" / "s"
    corpus.mkdir()
    for path in sorted(KLUE.glob("*.txt"))[: args.passages]:
        shutil.copy(path, corpus / path.name)
    fake = args.embedder == "fake"

    started = time.perf_counter()
    run_ingest(work / "timing" / "s", corpus, fake, None)  # how long one clean ingest takes
    duration = time.perf_counter() - started
    log: list[dict] = []
    kills = kill_loop(lambda moment: run_ingest(store, corpus, fake, moment), sorted(corpus.glob("*.txt")),
                      rng, args.kills, duration, log, "initial")
    run_ingest(store, corpus, fake, None)

    files = sorted(corpus.glob("*.txt"))
    edited = rng.sample(files, args.edits)
    deleted_files = rng.sample([f for f in files if f not in edited], args.deletes)
    probes = [first_sentence(f) for f in edited + deleted_files]
    for path in edited:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("\n\n이 기사는 수정되어 문장 하나가 덧붙었다.\n")
    for path in deleted_files:
        path.unlink()
    for _ in range(max(1, args.kills // 3)):  # the edits are interrupted too
        moment = rng.uniform(0.05, 0.5) * duration
        finished = run_ingest(store, corpus, fake, moment)
        log.append({"phase": "after edits", "kill_after_s": round(moment, 1), "finished": finished})
        kills += not finished
    run_ingest(store, corpus, fake, None)
    run_ingest(clean, corpus, fake, None)

    got, want = snapshot(store, fake), snapshot(clean, fake)
    deleted = {f.name for f in deleted_files}
    problems, citations = check_searches(store, fake, probes, deleted)
    checks = {
        "same_docs_and_hashes": got["records"] == want["records"],
        "same_chunk_ids_and_texts": got["chunks"] == want["chunks"],
        "keyword_index_equals_stored_chunks": got["keyword"] == sorted(got["chunks"]),
        "no_orphans": not got["orphans"],
        "not_dirty": not got["dirty"],
        "no_deleted_or_stale_hit": not problems,
    }
    shutil.rmtree(work, ignore_errors=True)
    return {"passages": args.passages, "embedder": args.embedder, "kills": kills, "clean_ingest_s": round(duration, 1),
            "edited": len(edited), "deleted": len(deleted_files), "docs": len(got["records"]),
            "chunks": len(got["chunks"]), "probes": len(probes), "citations_checked": citations, "runs": log, "checks": checks,
            "problems": problems[:20], "passed": all(checks.values())}


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        from rag.config import apply_offline_env

        apply_offline_env()
        pipeline(Path(sys.argv[2]), fake=True).ingest([Path(sys.argv[3])])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--passages", type=int, default=200)
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--edits", type=int, default=10)
    p.add_argument("--deletes", type=int, default=50)
    p.add_argument("--embedder", choices=("real", "fake"), default="real")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    args = p.parse_args(argv)
    from rag.config import apply_offline_env

    apply_offline_env()
    result = soak(args)
    result["command"] = "python bench/soak.py " + " ".join(argv if argv is not None else sys.argv[1:])
    result["load_avg"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return write_result(result, args.out)


def write_result(result: dict, out: Path) -> int:
    """Writes the result file, prints it without the run log; the exit status says whether it passed."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, ensure_ascii=False, indent=2))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
