"""End-to-end held-out containment of the fold models (bench/ranker_listwise.py writes them; each fold's
questions answered by the model fitted on the other fold, extractive, shipped refusal model):

    python bench/ranker_listwise_cv_e2e.py /tmp/ranker-runs pointwise listorder listwise   # <dir>/cv-<v>-<A|B>-<kq|klue>/
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def pooled(folders: list[Path]) -> tuple[int, int, int]:
    """(contained, answerable, answers' characters / answered) over the folds' answerable questions."""
    contained = answerable = chars = answered = 0
    for folder in folders:
        for line in (folder / "cases.jsonl").read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            if not case.get("answers"):
                continue
            answerable += 1
            contained += bool(case["correct"])
            if not case["refused"]:
                answered += 1
                chars += len(case["answer"])
    return contained, answerable, round(chars / max(answered, 1))


def main(argv: list[str]) -> int:
    root, variants = Path(argv[0]), argv[1:]
    out = {}
    print("| variant | KorQuAD 1–70 held-out cont. | chars | KLUE odd held-out cont. | chars | mean |")
    print("|---|---|---|---|---|---|")
    for v in variants:
        row = {}
        for s in ("kq", "klue"):
            c, n, chars = pooled([root / f"cv-{v}-{f}-{s}" for f in "AB"])
            row[s] = {"contained": c, "answerable": n, "containment": round(c / n, 4), "chars": chars}
        out[v] = row
        print(f"| {v} | {row['kq']['containment']:.4f} ({row['kq']['contained']}/{row['kq']['answerable']}) | "
              f"{row['kq']['chars']} | {row['klue']['containment']:.4f} ({row['klue']['contained']}/"
              f"{row['klue']['answerable']}) | {row['klue']['chars']} | "
              f"{(row['kq']['containment'] + row['klue']['containment']) / 2:.4f} |")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
