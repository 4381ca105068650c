"""Which decision points of the answer layer no fast test notices (issue 9: "every rule that remains has
a test that fails without it"), checked by mutation, not a test.

    nice -n 10 .venv/bin/python bench/rule_mutants.py --label before            # the default modules
    nice -n 10 .venv/bin/python bench/rule_mutants.py --label after --retest before rag/slots.py

For each module, every `if`/`elif`/`while` test, comprehension `if` and conditional expression is
forced to True and to False, and every operand of an `and`/`or` is dropped, one mutant at a time.
A mutant is written over the module in this checkout (the original bytes are put back in a `finally`,
and a backup under the temp folder restores a module a killed run left mutated), then the fast tests
that import the module — or import a rag module that imports it — and execute the mutated line (a
traced run of the unmodified module says which) run with `pytest -x`; a mutant those pass is run once
more against their whole files and the module's own test file (a line behind a cache runs only in
the first test that reaches it). A mutant no test executes is "uncovered". One Kiwi per user
dictionary is shared among the tests of a run (speed only). A failing run kills the mutant; a
passing one means no test notices the rule: it is dead code, an untested guard, or an untested rule.
Results go to bench/results/rule_mutants_<date>.{json,md}, keyed by run label and module; a module
already done for the label with the same source and tests is skipped, so an interrupted run restarts
where it stopped. The markdown's "## Triage" section is kept as written.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import fnmatch
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODULES = ["rag/extractive.py", "rag/grounding.py", "rag/slots.py", "rag/agreement.py", "rag/claimvalue.py",
                   "rag/citations.py", "rag/short_answer.py", "rag/evidence.py", "rag/streaming.py"]
BACKUPS = Path(tempfile.gettempdir()) / f"rule_mutants_backup_{hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]}"
TRIAGE_HEADING = "## Triage"
PLUGIN = BACKUPS.parent / f"{BACKUPS.name}_plugin" / "rule_mutants_plugin.py"
STATUSES = ("killed", "survived", "uncovered", "timeout", "invalid")


@dataclass(frozen=True)
class Mutant:
    line: int
    kind: str        # "if True", "elif False", "drop and[1]", …
    function: str    # the enclosing def, so a mutant is found again after lines move
    original: str    # the mutated expression as written
    start: tuple[int, int]
    end: tuple[int, int]
    replacement: str
    lines: frozenset[int]  # a test that executes none of these cannot see the mutant
    # the key: stable when lines move; "#2" for the second mutant of the same text in one function
    key: str = ""


class _Finder(ast.NodeVisitor):
    """Collects the decision points of one module, with the enclosing function's name."""

    def __init__(self, source: str) -> None:
        self.source, self.lines, self.mutants, self._scope, self._statements = source, source.splitlines(), [], [], []

    def visit(self, node: ast.AST) -> None:
        if not isinstance(node, ast.stmt):
            return super().visit(node)
        self._statements.append(node)
        super().visit(node)
        self._statements.pop()

    def _segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ""

    def _add(self, node: ast.expr, kind: str, replacement: str) -> None:
        self.mutants.append(Mutant(node.lineno, kind, ".".join(self._scope) or "<module>", self._segment(node),
                                   (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset),
                                   replacement,
                                   frozenset(range(node.lineno, node.end_lineno + 1)) | {self._statements[-1].lineno}))

    def _force(self, test: ast.expr, word: str) -> None:
        if isinstance(test, ast.Constant):
            return  # `while True:` is a loop, not a decision
        self._add(test, f"{word} True", "(True)")
        self._add(test, f"{word} False", "(False)")

    def _scoped(self, node: ast.AST) -> None:
        self._scope.append(node.name)
        self.generic_visit(node)
        self._scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def visit_If(self, node: ast.If) -> None:
        if not self._is_type_checking(node.test):
            elif_ = self.lines[node.lineno - 1][node.col_offset:].startswith("elif")
            self._force(node.test, "elif" if elif_ else "if")
        self.generic_visit(node)

    def visit_While(self, node: ast.While) -> None:
        self._force(node.test, "while")
        self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._force(node.test, "ifexp")
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        for test in node.ifs:
            self._force(test, "comp-if")
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        op = "and" if isinstance(node.op, ast.And) else "or"
        parts = [self._segment(v) for v in node.values]
        for i in range(len(parts)):
            rest = parts[:i] + parts[i + 1:]
            self._add(node, f"drop {op}[{i}]", "(" + f" {op} ".join(f"({p})" for p in rest) + ")")
        self.generic_visit(node)

    @staticmethod
    def _is_type_checking(test: ast.expr) -> bool:
        return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def find_mutants(source: str) -> list[Mutant]:
    """Every mutant of `source`'s decision points, in source order."""
    finder = _Finder(source)
    finder.visit(ast.parse(source))
    seen: dict[str, int] = {}
    out = []
    for m in sorted(finder.mutants, key=lambda m: (m.start, m.kind)):
        base = f"{m.function}|{m.kind}|{m.original}"
        seen[base] = seen.get(base, 0) + 1
        out.append(replace(m, key=base if seen[base] == 1 else f"{base}#{seen[base]}"))
    return out


