"""Documents built to stall a reader: how long they held an ingest before and after the guards.

    python bench/reader_stalls.py [--reads 30]

PDF — before: pypdf's `extract_text` page by page, as `rag.pdf` called it before its deadline, timed on
the first pages only and scaled to the whole file (the whole would take hours); after: `read_pdf` as it
stands, until it refuses. Then the release fixture and a drawing-only page, read both ways in
alternation (median of --reads). DOCX — text boxes nested 40 deep around 200,000 runs: before, every
paragraph walked all its descendants (the walk as it was, kept here); after, `read_docx`. HWPX — the
same boxes around 200,000 paragraphs: before, every paragraph's ancestors were checked (kept here). HWP —
a 3 KB file of 100 table cells at column 65535: before, the grid spanned every column up to the largest
(kept here); after, `read_hwp`; time and peak memory (tracemalloc).
Prints the numbers and writes bench/results/reader_stalls.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _before(data: bytes, max_pages: int | None = None) -> tuple[float, int]:
    """Seconds to extract (at most `max_pages` pages of) the file the old way, and the pages read."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    started = time.perf_counter()
    pages = reader.pages[:max_pages] if max_pages else reader.pages
    for page in pages:
        page.get_contents()
        page.extract_text()
    return time.perf_counter() - started, len(pages)


def _after(data: bytes) -> tuple[float, str]:
    from rag.pdf import PdfError, read_pdf

    started = time.perf_counter()
    try:
        read_pdf(data)
        outcome = "read"
    except PdfError as exc:
        outcome = str(exc)
    return time.perf_counter() - started, outcome


def _docx_nested_boxes(depth: int = 40, runs: int = 200_000) -> dict:
    import random
    import re

    from lxml import etree

    from rag import docx
    from tests.hwpx_sample import zip_bytes

    w = docx._W
    pick = random.Random(7)
    inner = "".join(f"<w:r><w:t>{pick.getrandbits(32):08x}</w:t></w:r>" for _ in range(runs))
    for _ in range(depth):
        inner = f"<w:p><w:r><w:pict><w:txbxContent><w:p>{inner}</w:p></w:txbxContent></w:pict></w:r></w:p>"
    xml = (f'<w:document xmlns:w="{w[1:-1]}"><w:body>{inner}</w:body></w:document>').encode()
    data = zip_bytes({"word/document.xml": xml})

    def walked_all(paragraph) -> str:  # the walk before: every descendant of every paragraph
        parts = [e.text or "" if e.tag == f"{w}t" else " " for e in paragraph.iter(f"{w}t", *docx._BREAKS)
                 if next(e.iterancestors(f"{w}p"), None) is paragraph]
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    timings = {}
    for name, walk in (("before", walked_all), ("after", docx._paragraph_text)):
        started = time.perf_counter()
        body = etree.fromstring(xml).find(f"{w}body")
        text = "\n".join(walk(p) for p in body.iter(f"{w}p"))
        timings[name] = round(time.perf_counter() - started, 2)
        timings[f"{name}_chars"] = len(text)
    started = time.perf_counter()
    timings["read_docx_s"] = round((docx.read_docx(data), time.perf_counter() - started)[1], 2)
    timings.update(file_bytes=len(data), xml_bytes=len(xml), depth=depth, runs=runs)
    print(f"docx, {depth} nested text boxes around {runs:,} runs ({len(data):,} bytes): paragraph walks "
          f"{timings['before']} s before, {timings['after']} s after; read_docx {timings['read_docx_s']} s")
    return timings


def _hwpx_nested_boxes(depth: int = 40, paragraphs: int = 200_000) -> dict:
    import random

    from lxml import etree

    from rag import hwpx
    from tests.hwpx_sample import NS

    p = hwpx._PARAGRAPH
    pick = random.Random(7)
    inner = "".join(f"<hp:p><hp:run><hp:t>{pick.getrandbits(32):08x}</hp:t></hp:run></hp:p>" for _ in range(paragraphs))
    for _ in range(depth):
        inner = f"<hp:p><hp:run><hp:rect><hp:drawText><hp:subList>{inner}</hp:subList></hp:drawText></hp:rect></hp:run></hp:p>"
    xml = f"<hs:sec {NS}>{inner}</hs:sec>".encode()

    def ancestors_checked(section) -> list[str]:  # the walk before: each paragraph's ancestors, three times
        lines = []
        for element in section.iter(f"{p}p", hwpx._TABLE):
            if any(a.tag in hwpx._LEFT_OUT for a in element.iterancestors()):
                continue
            if element.tag == hwpx._TABLE:
                if not any(a.tag == hwpx._TABLE for a in element.iterancestors()):
                    lines.extend(hwpx._table_rows(element))
                continue
            if not any(a.tag == hwpx._CELL for a in element.iterancestors()):
                lines.append(hwpx._paragraph_text(element))
        return lines

    timings = {}
    for name, walk in (("before", ancestors_checked), ("after", hwpx._lines)):
        started = time.perf_counter()
        lines = walk(etree.fromstring(xml))
        timings[name] = round(time.perf_counter() - started, 2)
        timings[f"{name}_lines"] = len(lines)
    timings.update(xml_bytes=len(xml), depth=depth, paragraphs=paragraphs)
    print(f"hwpx, {depth} nested text boxes around {paragraphs:,} paragraphs: section walks "
          f"{timings['before']} s before, {timings['after']} s after")
    return timings


