"""Real documents through the readers: point it at folders of files other programs wrote.

    python bench/reader_corpus.py DIR [DIR ...] [--slow-s 5] [--out FILE]

Each file is read by the reader its suffix names (.pdf .doc .docx .hwp .hwpx .odt .rtf .xls .xlsx;
for a workbook, its sheets) under a 120 s alarm. Prints, per format, the files read, the files refused
with the reader's named error (the most common reasons), any other exception (each a bug: it would
stop an ingest), the files slower than --slow-s, and the peak memory of the process; writes JSON when
--out is given. The session that added .doc, .xls, .odt and .rtf ran it on the test files of Apache POI,
textract, pyhwp, hwpxlib and pdf.js (fetched, not shipped): see the README.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class _Slow(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--slow-s", type=float, default=5.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from rag import xls
    from rag.doc import read_doc
    from rag.documents import DocumentError
    from rag.docx import read_docx
    from rag.hwp import read_hwp
    from rag.hwpx import read_hwpx
    from rag.odt import read_odt
    from rag.pdf import read_pdf
    from rag.rtf import read_rtf
    from rag.workbook import sheets

    readers = {".pdf": read_pdf, ".doc": read_doc, ".docx": read_docx, ".hwp": read_hwp, ".hwpx": read_hwpx,
               ".odt": read_odt, ".rtf": read_rtf, ".xls": xls.sheets, ".xlsx": sheets}

    def alarm(*_):
        raise _Slow()

    signal.signal(signal.SIGALRM, alarm)
    rows = {}
    failed = False
    files = sorted(p for folder in args.folders for p in folder.rglob("*") if p.suffix.lower() in readers)
    for path in files:
        suffix = path.suffix.lower()
        row = rows.setdefault(suffix, {"files": 0, "read": 0, "named": Counter(), "other": [], "slow": [], "seconds": 0.0})
        row["files"] += 1
        started = time.perf_counter()
        signal.alarm(120)
        try:
            readers[suffix](path.read_bytes())
            row["read"] += 1
        except DocumentError as exc:
            row["named"][str(exc)[:60]] += 1
        except _Slow:
            row["other"].append(f"{path.name}: over 120 s")
        except Exception as exc:  # noqa: BLE001 -- what this bench looks for
            row["other"].append(f"{path.name}: {type(exc).__name__}: {str(exc)[:100]}")
        finally:
            signal.alarm(0)
        seconds = time.perf_counter() - started
        row["seconds"] += seconds
        if seconds > args.slow_s:
            row["slow"].append(f"{path.name}: {seconds:.1f} s")
    for suffix, row in rows.items():
        named = sum(row["named"].values())
        print(f"{suffix:6} {row['files']:5} files in {row['seconds']:6.1f} s: {row['read']} read, {named} named, "
              f"{len(row['other'])} other exceptions, {len(row['slow'])} over {args.slow_s:g} s")
        for reason, count in row["named"].most_common(5):
            print(f"         {count:4}  {reason}")
        for line in row["other"] + row["slow"]:
            print(f"         {line}")
        failed = failed or bool(row["other"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"peak memory {peak} MB")
    if args.out:
        report = {suffix: {**row, "named": dict(row["named"])} for suffix, row in rows.items()}
        args.out.write_text(json.dumps({"folders": [str(f) for f in args.folders], "peak_mb": peak, "formats": report},
                                       ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