def apply(source: str, mutant: Mutant) -> str:
    """`source` with the mutant's expression replaced; the surrounding text is untouched."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode("utf-8")))
    raw = source.encode("utf-8")  # ast columns are UTF-8 byte offsets

    def at(pos: tuple[int, int]) -> int:
        return offsets[pos[0] - 1] + pos[1]

    return (raw[:at(mutant.start)] + mutant.replacement.encode("utf-8") + raw[at(mutant.end):]).decode("utf-8")


def mutated_line(source: str, mutant: Mutant) -> str:
    """The first line of the mutated statement, as the mutant writes it (for the report)."""
    text = apply(source, mutant).splitlines()[mutant.line - 1].strip()
    return text if len(text) <= 160 else text[:157] + "…"


def importers(module: str) -> list[str]:
    """Test files that import `module`, then those that import a rag module importing it."""
    name = Path(module).with_suffix("").as_posix().replace("/", ".")
    short = name.rsplit(".", 1)[-1]

    def pattern(dotted: str) -> re.Pattern:
        package, leaf = dotted.rsplit(".", 1)
        return re.compile(rf"^\s*(from\s+{re.escape(dotted)}\s+import|import\s+{re.escape(dotted)}\b|"
                          rf"from\s+{re.escape(package)}\s+import\s+[^\n]*\b{leaf}\b)", re.M)

    def users(dotted: str, files: list[Path]) -> list[Path]:
        return [f for f in files if pattern(dotted).search(f.read_text(encoding="utf-8"))]

    tests = sorted((ROOT / "tests").glob("test_*.py"))
    direct = users(name, tests)
    parents = [p for p in users(name, sorted((ROOT / "rag").rglob("*.py"))) if p.stem != short]
    second = [t for p in parents for t in users(p.relative_to(ROOT).with_suffix("").as_posix().replace("/", "."), tests)]
    ordered = list(dict.fromkeys(direct + second))
    return [t.relative_to(ROOT).as_posix() for t in ordered]


# A pytest plugin for every run of the tool. It shares one Kiwi per user dictionary among the tests'
# KoreanText instances (each file builds its own, ~1 s each; Kiwi is only read after it is built, so
# the answers are the same), and in the traced run records which lines of the target file each test
# executes.
_PLUGIN = """
import json, os, sys, threading
import pytest
import rag.korean

_built = {}
_analyzer = rag.korean.KoreanText._analyzer


def _shared(self):
    if self._kiwi is None:
        key = tuple(self._user_words)
        if key not in _built:
            _built[key] = _analyzer(self)
        self._kiwi = _built[key]
    return self._kiwi


rag.korean.KoreanText._analyzer = _shared

_TARGET = os.environ.get("RULE_MUTANTS_TARGET")
_lines = {}
_current = ["<collect>"]


def _local(frame, event, arg):
    if event == "line":
        _lines.setdefault(_current[0], set()).add(frame.f_lineno)
    return _local


def _global(frame, event, arg):
    return _local if frame.f_code.co_filename == _TARGET else None


