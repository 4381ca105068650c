"""Hostile documents: every document reader fed mutated copies of its fixture must raise only its
named error (DocumentError, which the corpus reports per file) and never take long.

    python bench/reader_fuzz.py [--cases 2000] [--seed 7] [--slow-s 5]

A case overwrites 1-20 random bytes of the fixture (and in one case of five also cuts it short).
Prints, per format, the cases, the seconds, the cases over --slow-s and every other exception type
(each a bug: it would stop an ingest); writes bench/results/reader_fuzz.json. Exits 1 if any.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class _Slow(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--slow-s", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reader_fuzz.json")
    args = parser.parse_args()

    from rag.documents import DocumentError
    from rag.doc import read_doc
    from rag.docx import read_docx
    from rag.odt import read_odt
    from rag.rtf import read_rtf
    from rag.hwp import read_hwp
    from rag.hwpx import read_hwpx
    from rag.pdf import read_pdf
    from rag.workbook import sheets
    from rag.xls import sheets as xls_sheets
    from tests import doc_sample, hwp_sample, hwpx_sample, odt_sample
    from tests.test_rtf import release as rtf_release
    from tests.test_xls import clippings
    from tests.test_workbook import CLIPPINGS, workbook

    fixtures = {
        "pdf": (read_pdf, (ROOT / "tests" / "data" / "pdf" / "onsae_release.pdf").read_bytes()),
        "docx": (read_docx, (ROOT / "tests" / "data" / "docx" / "saenuri_release.docx").read_bytes()),
        "hwpx": (read_hwpx, hwpx_sample.RELEASE),
        "hwp": (read_hwp, hwp_sample.RELEASE),
        # a distribution document (배포용): its sections sealed with AES-128 under a masked key record
        "hwp-sealed": (read_hwp, hwp_sample.distribution_hwp(hwp_sample.paragraph(0, "새누리기계는 협력사 납품대금을 조기 지급한다."))),
        "xlsx": (sheets, workbook(CLIPPINGS)),
        "doc": (read_doc, doc_sample.RELEASE),
        # text boxes, read where the FIB's counts of the parts before them put them
        "doc-parts": (read_doc, doc_sample.WITH_PARTS),
        "odt": (read_odt, odt_sample.RELEASE),
        "rtf": (read_rtf, rtf_release()),
        "xls": (xls_sheets, clippings(split=20)),
    }

    def alarm(*_):
        raise _Slow()

    signal.signal(signal.SIGALRM, alarm)
    rows, failed = [], False
    for name, (read, data) in fixtures.items():
        rng = random.Random(f"{args.seed}-{name}")
        errors, slow, named = Counter(), 0, 0
        start = time.perf_counter()
        for _ in range(args.cases):
            case = bytearray(data)
            for _ in range(rng.randint(1, 20)):
                case[rng.randrange(len(case))] = rng.randrange(256)
            if rng.random() < 0.2:
                case = case[: rng.randrange(len(case))]
            signal.alarm(args.slow_s)
            try:
                read(bytes(case))
            except DocumentError:
                named += 1
            except _Slow:
                slow += 1
            except Exception as exc:  # noqa: BLE001 -- what this bench looks for
                errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
            finally:
                signal.alarm(0)
        seconds = time.perf_counter() - start
        failed |= bool(errors or slow)
        rows.append({"format": name, "cases": args.cases, "named_errors": named, "read_anyway": args.cases - named - slow - sum(errors.values()),
                     "slow": slow, "other_exceptions": dict(errors), "seconds": round(seconds, 2)})
        print(f"{name:10} {args.cases} cases in {seconds:5.1f} s: {named} named errors, {rows[-1]['read_anyway']} read anyway, "
              f"{slow} over {args.slow_s} s, {sum(errors.values())} other exceptions {dict(errors) or ''}")
    args.out.write_text(json.dumps({"when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                    "seed": args.seed, "rows": rows}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
