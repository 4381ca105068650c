"""Held-out evaluation: KorQuAD with withheld articles, calibration/report halves, fixed samples,
the shortest cited span for EM/F1, and the scoreboard's figures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from eval.datasets import DatasetError, Question, load_dataset
from eval.korquad import KORQUAD_PATH, is_withheld, load_korquad, load_korquad_articles, load_korquad_open
from eval.metrics import korquad_f1, shortest_cited_span
from eval.scoreboard import figures
from eval.selection import in_calibration_half, parse_sample, sample, select_ids, select_split

DATASETS = Path(__file__).resolve().parent.parent / "eval" / "datasets"


def q(qid: str, gold: tuple[str, ...] = ("d.txt",), answers=(("x",),)) -> Question:
    return Question(qid, "질문?", answers if gold else (), gold)


def test_korquad_open_withholds_every_fifth_article_and_its_questions_must_be_refused():
    corpus, questions = load_korquad_open(KORQUAD_PATH, "1-10")
    articles = {int(a.doc_id.split("-")[1]) for a in corpus}
    assert 5 not in articles and 10 not in articles and 140 not in articles
    assert {1, 4, 6, 139} <= articles  # both halves are indexed whole, apart from the withheld ones
    withheld = [x for x in questions if x.type == "korquad-withheld"]
    kept = [x for x in questions if x.type == "korquad"]
    assert withheld and kept
    assert all(x.unanswerable for x in withheld)
    assert all(x.gold[0] in {a.doc_id for a in corpus} and x.answers for x in kept)
    assert [is_withheld(n) for n in (4, 5, 70, 71)] == [False, True, True, False]


def test_korquad_articles_holds_each_indexed_article_whole_and_points_its_questions_at_it():
    paragraphs, by_paragraph = load_korquad_open(KORQUAD_PATH, "1-10")
    corpus, questions = load_korquad_articles(KORQUAD_PATH, "1-10")
    first = [a for a in paragraphs if a.doc_id.startswith("korquad-001-")]
    assert len(first) > 1 and corpus[0].doc_id == "korquad-001" and corpus[0].title == first[0].title
    assert corpus[0].text == "\n\n".join(a.text for a in first)  # every paragraph, in order
    assert len(corpus) == len({a.doc_id.rsplit("-", 1)[0] for a in paragraphs})  # the same articles withheld
    assert "".join(a.text for a in corpus).count("\n\n") == len(paragraphs) - len(corpus)
    assert [(x.id, x.answers, x.type) for x in questions] == [(x.id, x.answers, x.type) for x in by_paragraph]
    for whole, part in zip(questions, by_paragraph):
        assert whole.gold == ((part.gold[0].rsplit("-", 1)[0],) if part.gold else ())
    assert {x.gold[0] for x in questions if x.gold} <= {a.doc_id for a in corpus}


def test_halves_split_by_id_or_by_gold_document_parity():
    questions = [q("s01"), q("s02"), q("s13", gold=()), q("klue_q_000004", ("klue_000041.txt",))]
    assert [x.id for x in select_split(questions, "calibrate", "id")] == ["s01", "s13"]
    assert [x.id for x in select_split(questions, "report", "id")] == ["s02", "klue_q_000004"]
    # by gold: the passage's number decides, so one passage's questions stay in one half
    assert in_calibration_half(questions[3], "gold") and not in_calibration_half(questions[3], "id")
    assert in_calibration_half(questions[2], "gold")  # no gold: its id decides
    assert select_split(questions, "all") == questions
    with pytest.raises(DatasetError):
        select_split([q("abc")], "report")


def test_klue_copy_splits_into_two_halves_of_whole_passages():
    questions = load_dataset(DATASETS / "klue_mrc_dev" / "questions.jsonl")
    calibrate, report = select_split(questions, "calibrate", "gold"), select_split(questions, "report", "gold")
    assert len(calibrate) + len(report) == len(questions) == 498
    assert not {x.gold[0] for x in calibrate} & {x.gold[0] for x in report}
    assert (DATASETS / "klue_mrc_dev" / "SOURCE.md").read_text(encoding="utf-8").count("CC BY-SA 4.0")
    assert len(list((DATASETS / "klue_mrc_dev" / "corpus").glob("*.txt"))) == 1076


def test_klue_english_set_is_the_chosen_translations_and_splits_like_klue():
    from eval.__main__ import KLUE_SETS
    from rag.glossary import mostly_foreign

    korean = {x.id: x for x in load_dataset(DATASETS / "klue_mrc_dev" / "questions.jsonl")}
    english = load_dataset(DATASETS / "klue_mrc_dev" / KLUE_SETS["klue-en"])
    for half in ("calibrate", "report"):
        chosen = select_split(english, half, "gold")
        translated = [x for x in chosen if not x.unanswerable]
        # the 30 of that half with the smallest sha1(id), as `--sample 30` picks them from the Korean set
        assert {x.id for x in translated} == {x.id for x in sample(select_split(list(korean.values()), half, "gold"), 30, 0)}
        assert sum(x.unanswerable for x in chosen) == 5
        for x in translated:  # the Korean question's gold passage and spans, an English question
            assert (x.gold, x.answers) == (korean[x.id].gold, korean[x.id].answers) and mostly_foreign(x.question)


def test_a_sample_is_fixed_by_the_ids_not_by_the_order():
    questions = [q(f"a{i}") for i in range(20)] + [q(f"u{i}", gold=()) for i in range(10)]
    chosen = sample(questions, 5, 2)
    assert sum(not x.unanswerable for x in chosen) == 5 and sum(x.unanswerable for x in chosen) == 2
    assert [x.id for x in sample(list(reversed(questions)), 5, 2)] == [x.id for x in reversed(chosen)]
    assert len(sample(questions, 5)) == 5 + 10  # no M: every unanswerable question
    assert parse_sample("150,50") == (150, 50) and parse_sample("7") == (7, None) and parse_sample(None) is None
    with pytest.raises(DatasetError):
        parse_sample("many")
    assert [x.id for x in select_ids(questions, ["u3", "a1"])] == ["a1", "u3"]
    with pytest.raises(DatasetError, match="nope"):
        select_ids(questions, ["nope"])


def test_a_value_conflicts_with_the_gold_span_when_neither_holds_the_other():
    from eval.metrics import value_conflicts

    assert value_conflicts("2020년", ["1,030억 원"]) and korquad_f1("2020년", ["1,030억 원"]) > 0  # F1 sees the zeros
    assert value_conflicts("5개", ["10개"]) and value_conflicts("이루온", ["하이테크"])
    assert not value_conflicts("서울", ["서울 서초구"]) and not value_conflicts("6년연속", ["6년"])
    assert not value_conflicts("2,000억", ["2000억"])  # KorQuAD's normalization: punctuation and spaces go
    assert not value_conflicts("630억 원", ["1,030억 원", "630억 원"])  # any of the gold spans
    assert not value_conflicts("", ["x"]) and value_conflicts("x", [])  # nothing shown is nothing wrong


def test_em_f1_score_the_shortest_cited_span():
    answer = "임종석은 1989년 2월 15일 지명수배됐다 [1]. 날짜는 1989년 2월 15일 [2]."
    assert shortest_cited_span(answer) == "날짜는 1989년 2월 15일"
    assert shortest_cited_span("인용 없는 답") == "인용 없는 답"
    assert shortest_cited_span("답 [1][2]. 더 긴 두번째 답 [3, 4].") == "답"
    assert korquad_f1(shortest_cited_span(answer), ["1989년 2월 15일"]) > korquad_f1(answer, ["1989년 2월 15일"])


def _case(qid: str, answers, gold, refused: bool, correct: bool, total: float = 10.0) -> dict:
    return {"id": qid, "question": "?", "answers": answers, "gold": gold, "refused": refused, "correct": correct,
            "em": None if not answers else float(correct), "f1": None if not answers else float(correct),
            "citation_validity": None if refused else 1.0, "timings": {"total": total, "first_token": total / 2}}


def test_scoreboard_figures_separate_answerable_and_withheld_questions():
    cases = [
        _case("a1", [["x"]], ["p_000001.txt"], False, True),
        _case("a2", [["x"]], ["p_000002.txt"], False, False),
        _case("a3", [["x"]], ["p_000004.txt"], True, False),
        _case("a4", [["x"]], ["p_000003.txt"], False, True),
        _case("w1", [], [], True, True),
        _case("w2", [], [], False, False),
    ]
    row = figures(cases, "gold")
    assert row["containment"] == 2 / 4 and row["false_refusal_rate"] == 1 / 4
    assert row["containment_answered"] == 2 / 3 and row["refusal_recall"] == 1 / 2
    assert row["refusal_rate"] == 2 / 6 and row["accuracy"] == 3 / 6
    # report half = even passage numbers: a2 (answered, wrong) and a3 (refused)
    assert row["containment_report_half"] == 0.0 and row["containment_answered_report_half"] == 0.0
    assert row["total_p50_ms"] == 10.0 and row["n"] == 6
    json.dumps(row)  # written to eval/results as it is
    # the length of the answers given (answerable questions, not refused) sits beside containment
    worded = [{**c, "answer": "가" * n} for c, n in zip(cases, (10, 30, 99, 20, 0, 5))]
    assert figures(worded)["answer_chars"] == 20.0
    # latency is that of the answerable questions: refusals before the model are fast, and a run may ask
    # any number of them
    refused_fast = cases + [_case(f"w{i}", [], [], True, True, total=0.1) for i in range(3, 20)]
    assert figures(refused_fast)["total_p50_ms"] == 10.0 and figures(refused_fast)["first_token_p50_ms"] == 5.0
    assert figures([_case("w1", [], [], True, True, total=0.1)])["total_p50_ms"] == 0.1  # none answerable


def test_scoreboard_llm_sample_can_be_narrowed_per_set(tmp_path):
    from eval.scoreboard import SETS, eval_command

    korquad = next(s for s in SETS if s.name == "korquad")
    default = eval_command(korquad, "llm", "report", tmp_path)
    narrowed = eval_command(korquad, "llm", "report", tmp_path, "40,10")
    assert default[default.index("--sample") + 1] == korquad.llm_sample
    assert narrowed[narrowed.index("--sample") + 1] == "40,10"
    assert "--sample" not in eval_command(korquad, "extractive", "report", tmp_path, "40,10")
    # the mixed set asks KorQuAD's questions with KLUE's passages beside its paragraphs
    mixed = eval_command(next(s for s in SETS if s.name == "korquad-mixed"), "extractive", "report", tmp_path)
    assert mixed[mixed.index("--dataset") + 1:mixed.index("--dataset") + 4] == ["korquad-open", "--mix-with", "klue"]
    assert "--mix-with" not in eval_command(korquad, "extractive", "report", tmp_path)


def test_scoreboard_says_when_previous_and_now_asked_different_questions():
    from eval.scoreboard import render

    def row(command):
        return {"n": 200, "containment": 0.9, "command": command, "date": "d", "commit": "c", "load_avg": "1"}

    base = "python -m eval --dataset korquad-open --mode llm --no-progress --split report"
    same = render({"korquad": {"llm": row(f"{base} --sample 100,100")}},
                  {"korquad": {"llm": row(f"{base} --sample 100,100")}}, {("korquad", "llm")})
    other = render({"korquad": {"llm": row(f"{base} --sample 100,100")}},
                   {"korquad": {"llm": row(f"{base} --sample 150,50")}}, {("korquad", "llm")})
    assert "different questions" not in same
    assert "previous and now asked different questions** (`--split report --sample 100,100` against " \
           "`--split report --sample 150,50`)" in other


def test_scoreboard_marks_a_cell_rerun_since_the_commit_even_by_an_earlier_run():
    # cells are written as each run ends: a scoreboard stopped after some cells, then run for the others, must not
    # call the first ones "not rerun"
    from eval.scoreboard import render

    old = {"n": 100, "containment": 0.43, "command": "c", "date": "d1", "commit": "a", "load_avg": "1"}
    new = {**old, "containment": 0.45, "date": "d2", "commit": "b"}
    header = lambda table: next(line for line in table.splitlines() if line.startswith("| figure"))  # noqa: E731
    assert "llm now (not rerun)" not in header(render({"klue": {"llm": old}}, {"klue": {"llm": new}}, set()))
    assert "llm now (not rerun)" in header(render({"klue": {"llm": old}}, {"klue": {"llm": old}}, set()))
    assert "llm now (not rerun)" not in header(render({"klue": {"llm": old}}, {"klue": {"llm": old}}, {("klue", "llm")}))


def test_scoreboard_says_why_the_llm_fell_back():
    from eval.scoreboard import render

    row = {"n": 100, "containment": 0.9, "command": "c", "date": "d", "commit": "c", "load_avg": "1", "n_notice": 51,
           "notices": {"llm_unverified": 44, "llm_found_nothing": 7}}
    assert "51 answers with a notice: llm_unverified 44, llm_found_nothing 7)" in render({}, {"klue": {"llm": row}}, set())
    # a run recorded before the codes: the count alone
    old = {**row, "notices": {"other": 51}}
    assert "51 answers with a notice)" in render({}, {"klue": {"llm": old}}, set())
    assert "with a notice" not in render({}, {"klue": {"llm": {**row, "n_notice": 0, "notices": {}}}}, set())


def test_a_scoreboard_dry_run_writes_nothing(tmp_path, monkeypatch, capsys):
    import eval.scoreboard as scoreboard

    row = {"n": 35, "accuracy": 0.9, "command": "python -m eval --split report", "date": "d", "commit": "c",
           "load_avg": "1"}
    (tmp_path / "answers-report.json").write_text(json.dumps({"seeds": {"extractive": row}}), encoding="utf-8")
    (tmp_path / "answers-report.md").write_text("the last run's table", encoding="utf-8")
    monkeypatch.setattr(scoreboard, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(scoreboard, "_committed", lambda path, rev: {})  # the file as committed: none here
    assert scoreboard.main(["--dry-run", "--sets", "seeds"]) == 0
    assert "| accuracy |" in capsys.readouterr().out
    assert (tmp_path / "answers-report.md").read_text(encoding="utf-8") == "the last run's table"


def test_a_share_comes_with_its_95_percent_interval():
    from eval.stats import wilson

    low, high = wilson(83, 100)  # Wilson's interval of 83/100: 0.7445–0.8911
    assert abs(low - 0.74452) < 1e-4 and abs(high - 0.89107) < 1e-4
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0  # stays inside [0, 1] at the ends
    assert wilson(0, 10)[1] > 0.25  # 0 of 10 does not mean "never"
    assert wilson(3, 0) is None


def test_a_stricter_refusal_bar_is_read_from_one_runs_probabilities():
    from eval.stats import refusal_bars

    def case(answers, refused, correct, probability, threshold=0.07):
        return {"answers": answers, "gold": ["d"] if answers else [], "refused": refused, "correct": correct,
                "grounding": {"probability": probability, "threshold": threshold}}

    cases = [case([["a"]], False, True, 0.9), case([["a"]], False, True, 0.12),  # answerable, answered right
             case([], False, False, 0.2), case([], True, True, 0.01),  # withheld: answered, refused
             case([["a"]], False, True, 0.0, threshold=None)]  # Latin script: the model's bar does not apply
    bars = {row["bar"]: row for row in refusal_bars(cases, bars=(0.05, 0.15, 0.3))}
    assert set(bars) == {0.15, 0.3}  # below the run's own bar (0.07) the answers were never written
    assert bars[0.15]["false_refusal_rate"] == 1 / 3 and bars[0.15]["containment"] == 2 / 3
    assert bars[0.15]["refusal_recall"] == 0.5  # the answered withheld question has 0.2
    assert bars[0.3]["refusal_recall"] == 1.0 and bars[0.3]["containment"] == 2 / 3
    assert refusal_bars([{k: v for k, v in c.items() if k != "grounding"} for c in cases]) == []  # an older run


def test_cautioned_answers_are_counted_by_outcome_with_the_shares_if_they_were_refused():
    from eval.stats import cautions

    def case(answers, refused, correct, unnamed=()):
        return {"answers": answers, "gold": ["d"] if answers else [], "refused": refused, "correct": correct,
                "grounding": {"probability": 0.5, "threshold": 0.07, "unnamed": list(unnamed)}}

    cases = [case([["a"]], False, True), case([["a"]], False, True, ["x"]), case([["a"]], False, False, ["x"]),
             case([], False, False, ["y"]), case([], False, False), case([], True, True)]
    found = cautions(cases)
    assert (found["answers"], found["right"], found["wrong"], found["must_refuse"]) == (3, 1, 1, 1)
    assert found["if_refused"]["false_refusal_rate"] == 2 / 3 and found["if_refused"]["containment"] == 1 / 3
    assert found["if_refused"]["refusal_recall"] == 2 / 3  # the withheld question answered without a caution stays
    assert cautions([{k: v for k, v in c.items() if k != "grounding"} for c in cases]) is None  # an older run


def test_a_bar_read_from_one_run_is_what_a_run_at_that_bar_gives(tmp_path: Path, korean) -> None:
    """Real Chroma and Kiwi over the seeds (the hashing embedder), a refusal model on the ranker's probability of
    the best sentence (the shipped one reads e5's score scale, and would refuse every hashing-embedder answer)."""
    from dataclasses import replace

    from eval.runner import run_cases, summarize
    from eval.stats import refusal_bars
    from rag.ranker import LogisticModel
    from tests.realapp import SEEDS, real_pipeline, real_settings

    model = tmp_path / "refusal.json"
    on_best = LogisticModel(("best",), (4.0,), -2.0, (0.0,), (1.0,), threshold=0.05)
    model.write_text(json.dumps({"answerable": on_best.to_json()}), encoding="utf-8")
    questions = [q for q in load_dataset(SEEDS.parent / "eval" / "datasets" / "seeds.jsonl") if not q.history]

    def run(bar: float) -> list[dict]:
        settings = real_settings(tmp_path / "app")
        settings = replace(settings, answer=replace(settings.answer, refusal_model=model, refusal_min_probability=bar))
        pipe = real_pipeline(settings, korean)
        try:
            return run_cases(pipe, questions, mode="extractive", k=5)
        finally:
            pipe.close()

    cases = run(0.0)
    answered = sorted(c["grounding"]["probability"] for c in cases if not c["refused"] and c["grounding"]["threshold"])
    # about half of the answered questions fall under it; the bar lies between two recorded probabilities, as they
    # are recorded rounded to 4 places: a bar equal to one would answer it in this reading and refuse it in the run
    # if its unrounded probability lay just under
    i = next(i for i in range(len(answered) // 2, len(answered)) if answered[i] - answered[i - 1] >= 0.0002)
    bar = (answered[i - 1] + answered[i]) / 2
    read = refusal_bars(cases, bars=(bar,))[0]
    stricter = summarize(run(bar))["overall"]
    assert read["refusal_rate"] > summarize(cases)["overall"]["refusal_rate"]
    for key in ("containment", "false_refusal_rate", "refusal_recall", "refusal_rate"):
        assert read[key] == stricter[key]


def test_mcnemar_counts_only_the_questions_that_changed():
    from eval.stats import mcnemar

    assert mcnemar(0, 0) == 1.0 and mcnemar(3, 3) == 1.0
    assert mcnemar(5, 0) == 2 / 32 and mcnemar(0, 6) == 2 / 64
    assert abs(mcnemar(7, 2) - 2 * (1 + 9 + 36) / 512) < 1e-12


def test_scoreboard_compares_two_runs_of_the_same_questions_question_by_question():
    from eval.scoreboard import render
    from eval.stats import paired_change

    ids = [f"q{i}" for i in range(12)]
    before = figures([_case(q, [["x"]], ["p_000001.txt"], False, i < 6) for i, q in enumerate(ids)])
    # q0 and q1 lost, q6 q7 q8 gained
    after = figures([_case(q, [["x"]], ["p_000001.txt"], False, i in (2, 3, 4, 5, 6, 7, 8)) for i, q in enumerate(ids)])
    assert before["counts"]["containment"] == [6, 12] and after["counts"]["containment"] == [7, 12]
    assert paired_change(before, after) == (3, 2)
    other = figures([_case(q + "x", [["x"]], ["p_000001.txt"], False, True) for q in ids])
    assert paired_change(before, other) is None  # other questions: no pairing
    json.dumps(after)

    def row(r):
        return {**r, "command": "python -m eval --split report", "date": "d", "commit": "c", "load_avg": "1"}

    table = render({"seeds": {"extractive": row(before)}}, {"seeds": {"extractive": row(after)}},
                   {("seeds", "extractive")})
    assert "3 right answers gained, 2 lost (exact McNemar p = 1" in table
    assert "| accuracy | 0.500 (0.254–0.746) | 0.583 (0.320–0.807) |" in table
    assert "| n | 12 | 12 |" in table
    table = render({"seeds": {"extractive": row(before)}}, {"seeds": {"extractive": row(other)}},
                   {("seeds", "extractive")})
    assert "gained" not in table and "asked different questions" in table
    # a row written before outcomes were recorded: nothing to pair, and no claim that the questions differ
    older = {k: v for k, v in before.items() if k not in ("ids_sha1", "right_bits", "counts")}
    table = render({"seeds": {"extractive": row(older)}}, {"seeds": {"extractive": row(after)}},
                   {("seeds", "extractive")})
    assert "gained" not in table and "different questions" not in table
    assert "| accuracy | 0.500 (0.254–0.746) |" in table  # its counts from the value and n


def test_a_run_reports_its_shares_with_intervals_and_pairs_with_an_earlier_run_of_the_same_questions():
    from eval.diff import compare_summaries
    from eval.report import render_report
    from eval.runner import summarize

    def case(qid, refused, correct):
        return {**_case(qid, [["x"]], ["p_000001.txt"], refused, correct), "type": "t"}

    before = [case(f"q{i}", i == 9, i < 5) for i in range(10)]
    after = [case(f"q{i}", False, i in (0, 1, 2, 5, 6, 7)) for i in range(10)]  # q3 q4 lost, q5 q6 q7 gained
    old, new = summarize(before), summarize(after)
    table = compare_summaries(old, new)
    assert "| overall | contain | 0.500 | 0.600 | +0.100 |" in table
    assert "(the same 10 questions): 3 right answers gained, 2 lost (exact McNemar p = 1)" in table
    # other questions: means only
    other = summarize([case(f"x{i}", False, True) for i in range(10)])
    assert "gained" not in compare_summaries(old, other)
    # a retrieval-only run has no answers to pair
    assert "outcomes" not in summarize([{**c, "refused": None, "correct": None} for c in before])
    report = render_report(after, new, {}, with_misses=False)
    assert "95% intervals (Wilson; k of m questions): accuracy 0.600 (0.313–0.832; 6/10)" in report
    assert "refused 0.000 (0.000–0.278; 0/10)" in report


def _squad(tmp_path: Path, paragraphs: list[tuple[str, list[tuple[str, str, str]]]]) -> Path:
    """A one-article SQuAD file: (context, [(id, question, answer)]) per paragraph."""
    rows = [{"context": context, "qas": [{"id": qid, "question": text,
                                         "answers": [{"text": answer, "answer_start": context.index(answer)}]}
                                        for qid, text, answer in qas]} for context, qas in paragraphs]
    path = tmp_path / "dev.json"
    path.write_text(json.dumps({"data": [{"title": "한빛", "paragraphs": rows}]}, ensure_ascii=False), encoding="utf-8")
    return path


def _periods(texts: list[str]) -> list[list[tuple[int, int]]]:
    """Sentences ending in '. ' (a stand-in for the Kiwi splitter: these tests are about the cut)."""
    out = []
    for text in texts:
        spans, start = [], 0
        for i, ch in enumerate(text):
            if ch == "." and (i + 1 == len(text) or text[i + 1] == " "):
                spans.append((start, i + 1))
                start = i + 2
        out.append(spans)
    return out


def test_a_gap_cuts_one_answer_sentence_that_question_must_be_refused_and_the_rest_still_answered(tmp_path):
    from eval.korquad import load_korquad_gap

    path = _squad(tmp_path, [
        ("한빛은 1990년에 세워졌다. 본사는 세종에 있다. 대표는 김하나다.",
         [("a", "한빛이 세워진 해는?", "1990년"), ("b", "본사는 어디?", "세종"), ("c", "대표는?", "김하나")]),
        ("한빛은 세종에서 반도체를 만든다.", [("d", "무엇을 만드나?", "반도체")]),  # one sentence: never cut
    ])
    corpus, questions = load_korquad_gap(path, None, sentences=_periods)
    by_id = {x.id: x for x in questions}
    # "b" is not cut: 세종 is still said in the second paragraph. Of "a" and "c", the smaller sha1 of the id
    cut = min(("a", "c"), key=lambda i: hashlib.sha1(i.encode()).hexdigest())
    kept = "c" if cut == "a" else "a"
    assert by_id[cut].type == "korquad-gap" and by_id[cut].unanswerable
    assert by_id[kept].answers and by_id["b"].answers and by_id["d"].answers
    answer = {"a": "1990년", "c": "김하나"}
    assert answer[cut] not in corpus[0].text and answer[kept] in corpus[0].text
    assert corpus[1].text == "한빛은 세종에서 반도체를 만든다."  # untouched
    assert corpus[0].content_hash != load_korquad(path)[0][0].content_hash


def test_a_sibling_whose_answer_went_with_the_cut_sentence_is_not_asked(tmp_path):
    from eval.korquad import load_korquad_gap

    path = _squad(tmp_path, [("한빛은 1990년 세종에서 세워졌다. 대표는 김하나다.",
                              [("a", "세워진 해는?", "1990년"), ("b", "세워진 곳은?", "세종")])])
    _, questions = load_korquad_gap(path, None, sentences=_periods)
    # both answers stand in the first sentence: one is refused, the other is asked no more
    assert [x.type for x in questions] == ["korquad-gap"]


def test_a_followup_leaves_out_the_title_only_where_it_is_a_word_of_its_own():
    from eval.korquad import followup_question

    assert followup_question("한빛이 1990년에 세운 공장은?", "한빛") == "1990년에 세운 공장은?"
    assert followup_question("1990년 한빛의 대표는 누구인가?", "한빛") == "1990년 대표는 누구인가?"
    assert followup_question("노아의 방주가 만들어진 재질은?", "노아의 방주") == "만들어진 재질은?"
    assert followup_question("한빛은행의 대표는 누구인가?", "한빛") is None  # a longer name, not the title
    assert followup_question("대표는 누구인가?", "한빛") is None
    assert followup_question("한빛은 무엇?", "한빛") is None  # too little question left


def test_korquad_followups_come_after_another_question_naming_the_article(tmp_path):
    from eval.korquad import load_korquad_followup

    def article(title: str, qas: list[tuple[str, str, str]]) -> dict:
        context = " ".join(f"{title}의 {answer}." for _, _, answer in qas)
        return {"title": title, "paragraphs": [{"context": context, "qas": [
            {"id": qid, "question": text, "answers": [{"text": answer, "answer_start": context.index(answer)}]}
            for qid, text, answer in qas]}]}

    path = tmp_path / "dev.json"
    path.write_text(json.dumps({"data": [
        article("한빛", [("a", "한빛이 세워진 해는 언제인가?", "1990년"), ("b", "한빛의 본사가 있는 도시는?", "세종"),
                         ("c", "대표의 이름은 무엇인가?", "김하나")]),
        article("누리", [("d", "누리가 만든 첫 제품은?", "반도체"), ("e", "누리의 창업자는 누구인가?", "이두리")]),
        article("가람", [("f", "가람이 세워진 해는 언제인가?", "2001년")]),  # one question naming it: none
    ]}, ensure_ascii=False), encoding="utf-8")
    corpus, questions = load_korquad_followup(path, None, every=2)  # article 2 is withheld
    by_id = {q.id: q for q in questions}
    assert sorted(by_id) == ["a", "b", "d", "e"]  # "c" does not name its article, "f" has no question before it
    assert by_id["a"].question == "세워진 해는 언제인가?" and by_id["a"].gold == ("korquad-001-01",)
    assert [t.role for t in by_id["a"].history] == ["user", "assistant"]
    assert by_id["a"].history[0].content == "한빛의 본사가 있는 도시는?" and by_id["a"].history[1].content == "세종"
    # the turn before is the article's other naming question with the smallest sha1 of its id
    first = min(("d", "e"), key=lambda i: hashlib.sha1(i.encode()).hexdigest())
    other = "e" if first == "d" else "d"
    assert by_id[other].history[0].content == {"d": "누리가 만든 첫 제품은?", "e": "누리의 창업자는 누구인가?"}[first]
    assert by_id["d"].type == "korquad-followup-withheld" and by_id["d"].unanswerable
    assert [a.doc_id for a in corpus] == ["korquad-001-01", "korquad-003-01"]  # open QA's corpus


def test_mix_with_indexes_both_corpora_in_a_store_of_their_own(tmp_path: Path, monkeypatch, capsys):
    """`--mix-with`: a KLUE question answered from a store holding KLUE's passages and KorQuAD's paragraphs
    (a few of each here; real Chroma, hashing embedder), the KLUE-only store untouched."""
    import eval.__main__ as cli
    from fakes import HashingEmbedder
    from rag.config import load_settings

    klue = tmp_path / "klue"
    (klue / "corpus").mkdir(parents=True)
    (klue / "corpus" / "klue_000001.txt").write_text(
        "한빛전자가 협력사 기술 지원을 넓힌다\n\n한빛전자는 올해 협력사 120곳에 기술 인력을 파견한다고 밝혔다.\n", encoding="utf-8")
    (klue / "corpus" / "klue_000002.txt").write_text(
        "산들식품, 지역 농가와 계약 재배\n\n산들식품은 지역 농가 40곳과 계약 재배를 시작했다.\n", encoding="utf-8")
    row = {"id": "klue_q_1", "question": "한빛전자가 기술 인력을 파견하는 협력사는 몇 곳인가?", "answers": [["120곳"]],
           "gold": ["klue_000001.txt"]}
    (klue / "questions.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    monkeypatch.setattr(cli, "KLUE_DIR", klue)
    paragraphs, _ = load_korquad_open(KORQUAD_PATH, "1-1")
    monkeypatch.setattr(cli, "load_korquad_open", lambda path, spec: (paragraphs[:3], []))
    settings = load_settings(None, env={"RAG_PATHS__DATA_DIR": str(tmp_path / "data"),
                                        "RAG_PATHS__CACHE_DIR": str(tmp_path / "cache"),
                                        "RAG_GENERATION__BACKEND": "extractive"})

    out = tmp_path / "run"
    assert cli.main(["--dataset", "klue", "--mix-with", "korquad-open", "--mode", "extractive", "--out", str(out),
                     "--no-progress"], settings=settings, embedder=HashingEmbedder()) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    store = tmp_path / "data" / "mixed" / "klue+korquad-open" / "store"
    assert summary["run"]["store"] == str(store) and "mixed with the 3 articles of korquad-open" in summary["run"]["corpus"]
    assert summary["run"]["describe"]["n_docs"] == 5
    case = json.loads((out / "cases.jsonl").read_text(encoding="utf-8"))
    assert not case["refused"] and "120곳" in case["answer"]
    assert not (tmp_path / "data" / "klue").exists()

    # a set cannot be mixed with its own corpus, and a question file's store is the user's to fill
    assert cli.main(["--dataset", "korquad-gap", "--mix-with", "korquad-open", "--no-progress"],
                    settings=settings, embedder=HashingEmbedder()) == 2
    assert "not a corpus with itself" in capsys.readouterr().err
    assert cli.main(["--dataset", str(DATASETS / "smoke.jsonl"), "--mix-with", "klue", "--no-progress"],
                    settings=settings, embedder=HashingEmbedder()) == 2
    assert "ingest the extra articles" in capsys.readouterr().err


def test_a_short_value_wrong_above_a_right_answer_is_counted_over_the_right_answers_only():
    from eval.datasets import Question
    from eval.runner import ArticleTexts, answer_case
    from rag.types import Answer

    class Pipe:  # answers as scripted: only the record's arithmetic is under test
        def __init__(self, answer: Answer) -> None:
            self.answer = answer

        def ask(self, question, **_):
            return self.answer

        def article(self, doc_id):
            return None

    q = Question("q1", "LG이노텍의 펀드 규모는?", (("1,030억 원",),), ("p.txt",))

    def case(text: str, short: str, refused: bool = False) -> dict:
        pipe = Pipe(Answer(question=q.question, text=text, refused=refused, short=short))
        return answer_case(pipe, q, 5, "extractive", ArticleTexts(pipe))

    right = "펀드는 1,030억 원 규모다 [1]."
    assert case(right, "1,030억 원")["short_wrong"] == 0.0
    assert case(right, "2020년")["short_wrong"] == 1.0  # not the gold span nor a part of it (its zeros aside)
    assert case(right, "1,030억")["short_wrong"] == 0.0  # a part of it
    assert case(right, "")["short_wrong"] == 0.0  # no value shown: nothing wrong shown
    assert case("펀드는 630억 원이었다 [1].", "630억 원")["short_wrong"] is None  # a wrong answer: not counted here
    assert case("답할 수 없습니다.", "", refused=True)["short_wrong"] is None
    row = figures([{**_case("a1", [["x"]], ["p"], False, True), "short_wrong": 1.0},
                   {**_case("a2", [["x"]], ["p"], False, True), "short_wrong": 0.0},
                   {**_case("a3", [["x"]], ["p"], False, False), "short_wrong": None}])
    assert row["short_wrong"] == 0.5 and row["counts"]["short_wrong"] == [1, 2]
