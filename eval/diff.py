"""Compare two runs' summary.json files: one markdown table of old, new and the change.

    python -m eval.diff OLD/summary.json NEW/summary.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eval.report import _COLUMNS
from eval.stats import mcnemar, paired_change


def _rows(summary: dict[str, Any], by_type: bool) -> dict[str, dict[str, Any]]:
    rows = {"overall": summary.get("overall", {})}
    for name, s in summary.get("modes", {}).items():
        rows[f"{name} (overall)"] = s.get("overall", {})
    if by_type:
        for name, row in summary.get("by_type", {}).items():
            rows[f"type {name}"] = row
    for key, lat in summary.get("latency_ms", {}).items():
        rows[f"latency {key}"] = {"p50 ms": lat.get("p50"), "p95 ms": lat.get("p95")}
    return rows


# what a run was, as summary.json's "run" records it: a change of one of them moves figures by itself
RUN_KEYS = ("dataset", "mode", "k")


def summary_path(path: Path) -> Path:
    """A run's folder stands for its summary.json."""
    return path / "summary.json" if path.is_dir() else path


def compare_summaries(old: dict[str, Any], new: dict[str, Any], by_type: bool = False) -> str:
    """Markdown table of every metric the two summaries share, with new - old; then what differs in how the runs
    were made (dataset, mode, k) and the overall figures only one of them gives."""
    old_rows, new_rows = _rows(old, by_type), _rows(new, by_type)
    titles = dict((key, title) for title, key in _COLUMNS) | {"p50 ms": "p50 ms", "p95 ms": "p95 ms"}
    lines = ["| group | metric | old | new | change |", "|---|---|---|---|---|"]
    for group, new_row in new_rows.items():
        old_row = old_rows.get(group)
        if old_row is None:
            continue
        for key, title in titles.items():
            a, b = old_row.get(key), new_row.get(key)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                lines.append(f"| {group} | {title} | {a:.3f} | {b:.3f} | {b - a:+.3f} |")
    if len(lines) == 2:
        return "No metrics in common."
    was, now = old.get("run") or {}, new.get("run") or {}
    differ = [f"{key} ({was[key]} → {now[key]})" for key in RUN_KEYS if key in was and key in now and was[key] != now[key]]
    if differ:
        lines += ["", f"The runs differ in {', '.join(differ)}: the change is partly that, not the system's alone."]
    given = {side: [title for title, key in _COLUMNS if isinstance(s.get("overall", {}).get(key), (int, float))]
             for side, s in (("old", old), ("new", new))}
    only = [f"{title} ({side} only)" for side, other in (("old", "new"), ("new", "old"))
            for title in given[side] if title not in given[other]]
    if only:
        lines += ["", f"Figures only one run gives: {', '.join(only)}."]
    change = paired_change(old.get("outcomes", {}), new.get("outcomes", {}))
    if change is not None:  # the same questions both times: which of them changed, not only the means
        gained, lost = change
        lines += ["", f"Question by question (the same {old.get('overall', {}).get('n', '?')} questions): "
                  f"{gained} right answers gained, {lost} lost (exact McNemar p = {mcnemar(gained, lost):.2g})."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.diff", description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="a run's summary.json, or its folder")
    parser.add_argument("new", type=Path, help="a run's summary.json, or its folder")
    parser.add_argument("--by-type", action="store_true", help="also compare each question type")
    args = parser.parse_args(argv)
    args.old, args.new = summary_path(args.old), summary_path(args.new)
    try:
        old = json.loads(args.old.read_text(encoding="utf-8"))
        new = json.loads(args.new.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"error: cannot read summary: {exc}", file=sys.stderr)
        return 2
    for path, summary in ((args.old, old), (args.new, new)):
        if not isinstance(summary, dict) or "overall" not in summary:
            print(f"error: {path} is not an eval run's summary.json", file=sys.stderr)
            return 2
    if old.get("overall", {}).get("n") != new.get("overall", {}).get("n"):
        print(f"note: the runs asked {old['overall'].get('n')} and {new['overall'].get('n')} questions: "
              "their figures are not over the same questions", file=sys.stderr)
    print(compare_summaries(old, new, by_type=args.by_type))
    return 0


if __name__ == "__main__":
    sys.exit(main())
