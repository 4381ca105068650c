"""The answer figures of every held-out set, both modes, side by side with the previous committed run.

    python -m eval.scoreboard                              # extractive on every set (minutes)
    python -m eval.scoreboard --modes llm                  # the LLM on the fixed samples (100 KorQuAD + all its
                                                           # withheld ones, 100 KLUE, 50+50 KorQuAD-gap and
                                                           # follow-ups, all seeds: tens of minutes)
    python -m eval.scoreboard --sets seeds --modes extractive,llm
    python -m eval.scoreboard --half calibrate             # the calibration halves (for development)

Each (set, mode) is one `python -m eval` run in its own process (its own store, models and memory);
the figures are computed from its cases and written to eval/results/answers-<half>.json and .md.
Cells not rerun keep their value, so an LLM run and an extractive run can be made apart. The
"previous" columns are the file as committed at HEAD (`--against REV`: at another commit, e.g. the
one holding the BEFORE figures); where the previous run asked other questions (another sample or
split), the table says so instead of letting chance read as a change.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from rag.config import PROJECT_ROOT

from eval.metrics import mean_defined, percentile
from eval.runner import notice_counts, notice_kinds
from eval.stats import answer_shares, mcnemar, outcomes, paired_change, shares, wilson
from eval.selection import in_calibration_half

RESULTS_DIR = PROJECT_ROOT / "eval" / "results"
MODES = ("extractive", "llm")


@dataclass(frozen=True)
class EvalSet:
    name: str
    dataset: str
    split_rule: str  # how its halves are told apart (eval/selection.py); "" = the dataset spec does it
    llm_sample: str | None  # the fixed sample an LLM run asks (N answerable, M unanswerable)
    figures: tuple[str, ...]  # what the table shows for it
    extra: tuple[str, ...] = ()  # more arguments of its `python -m eval` runs


SETS = (
    # the LLM samples of the README's held-out table: a run without --llm-sample is comparable with it.
    # KorQuAD: every withheld question (548 on the report half): the refusal is mostly decided before the
    # model is called, so they cost ~6 min, and a sample of 100 was 0.745–0.891 wide around the target
    EvalSet("korquad", "korquad-open", "", "100",
            ("containment", "false_refusal_rate", "refusal_recall", "em", "f1", "short_wrong", "answer_chars")),
    # every KLUE question: its halves are both shown, as the fitted-on half must be named
    EvalSet("klue", "klue", "gold", "100",
            ("containment", "containment_answered", "refusal_rate", "containment_report_half",
             "containment_answered_report_half", "em", "f1", "short_wrong", "answer_chars")),
    # the same questions over a corpus twice the size and of two sources, as an archive is: KLUE's news and
    # encyclopedia passages indexed beside KorQuAD's paragraphs (their names no longer absent from the corpus)
    EvalSet("korquad-mixed", "korquad-open", "", "100",
            ("containment", "false_refusal_rate", "refusal_recall", "em", "f1", "short_wrong", "answer_chars"),
            ("--mix-with", "klue")),
    # the same open QA with each article one document, as a news archive holds them (the cited-article names
    # check and the source card read a document whole)
    EvalSet("korquad-articles", "korquad-articles", "", "100",
            ("containment", "false_refusal_rate", "refusal_recall", "em", "f1", "short_wrong", "answer_chars")),
    # the near miss: the article is there, the sentence answering one question of each paragraph is not
    EvalSet("korquad-gap", "korquad-gap", "", "50,50",
            ("containment", "false_refusal_rate", "refusal_recall", "answer_chars")),
    # a chat's next question: the article's name left out, said by the question before
    EvalSet("korquad-followup", "korquad-followup", "", "50,50",
            ("containment", "false_refusal_rate", "refusal_recall", "answer_chars")),
    # the same follow-ups with the name replaced by a referring expression ("그 정치인이 …") instead of left out
    EvalSet("korquad-followup-ref", "korquad-followup-ref", "", "50,50",
            ("containment", "false_refusal_rate", "refusal_recall", "answer_chars")),
    # a chat's third question: the name left out after a question naming it and a follow-up (two turns before)
    EvalSet("korquad-chain", "korquad-chain", "", "50,50",
            ("containment", "false_refusal_rate", "refusal_recall", "answer_chars")),
    # the same follow-ups after a topic switch: a question about another article, then one naming theirs
    EvalSet("korquad-switch", "korquad-switch", "", "50,50",
            ("containment", "false_refusal_rate", "refusal_recall", "answer_chars")),
    EvalSet("seeds", "eval/datasets/seeds.jsonl", "id", None,
            ("accuracy", "refusal_recall", "false_refusal_rate", "citation_validity")),
)
LATENCY = ("first_token_p50_ms", "first_verified_p50_ms", "total_p50_ms")


def figures(cases: Sequence[dict[str, Any]], split_rule: str = "") -> dict[str, Any]:
    """Every answer figure of one run, from its per-question cases (pure)."""
    answerable = [c for c in cases if c["answers"]]
    unanswerable = [c for c in cases if not c["answers"] and not c["gold"]]
    answered = [c for c in answerable if not c["refused"]]
    found = answer_shares(cases)
    # the share of right answers under a short value that is not the gold span nor a part of it
    wrong = shares(short_wrong=[c.get("short_wrong") for c in answerable])
    found["counts"].update(wrong.pop("counts"))
    out: dict[str, Any] = {
        "n": len(cases),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        **{k: v for k, v in found.items() if k != "counts"},
        "em": mean_defined(c.get("em") for c in answerable),
        "f1": mean_defined(c.get("f1") for c in answerable),
        **wrong,
        "citation_validity": mean_defined(c.get("citation_validity") for c in cases),
        "n_notice": sum(1 for c in cases if c.get("notice")),
        "notices": notice_counts(cases),
        # containment can be bought with longer answers: the length of what was answered shows it
        "answer_chars": mean_defined(len(c["answer"]) for c in answered if c.get("answer") is not None),
    }
    # first_token: the model's first token (or the extractive answer); first_verified: the first
    # checked sentence of the model, what a client sees after the draft. Over the answerable questions
    # where a set has them: a withheld question is mostly refused before the model is called, and how
    # many of them a run asks (a sample, or all 548) would otherwise set the median
    timed = answerable or cases
    for key in ("first_token", "first_verified", "total"):
        out[f"{key}_p50_ms"] = percentile([c["timings"][key] for c in timed if c["timings"].get(key) is not None], 50)
    if split_rule == "gold":
        from eval.datasets import Question

        report = [c for c in answerable
                  if not in_calibration_half(Question(c["id"], c["question"], (), tuple(c["gold"])), "gold")]
        half = shares(containment_report_half=[c["correct"] for c in report],
                      containment_answered_report_half=[c["correct"] for c in report if not c["refused"]])
        found["counts"].update(half.pop("counts"))
        out.update(half)
    out["counts"] = found["counts"]
    # which questions were right, a bit each: the next run of the same questions is compared question by question
    out.update(outcomes(cases))
    return out


def eval_command(s: EvalSet, mode: str, half: str, out: Path, llm_sample: str | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "eval", "--dataset", s.dataset, *s.extra, "--mode", mode, "--out", str(out),
           "--no-progress"]
    if s.name != "klue":  # KLUE is shown whole, with its report half as extra figures
        cmd += ["--split", half]
    if mode == "llm" and (llm_sample or s.llm_sample):
        cmd += ["--sample", llm_sample or s.llm_sample]
    return cmd


def run_one(s: EvalSet, mode: str, half: str, llm_sample: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"scoreboard-{s.name}-") as tmp:
        out = Path(tmp) / "run"
        cmd = eval_command(s, mode, half, out, llm_sample)
        print("$ " + " ".join(cmd[1:]).replace(str(out), "<tmp>"), flush=True)
        commit = _git_head()  # the code the run starts with (a commit made while it runs is not what it ran)
        subprocess.run(cmd, check=True, cwd=PROJECT_ROOT)
        cases = [json.loads(line) for line in (out / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line]
    row = figures(cases, s.split_rule)
    row["command"] = "python " + " ".join(cmd[1:cmd.index("--out")] + cmd[cmd.index("--out") + 2:])
    row["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    row["load_avg"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    row["commit"] = commit
    return row


def _git_head() -> str:
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                               cwd=PROJECT_ROOT, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    # (the results this scoreboard writes as it goes do not make the code dirty)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            f":!{RESULTS_DIR.relative_to(PROJECT_ROOT).as_posix()}"], capture_output=True,
                           text=True, cwd=PROJECT_ROOT).stdout.strip()
    return found.stdout.strip() + ("+dirty" if dirty else "")


def _committed(path: Path, rev: str) -> dict[str, Any]:
    """The file as committed at `rev` ({} when it was not there)."""
    relative = path.relative_to(PROJECT_ROOT).as_posix()
    found = subprocess.run(["git", "show", f"{rev}:{relative}"], capture_output=True, text=True, cwd=PROJECT_ROOT)
    return json.loads(found.stdout) if found.returncode == 0 and found.stdout.strip() else {}


def _cell(value: Any, key: str, counts: list[int] | None = None) -> str:
    """A figure as the table shows it: a share with its 95% interval where its counts were recorded."""
    if value is None:
        return "–"
    if key.endswith("_ms"):
        return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"
    if key == "n" or key.startswith("n_"):
        return f"{value:.0f}"
    interval = wilson(*counts) if counts else None
    return f"{value:.3f} ({interval[0]:.3f}–{interval[1]:.3f})" if interval else f"{value:.3f}"


# what each share is over, for rows written before their counts were recorded
_DENOMINATORS = {"accuracy": "n", "refusal_rate": "n", "containment": "n_answerable",
                 "false_refusal_rate": "n_answerable", "refusal_recall": "n_unanswerable"}


def counts_of(row: dict[str, Any], key: str) -> list[int] | None:
    """[k, m] of a share: as recorded, or (older rows) from its value and the count it is a share of."""
    recorded = row.get("counts", {}).get(key)
    if recorded:
        return recorded
    value = row.get(key)
    if value is None:
        return None
    m = row.get(_DENOMINATORS.get(key, ""))
    if key == "containment_answered" and row.get("n_answerable") and row.get("false_refusal_rate") is not None:
        m = round(row["n_answerable"] * (1 - row["false_refusal_rate"]))
    return [round(value * m), m] if m else None


def paired_line(mode: str, previous: dict[str, Any] | None, current: dict[str, Any] | None) -> str:
    """Right answers gained and lost question by question, where both runs recorded them for the same questions."""
    change = paired_change(previous or {}, current or {})
    if change is None:
        return ""
    gained, lost = change
    if not gained and not lost:
        return f"- {mode}: the same {current['n']} questions, previous → now: no question changed between right and wrong"
    return (f"- {mode}: the same {current['n']} questions, previous → now: {gained} right answers gained, {lost} lost "
            f"(exact McNemar p = {mcnemar(gained, lost):.2g}: the chance of a split this uneven if nothing changed)")


def asked(row: dict[str, Any]) -> str:
    """Which questions a run asked, from its command: its --sample, --ids and --split ("" = all of them)."""
    words = str(row.get("command", "")).split()
    return " ".join(f"{w} {words[i + 1]}" for i, w in enumerate(words[:-1]) if w in ("--sample", "--ids", "--split"))


def render(previous: dict[str, Any], current: dict[str, Any], rerun: set[tuple[str, str]]) -> str:
    """One markdown table per set: rows are figures, columns each mode's previous and current value."""
    lines = []
    for s in SETS:
        cols = [(mode, previous.get(s.name, {}).get(mode), current.get(s.name, {}).get(mode)) for mode in MODES]
        if not any(p or c for _, p, c in cols):
            continue
        # a cell differing from the committed one was rerun since, by this run or an earlier one left uncommitted
        fresh = {mode for mode, p, c in cols if (s.name, mode) in rerun or (c and c != p)}
        lines += [f"## {s.name}", "", "| figure | " + " | ".join(
            f"{mode} previous | {mode} now{'' if mode in fresh else ' (not rerun)'}" for mode, _, _ in cols)
            + " |", "|---" * (1 + 2 * len(cols)) + "|"]
        for key in ("n",) + s.figures + LATENCY:
            cells = []
            for _, p, c in cols:
                cells += [_cell(r.get(key), key, counts_of(r, key)) for r in (p or {}, c or {})]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
        lines.append("")
        for mode, p, c in cols:
            if c:
                kinds = notice_kinds(c.get("notices"))
                lines.append(f"- {mode}: `{c['command']}` ({c['date']}, commit {c['commit']}, load {c['load_avg']}"
                             + (f", {c['n_notice']} answers with a notice" if c.get("n_notice") else "")
                             + (f": {kinds}" if kinds else "") + ")")
            if not p or not c or p == c:  # (a cell not rerun since the commit compares with itself)
                continue
            paired = paired_line(mode, p, c)
            if paired:
                lines.append(paired)
            elif asked(p) != asked(c) or (p.get("ids_sha1") and c.get("ids_sha1") and p["ids_sha1"] != c["ids_sha1"]):
                # a sample of other questions moves every figure by chance: the columns are not a before/after
                lines.append(f"- **{mode}: previous and now asked different questions** "
                             f"(`{asked(p) or 'all'}` against `{asked(c) or 'all'}`): not a before and after")
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.scoreboard", description=__doc__.split("\n")[0])
    p.add_argument("--sets", default=",".join(s.name for s in SETS))
    p.add_argument("--modes", default="extractive", help="extractive, llm or both (comma-separated)")
    p.add_argument("--half", choices=("report", "calibrate"), default="report")
    p.add_argument("--against", default="HEAD", help="the commit whose figures are the previous columns")
    p.add_argument("--dry-run", action="store_true", help="print the table of the file as it is; run and write nothing")
    p.add_argument("--llm-sample", action="append", default=[], metavar="SET=N[,M]",
                   help="a smaller fixed LLM sample for one set, e.g. korquad=40,10 (samples are nested: the "
                        "questions with the smallest sha1(id), so 40,10 is part of 150,50)")
    args = p.parse_args(argv)
    samples = dict(x.split("=", 1) for x in args.llm_sample if "=" in x)
    wanted_sets = [s for s in SETS if s.name in {x.strip() for x in args.sets.split(",")}]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not wanted_sets or any(m not in MODES for m in modes):
        print(f"error: sets are {', '.join(s.name for s in SETS)}; modes are {', '.join(MODES)}", file=sys.stderr)
        return 2
    path = RESULTS_DIR / f"answers-{args.half}.json"
    previous = _committed(path, args.against)
    current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    rerun: set[tuple[str, str]] = set()
    if not args.dry_run:
        for s in wanted_sets:
            for mode in modes:
                try:
                    row = run_one(s, mode, args.half, samples.get(s.name))
                except subprocess.CalledProcessError as exc:
                    print(f"error: {s.name} / {mode} failed (exit {exc.returncode}); its cell keeps the previous value",
                          file=sys.stderr)
                    continue
                rerun.add((s.name, mode))
                # read again: another scoreboard (other sets, run meanwhile) may have written its cells
                current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
                current.setdefault(s.name, {})[mode] = row
                path.write_text(json.dumps(current, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    table = f"# Answer figures, {args.half} half\n\n" + render(previous, current, rerun)
    print(table)
    if not args.dry_run:  # a look at the file leaves it as it is (and its before/after with it)
        path.with_suffix(".md").write_text(table, encoding="utf-8")
        print(f"wrote {path} and {path.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
