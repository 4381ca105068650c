"""Which questions a run asks: calibration / report halves and fixed samples, as pure functions.

The project's rule is to choose every threshold, weight and rule on a calibration half and to
report on the other half. Each set has one stated split rule:

- JSONL sets with numbered ids (seeds: "s01"…): odd id numbers calibrate, even ones report;
- KLUE-MRC dev: by the number of the question's passage (`klue_mrc_validation_000041.txt`: odd),
  so that a passage's questions never sit in both halves;
- KorQuAD open QA: by article range (1–70 calibrate, 71–140 report), chosen in the dataset spec.

A sample (for slow LLM runs) is the N answerable and M unanswerable questions with the smallest
sha1 of their id: fixed, independent of file order, and the same for every run and every version.

    questions = select_split(questions, "report", rule="id")
    questions = sample(questions, answerable=150, unanswerable=50)
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

from eval.datasets import DatasetError, Question

SPLITS = ("calibrate", "report")
RULES = ("id", "gold")
_TRAILING_NUMBER = re.compile(r"(\d+)(?=\D*$)")


def _number(text: str, where: str) -> int:
    match = _TRAILING_NUMBER.search(text)
    if match is None:
        raise DatasetError(f"{where} {text!r} has no number to split by parity: --split halves a set by the last "
                           "number in it (odd calibrate, even report); number them (q01, q02, …) or drop --split")
    return int(match.group(1))


def in_calibration_half(question: Question, rule: str = "id") -> bool:
    """Odd numbers calibrate. rule "id": the question id's last number; "gold": its first gold
    document's (a question without gold — an unanswerable one — falls back to its id)."""
    if rule not in RULES:
        raise DatasetError(f"unknown split rule {rule!r}: use one of {', '.join(RULES)}")
    if rule == "gold" and question.gold:
        return _number(question.gold[0], "gold document") % 2 == 1
    return _number(question.id, "question id") % 2 == 1


def select_split(questions: Sequence[Question], split: str | None, rule: str = "id") -> list[Question]:
    """The calibration or report half (None or "all": every question)."""
    if split in (None, "all"):
        return list(questions)
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}: use calibrate, report or all")
    want = split == "calibrate"
    return [q for q in questions if in_calibration_half(q, rule) == want]


def select_ids(questions: Sequence[Question], ids: Sequence[str]) -> list[Question]:
    """Exactly these questions, in the dataset's order; an unknown id is an error."""
    known = {q.id for q in questions}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise DatasetError(f"unknown question id(s): {', '.join(unknown[:5])}")
    wanted = set(ids)
    return [q for q in questions if q.id in wanted]


def _key(question: Question) -> str:
    return hashlib.sha1(question.id.encode("utf-8")).hexdigest()


def sample(questions: Sequence[Question], answerable: int | None, unanswerable: int | None = None) -> list[Question]:
    """The `answerable` + `unanswerable` questions with the smallest sha1(id), in dataset order
    (None: all of that kind)."""
    chosen: set[str] = set()
    for want, group in ((answerable, [q for q in questions if not q.unanswerable]),
                        (unanswerable, [q for q in questions if q.unanswerable])):
        ranked = sorted(group, key=_key)
        chosen.update(q.id for q in (ranked if want is None else ranked[:want]))
    return [q for q in questions if q.id in chosen]


def parse_sample(spec: str | None) -> tuple[int | None, int | None] | None:
    """"150,50" -> (150, 50); "150" -> (150, None: every unanswerable one); None -> no sampling."""
    if not spec:
        return None
    parts = [p.strip() for p in spec.split(",")]
    try:
        numbers = [int(p) for p in parts]
    except ValueError as exc:
        raise DatasetError(f"--sample {spec!r}: expected N or N,M (answerable, unanswerable)") from exc
    if len(numbers) > 2 or any(n < 0 for n in numbers):
        raise DatasetError(f"--sample {spec!r}: expected N or N,M (answerable, unanswerable)")
    return numbers[0], (numbers[1] if len(numbers) == 2 else None)
