"""What a new chunker version costs an existing store: re-ingest with stored vectors reused, against the first build.

    python bench/reingest_reuse.py [--passages 1076]

Ingests the KLUE dev passages shipped with the project into a fresh store with the packaged e5 (the
first build: every passage embedded), then ingests the same folder again under another
`CHUNKER_VERSION` (every article is "updated" and re-chunked; the sentence split is the same, so each
passage keeps the vector stored for its exact text), then edits one passage in ten (a sentence added
at its end) and ingests once more, then moves every file into a subfolder (new document ids, the
same passages: their vectors are found by digest in the store) and ingests again. Prints the seconds and vectors embedded/reused of each run and the
machine's load; writes bench/results/reingest_reuse.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KLUE = ROOT / "eval" / "datasets" / "klue_mrc_dev" / "corpus"  # shipped with the project (CC BY-SA 4.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1076, help="the first N KLUE passages (by file name)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reingest_reuse.json")
    args = parser.parse_args()

    import rag.chunking
    from rag.config import load_settings
    from rag.pipeline import build_pipeline

    with tempfile.TemporaryDirectory(prefix="reingest_reuse_") as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        files = sorted(KLUE.glob("*.txt"))[: args.passages]
        for f in files:
            shutil.copy(f, folder / f.name)
        base = load_settings(None, env={})
        settings = replace(base, paths=replace(base.paths, data_dir=Path(tmp), cache_dir=Path(tmp) / "cache"),
                           store=replace(base.store, dir=Path(tmp) / "store"))
        pipe = build_pipeline(settings)
        runs = []

        def ingest(label: str) -> None:
            load = os.getloadavg()
            started = time.perf_counter()
            report = pipe.ingest([folder])
            seconds = time.perf_counter() - started
            row = {"run": label, "seconds": round(seconds, 1), "updated_or_added": len(report.added) + len(report.updated),
                   "chunks": report.chunks_embedded, "reused": report.vectors_reused,
                   "embedded": report.chunks_embedded - report.vectors_reused,
                   "load_1m": round(load[0], 2)}
            runs.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)

        ingest("first build")
        rag.chunking.CHUNKER_VERSION += "-bench"  # what a release with a new sentence split does
        ingest("new chunker version")
        for f in files[::10]:
            path = folder / f.name
            path.write_text(path.read_text(encoding="utf-8").rstrip() + "\n덧붙인 문장이다.\n", encoding="utf-8")
        ingest("one passage in ten edited")
        for f in files:  # a user reorganizing the archive: every file gets a new document id
            shelf = folder / f.name[-7:-4]
            shelf.mkdir(exist_ok=True)
            (folder / f.name).rename(shelf / f.name)
        ingest("every file moved into a subfolder")

    result = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "passages": len(files),
              "cpus": os.cpu_count(), "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