if _TARGET:
    sys.settrace(_global)
    threading.settrace(_global)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _current[0] = item.nodeid
    yield
    _current[0] = "<session>"


def pytest_sessionfinish(session, exitstatus):
    if _TARGET:
        with open(os.environ["RULE_MUTANTS_TRACE"], "w", encoding="utf-8") as f:
            json.dump({k: sorted(v) for k, v in _lines.items()}, f)
"""


def run_tests(tests: list[str], timeout: float, trace: Path | None = None,
              target: Path | None = None, skip: list[str] = ()) -> tuple[str, float]:
    """("passed" | "failed" | "timeout", seconds) for the fast tests (files or node ids) in `tests`,
    less the node ids in `skip`; with `trace`, the lines of `target` each test executes are written
    there as JSON."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # no bytecode of a mutant is left behind
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-m", "not slow", "-p", "no:cacheprovider",
               "-p", "rule_mutants_plugin"]
    PLUGIN.parent.mkdir(parents=True, exist_ok=True)
    if not PLUGIN.exists() or PLUGIN.read_text(encoding="utf-8") != _PLUGIN:
        PLUGIN.write_text(_PLUGIN, encoding="utf-8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN.parent), env.get("PYTHONPATH")]))
    if trace is not None:
        env.update(RULE_MUTANTS_TARGET=str(target), RULE_MUTANTS_TRACE=str(trace))
    start = time.monotonic()
    deselect = [arg for node in skip for arg in ("--deselect", node)]
    process = subprocess.Popen(command + deselect + tests, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        rc = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only the pytest this run started
            process.wait()
    # 5: every test was deselected (those `skip` names were all there was): nothing failed
    return ("passed" if rc == 0 or (rc == 5 and skip) else "failed"), time.monotonic() - start


def covering(trace: dict[str, list[int]], lines: set[int], tests: list[str]) -> list[str]:
    """The tests (node ids) that execute one of `lines`; all of `tests` when a line runs outside a test."""
    if any(lines & set(trace.get(key, ())) for key in ("<collect>", "<session>")):
        return tests
    return [nodeid for nodeid, executed in trace.items() if not nodeid.startswith("<") and lines & set(executed)]


def confirming(chosen: list[str], tests: list[str], module: str) -> list[str]:
    """The whole files of the `chosen` tests plus the module's own test file (tests/test_<name>.py), when
    it imports the module: a mutant that passes the tests executing its line is run against these."""
    own = f"tests/test_{Path(module).stem}.py"
    files = [t for t in tests if t == own] + [n.split("::", 1)[0] for n in chosen]
    return list(dict.fromkeys(files))


def restore_left_backups() -> None:
    """Put back a module that an earlier, killed run left mutated."""
    for backup in BACKUPS.rglob("*.py") if BACKUPS.exists() else []:
        target = ROOT / backup.relative_to(BACKUPS)
        target.write_bytes(backup.read_bytes())
        backup.unlink()
        print(f"restored {target.relative_to(ROOT)} from a backup an interrupted run left", file=sys.stderr)


def mutate_module(module: str, tests: list[str], timeout_factor: float, limit: int | None,
                  killed_before: frozenset[str] = frozenset(), confirm: bool = True) -> dict:
    """Every mutant of `module` against the tests of `tests` that execute its line; the module's bytes
    are the same afterwards. A mutant whose key is in `killed_before` (killed by a run on the same
    tests or fewer) is not run again: more tests cannot let it survive."""
    path = ROOT / module
    original = path.read_bytes()
    source = original.decode("utf-8")
    with tempfile.TemporaryDirectory(prefix="rule_mutants_") as folder:
        trace_path = Path(folder) / "trace.json"
        baseline, base_s = run_tests(tests, 900, trace_path, path)
        if baseline != "passed":
            raise SystemExit(f"{module}: the unmutated tests do not pass ({baseline}); fix that first")
        trace = json.loads(trace_path.read_text(encoding="utf-8"))
    timeout = max(30.0, timeout_factor * base_s)
    mutants = find_mutants(source)[:limit]
    backup = BACKUPS / module
    backup.parent.mkdir(parents=True, exist_ok=True)
    backup.write_bytes(original)
    results, started = [], time.monotonic()
    try:
        for i, mutant in enumerate(mutants, 1):
            text = apply(source, mutant)
            chosen = covering(trace, set(mutant.lines), tests)
            seconds = 0.0
            try:
                compile(text, module, "exec")
            except SyntaxError:
                status = "invalid"
            else:
                if mutant.key in killed_before:
                    status = "killed"  # carried over (--retest)
                elif not chosen:
                    status = "uncovered"  # no test executes the line: it survives without a run
                else:
                    path.write_text(text, encoding="utf-8")
                    try:
                        status, seconds = run_tests(chosen, timeout)
                        wider = confirming(chosen, tests, module) if confirm else chosen
                        if status == "passed" and wider != chosen:
                            # a line behind a cache ("compiled once per lexicon") runs only in the first
                            # test that reaches it: a survivor faces those tests' files and the module's own
                            status, more = run_tests(wider, timeout, skip=chosen)  # those just passed
                            seconds += more
                            chosen = wider
                    finally:
                        path.write_bytes(original)
                    status = {"failed": "killed", "passed": "survived"}.get(status, status)
            results.append({"line": mutant.line, "kind": mutant.kind, "function": mutant.function,
                            "original": mutant.original, "mutated": mutated_line(source, mutant),
                            "key": mutant.key, "status": status, "tests": len(chosen), "seconds": round(seconds, 1)})
            print(f"  [{i}/{len(mutants)}] {module}:{mutant.line} {mutant.kind:<14} {status} "
                  f"({len(chosen)} tests, {seconds:.1f} s)", file=sys.stderr)
    finally:
        path.write_bytes(original)
        backup.unlink(missing_ok=True)
    counts = {s: sum(r["status"] == s for r in results) for s in STATUSES}
    return {"module": module, "sha1": hashlib.sha1(original).hexdigest(), "tests": tests,
            "baseline_s": round(base_s, 1), "timeout_s": round(timeout, 1), "mutants": len(results),
            "counts": counts, "seconds": round(time.monotonic() - started, 1), "complete": limit is None,
            "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "load": [round(x, 2) for x in os.getloadavg()], "results": results}


def write_markdown(data: dict, path: Path) -> None:
    """The summary tables, each run's survivors, and the hand-written triage kept from the old file."""
    triage = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if TRIAGE_HEADING in old:
            triage = old[old.index(TRIAGE_HEADING):]
    out = ["# Rule mutants: decision points of the answer layer that no fast test notices", "",
           "Written by `bench/rule_mutants.py` (its docstring says what a mutant is). *survived*: the mutant",
           "changed a decision and every fast test that executes the line still passed; *uncovered*: no fast",
           "test that imports the module (or a rag module importing it) executes the line at all.", ""]
    for label, run in data["runs"].items():
        modules = run["modules"].values()
        out += [f"## Run `{label}`", "", f"Command: `{run['command']}`", "",
                "| module | mutants | killed | survived | uncovered | timeout | test files | baseline s | run s "
                "| load (1/5/15) | finished |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
        for module, m in run["modules"].items():
            c = m["counts"]
            out.append(f"| {module} | {m['mutants']} | {c['killed']} | {c['survived']} | {c['uncovered']} | "
                       f"{c['timeout']} | {len(m['tests'])} | {m['baseline_s']} | {m['seconds']} | "
                       f"{' / '.join(map(str, m['load']))} | {m['finished']} |"
                       + (f" killed of `{m['retest_of']}` carried over" if m.get("retest_of") else ""))
        total = {s: sum(m["counts"][s] for m in modules) for s in STATUSES}
        out += [f"| **all** | {sum(m['mutants'] for m in modules)} | {total['killed']} | {total['survived']} | "
                f"{total['uncovered']} | {total['timeout']} | | | {round(sum(m['seconds'] for m in modules))} | | |",
                "", f"Survivors of `{label}`:", "", "| module:line | status | mutant | function | mutated line |",
                "|---|---|---|---|---|"]
        for module, m in run["modules"].items():
            for r in m["results"]:
                if r["status"] in ("survived", "uncovered"):
                    mutated = r["mutated"].replace("|", "\\|")
                    out.append(f"| {module}:{r['line']} | {r['status']} | {r['kind']} | {r['function']} | `{mutated}` |")
        out.append("")
    path.write_text("\n".join(out) + ("\n" + triage if triage else ""), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", default=DEFAULT_MODULES)
    parser.add_argument("--label", default="before", help="the run's name in the results (before, after, …)")
    parser.add_argument("--out", type=Path, default=ROOT / f"bench/results/rule_mutants_{dt.date.today():%Y-%m-%d}",
                        help="results path without suffix: .json and .md are written")
    parser.add_argument("--force", action="store_true", help="run a module again though it is done for --label")
    parser.add_argument("--timeout-factor", type=float, default=4.0,
                        help="a mutant's tests time out at this many times the unmutated run (at least 30 s)")
    parser.add_argument("--limit", type=int, help="only the first N mutants of each module (a trial; not saved)")
    parser.add_argument("--retest", metavar="LABEL",
                        help="take the mutants killed in run LABEL as killed and run only the others "
                             "(after adding tests; a mutant of changed source is run again)")
    parser.add_argument("--list", action="store_true", help="print the mutants and the tests, run nothing")
    parser.add_argument("--no-confirm", action="store_true",
                        help="count a mutant the tests executing its line pass as survived without the confirming "
                             "run (for a module with no cache: much faster where its test files are slow)")
    parser.add_argument("--with", dest="with_", action="append", default=[], metavar="GLOB",
                        help="add the test files matching GLOB to those the import scan finds (a test that reaches "
                             "the module through a helper, e.g. tests/realapp.py -> rag.pipeline -> rag.search)")
    parser.add_argument("--without", action="append", default=[], metavar="GLOB",
                        help="leave out the test files matching GLOB (e.g. 'tests/test_browser*.py': a real browser "
                             "takes minutes a mutant); a mutant only those would kill then counts as survived")
    args = parser.parse_args(argv)
    # SIGTERM unwinds through the `finally` that puts the module back
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    restore_left_backups()
    json_path, md_path = args.out.with_suffix(".json"), args.out.with_suffix(".md")
    data = json.loads(json_path.read_text(encoding="utf-8")) if json_path.exists() else {"runs": {}}
    run = data["runs"].setdefault(args.label, {"modules": {}})
    run["command"] = "nice -n 10 .venv/bin/python bench/rule_mutants.py " + " ".join(argv if argv is not None else sys.argv[1:])
    for module in args.modules:
        added = [t.relative_to(ROOT).as_posix() for glob in args.with_ for t in sorted(ROOT.glob(glob))]
        tests = [t for t in dict.fromkeys(importers(module) + added)
                 if not any(fnmatch.fnmatch(t, glob) for glob in args.without)]
        source = (ROOT / module).read_text(encoding="utf-8")
        if args.list:
            print(f"{module}: {len(find_mutants(source))} mutants; tests: {' '.join(tests)}")
            for m in find_mutants(source):
                print(f"  {m.line:4} {m.kind:<14} {m.function:<30} {mutated_line(source, m)}")
            continue
        done = run["modules"].get(module)
        sha1 = hashlib.sha1(source.encode("utf-8")).hexdigest()
        if done and done["complete"] and done["sha1"] == sha1 and done["tests"] == tests and not args.force:
            print(f"{module}: done for {args.label!r}, skipped", file=sys.stderr)
            continue
        if not tests:
            print(f"{module}: no test imports it, skipped", file=sys.stderr)
            continue
        earlier = data["runs"].get(args.retest, {"modules": {}})["modules"].get(module) if args.retest else None
        killed = frozenset(r["key"] for r in earlier["results"] if r["status"] == "killed") if earlier else frozenset()
        result = mutate_module(module, tests, args.timeout_factor, args.limit, killed, not args.no_confirm)
        if args.retest:
            result["retest_of"] = args.retest
        print(f"{module}: {result['counts']} in {result['seconds']} s", file=sys.stderr)
        if args.limit is None:
            run["modules"][module] = result
            json_path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            write_markdown(data, md_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
