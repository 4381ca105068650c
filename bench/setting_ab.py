"""Two `python -m eval` runs of one question set, a setting off and on: what changed, and the
containment gained per added character (the bar the one-sentence-more answer rules are held to).

    RAG_ANSWER__INTRODUCE_PEOPLE=false python -m eval --dataset klue --split calibrate --out OFF
    RAG_ANSWER__INTRODUCE_PEOPLE=true  python -m eval --dataset klue --split calibrate --out ON
    python bench/setting_ab.py OFF ON [OFF2 ON2 …]

Each pair is one set; every set counts equally (the mean of each set's figures), as in eval.replay.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from eval.stats import mcnemar  # noqa: E402


def _cases(folder: str) -> dict[str, dict]:
    with open(Path(folder) / "cases.jsonl", encoding="utf-8") as fh:
        return {case["id"]: case for case in map(json.loads, fh)}


def compare(off: str, on: str) -> dict:
    before, after = _cases(off), _cases(on)
    changed = []
    for qid, old in before.items():
        new = after[qid]
        if old["answer"] != new["answer"]:
            changed.append({"id": qid, "question": old["question"], "before": old.get("correct"),
                            "after": new.get("correct"), "chars": len(new["answer"]) - len(old["answer"])})
    gained = sum(c["after"] is True and c["before"] is not True for c in changed)
    lost = sum(c["before"] is True and c["after"] is not True for c in changed)
    chars = sum(c["chars"] for c in changed)
    return {"off": off, "on": on, "n": len(before), "changed": changed, "gain": gained - lost, "gained": gained,
            "lost": lost, "chars": chars}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    sets = [compare(argv[i], argv[i + 1]) for i in range(0, len(argv), 2)]
    for s in sets:
        print(f"\n{s['off']} -> {s['on']}: {len(s['changed'])} of {s['n']} answers changed, "
              f"{s['gain']:+d} right ({s['gained']} gained, {s['lost']} lost: exact McNemar p = "
              f"{mcnemar(s['gained'], s['lost']):.2g}), {s['chars']:+d} characters")
        for c in s["changed"]:
            print(f"  {c['before']!s:>5} -> {c['after']!s:<5} {c['chars']:+5d}  {c['question']}")
    gain = sum(s["gain"] / s["n"] for s in sets) / len(sets)
    chars = sum(s["chars"] / s["n"] for s in sets) / len(sets)
    print(f"\nmean over {len(sets)} sets: containment {gain:+.4f}, characters {chars:+.2f} a question"
          + (f", {gain / chars:.6f} containment per character" if chars else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
