"""The eval data contract: JSONL, one question per line, validated with line numbers.

    {"id": "q01", "question": "...", "answers": [["1,030억", "1030억"]], "gold": ["001_....txt"],
     "type": "numeric", "history": [{"role": "user", "content": "..."}, ...],
     "filters": {"date_from": "2023-01-01", "date_to": "...", "publisher": ["..."], "source": ["2024/"]}}

`answers` is a list of groups (every group must be matched by one of its strings); empty `answers`
together with empty `gold` marks a question the corpus cannot answer, which must be refused.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from rag.filters import FilterError, make_filters
from rag.types import Filters, Turn

class DatasetError(ValueError):
    """A dataset line that does not follow the contract; the message names file and line."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[tuple[str, ...], ...]
    gold: tuple[str, ...]
    type: str = ""
    history: tuple[Turn, ...] = ()
    filters: Filters | None = None  # optional: the question is asked within these (as the API's "filters")

    @property
    def unanswerable(self) -> bool:
        return not self.answers and not self.gold


def load_dataset(path: str | Path) -> list[Question]:
    """Read and validate a JSONL dataset; raises DatasetError naming the first bad line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a BOM (Windows editors) is no content
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: no such dataset file") from exc
    except IsADirectoryError as exc:
        raise DatasetError(f"{path}: a folder, not a JSONL dataset file") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    return parse_lines(lines, str(path))


def parse_lines(lines: Iterable[str], name: str = "<dataset>") -> list[Question]:
    """Validate JSONL lines (blank lines are skipped); ids must be unique."""
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno})") from exc
        question = parse_question(obj, where)
        if question.id in seen:
            raise DatasetError(f"{where}: duplicate id {question.id!r} (first on line {seen[question.id]})")
        seen[question.id] = lineno
        questions.append(question)
    if not questions:
        raise DatasetError(f"{name}: no questions")
    return questions


def parse_question(obj: Any, where: str = "<question>") -> Question:
    """One contract object -> Question, or DatasetError saying what is wrong."""
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    # extra fields are allowed (notes, sources...), but a singular "answer" is a typo that would
    # otherwise silently turn the question into an unanswerable one
    if "answer" in obj and "answers" not in obj:
        raise DatasetError(f"{where}: found 'answer'; the contract's field is 'answers' (a list of groups)")
    for key in obj:  # so is any field one slip from the contract's: "histroy" asked a follow-up without its turns
        field = _misspelt(key)
        if field is not None and field not in obj:
            raise DatasetError(f"{where}: found {key!r}; the contract's field is {field!r}")
    qid = obj.get("id")
    if not isinstance(qid, (str, int)) or isinstance(qid, bool) or str(qid).strip() == "":
        raise DatasetError(f"{where}: 'id' must be a non-empty string")
    text = obj.get("question")
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"{where}: 'question' must be a non-empty string")
    answers = _string_groups(obj.get("answers", []), where)
    # doc ids are NFC (rag/corpus.py): a gold id written decomposed must name the same article
    gold = tuple(unicodedata.normalize("NFC", g) for g in _strings(obj.get("gold", []), "gold", where))
    if answers and not gold:
        raise DatasetError(f"{where}: 'answers' given but 'gold' is empty (name the source documents)")
    qtype = obj.get("type", "")
    if not isinstance(qtype, str):
        raise DatasetError(f"{where}: 'type' must be a string")
    history = _history(obj.get("history", []), where)
    return Question(str(qid), text, answers, gold, qtype, history, _filters(obj.get("filters"), where))


# the contract's fields a slip of the keyboard can miss without an error (id and question are required)
OPTIONAL_FIELDS = ("answers", "gold", "type", "history", "filters")


def _misspelt(key: str) -> str | None:
    """The optional field `key` is one slip from (capitals, a letter added or dropped, two neighbours swapped, or
    in a longer name one letter changed), else None; a field of its own ("note", "source", "good") is none."""
    for field in OPTIONAL_FIELDS:
        if key != field and _one_slip(key.lower(), field):
            return field
    return None


def _one_slip(typed: str, field: str) -> bool:
    if typed == field:
        return True
    if len(typed) == len(field):
        diff = [i for i, (x, y) in enumerate(zip(typed, field)) if x != y]
        swapped = (len(diff) == 2 and diff[1] == diff[0] + 1
                   and typed[diff[0]] == field[diff[1]] and typed[diff[1]] == field[diff[0]])
        # (one letter changed in a four-letter name is too often another word: "good", "typo")
        return swapped or (len(diff) == 1 and len(field) > 4)
    short, long = sorted((typed, field), key=len)
    return len(long) - len(short) == 1 and any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _filters(value: Any, where: str) -> Filters | None:
    if value is None:
        return None
    known = {"date_from", "date_to", "publisher", "source"}
    if not isinstance(value, dict) or set(value) - known:
        raise DatasetError(f"{where}: 'filters' must be an object with {', '.join(sorted(known))}")
    try:
        return make_filters(value.get("date_from"), value.get("date_to"), value.get("publisher"), value.get("source")) or None
    except FilterError as exc:
        raise DatasetError(f"{where}: filters: {exc}") from exc


def _strings(value: Any, field: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        raise DatasetError(f"{where}: '{field}' must be a list of non-empty strings")
    return tuple(value)


def _string_groups(value: Any, where: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list):
        raise DatasetError(f"{where}: 'answers' must be a list of groups, e.g. [[\"1,030억\", \"1030억\"]]")
    groups = []
    for i, group in enumerate(value):
        if not isinstance(group, list) or not group:
            raise DatasetError(f"{where}: answers[{i}] must be a non-empty list of strings")
        groups.append(_strings(group, f"answers[{i}]", where))
    return tuple(groups)


def _history(value: Any, where: str) -> tuple[Turn, ...]:
    if not isinstance(value, list):
        raise DatasetError(f"{where}: 'history' must be a list of {{role, content}} turns")
    turns = []
    for i, turn in enumerate(value):
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in ("user", "assistant")
            or not isinstance(turn.get("content"), str)
        ):
            raise DatasetError(f"{where}: history[{i}] must be {{\"role\": \"user\"|\"assistant\", \"content\": str}}")
        turns.append(Turn(role=turn["role"], content=turn["content"]))
    return tuple(turns)


def question_to_json(question: Question) -> dict[str, Any]:
    """The contract form of a Question (for writing datasets back out)."""
    out: dict[str, Any] = {
        "id": question.id,
        "question": question.question,
        "answers": [list(g) for g in question.answers],
        "gold": list(question.gold),
        "type": question.type,
    }
    if question.history:
        out["history"] = [{"role": t.role, "content": t.content} for t in question.history]
    if question.filters:
        f = question.filters
        out["filters"] = {k: v for k, v in (("date_from", f.date_from), ("date_to", f.date_to),
                                            ("publisher", list(f.publisher)), ("source", list(f.source))) if v}
    return out
