"""Replay the extractive answer's choice over `eval.diagnose` records for a grid of a setting's values:
the evidence pool is kept, so a choice is compared without retrieving or ranking again.

    python -m eval.diagnose --dataset korquad-open --limit 1200 --out data/diag/korquad.jsonl
    python -m eval.diagnose --dataset klue --out data/diag/klue.jsonl
    python -m eval.replay data/diag/korquad.jsonl data/diag/klue.jsonl --setting slot_miss_factor --values 0,0.5,1

Records come from calibration halves only (`eval.diagnose` has no report-half option). The choice rule
printed last is the one the answer settings were chosen by: every set counts equally (the mean of each
set's containment), ties to the value listed first.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from eval.metrics import answer_matches

SETTINGS = ("slot_miss_factor", "second_share", "neighbour_share", "restatement_words", "third_share")


def evidence_of(record: dict[str, Any]) -> list[Any]:
    from rag.types import Evidence

    return [Evidence(n=e["n"], doc_id=e["doc_id"], text=e["text"], start=e["start"], end=e["end"],
                     title=e.get("title", ""), score=e["score"],
                     preceding=e.get("preceding", "")) for e in record["evidence"]]


def replay(records: Sequence[dict[str, Any]], korean: Any, setting: str, values: Sequence[float],
           base: dict[str, float]) -> dict[float, tuple[float, float]]:
    """(containment, mean answer characters) of the extractive answer over the answered, answerable
    records, per value."""
    from rag.extractive import extractive_answer

    kept = [r for r in records if r["answers"] and not r["refused"]]
    out: dict[float, tuple[float, float]] = {}
    for value in values:
        options = {**base, setting: value}
        texts = [extractive_answer(r["question"], evidence_of(r), korean, **options)[0] for r in kept]
        hits = sum(answer_matches(t, r["answers"]) for t, r in zip(texts, kept))
        n = len(kept) or 1
        out[value] = (hits / n, sum(map(len, texts)) / n)
    return out


def best_value(by_set: dict[str, dict[float, tuple[float, float]]]) -> float:
    """The value with the highest mean over sets of containment (sets count equally), first on ties.
    (Containment alone rewards longer answers: for a setting that adds sentences, such as
    second_share, weigh the answer length printed beside it.)"""
    values = list(next(iter(by_set.values())))
    return max(values, key=lambda v: (sum(s[v][0] for s in by_set.values()) / len(by_set), -values.index(v)))


_RECORD_KEYS = {"question", "answers", "refused", "evidence"}  # what `replay` reads of a diagnose record


def _numbers(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give numbers separated by commas, e.g. 0,0.5,1") from None


def main(argv: Sequence[str] | None = None) -> int:
    from rag.config import load_settings
    from rag.korean import KoreanText
    from rag.memo import MemoKorean
    from rag.vocabulary import Lexicon

    p = argparse.ArgumentParser(prog="python -m eval.replay", description=__doc__.split("\n")[0])
    p.add_argument("records", nargs="+", type=Path, help="JSONL written by python -m eval.diagnose --out")
    p.add_argument("--setting", choices=SETTINGS, default="slot_miss_factor")
    p.add_argument("--values", required=True, type=_numbers, help="comma-separated values to compare")
    args = p.parse_args(argv)
    settings = load_settings()
    korean = MemoKorean(KoreanText(lexicon=Lexicon.load(settings.answer.lexicon)))
    base = {name: float(getattr(settings.answer, name)) for name in SETTINGS}
    values = args.values
    by_set: dict[str, dict[float, tuple[float, float]]] = {}
    for path in args.records:
        try:
            records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            print(f"error: {path}: cannot read it as JSONL ({exc})", file=sys.stderr)
            return 2
        if not all(isinstance(r, dict) and _RECORD_KEYS <= r.keys() for r in records):
            print(f"error: {path} holds no `python -m eval.diagnose --out` records (a question file?): write them "
                  "with `python -m eval.diagnose --dataset … --out FILE`", file=sys.stderr)
            return 2
        by_set[path.stem] = replay(records, korean, args.setting, values, base)
    print(f"| {args.setting} | " + " | ".join(f"{name} (chars)" for name in by_set) + " | mean |")
    print("|---|" + "---|" * (len(by_set) + 1))
    for v in values:
        shares = [s[v][0] for s in by_set.values()]
        print(f"| {v:g} | " + " | ".join(f"{s[v][0]:.4f} ({s[v][1]:.0f})" for s in by_set.values())
              + f" | {sum(shares) / len(shares):.4f} |")
    print(f"chosen (sets count equally, first on ties): {args.setting} = {best_value(by_set):g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
