"""What reading an archive costs in each format the corpus reader takes, side by side in one run.

    python bench/archive_formats.py [--passages 1076] [--repeat 3]

The KLUE dev passages shipped with the project, written out as one .txt a passage (the way the
eval reads them), one JSONL file, one CSV, one TSV and one Excel table, one .hwpx, one .hwp and one .odt
document a passage (as tests/hwpx_sample.py, tests/hwp_sample.py and tests/odt_sample.py write them); the
two-page PDF and the Word fixtures copied once a passage. (.doc and .xls are left out: the tests' OLE
writer holds streams under 4 KB; their readers' cost on Word's and Excel's own files is in the README.) Each folder is read with `load_corpus` (decode, clean, metadata; no
embedding) `--repeat` times; the median seconds, articles read and problems are printed with the
machine's load and written to bench/results/archive_formats.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KLUE = ROOT / "eval" / "datasets" / "klue_mrc_dev" / "corpus"  # shipped with the project (CC BY-SA 4.0)
PDF = ROOT / "tests" / "data" / "pdf" / "onsae_release.pdf"
DOCX = ROOT / "tests" / "data" / "docx" / "saenuri_release.docx"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=1076)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "archive_formats.json")
    args = parser.parse_args()

    from rag.corpus import load_corpus
    from tests import hwp_sample
    from tests.hwpx_sample import hwpx, paragraph, section
    from tests.odt_sample import odt

    passages = [(p.name, p.read_text(encoding="utf-8")) for p in sorted(KLUE.glob("*.txt"))[: args.passages]]
    work = Path(tempfile.mkdtemp(prefix="archive-formats-"))
    try:
        folders = {name: work / name for name in ("txt", "jsonl", "csv", "tsv", "xlsx", "hwpx", "hwp", "odt", "docx", "pdf")}
        for folder in folders.values():
            folder.mkdir()
        for name, text in passages:
            (folders["txt"] / name).write_text(text, encoding="utf-8")
            paragraphs = [paragraph(_xml_escape(line)) for line in text.split("\n") if line.strip()]
            (folders["hwpx"] / f"{Path(name).stem}.hwpx").write_bytes(hwpx([section(*paragraphs)]))
            records = b"".join(hwp_sample.paragraph(0, line) for line in text.split("\n") if line.strip())
            (folders["hwp"] / f"{Path(name).stem}.hwp").write_bytes(hwp_sample.hwp(records))
            body = "".join(f"<text:p>{_xml_escape(line)}</text:p>" for line in text.split("\n") if line.strip())
            (folders["odt"] / f"{Path(name).stem}.odt").write_bytes(odt(body))
            shutil.copyfile(PDF, folders["pdf"] / f"{Path(name).stem}.pdf")
            shutil.copyfile(DOCX, folders["docx"] / f"{Path(name).stem}.docx")
        with open(folders["jsonl"] / "archive.jsonl", "w", encoding="utf-8") as fh:
            for name, text in passages:
                fh.write(json.dumps({"id": name, "text": text}, ensure_ascii=False) + "\n")
        for kind, delimiter in (("csv", ","), ("tsv", "\t")):
            with open(folders[kind] / f"archive.{kind}", "w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh, delimiter=delimiter)
                writer.writerow(["id", "본문"])
                writer.writerows([name, text] for name, text in passages)
        from openpyxl import Workbook

        book = Workbook()
        book.active.append(["id", "본문"])
        for name, text in passages:
            book.active.append([name, text])
        book.save(folders["xlsx"] / "archive.xlsx")

        rows = []
        for kind, folder in folders.items():
            size = sum(p.stat().st_size for p in folder.iterdir())
            seconds, load = [], None
            for _ in range(args.repeat):
                start = time.perf_counter()
                # one table or JSONL file holds every passage: the per-file limit is raised for them
                load = load_corpus([folder], max_file_bytes=1 << 30)
                seconds.append(time.perf_counter() - start)
            median = statistics.median(seconds)
            rows.append({"format": kind, "files": len(list(folder.iterdir())), "megabytes": round(size / 1e6, 2),
                         "articles": len(load.articles), "problems": len(load.problems),
                         "median_s": round(median, 3), "ms_per_article": round(1000 * median / max(len(load.articles), 1), 2)})
            print(f"{kind:6} {rows[-1]['files']:5} files {rows[-1]['megabytes']:7.2f} MB  {rows[-1]['articles']:5} articles "
                  f"{rows[-1]['problems']:3} problems  median {median:6.2f} s  {rows[-1]['ms_per_article']:6.2f} ms/article")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "load_average": os.getloadavg(),
              "cpus": os.cpu_count(), "passages": len(passages), "repeat": args.repeat, "rows": rows}
    print(f"load average {os.getloadavg()}")
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    main()
