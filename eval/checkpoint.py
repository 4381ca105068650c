"""The run folder as it fills: every case appended to cases.jsonl the moment it is scored, and run.json saying
which run the folder holds, so a run stopped halfway (Ctrl-C, a crash, a machine taken back) keeps what it did
and `python -m eval … --resume` continues it instead of asking every question again.

    reused, recorded = reusable_cases(out_dir, fingerprint, questions)   # --resume; refuses another run's folder
    log = CaseLog(out_dir, fingerprint, reused, recorded or {"started": …, "command": …})
    run_cases(pipe, questions[len(reused):], on_case=log.append)
    log.close(seconds)            # also on Ctrl-C: the seconds of this part join the total
    ...                           # summary and report written
    log.mark_complete()

A case is reused only when the run that wrote it asked the same questions with the same mode, k, settings (and
the lexicon, prompt and fitted model files they name) and store (`fingerprint`); the code's commit is not part of
it, so a fix to the harness can finish an LLM run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from rag.vocabulary import Lexicon

from eval.datasets import Question, question_to_json

RUN_FILE = "run.json"
CASES_FILE = "cases.jsonl"


class CheckpointError(RuntimeError):
    """A run folder that cannot be continued (or must not be overwritten); the message says what to do."""


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


# The settings sections an answer depends on: how a question is embedded (embedding), how the store's articles
# were cut (chunking), how hits are found and fused (retrieval), the generator (generation) and how an answer is
# made from them (answer). Left out: paths (where files live, ingest's bounds), store (its folder and search breadth
# are in the store's description; the rest is how ingest writes), app and uploads (the server's limits, the admin
# token): changing them between the parts of a run changes no answer, so --resume takes it.
ANSWER_SECTIONS = ("embedding", "chunking", "retrieval", "generation", "answer")
# answer settings naming a fitted model file: re-fitting one (python -m eval.fit) changes answers at the same path
FITTED_MODELS = ("evidence_model", "refusal_model", "phrase_model", "value_model")


def fingerprint(questions: Sequence[Question], settings: Any, *, mode: str, k: int, store: Mapping[str, Any]
                ) -> dict[str, Any]:
    """What must be the same for a case to be reused: the mode and k as they are, the questions, the settings
    sections answers depend on, the files those settings name (lexicon, prompts, fitted models) and the store's
    description (documents, chunks, generation, embedding model) as digests — run.json names what differs
    without holding a setting's value."""
    out: dict[str, Any] = {"mode": mode, "k": k, "n_questions": len(questions),
                           "questions": _digest([question_to_json(q) for q in questions])}
    for name in ANSWER_SECTIONS:
        out[f"settings.{name}"] = _digest(dataclasses.asdict(getattr(settings, name)))
    # answer.lexicon and answer.prompts name folders: an edited file there is another system at the same setting
    answer = settings.answer
    lexicon = Lexicon.load(answer.lexicon)
    # (its fingerprint keys the tokenizer's caches and so leaves out sentence_words.txt, which short answers read)
    out["lexicon"] = _digest([lexicon.fingerprint, sorted(lexicon.sentence_words)])
    out["prompts"] = _digest([[(p.name, _file_digest(p)) for p in sorted(Path(folder).glob("*.txt"))]
                              for folder in answer.prompts])
    out["fitted_models"] = _digest({name: _file_digest(Path(getattr(answer, name))) for name in FITTED_MODELS})
    out["store"] = _digest(dict(store))
    return out


def _file_digest(path: Path) -> str | None:
    """The sha1 of a file's bytes; None when there is none (a run that never reads it)."""
    return hashlib.sha1(path.read_bytes()).hexdigest() if path.is_file() else None


def read_run(out_dir: Path) -> dict[str, Any] | None:
    """The folder's run.json; None when it has none."""
    path = out_dir / RUN_FILE
    if not path.is_file():
        return None
    try:
        recorded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: cannot read it ({exc}); give another --out") from exc
    if not isinstance(recorded, dict) or not isinstance(recorded.get("fingerprint"), dict):
        raise CheckpointError(f"{path} is not an eval run's run.json; give another --out")
    return recorded


def read_cases(out_dir: Path) -> list[dict[str, Any]]:
    """The complete case lines of the folder's cases.jsonl, in order; a line cut off by the interruption (the last
    one) ends them."""
    path = out_dir / CASES_FILE
    if not path.is_file():
        return []
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            case = json.loads(line)
        except json.JSONDecodeError:
            break
        if not isinstance(case, dict) or "id" not in case:
            break
        cases.append(case)
    return cases


# what a run writes into its folder (eval.report.write_run and CaseLog): a folder holding one of them without being
# a run's would lose that file to the run
RUN_OUTPUTS = (CASES_FILE, "summary.json", "report.md", "recall_at_k.png", "latency.png")


