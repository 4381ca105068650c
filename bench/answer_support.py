"""How well the answerability model's probability marks the answers it lets through: for every question of a
calibration half, the extractive answer and the fitted P(answerable) of its passages (`Grounding.probability`),
and whether the answer is right, wrong, or given where it had to be refused. A measurement for a possible
"check the source" caution on answers the model is unsure of; nothing in rag/ reads it.

    python bench/answer_support.py --dataset korquad-open --out O.jsonl      # also korquad-gap, klue
    python bench/answer_support.py --summary O.jsonl G.jsonl K.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def run(dataset: str, out: str) -> None:
    from eval.__main__ import parse_args, prepare
    from eval.metrics import answer_matches
    from rag.config import load_settings

    settings = load_settings()
    pipe, questions, _ = prepare(parse_args(["--dataset", dataset, "--split", "calibrate", "--no-progress"]), settings, None)
    with open(out, "w", encoding="utf-8") as f:
        for q in questions:
            if q.history:
                continue
            answer = pipe.ask(q.question, mode="extractive")
            _, _, grounding = pipe.answerer.gather(q.question, settings.retrieval.k)
            f.write(json.dumps({"id": q.id, "must_refuse": q.unanswerable, "refused": answer.refused,
                                "p": grounding.probability, "correct": not answer.refused and bool(q.answers)
                                and answer_matches(answer.text, q.answers)}) + "\n")
    pipe.close()


def summary(paths: Sequence[str]) -> None:
    for path in paths:
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]
        answered = [r for r in rows if not r["refused"]]
        groups = {"right": [r["p"] for r in answered if r["correct"]],
                  "wrong": [r["p"] for r in answered if not r["correct"] and not r["must_refuse"]],
                  "answered though it must refuse": [r["p"] for r in answered if r["must_refuse"]]}
        print(f"{path}: {len(rows)} questions, {len(answered)} answered")
        for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
            print(f"  P < {t}: " + ", ".join(f"{name} {sum(p < t for p in ps)}/{len(ps)}" for name, ps in groups.items()))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset")
    p.add_argument("--out")
    p.add_argument("--summary", nargs="*")
    args = p.parse_args(argv)
    if args.summary:
        summary(args.summary)
    else:
        run(args.dataset, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
