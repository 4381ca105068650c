"""The eval run as an ML engineer meets it: the figures a run can and cannot give, what it says of its store,
its run folder as it fills (and a rerun that continues it) and what --publish may replace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import pytest

from rag.types import Answer, Article, Chunk, Hit, Turn

from eval.datasets import load_dataset
from eval.runner import run_cases, summarize
from test_eval import ingested  # noqa: F401 (ingested: the seeds store fixture, shared with the CLI tests)

SMOKE = Path(__file__).resolve().parent.parent / "eval" / "datasets" / "smoke.jsonl"


def _eval(args: Sequence[str], settings, embedder=None) -> int:
    from fakes import HashingEmbedder

    from eval.__main__ import main

    return main(["--no-progress", *args], settings=settings, embedder=embedder or HashingEmbedder())


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


# --- figures deeper than the hits a search returned -------------------------------------------------------------


class RankedDocs:
    """A pipeline whose every search ranks the same ten one-chunk documents d01..d10; answers read the top k."""

    def __init__(self) -> None:
        self.docs = [f"d{i:02d}" for i in range(1, 11)]

    def _hits(self, k: int | None) -> list[Hit]:
        chunks = [Chunk(chunk_id=f"{d}#0", doc_id=d, text=d, start=0, end=2) for d in self.docs]
        return [Hit(chunk=c, score=1.0 / i, rank=i) for i, c in enumerate(chunks[: k or 5], 1)]

    def search_modes(self, question: str, k: int | None = None) -> dict[str, list[Hit]]:
        return {"hybrid": self._hits(k)}

    def ask(self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None) -> Answer:
        return Answer(question=question, text="모름", refused=True, hits=tuple(self._hits(k)), mode="extractive")

    def article(self, doc_id: str) -> Article | None:
        return Article(doc_id=doc_id, text=doc_id)


def test_recall_at_10_of_an_answers_five_hits_is_not_available_rather_than_recall_at_5():
    """The gold document is 7th: over the 5 hits answering read, "R@10" said 0 where the search holds it at 7."""
    from eval.datasets import parse_lines

    questions = parse_lines(['{"id": "q", "question": "q", "answers": [["x"]], "gold": ["d07"]}'])
    case = run_cases(RankedDocs(), questions, mode="extractive", k=5)[0]
    assert case["recall@5"] == 0.0
    assert case["recall@10"] is None and case["mrr@10"] is None and case["ndcg@10"] is None
    assert "recall@10" not in summarize([case])["overall"]
    # the same question searched 10 deep scores it, and the answer's hits stay 5
    deep = run_cases(RankedDocs(), questions, retrieval_only=True, k=10)[0]
    assert deep["recall@10"] == 1.0 and deep["mrr@10"] == pytest.approx(1 / 7)
    # the settings' k stands for an unstated one: a pipeline asked with k=None still read only 5
    assert run_cases(RankedDocs(), questions, mode="extractive", depth=5)[0]["recall@10"] is None


def test_an_answer_run_says_which_figures_its_k_cannot_give(tmp_path: Path, ingested, capsys):
    out = tmp_path / "run"
    assert _eval(["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(out)], ingested) == 0
    summary = _summary(out)
    assert summary["run"]["k"] == 5
    assert summary["run"]["not_available"] == ["recall@10", "mrr@10", "ndcg@10"]
    assert "recall@10" not in summary["overall"] and "recall@5" in summary["overall"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "**not available**: R@10, MRR@10, nDCG@10" in report and "| R@10 |" not in report
    assert "not available: R@10" in capsys.readouterr().out
    # retrieval only searches 10 deep: every figure is there
    deep = tmp_path / "deep"
    assert _eval(["--dataset", str(SMOKE), "--retrieval-only", "--out", str(deep)], ingested) == 0
    assert "not_available" not in _summary(deep)["run"] and "recall@10" in _summary(deep)["modes"]["hybrid"]["overall"]


# --- each figure's n ----------------------------------------------------------------------------------------------


def test_each_figure_says_how_many_questions_it_is_over(tmp_path: Path, ingested):
    """Smoke: 7 questions, one to refuse. R@1 is a mean over the 6 with gold; the table's n said 7 for it."""
    questions = load_dataset(SMOKE)
    with_gold = sum(1 for q in questions if q.gold)
    assert (len(questions), with_gold) == (7, 6)
    out = tmp_path / "run"
    assert _eval(["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(out)], ingested) == 0
    overall = _summary(out)["overall"]
    assert overall["n"] == 7
    assert overall["n_by_figure"]["recall@1"] == overall["n_by_figure"]["containment"] == 6
    assert overall["n_by_figure"]["correct"] == 7 and overall["n_by_figure"]["refusal_recall"] == 1
    row = next(line for line in (out / "report.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| all |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    header = next(line for line in (out / "report.md").read_text(encoding="utf-8").splitlines()
                  if line.startswith("| set |"))
    by_title = dict(zip([c.strip() for c in header.strip("|").split("|")], cells))
    assert by_title["n"] == "7"
    assert by_title["R@1"] == f"{overall['recall@1']:.3f} (6)"
    assert by_title["accuracy"] == f"{overall['correct']:.3f}"  # over all 7: no count of its own
    assert by_title["refusal R"].endswith("(1)")

    deep = tmp_path / "deep"
    assert _eval(["--dataset", str(SMOKE), "--retrieval-only", "--out", str(deep)], ingested) == 0
    hybrid = _summary(deep)["modes"]["hybrid"]["overall"]
    assert hybrid["n"] == 7 and hybrid["n_by_figure"]["recall@10"] == 6
    assert f"| hybrid | 7 | {hybrid['recall@1']:.3f} (6) |" in (deep / "report.md").read_text(encoding="utf-8")


# --- gold documents the store lacks --------------------------------------------------------------------------------


def _question_file(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_gold_missing_from_the_store_is_counted_in_the_summary_and_report(tmp_path: Path, ingested):
    """A question set labelled against another corpus: the warning scrolled away, the figures stayed low."""
    rows = [{"id": "here", "question": "KT 파트너스 데이는 어디에서 열렸나?", "answers": [["더케이호텔"]],
             "gold": ["004_3623695115e5a12c.txt"]}]
    rows += [{"id": f"gone{i:02d}", "question": f"{i}번 기사의 요지는?", "answers": [["요지"]],
              "gold": [f"elsewhere-{i:02d}.txt"]} for i in range(25)]
    questions = _question_file(tmp_path / "mine.jsonl", rows)
    out = tmp_path / "run"
    assert _eval(["--dataset", str(questions), "--retrieval-only", "--out", str(out)], ingested) == 0
    missing = _summary(out)["run"]["missing_gold"]
    assert missing["count"] == 25 and missing["questions"] == 25
    assert missing["ids"] == [f"elsewhere-{i:02d}.txt" for i in range(20)]  # capped; the count is whole
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "**gold not in the store**: 25 document(s) (`elsewhere-00.txt`" in report and "`elsewhere-20.txt`" not in report
    # the questions asked: --limit 1 asks only the one whose gold is there
    first = tmp_path / "first"
    assert _eval(["--dataset", str(questions), "--retrieval-only", "--limit", "1", "--out", str(first)], ingested) == 0
    assert _summary(first)["run"]["missing_gold"] == {"count": 0, "ids": [], "questions": 0}
    assert "gold not in the store" not in (first / "report.md").read_text(encoding="utf-8")


def test_a_question_set_for_another_store_is_refused_before_any_question(tmp_path: Path, ingested, capsys):
    """Not one gold document in the store (the seeds' questions run against another archive): the run went on
    behind a warning, and every figure measured the mismatch."""
    rows = [{"id": f"q{i}", "question": f"{i}번 기사의 요지는?", "answers": [["요지"]], "gold": [f"other-{i}.txt"]}
            for i in range(3)] + [{"id": "q9", "question": "없는 회사의 매출은?", "answers": [], "gold": []}]
    questions = _question_file(tmp_path / "theirs.jsonl", rows)
    out = tmp_path / "run"
    for mode in (["--mode", "extractive"], ["--retrieval-only"]):
        assert _eval(["--dataset", str(questions), *mode, "--out", str(out)], ingested) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"error: none of the 3 gold document(s) these questions name is in the store "
                       f"{ingested.store.dir} (5 documents), e.g. other-0.txt: the questions were written for another "
                       "store (give it as --store) or for articles not ingested yet"]
        assert not out.exists()
    # one gold document there is a run (the others counted as missing), and so is a set of questions to refuse only
    rows[1]["gold"] = ["004_3623695115e5a12c.txt"]
    _question_file(questions, rows)
    assert _eval(["--dataset", str(questions), "--mode", "extractive", "--out", str(out)], ingested) == 0
    assert _summary(out)["run"]["missing_gold"]["count"] == 2
    _question_file(questions, rows[3:])
    assert _eval(["--dataset", str(questions), "--mode", "extractive", "--out", str(out)], ingested) == 0


# --- --publish ------------------------------------------------------------------------------------------------------


def test_a_partial_run_publishes_beside_the_whole_sets_results_never_over_them(tmp_path: Path, ingested, monkeypatch):
    import eval.__main__ as cli

    results = tmp_path / "results"
    monkeypatch.setattr(cli, "RESULTS_DIR", results)  # eval/results/ is the repository's

    def publish(*args: str) -> set[str]:
        before = set(p.name for p in results.iterdir()) if results.exists() else set()
        assert _eval(["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(tmp_path / "run"), "--publish",
                      *args], ingested) == 0
        return {p.name for p in results.iterdir()} - before

    whole = publish()
    assert len(whole) == 1 and next(iter(whole)).endswith("-smoke-extractive")
    whole_dir = results / next(iter(whole))
    assert _summary(whole_dir)["overall"]["n"] == 7
    assert [name[11:] for name in publish("--limit", "2")] == ["smoke-extractive-limit2"]
    assert [name[11:] for name in publish("--sample", "2,1")] == ["smoke-extractive-sample2-1"]
    (ids,) = publish("--ids", "s15,s01")
    assert ids[11:].startswith("smoke-extractive-ids") and publish("--ids", "s01,s15") == set()  # same ids, same folder
    # the whole set's published figures are still the whole set's
    assert _summary(whole_dir)["overall"]["n"] == 7 and _summary(whole_dir)["run"]["command"].endswith("--publish")


# --- a run stopped halfway, and --resume -----------------------------------------------------------------------------


class Interrupting:
    """The hashing embedder, stopped by `stop` (Ctrl-C: KeyboardInterrupt) while a query containing `at` is
    embedded after `after` such queries went through; `on_disk` is how many cases cases.jsonl held at that moment."""

    def __init__(self, at: str, cases: Path | None = None, stop: type[BaseException] = KeyboardInterrupt,
                 after: int = 0) -> None:
        from fakes import HashingEmbedder

        self._inner, self.at, self.cases, self.stop, self.after = HashingEmbedder(), at, cases, stop, after
        self.name, self.dimension, self.max_tokens = self._inner.name, self._inner.dimension, self._inner.max_tokens
        self.on_disk: int | None = None

    def embed_passages(self, texts):
        return self._inner.embed_passages(texts)

    def embed_queries(self, texts):
        if any(self.at in t for t in texts) and self.after:
            self.after -= 1
        elif any(self.at in t for t in texts):
            if self.cases is not None:
                self.on_disk = len(self.cases.read_text(encoding="utf-8").splitlines()) if self.cases.exists() else 0
            raise self.stop("stopped here by the test")
        return self._inner.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)


def _interrupted(args: Sequence[str], settings, at: str) -> int:
    """Runs eval with Ctrl-C pressed at the question `at`; the exit code (a KeyboardInterrupt escaping eval, as
    pytest would otherwise take it for the user's own, is a failure)."""
    try:
        return _eval(args, settings, Interrupting(at))
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped python -m eval: no word on the partial run nor how to resume it")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _without_timings(summary: dict) -> dict:
    run = {k: v for k, v in summary["run"].items() if k not in ("started", "seconds")}
    return {**{k: v for k, v in summary.items() if k != "latency_ms"}, "run": run}


def test_an_interrupted_run_keeps_its_cases_and_resumes_to_the_same_summary(tmp_path: Path, ingested, capsys):
    questions = load_dataset(SMOKE)
    out = tmp_path / "run"
    args = ["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(out)]
    assert _interrupted(args, ingested, questions[4].question) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("interrupted: 4 of 7 questions done")
    assert err[0].endswith(f"continue with: python -m eval --no-progress {' '.join(args)} --resume")
    # the folder as Ctrl-C left it: the finished cases, on disk, and no summary that would pass for a whole run
    assert [c["id"] for c in _lines(out / "cases.jsonl")] == [q.id for q in questions[:4]]
    assert not (out / "summary.json").exists()
    # a rerun that forgets --resume would lose them: refused
    assert _eval(args, ingested) == 2
    assert "holds an interrupted run (4 of 7 questions done): add --resume" in capsys.readouterr().err

    (out / "cases.jsonl").open("a", encoding="utf-8").write('{"id": "s46", "question": "cut off by a cra')
    assert _eval([*args, "--resume"], ingested) == 0
    assert "reusing the cases of 4 of 7 questions" in capsys.readouterr().out
    resumed = _summary(out)
    assert [c["id"] for c in _lines(out / "cases.jsonl")] == [q.id for q in questions]

    assert _eval(args, ingested) == 0  # the same run uninterrupted, into the same folder (a finished one is replaced)
    whole = _summary(out)
    assert resumed["run"]["command"] == whole["run"]["command"]  # the run's command, without --resume
    assert _without_timings(resumed) == _without_timings(whole)


def test_each_case_is_on_disk_before_the_next_question_and_survives_a_crash(tmp_path: Path, ingested, capsys):
    """A backend dying at question 6 of an LLM run: the 5 answers before it are in cases.jsonl, the crash says how
    to continue, and --resume asks only from the sixth on."""
    questions = load_dataset(SMOKE)
    out = tmp_path / "run"
    args = ["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(out)]
    crashing = Interrupting(questions[5].question, cases=out / "cases.jsonl", stop=RuntimeError)
    with pytest.raises(RuntimeError, match="stopped here by the test"):
        _eval(args, ingested, crashing)
    assert crashing.on_disk == 5  # written and flushed as each was scored, not at the end
    crashed = capsys.readouterr().err
    assert "crashed: 5 of 7 questions done" in crashed and crashed.rstrip().endswith(f"{' '.join(args)} --resume")
    asked = []
    from fakes import HashingEmbedder

    class Recording(HashingEmbedder):
        def embed_queries(self, texts):
            asked.extend(texts)
            return super().embed_queries(texts)

    assert _eval([*args, "--resume"], ingested, Recording()) == 0
    assert not any(q.question in text for q in questions[1:5] for text in asked)  # (the first one warms up)
    assert any(questions[5].question in text for text in asked)
    assert [c["id"] for c in _lines(out / "cases.jsonl")] == [q.id for q in questions]


def test_a_ctrl_c_while_the_report_is_written_keeps_every_case(tmp_path: Path, ingested, monkeypatch):
    """The cases are on disk as they are scored; writing the summary and report must not write them again (a
    rewrite empties the file first): a Ctrl-C there left a truncated cases.jsonl, the only copy of an LLM run."""
    import eval.report

    class InterruptedJson:
        """eval.report's json, with Ctrl-C pressed at its first line written."""

        @staticmethod
        def dumps(value, **kwargs):
            raise KeyboardInterrupt("pressed by the test")

    questions = load_dataset(SMOKE)
    out = tmp_path / "run"
    args = ["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(out)]
    monkeypatch.setattr(eval.report, "json", InterruptedJson)
    with pytest.raises(KeyboardInterrupt):
        _eval(args, ingested)
    monkeypatch.undo()
    written = (out / "cases.jsonl").read_text(encoding="utf-8")
    assert [c["id"] for c in _lines(out / "cases.jsonl")] == [q.id for q in questions]
    assert _eval([*args, "--resume"], ingested) == 0  # nothing left to ask: the summary of the cases kept
    assert _summary(out)["overall"]["n"] == 7 and (out / "cases.jsonl").read_text(encoding="utf-8") == written
    assert (out / "report.md").is_file()


def test_a_user_error_before_the_first_case_leaves_no_interrupted_run_behind(tmp_path: Path, ingested, capsys):
    """A question the pipeline refuses to take, the first one asked: the run ends in one line, its folder's
    run.json is closed (its seconds counted) and a rerun into the folder is not refused as an interrupted run of
    0 questions done."""
    from rag.pipeline import QuestionError

    questions = load_dataset(SMOKE)
    out = tmp_path / "run"
    args = ["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(out)]
    refusing = Interrupting(questions[0].question, stop=QuestionError, after=1)  # (the warm-up asks it first)
    assert _eval(args, ingested, refusing) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["error: stopped here by the test"]
    assert (out / "cases.jsonl").read_text(encoding="utf-8") == ""
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["seconds"] > 0  # closed: this part counted
    assert _eval(args, ingested) == 0
    assert [c["id"] for c in _lines(out / "cases.jsonl")] == [q.id for q in questions]


def test_resume_refuses_a_folder_of_another_run_in_one_line(tmp_path: Path, ingested, capsys):
    questions = load_dataset(SMOKE)
    out = tmp_path / "run"
    args = ["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(out)]
    assert _interrupted(args, ingested, questions[2].question) == 130
    capsys.readouterr()

    def refused(*extra: str, settings=ingested) -> str:
        assert _eval([*args, *extra, "--resume"], settings) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: --resume: {out} holds a run with other ")
        return err[0]

    assert "k (5 → 3)" in refused("--k", "3")
    assert "n_questions (7 → 2)" in refused("--limit", "2")
    from dataclasses import replace

    stricter = replace(ingested, answer=replace(ingested.answer, refusal_min_probability=0.4))
    assert "settings.answer" in refused(settings=stricter)
    assert len(_lines(out / "cases.jsonl")) == 2  # nothing of it lost
    # and --resume into a folder that holds nothing yet simply starts
    fresh = tmp_path / "fresh"
    assert _eval(["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(fresh), "--resume", "--limit", "2"],
                 ingested) == 0
    assert "reusing the cases of 0 of 2 questions" in capsys.readouterr().out
    assert _eval(["--dataset", str(SMOKE), "--resume"], ingested) == 2
    assert "--resume continues the run in --out" in capsys.readouterr().err


def test_out_into_a_folder_of_other_files_named_like_a_runs_is_refused_and_they_are_kept(tmp_path: Path, ingested,
                                                                                          capsys):
    """`--out ~/notes`, which holds the engineer's own report.md: the run wrote over it without a word."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "report.md").write_text("# my notes\n", encoding="utf-8")
    args = ["--dataset", str(SMOKE), "--mode", "extractive", "--limit", "1", "--out", str(notes)]
    for extra in ([], ["--resume"]):
        assert _eval([*args, *extra], ingested) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"error: --out {notes} holds report.md that no eval run wrote (it has no run.json): a run "
                       "would replace them; give another --out"]
        assert (notes / "report.md").read_text(encoding="utf-8") == "# my notes\n"
        assert sorted(p.name for p in notes.iterdir()) == ["report.md"]
    # a folder of other files only, a run's own folder, and one from before run.json are taken
    (notes / "report.md").unlink()
    (notes / "todo.txt").write_text("x", encoding="utf-8")
    assert _eval(args, ingested) == 0 and (notes / "todo.txt").read_text(encoding="utf-8") == "x"
    assert _eval(args, ingested) == 0
    (notes / "run.json").unlink()
    assert _eval(args, ingested) == 0


def test_an_llm_run_without_a_usable_llm_is_refused_before_any_question(tmp_path: Path, ingested, capsys):
    """A missing model file: one warning scrolled by, then every answer was the extractive fallback, and the summary
    and report called the run an LLM run with the extractive figures."""
    from dataclasses import replace

    out = tmp_path / "run"
    args = ["--dataset", str(SMOKE), "--mode", "llm", "--out", str(out)]
    assert _eval(args, ingested) == 2  # the test settings' backend is extractive: no LLM at all
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: an LLM run, and no LLM is configured (generation.backend is "
                                               "extractive)")
    missing = tmp_path / "no-such-model.gguf"
    local = replace(ingested, generation=replace(ingested.generation, backend="local", model=str(missing)))
    for mode in (["--mode", "llm"], []):  # asked for, and the local backend's by default
        assert _eval(["--dataset", str(SMOKE), *mode, "--out", str(out)], local) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: an LLM run, and the LLM cannot load (") and str(missing) in err[0]
        assert "--mode extractive" in err[0]
    assert not (out / "summary.json").exists() and not (out / "cases.jsonl").exists()
    assert _eval(["--dataset", str(SMOKE), "--mode", "extractive", "--limit", "1", "--out", str(out)], local) == 0


def test_warm_up_is_called_as_the_bench_scripts_call_it(ingested):
    """bench/evidence_budget_llm.py and bench/first_token_ab.py call `warm_up(pipe, questions, llm=True)`: a
    required settings argument made both stop with a TypeError before their first question."""
    from fakes import HashingEmbedder

    from eval.__main__ import EvalError, warm_up
    from rag.pipeline import build_pipeline

    pipe = build_pipeline(ingested, embedder=HashingEmbedder())
    try:
        with pytest.raises(EvalError, match="no LLM is configured"):  # the test settings' backend is extractive
            warm_up(pipe, [], llm=True)
        warm_up(pipe, [], llm=False)
    finally:
        pipe.close()


def test_resume_refuses_after_a_lexicon_prompt_or_model_file_was_edited_but_not_a_server_setting(
        tmp_path: Path, ingested, capsys):
    """answer.lexicon and answer.prompts name folders, the fitted models files: a file edited there between the
    parts of a run is another system at the same settings, whose answers must not be mixed with the first part's;
    the server's settings (app, uploads) and where files live change no answer."""
    import shutil
    from dataclasses import replace

    from rag.config import PROJECT_ROOT

    lexicon, prompts, fitted = tmp_path / "lexicon", tmp_path / "prompts", tmp_path / "value.json"
    shutil.copytree(PROJECT_ROOT / "rag" / "lexicon", lexicon)
    shutil.copytree(PROJECT_ROOT / "prompts", prompts)
    shutil.copy(ingested.answer.value_model, fitted)
    settings = replace(ingested, answer=replace(ingested.answer, lexicon=(lexicon,), prompts=(prompts,),
                                                value_model=fitted))
    questions = load_dataset(SMOKE)
    args = ["--dataset", str(SMOKE), "--mode", "extractive"]

    def interrupted(name: str) -> list[str]:
        out = tmp_path / name
        assert _eval([*args, "--out", str(out)], settings, Interrupting(questions[2].question)) == 130
        capsys.readouterr()
        return [*args, "--out", str(out), "--resume"]

    def refused(resume: list[str], what: str) -> None:
        assert _eval(resume, settings) == 2
        err = capsys.readouterr().err
        assert "holds a run with other" in err and what in err

    resume = interrupted("lexicon")
    with (lexicon / "refusal_cues.txt").open("a", encoding="utf-8") as fh:
        fh.write("문맥에 없는 내용\n")  # a new cue: an answer saying it is refused
    refused(resume, "lexicon")
    resume = interrupted("prompts")
    with (prompts / "system.txt").open("a", encoding="utf-8") as fh:
        fh.write("한 문장으로 답하세요.\n")
    refused(resume, "prompts")
    resume = interrupted("fitted")
    fitted.write_text(json.dumps(json.loads(fitted.read_text(encoding="utf-8")), indent=1), encoding="utf-8")
    refused(resume, "fitted_models")  # (python -m eval.fit value rewrote it: the same setting, another model)

    resume = interrupted("server")
    served = replace(settings, app=replace(settings.app, rate_limit_per_minute=5, admin_token="a" * 20),
                     uploads=replace(settings.uploads, max_file_mb=1.0),
                     paths=replace(settings.paths, max_article_chars=50_000))
    assert _eval(resume, served) == 0
    assert "reusing the cases of 2 of 7 questions" in capsys.readouterr().out


def test_the_systems_table_of_eval_compare_leaves_out_what_its_k_cannot_give():
    from eval.compare import score_rankings
    from eval.datasets import parse_lines

    (q,) = parse_lines(['{"id": "q", "question": "q", "answers": [["x"]], "gold": ["d07"]}'])
    five = [f"d{i:02d}" for i in range(1, 6)]
    assert score_rankings([five], [q], depth=5) == {"recall@1": 0.0, "recall@5": 0.0, "mrr@10": None, "ndcg@10": None}
    ten = [f"d{i:02d}" for i in range(1, 11)]
    assert score_rankings([ten], [q], depth=10)["mrr@10"] == pytest.approx(1 / 7)


# --- every figure explained ------------------------------------------------------------------------------------------


def _figures_section() -> str:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Every figure a run prints**")
    return readme[start:readme.index("\n## ", start)]


def test_every_figure_the_console_and_report_print_is_explained_in_the_readme(tmp_path: Path, ingested, capsys):
    """containment, false_refusal_rate, refusal_rate, wrong short, contain (answered), first_token: printed by every
    run, and defined nowhere a user reads."""
    from eval.__main__ import CONSOLE_FIGURES, SHARE_FIGURES
    from eval.report import _COLUMNS

    section = _figures_section()
    out = tmp_path / "run"
    assert _eval(["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(out)], ingested) == 0
    latency = [f"`latency_ms.{key}`" for key in _summary(out)["latency_ms"]]
    named = [f"`{key}`" for key in (*CONSOLE_FIGURES, *SHARE_FIGURES)] + [f"`{title}`" for title, _ in _COLUMNS]
    named += [f"`{key}`" for _, key in _COLUMNS]
    assert [name for name in (*named, *latency) if name not in section] == []
    assert "stricter refusal bars" in capsys.readouterr().out and "stricter refusal bars" in section


def test_the_console_counts_the_answers_that_carry_a_fallback_notice(capsys):
    from eval.__main__ import _print_summary

    _print_summary({"overall": {"n": 3, "correct": 1.0, "n_notice": 2, "notices": {"llm_unverified": 2}}})
    assert "notices: 2 answer(s) carry a fallback notice (llm_unverified 2)" in capsys.readouterr().out
    assert "notices" in _figures_section()


def test_compare_to_takes_an_earlier_runs_folder(tmp_path: Path, ingested, capsys):
    args = ["--dataset", str(SMOKE), "--mode", "extractive", "--limit", "2"]
    assert _eval([*args, "--out", str(tmp_path / "old")], ingested) == 0
    assert _eval([*args, "--k", "3", "--out", str(tmp_path / "new"), "--compare-to", str(tmp_path / "old")], ingested) == 0
    compared = _summary(tmp_path / "new")["compare"]
    assert "| overall | accuracy |" in compared and "The runs differ in k (5 → 3)" in compared