def check_is_run_folder(out_dir: Path) -> None:
    """Refuse an --out that holds files a run would replace but that no eval run wrote (a folder of notes with its
    own report.md, a project folder): they would be overwritten without a word. A run's folder (its run.json, or a
    summary.json of a run from before run.json existed) and a folder without such files are taken."""
    if not out_dir.is_dir() or (out_dir / RUN_FILE).is_file():
        return
    clash = [name for name in RUN_OUTPUTS if (out_dir / name).exists()]
    if not clash or _summary_of_a_run(out_dir / "summary.json"):
        return
    raise CheckpointError(f"--out {out_dir} holds {', '.join(clash)} that no eval run wrote (it has no {RUN_FILE}): "
                          "a run would replace them; give another --out")


def _summary_of_a_run(path: Path) -> bool:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(summary, dict) and "overall" in summary and "run" in summary


def check_not_interrupted(out_dir: Path) -> None:
    """Without --resume: refuse to start over in a folder holding an interrupted run (its cases would be lost); a
    finished run's folder is overwritten as it always was, and so is one that stopped before its first case was
    done (there is nothing to lose)."""
    recorded = read_run(out_dir) if out_dir.is_dir() else None
    done = len(read_cases(out_dir)) if recorded is not None and not recorded.get("complete") else 0
    if done:
        raise CheckpointError(f"--out {out_dir} holds an interrupted run ({done} of "
                              f"{recorded['fingerprint'].get('n_questions', '?')} questions done): add --resume to "
                              "continue it, or give another --out")


def reusable_cases(out_dir: Path, expected: Mapping[str, Any], questions: Sequence[Question]
                   ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """--resume: the folder's cases, in question order, when its run is this one, and its run.json (None for a
    folder without a run, which starts from the first question). Refuses another run's folder in one line."""
    recorded = read_run(out_dir) if out_dir.is_dir() else None
    if recorded is None:
        if (out_dir / CASES_FILE).is_file():
            raise CheckpointError(f"--resume: {out_dir} holds cases but no {RUN_FILE} (a run from before --resume): "
                                  "its settings cannot be checked; give another --out")
        return [], None
    found = recorded["fingerprint"]
    differ = [key for key in dict.fromkeys([*expected, *found]) if expected.get(key) != found.get(key)]
    if differ:
        shown = ", ".join(f"{key} ({found.get(key)} → {expected.get(key)})" if key in ("mode", "k", "n_questions")
                          else key for key in differ)
        raise CheckpointError(f"--resume: {out_dir} holds a run with other {shown}: rerun it as it was, or give "
                              "another --out")
    by_id: dict[str, dict[str, Any]] = {}
    for case in read_cases(out_dir):
        by_id.setdefault(str(case["id"]), case)
    reused = []
    for q in questions:  # the questions are asked in order: the cases done are a prefix
        if q.id not in by_id:
            break
        reused.append(by_id[q.id])
    return reused, recorded


class CaseLog:
    """cases.jsonl and run.json of a run in progress: each case on disk (flushed) once scored."""

    def __init__(self, out_dir: Path, expected: Mapping[str, Any], reused: Sequence[dict[str, Any]],
                 recorded: Mapping[str, Any]) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.path = out_dir / CASES_FILE
        self.count = len(reused)
        self._run = {"fingerprint": dict(expected), "started": recorded.get("started"),
                     "command": recorded.get("command"), "seconds": float(recorded.get("seconds") or 0.0),
                     "complete": False}
        self._write_run()
        # the reused cases first, written whole before the old file is replaced: a second interruption here
        # loses nothing
        spare = self.path.with_suffix(".jsonl.tmp")
        with spare.open("w", encoding="utf-8") as fh:
            for case in reused:
                fh.write(json.dumps(case, ensure_ascii=False) + "\n")
        os.replace(spare, self.path)
        self._fh = self.path.open("a", encoding="utf-8")

    @property
    def started(self) -> str | None:
        return self._run["started"]

    @property
    def command(self) -> str | None:
        return self._run["command"]

    @property
    def seconds(self) -> float:
        """Seconds spent asking so far, over every part of a resumed run."""
        return self._run["seconds"]

    def append(self, case: dict[str, Any]) -> None:
        self._fh.write(json.dumps(case, ensure_ascii=False) + "\n")
        self._fh.flush()  # a Ctrl-C or a crash after this case keeps it
        self.count += 1

    def close(self, seconds: float) -> None:
        """This part of the run has ended (all asked, or interrupted): its seconds join the total."""
        if not self._fh.closed:
            self._fh.close()
            self._run["seconds"] += seconds
            self._write_run()

    def mark_complete(self) -> None:
        """Summary and report are written: a later run into the folder overwrites it, as before --resume."""
        self._run["complete"] = True
        self._write_run()

    def _write_run(self) -> None:
        path = self.out_dir / RUN_FILE
        spare = path.with_suffix(".json.tmp")
        spare.write_text(json.dumps(self._run, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(spare, path)
