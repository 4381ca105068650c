"""The end-to-end table of bench/results/ranker_listwise_2026-12-03.md from eval run folders.

    python bench/ranker_listwise_table.py /tmp/ranker-runs base listwise-newref ...   # <dir>/<name>-<set>/summary.json

Per set: containment on answerable questions, false refusals, withheld-refusal recall (KorQuAD), mean
answer length of answered questions (characters), extractive total latency p50; and the mean containment
over the three sets (each counts equally).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SETS = ("korquad-open", "klue", "seeds")


def row(folder: Path) -> dict[str, float | None]:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    overall = summary["overall"]
    cases = [json.loads(line) for line in (folder / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    answered = [len(c["answer"]) for c in cases if not c["refused"] and c.get("answers")]
    return {"n_answerable": overall.get("n_answerable"), "containment": overall.get("containment"),
            "false_refusals": overall.get("false_refusal_rate"), "refusal_recall": overall.get("refusal_recall"),
            "chars": sum(answered) / max(len(answered), 1),
            "p50_ms": summary["latency_ms"]["total"]["p50"]}


def main(argv: list[str]) -> int:
    root, names = Path(argv[0]), argv[1:]
    table = {name: {s: row(root / f"{name}-{s}") for s in SETS if (root / f"{name}-{s}" / "summary.json").is_file()}
             for name in names}
    print("| variant | KorQuAD 1–70 cont. | false ref. | withheld recall | chars | KLUE odd cont. | chars | "
          "seeds odd cont. | chars | mean cont. |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, sets in table.items():
        k, l, s = (sets.get(x) for x in SETS)
        mean = sum(v["containment"] for v in sets.values()) / len(sets) if len(sets) == 3 else None
        cell = lambda v, key, f="{:.4f}": f.format(v[key]) if v and v.get(key) is not None else "–"  # noqa: E731
        print(f"| {name} | {cell(k, 'containment')} | {cell(k, 'false_refusals')} | {cell(k, 'refusal_recall')} | "
              f"{cell(k, 'chars', '{:.0f}')} | {cell(l, 'containment')} | {cell(l, 'chars', '{:.0f}')} | "
              f"{cell(s, 'containment')} | {cell(s, 'chars', '{:.0f}')} | {'–' if mean is None else f'{mean:.4f}'} |")
        sets["mean_containment"] = mean  # type: ignore[assignment]
    print(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