def _hwp_far_columns(cells: int = 100) -> dict:
    import struct
    import tracemalloc

    from rag import hwp
    from rag.documents import table_lines
    from tests import hwp_sample as sample

    body = sample.record(sample.TABLE, 2, struct.pack("<IHH", 0, 2, 2) + b"\x00" * 10)
    for row in range(cells):
        body += sample.record(sample.LIST_HEADER, 2, struct.pack("<iIHHHH", 1, 0, 65535, row, 1, 1) + b"\x00" * 14)
        body += sample.paragraph(2, "x")
    data = sample.hwp(sample.paragraph(0, "본문.", controls=[sample.control("tbl ", 1, body)]))

    def spanning_grid() -> int:  # the grid before: every column up to the largest, in every row
        rows = {row: {65535: "x"} for row in range(cells)}
        grid = [[by_column.get(c, "") for c in range(max(by_column) + 1)] for _, by_column in sorted(rows.items())]
        return sum(map(len, table_lines(grid)))

    out: dict = {"file_bytes": len(data), "cells": cells}
    for name, run in (("before", spanning_grid), ("after", lambda: len(hwp.read_hwp(data).text))):
        tracemalloc.start()
        started = time.perf_counter()
        chars = run()
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        out[name] = {"seconds": round(seconds, 3), "peak_mb": round(peak / 1e6, 1), "text_chars": chars}
    print(f"hwp, {cells} cells at column 65535 ({len(data):,} bytes): before {out['before']['seconds']} s, "
          f"{out['before']['peak_mb']} MB, {out['before']['text_chars']:,} characters; after {out['after']['seconds']} s, "
          f"{out['after']['peak_mb']} MB, {out['after']['text_chars']:,} characters")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reads", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reader_stalls.json")
    args = parser.parse_args()

    from rag.pdf import MAX_SECONDS
    from tests.pdf_hostile import drawing_pdf, hostile_pdf

    report: dict = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "load": [round(x, 1) for x in os.getloadavg()], "max_seconds": MAX_SECONDS, "hostile": {}}
    cases = {
        # 500 pages sharing one ~6 MB stream of text operators (just under pypdf's parsing budget)
        "pages": (hostile_pdf(pages=500, operators=180_000), 2),
        # one page calling a ~0.6 MB form 5,000 times (pypdf's limit of form calls a page)
        "forms": (hostile_pdf(pages=1, operators=18_000, form_calls=5_000), None),
    }
    for name, (data, sample_pages) in cases.items():
        if sample_pages:
            seconds, read = _before(data, sample_pages)
            total = len(__import__("pypdf").PdfReader(io.BytesIO(data)).pages)
            before = {"seconds_for_pages": round(seconds, 2), "pages_timed": read,
                      "whole_file_estimate_s": round(seconds / read * total)}
        else:
            # one page: time 20 of its form calls the old way and scale to the 5,000
            small = hostile_pdf(pages=1, operators=18_000, form_calls=20)
            seconds, _ = _before(small)
            before = {"seconds_for_20_form_calls": round(seconds, 2),
                      "whole_file_estimate_s": round(seconds / 20 * 5_000)}
        after_s, outcome = _after(data)
        report["hostile"][name] = {"file_bytes": len(data), "before": before,
                                   "after": {"seconds": round(after_s, 1), "outcome": outcome}}
        print(f"{name}: {len(data):,} bytes; before ~{before['whole_file_estimate_s']:,} s (estimated); "
              f"after {after_s:.1f} s: {outcome}")

    from rag.pdf import read_pdf

    honest = {"release": (ROOT / "tests" / "data" / "pdf" / "onsae_release.pdf").read_bytes(),
              "drawing_only_page": drawing_pdf(50_000)}
    report["honest_ms"] = {}
    for name, data in honest.items():
        old, new = [], []
        for _ in range(args.reads):  # alternating, so load drifts touch both alike
            old.append(_before(data)[0])
            started = time.perf_counter()
            try:
                read_pdf(data)
            except Exception:  # noqa: BLE001 -- the drawing has no text: refused as a scan, after its read
                pass
            new.append(time.perf_counter() - started)
        row = {"before_median_ms": round(statistics.median(old) * 1000, 2),
               "after_median_ms": round(statistics.median(new) * 1000, 2),
               "file_bytes": len(data), "reads": args.reads}
        report["honest_ms"][name] = row
        print(f"{name}: before {row['before_median_ms']} ms, after {row['after_median_ms']} ms "
              f"(median of {args.reads}, read_pdf also rebuilds paragraphs)")
    report["docx_nested_boxes"] = _docx_nested_boxes()
    report["hwpx_nested_boxes"] = _hwpx_nested_boxes()
    report["hwp_far_columns"] = _hwp_far_columns()
    report["load_after"] = [round(x, 1) for x in os.getloadavg()]
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
