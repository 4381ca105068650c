"""Time to read saved news pages through rag.webpage, and the worst cases its limits allow.

    nice python bench/html_pages.py            # 5 rounds; writes bench/results/html_pages.json

Rows: the four test pages (tests/data/html), and hostile pages built at the limits: a page of
30,000 link elements (the element cap), one of 30,000 long paragraphs (4.7 M characters, under the
size cap), a 20 MB single-file save whose inline image is dropped,
and one page just past each limit (refused before trafilatura runs). Medians of CPU time, which
is steadier than wall time on a shared machine; `uptime` is recorded with them.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.corpus import decode_text  # noqa: E402
from rag.webpage import HtmlError, HtmlLimits, extract_html  # noqa: E402

LIMITS = HtmlLimits()
ARTICLE = "".join(f"<p>{i}번째 문단이다. 협력사 지원 사업을 설명하는 문장이 이어진다.</p>" for i in range(12))


def pages() -> dict[str, str]:
    found = {}
    for path in sorted((ROOT / "tests" / "data" / "html").glob("*.html")):
        found[path.name], _ = decode_text(path.read_bytes())
    links = "<div><a href='#'>링크</a></div>"
    per_link = 2  # a <div> and an <a>; the page adds <html> and <body>
    found["links_at_cap"] = "<html><body>" + links * (LIMITS.max_elements // per_link - 4) + "</body></html>"
    found["links_past_cap"] = "<html><body>" + links * (LIMITS.max_elements // per_link + 1) + "</body></html>"
    paragraph = "협력사 지원 사업을 설명하는 문장이 길게 이어진다. " * 5
    found["paragraphs_at_cap"] = ("<html><body><article>" + "".join(
        f"<p>{i}. {paragraph}</p>" for i in range(LIMITS.max_elements - 10)) + "</article></body></html>")
    image = "<img src='data:image/png;base64," + "QUJD" * 5_000_000 + "'>"
    found["single_file_20mb"] = f"<html><body><article>{image}{ARTICLE}</article></body></html>"
    found["text_past_size"] = "<html><body><article>" + ARTICLE * (LIMITS.max_chars // len(ARTICLE) + 1) + "</article></body></html>"
    found["nested_5000"] = "<html><body>" + "<div>" * 5000 + ARTICLE + "</div>" * 5000 + "</body></html>"
    return found


def main(rounds: int = 5) -> None:
    results = {}
    for name, html in pages().items():
        times, outcome = [], ""
        for _ in range(rounds):
            start = time.process_time()
            try:
                outcome = f"{len(extract_html(html).text):,} chars of text"
            except HtmlError as exc:
                outcome = f"refused: {exc}"
            times.append(time.process_time() - start)
        results[name] = {"bytes": len(html.encode("utf-8")), "cpu_s_median": round(statistics.median(times), 3),
                         "outcome": outcome}
        print(f"{name:28s} {len(html):>11,} chars  {statistics.median(times):7.3f} s  {outcome}", flush=True)
    load = os.getloadavg()
    out = {"rounds": rounds, "loadavg": [round(x, 2) for x in load], "limits": asdict(LIMITS), "pages": results}
    (ROOT / "bench" / "results" / "html_pages.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
