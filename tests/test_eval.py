"""The eval harness: dataset validation, the runner and its three outputs, the KorQuAD reader."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import pytest

from rag.types import Answer, Article, Chunk, Citation, Hit, Turn

from eval.datasets import DatasetError, load_dataset, parse_lines
from eval.korquad import KORQUAD_PATH, doc_id_for, load_korquad, parse_article_range
from eval.report import write_run
from eval.runner import run_cases, summarize

SMOKE = Path(__file__).resolve().parent.parent / "eval" / "datasets" / "smoke.jsonl"
SEEDS = Path(__file__).resolve().parent.parent / "eval" / "datasets" / "seeds.jsonl"


# --- the contract ------------------------------------------------------------------------------


def test_project_datasets_follow_the_contract():
    seeds = load_dataset(SEEDS)
    assert len(seeds) >= 60
    types = {q.type for q in seeds}
    assert {"factoid", "numeric", "multi", "paraphrase", "crosslingual", "unanswerable", "followup"} <= types
    assert sum(q.unanswerable for q in seeds) >= 8
    assert sum(bool(q.history) for q in seeds) >= 6
    assert all(g.endswith(".txt") for q in seeds for g in q.gold)
    assert len(load_dataset(SMOKE)) >= 5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "question": "q", "answers": [["x"]], "gold": ["d"]', "not valid JSON"),
        ('["a"]', "expected a JSON object"),
        ('{"id": "a", "question": "", "answers": [], "gold": []}', "'question'"),
        ('{"id": "a", "question": "q", "answers": ["x"], "gold": ["d"]}', "answers[0]"),
        ('{"id": "a", "question": "q", "answers": [["x"]], "gold": []}', "'gold' is empty"),
        ('{"id": "a", "question": "q", "answer": [["x"]], "gold": ["d"]}', "'answers'"),
        ('{"id": "a", "question": "q", "answers": [], "gold": [], "history": [{"role": "bot"}]}', "history[0]"),
    ],
)
def test_a_bad_line_is_reported_with_its_line_number(line: str, message: str):
    good = '{"id": "ok", "question": "q", "answers": [], "gold": []}'
    with pytest.raises(DatasetError) as err:
        parse_lines([good, "", line], "set.jsonl")
    assert "set.jsonl:3" in str(err.value)
    assert message in str(err.value)


def test_duplicate_ids_and_missing_file_are_errors(tmp_path: Path):
    line = '{"id": "a", "question": "q", "answers": [], "gold": []}'
    with pytest.raises(DatasetError, match="duplicate id 'a' \\(first on line 1\\)"):
        parse_lines([line, line])
    with pytest.raises(DatasetError, match="no such dataset file"):
        load_dataset(tmp_path / "missing.jsonl")


def test_a_field_one_slip_from_the_contracts_is_an_error_and_a_field_of_its_own_is_kept():
    """"histroy" asked a follow-up without its turns, "filter" a filtered question over every article, "tpye" put
    it in no type: each was silently ignored as an extra field."""
    turns = '[{"role": "user", "content": "새솔바이오 펀드는?"}, {"role": "assistant", "content": "300억원입니다."}]'
    base = '"id": "a", "question": "그 회사 대표는?", "answers": [["최민재"]], "gold": ["a7.txt"]'
    for typed, field, value in (("histroy", "history", turns), ("filter", "filters", '{"date_from": "2024-01-01"}'),
                                ("tpye", "type", '"followup"')):
        with pytest.raises(DatasetError) as err:
            parse_lines([f'{{{base}, "{typed}": {value}}}'], "set.jsonl")
        assert str(err.value) == f"set.jsonl:1: found '{typed}'; the contract's field is '{field}'"
    with pytest.raises(DatasetError, match="found 'Gold'; the contract's field is 'gold'"):
        parse_lines(['{"id": "a", "question": "q", "answers": [["x"]], "Gold": ["a7.txt"]}'])
    with pytest.raises(DatasetError, match="found 'answres'; the contract's field is 'answers'"):
        parse_lines(['{"id": "a", "question": "q", "answres": [["x"]], "gold": ["a7.txt"]}'])
    # notes of one's own stay allowed, short words near a short field name among them
    kept = parse_lines([f'{{{base}, "note": "x", "source": "y", "good": true, "qid": 7, "history": {turns}}}'])
    assert len(kept[0].history) == 2


# --- KorQuAD -----------------------------------------------------------------------------------


def test_korquad_reader_turns_paragraphs_into_articles_and_selects_by_range():
    articles, questions = load_korquad(KORQUAD_PATH, "1-2")
    assert len(articles) == 964  # the corpus is always every paragraph
    assert articles[0].doc_id == doc_id_for(1, 1) == "korquad-001-01"
    assert articles[0].title == "임종석"
    ids = {a.doc_id for a in articles}
    assert questions and all(q.gold[0] in ids and q.gold[0] < "korquad-003" for q in questions)
    first = questions[0]
    assert first.answers == (("1989년 2월 15일",),) and first.type == "korquad"
    assert first.answers[0][0] in articles[0].text
    assert parse_article_range("71-140", 140) == range(71, 141)
    with pytest.raises(DatasetError):
        parse_article_range("0-5", 140)


# --- the runner against a small fake pipeline ----------------------------------------------------


def _bigrams(text: str) -> set[str]:
    compact = "".join(text.split())
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


class FakePipeline:
    """Ranks whole articles by shared character bigrams; answers with the best sentence.

    Deterministic and tiny: enough to exercise the runner, not a stand-in for the real ranking.
    """

    def __init__(self, articles: Sequence[Article], refuse_below: float = 0.12) -> None:
        self.articles = {a.doc_id: a for a in articles}
        self.refuse_below = refuse_below
        self.asked: list[tuple[str, tuple[Turn, ...], str | None]] = []

    def _ranked(self, question: str) -> list[Hit]:
        q = _bigrams(question)
        scored = []
        for a in self.articles.values():
            score = len(q & _bigrams(a.text)) / max(len(q), 1)
            chunk = Chunk(chunk_id=f"{a.doc_id}#0", doc_id=a.doc_id, text=a.text, start=0, end=len(a.text))
            scored.append((score, hashlib.sha1(a.doc_id.encode()).hexdigest(), chunk))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [Hit(chunk=c, score=s, rank=i) for i, (s, _, c) in enumerate(scored, 1)]

    def search_modes(self, question: str, k: int | None = None) -> dict[str, list[Hit]]:
        hits = self._ranked(question)[: k or 5]
        return {"dense": hits[::-1], "keyword": hits, "hybrid": hits}

    def ask(self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None) -> Answer:
        self.asked.append((question, tuple(history), mode))
        hits = self._ranked(question)[: k or 5]
        if not hits or hits[0].score < self.refuse_below:
            return Answer(question=question, text="근거를 찾지 못했습니다.", refused=True, hits=tuple(hits), mode=mode or "extractive",
                          timings={"retrieval": 1.0, "total": 2.0})
        top = hits[0].chunk
        sentences = [s.strip() for s in top.text.replace("\n", ". ").split(". ") if s.strip()]
        best = max(sentences, key=lambda s: len(_bigrams(s) & _bigrams(question)))
        citation = Citation(n=1, source=top.doc_id, quote=best, start=0, end=len(best))
        return Answer(question=question, text=f"{best} [1]", refused=False, citations=(citation,), hits=tuple(hits),
                      mode=mode or "extractive", timings={"retrieval": 1.0, "first_token": 1.5, "total": 3.0})

    def article(self, doc_id: str) -> Article | None:
        return self.articles.get(doc_id)


def _seed_articles(seeds_dir: Path) -> list[Article]:
    return [Article(doc_id=p.name, text=p.read_text(encoding="utf-8")) for p in sorted(seeds_dir.glob("*.txt"))]


def test_runner_scores_cases_and_writes_all_outputs(tmp_path: Path, seeds_dir: Path):
    pipe = FakePipeline(_seed_articles(seeds_dir))
    questions = load_dataset(SMOKE)
    cases = run_cases(pipe, questions, mode="extractive", k=5)
    assert [c["id"] for c in cases] == [q.id for q in questions]
    followup = next(q for q in questions if q.history)
    assert any(asked[1] == followup.history for asked in pipe.asked)  # history reaches the pipeline
    first = cases[0]
    assert first["hits"][0]["source"] == first["gold"][0]  # "LG전자 CEO" → article 000
    assert first["recall@1"] == 1.0 and first["recall@5"] == 1.0
    assert first["mrr@10"] is None  # the answer read k=5 hits: a figure reading 10 deep is not available
    assert first["correct"] is True and first["citation_validity"] == 1.0 and first["citation_correctness"] == 1.0
    unanswerable = [c for c in cases if not c["gold"]]
    assert unanswerable and all(c["recall@5"] is None for c in unanswerable)

    summary = summarize(cases)
    assert summary["overall"]["n"] == len(questions)
    assert set(summary["by_type"]) == {q.type for q in questions}
    assert summary["latency_ms"]["total"]["n"] == len(questions)
    assert summary["latency_ms"]["first_token"]["n"] == sum(not c["refused"] for c in cases)
    assert "refusal_recall" in summary["overall"]

    summary["run"] = {"dataset": "smoke"}
    paths = write_run(tmp_path / "run", cases, summary)
    lines = paths["cases"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(questions)
    record = json.loads(lines[0])
    for key in ("id", "question", "gold", "answer", "refused", "citations", "hits", "timings", "recall@5", "correct"):
        assert key in record
    assert json.loads(paths["summary"].read_text(encoding="utf-8"))["overall"]["n"] == len(questions)
    report = paths["report"].read_text(encoding="utf-8")
    assert "| factoid |" in report and "![recall@k](recall_at_k.png)" in report
    assert (tmp_path / "run" / "recall_at_k.png").stat().st_size > 1000
    assert (tmp_path / "run" / "latency.png").is_file()


def test_retrieval_only_reports_each_search_mode(tmp_path: Path, seeds_dir: Path):
    pipe = FakePipeline(_seed_articles(seeds_dir))
    questions = [q for q in load_dataset(SMOKE) if q.gold]
    cases = run_cases(pipe, questions, retrieval_only=True, k=5)
    assert not pipe.asked  # no answers generated
    assert set(cases[0]["modes"]) == {"dense", "keyword", "hybrid"}
    summary = summarize(cases)
    assert list(summary["modes"]) == ["dense", "keyword", "hybrid"]
    # the fake's dense list is the keyword list reversed: it must score lower at rank 1
    assert summary["modes"]["dense"]["overall"]["recall@1"] < summary["modes"]["keyword"]["overall"]["recall@1"]
    summary["run"] = {"dataset": "smoke"}
    report = write_run(tmp_path / "r", cases, summary)["report"].read_text(encoding="utf-8")
    assert "## Retrieval modes side by side" in report and "| keyword |" in report


# --- the CLI end to end on the real pipeline (real Chroma in tmp_path, hashing embedder) ---------


def _settings(tmp_path: Path):
    from rag.config import load_settings

    return load_settings(
        None,
        env={
            "RAG_STORE__DIR": str(tmp_path / "store"),
            "RAG_PATHS__DATA_DIR": str(tmp_path / "data"),
            "RAG_PATHS__CACHE_DIR": str(tmp_path / "cache"),
            "RAG_GENERATION__BACKEND": "extractive",
        },
    )


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory):
    """One seeds store for the CLI tests (they only read it): ingesting is the slow part."""
    from conftest import SEEDS_DIR
    from fakes import HashingEmbedder

    from rag.pipeline import build_pipeline

    settings = _settings(tmp_path_factory.mktemp("seeds-store"))
    pipe = build_pipeline(settings, embedder=HashingEmbedder())
    pipe.ingest([SEEDS_DIR])
    pipe.close()
    return settings


def test_cli_on_smoke_writes_cases_summary_and_report(tmp_path: Path, ingested, capsys):
    from fakes import HashingEmbedder

    from eval.__main__ import main

    out = tmp_path / "run"
    code = main(["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(out), "--no-progress"],
                settings=ingested, embedder=HashingEmbedder())
    assert code == 0
    printed = capsys.readouterr().out
    assert str(ingested.store.dir) in printed and "nothing is ingested" in printed
    cases = [json.loads(line) for line in (out / "cases.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [c["id"] for c in cases] == [q.id for q in load_dataset(SMOKE)]
    assert all(c["hits"] and c["timings"]["total"] > 0 for c in cases)
    answered = [c for c in cases if c["gold"] and not c["refused"]]
    assert answered and all(c["citation_validity"] == 1.0 for c in answered if c["citations"])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["overall"]["n"] == len(cases) and summary["run"]["mode"] == "extractive"
    assert "## By type" in (out / "report.md").read_text(encoding="utf-8")
    assert (out / "recall_at_k.png").is_file() and (out / "latency.png").is_file()


def test_cli_runs_a_question_file_it_has_never_seen(tmp_path: Path, ingested):
    from fakes import HashingEmbedder

    from eval.__main__ import main

    new = tmp_path / "mine.jsonl"
    rows = [
        {"id": 1, "question": "KT 파트너스 데이는 어디에서 열렸나?", "answers": [["더케이호텔"]],
         "gold": ["004_3623695115e5a12c.txt"], "type": "venue", "note": "extra fields are fine"},
        {"id": "x2", "question": "오늘 부산 날씨는?", "answers": [], "gold": []},
    ]
    new.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    code = main(["--dataset", str(new), "--retrieval-only", "--out", str(out), "--no-progress"],
                settings=ingested, embedder=HashingEmbedder())
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["by_type"]) == {"venue", "(none)"}
    assert set(summary["modes"]) == {"dense", "keyword", "hybrid"}
    # the keyword index finds the venue's own article first
    assert summary["modes"]["keyword"]["overall"]["recall@1"] == 1.0


def test_cli_asks_only_the_chosen_half_and_sample(tmp_path: Path, ingested):
    from fakes import HashingEmbedder

    from eval.__main__ import main

    def ids(*args: str) -> list[str]:
        out = tmp_path / "-".join(args).replace(",", "_")
        assert main(["--dataset", str(SMOKE), "--mode", "extractive", "--out", str(out), "--no-progress", *args],
                     settings=ingested, embedder=HashingEmbedder()) == 0
        return [json.loads(line)["id"] for line in (out / "cases.jsonl").read_text(encoding="utf-8").splitlines()]

    assert ids("--split", "report") == ["s38", "s46", "s64"]  # even ids report
    assert ids("--split", "calibrate") == ["s01", "s15", "s31", "s55"]
    chosen = ids("--sample", "2,1")
    assert len(chosen) == 3 and "s55" in chosen  # s55 is the smoke set's one unanswerable question
    summary = json.loads((tmp_path / "--sample-2_1" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["sample"] == "2,1"


def test_a_split_of_ids_without_numbers_says_how_to_number_them(tmp_path: Path, ingested, capsys):
    """"question id 'abc' has no number to split by parity" left the user to find the parity rule in the code."""
    from fakes import HashingEmbedder

    from eval.__main__ import main

    mine = tmp_path / "mine.jsonl"
    mine.write_text('{"id": "hanbit-ceo", "question": "한빛전자 대표는?", "answers": [], "gold": []}\n', encoding="utf-8")
    assert main(["--dataset", str(mine), "--split", "report", "--out", str(tmp_path / "run"), "--no-progress"],
                settings=ingested, embedder=HashingEmbedder()) == 2
    assert capsys.readouterr().err.strip() == (
        "error: question id 'hanbit-ceo' has no number to split by parity: --split halves a set by the last number in "
        "it (odd calibrate, even report); number them (q01, q02, …) or drop --split")


def test_cli_refuses_an_empty_store_and_a_bad_dataset(tmp_path: Path, capsys):
    from fakes import HashingEmbedder

    from eval.__main__ import main

    settings = _settings(tmp_path)
    assert main(["--dataset", str(SMOKE), "--no-progress"], settings=settings, embedder=HashingEmbedder()) == 2
    assert "python -m rag ingest" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q"}\n{oops\n', encoding="utf-8")
    assert main(["--dataset", str(bad), "--no-progress"], settings=settings, embedder=HashingEmbedder()) == 2
    assert "bad.jsonl:2" in capsys.readouterr().err


def test_what_would_fail_after_the_run_or_score_both_ways_stops_it_first(tmp_path: Path, ingested, capsys):
    """An ML engineer's slips, each one line and exit 2 before any question is asked (the results were lost at the
    end, or the question was scored as a refusal by one figure and left out by another)."""
    import unicodedata

    from fakes import HashingEmbedder

    from eval.__main__ import main

    def run(*args: str, dataset: Path = SMOKE) -> str:
        assert main(["--dataset", str(dataset), "--mode", "extractive", "--no-progress", *args],
                    settings=ingested, embedder=HashingEmbedder()) == 2
        return capsys.readouterr().err

    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    assert f"--out {afile} is a file" in run("--out", str(afile))
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    assert "not an eval run's summary.json" in run("--compare-to", str(listed))
    assert "cannot read it" in run("--compare-to", str(tmp_path / "nowhere.json"))
    assert "no such settings file" in run("--config", str(tmp_path / "nowhere.toml"))
    for bad in ("0", "-1"):
        with pytest.raises(SystemExit):
            main(["--dataset", str(SMOKE), "--k", bad], settings=ingested, embedder=HashingEmbedder())
        with pytest.raises(SystemExit):
            main(["--dataset", str(SMOKE), "--limit", bad], settings=ingested, embedder=HashingEmbedder())
    capsys.readouterr()
    rows = [{"id": "typo", "question": "KT 파트너스 데이는 어디에서 열렸나?", "Answers": [["더케이호텔"]],
             "gold": ["004_3623695115e5a12c.txt"]}]
    typo = tmp_path / "typo.jsonl"
    typo.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert "typo.jsonl:1: found 'Answers'; the contract's field is 'answers'" in run(dataset=typo)
    del rows[0]["Answers"]  # gold and no answers at all: a retrieval-only set, asked for answers
    typo.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert "'typo' names gold documents but no answers" in run(dataset=typo)
    long = tmp_path / "long.jsonl"
    long.write_text(json.dumps({"id": "q5", "question": "가" * 3000, "answers": [], "gold": []}), encoding="utf-8")
    assert "question 'q5' is 3,000 characters, over app.max_question_chars" in run(dataset=long)
    assert "a folder, not a JSONL dataset file" in run(dataset=tmp_path)
    assert "are not in --split report" in run("--split", "report", "--ids", "s01")  # s01 calibrates
    nowhere = tmp_path / "no-store"
    assert "no such store folder" in run("--store", str(nowhere)) and not nowhere.exists()
    unbuilt = ingested.with_store(nowhere)  # the configured store, never built: said so, not created empty
    assert main(["--dataset", str(SMOKE), "--mode", "extractive", "--no-progress"], settings=unbuilt,
                embedder=HashingEmbedder()) == 2
    assert f"no store yet at {nowhere}" in capsys.readouterr().err and not nowhere.exists()
    # a BOM and a decomposed gold id are what an editor on another system writes: read as meant
    bom = tmp_path / "bom.jsonl"
    row = {"id": 1, "question": "KT 파트너스 데이는 어디에서 열렸나?", "answers": [["더케이호텔"]],
           "gold": [unicodedata.normalize("NFD", "004_3623695115e5a12c.txt")]}
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(row, ensure_ascii=False).encode("utf-8"))
    assert load_dataset(bom)[0].gold == ("004_3623695115e5a12c.txt",)


def test_compare_writes_one_table_for_all_systems(tmp_path: Path, ingested):
    from fakes import HashingEmbedder

    from eval.compare import main as compare_main

    out = tmp_path / "table.md"
    code = compare_main(["--dataset", "seeds", "--systems", "bm25,keyword,dense,hybrid", "--out", str(out), "--no-progress"],
                        settings=ingested, embedder=HashingEmbedder())
    assert code == 0
    table = out.read_text(encoding="utf-8")
    for label in ("(b) llama-index BM25Retriever", "(c) ours: Kiwi BM25 keyword", "(d) ours: dense", "(e) ours: hybrid"):
        assert label in table
    result = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    answerable = sum(1 for q in load_dataset(SEEDS) if q.gold)
    assert all(row["n"] == answerable for row in result["rows"])
    # Kiwi morphemes find "삼성전자는"-style inflected names that the English regex tokenizer misses
    keyword = next(r for r in result["rows"] if r["system"] == "keyword")
    bm25 = next(r for r in result["rows"] if r["system"] == "bm25")
    assert keyword["recall@1"] > bm25["recall@1"]


def test_compare_on_another_store_gives_the_baselines_that_stores_articles(tmp_path: Path, seeds_dir: Path):
    """--store holding other articles than the configured corpus (seeds/): the baselines indexed seeds/ and scored 0."""
    import shutil
    from dataclasses import replace

    from fakes import HashingEmbedder

    from eval.compare import main as compare_main
    from rag.pipeline import build_pipeline

    settings = _settings(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "hanbit.txt").write_text("한빛전자 양극재 공장\n\n한빛전자는 청주에 양극재 공장을 짓는다고 3일 밝혔다. "
                                      "총 투자액은 4,200억 원이다.\n", encoding="utf-8")
    shutil.copy(seeds_dir / "004_3623695115e5a12c.txt", mine)
    store = tmp_path / "mine-store"
    pipe = build_pipeline(settings.with_store(store), embedder=HashingEmbedder())
    pipe.ingest([mine])
    pipe.close()
    questions = tmp_path / "mine.jsonl"
    questions.write_text(json.dumps({"id": "h1", "question": "한빛전자 양극재 공장의 총 투자액은?", "answers": [["4,200억"]],
                                     "gold": ["hanbit.txt"]}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "table.md"
    assert compare_main(["--dataset", str(questions), "--store", str(store), "--systems", "bm25,keyword",
                         "--out", str(out), "--no-progress"], settings=settings, embedder=HashingEmbedder()) == 0
    result = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert result["corpus"] == f"the 2 articles of the store {store}"
    assert all(row["recall@1"] == 1.0 for row in result["rows"])  # seeds/ holds no 한빛전자: it scored 0


@pytest.mark.slow
def test_newcomer_baseline_loads_the_packaged_minilm_by_path(seeds_dir: Path):
    from eval.baselines import NewcomerVector, minilm_path

    assert (minilm_path() / "modules.json").is_file()
    articles = _seed_articles(seeds_dir)
    system = NewcomerVector(articles)
    ranked = system.search("KT 5G partners day R&D", 3)
    assert ranked and set(ranked) <= {a.doc_id for a in articles}
    assert system.search_many(["KT 5G partners day R&D"], 3) == [ranked]


def test_a_run_counts_its_notices_by_kind() -> None:
    # an LLM run falls back for different reasons; the summary and the report say how many of each
    from eval.report import render_report
    from eval.runner import notice_counts, summarize

    codes = ["llm_unverified", "llm_unverified", "llm_found_nothing", None, ""]  # None: recorded before the codes
    cases = [{"id": f"q{i}", "type": "t", "gold": ["a.txt"], "answers": [["x"]], "answer": "x [1].", "refused": False,
              "correct": True, "notice": "" if code == "" else "…"}
             | ({} if code is None else {"notice_code": code}) for i, code in enumerate(codes)]
    assert notice_counts(cases) == {"llm_unverified": 2, "llm_found_nothing": 1, "other": 1}
    summary = summarize(cases)
    assert summary["overall"]["n_notice"] == 4 and summary["overall"]["notices"]["llm_unverified"] == 2
    report = render_report(cases, summary, {}, with_misses=False)
    assert "llm_unverified 2, llm_found_nothing 1, other 1" in report


def test_diagnose_says_which_line_of_a_question_file_is_bad(tmp_path: Path, capsys) -> None:
    from eval.diagnose import main as diagnose_main

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q"}\n{oops\n', encoding="utf-8")
    assert diagnose_main(["--dataset", str(bad)]) == 2  # it was a DatasetError traceback
    assert capsys.readouterr().err.startswith(f"error: {bad}:2: not valid JSON")


def test_replay_and_diff_name_what_they_were_given_instead(tmp_path: Path, capsys) -> None:
    from eval.diff import main as diff_main
    from eval.replay import main as replay_main

    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"id": "a", "question": "q", "answers": [], "gold": []}\n', encoding="utf-8")
    assert replay_main([str(questions), "--values", "0,1"]) == 2  # it was KeyError: 'refused'
    assert "holds no `python -m eval.diagnose --out` records" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        replay_main([str(questions), "--values", "abc"])
    assert "give numbers separated by commas" in capsys.readouterr().err
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    assert diff_main([str(listed), str(listed)]) == 2  # it was AttributeError
    assert "is not an eval run's summary.json" in capsys.readouterr().err
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    small.write_text(json.dumps({"overall": {"n": 17, "recall@1": 0.5}}), encoding="utf-8")
    large.write_text(json.dumps({"overall": {"n": 34, "recall@1": 0.6}}), encoding="utf-8")
    assert diff_main([str(small), str(large)]) == 0
    assert "not over the same questions" in capsys.readouterr().err


def test_the_misses_table_says_what_was_expected_and_why_a_question_was_refused() -> None:
    """A miss showed "(refused)" and the gold file only: why it was refused, and what the answer should have held,
    took opening cases.jsonl."""
    from eval.report import render_report
    from eval.runner import summarize

    def case(qid: str, **fields) -> dict:
        return {"id": qid, "question": f"{qid}?", "type": "t", "gold": ["a7.txt"], "answers": [["최민재"]],
                "hits": [{"source": "a2.txt", "score": 0.2, "chunk_id": "a2.txt#0"}], "refused": False,
                "correct": False, "answer": "", "notice": "", "notice_code": "", **fields}

    names = {"probability": 0.0, "threshold": None, "code": "names_missing", "missing": ["Saesol", "Bio"],
             "reason": "question names something the articles do not mention", "unnamed": []}
    unsure = {"probability": 0.0139, "threshold": 0.0743, "code": "not_answered", "missing": [],
              "reason": "the passages do not answer the question", "unnamed": []}
    cases = [case("named", refused=True, grounding=names),
             case("unsure", refused=True, grounding=unsure, answers=[["1,200억", "1200억"], ["3년"]]),
             case("fallback", answer="새솔바이오는 300억원 규모의 펀드를 조성했다 [1].", notice="…",
                  notice_code="llm_unverified"),
             case("refuse", gold=[], answers=[], answer="가람제약은 …", grounding=unsure)]
    misses = render_report(cases, summarize(cases), {}).split("## Misses", 1)[1].strip().splitlines()
    assert misses[0] == "| id | type | question | gold | top hit | expected | answer |"
    assert misses[2] == ("| named | t | named? | a7.txt | a2.txt | 최민재 | (refused: question names something the "
                         "articles do not mention; not in the articles: Saesol, Bio) |")
    assert misses[3].endswith("| 1,200억 / 1200억; 3년 | (refused: the passages do not answer the question; "
                              "probability 0.014 < 0.074) |")
    assert misses[4].endswith("| 최민재 | 새솔바이오는 300억원 규모의 펀드를 조성했다 [1]. [llm_unverified] |")
    assert misses[5].endswith("| (refuse) | 가람제약은 … |")


def test_the_misses_table_does_not_call_a_gold_only_question_one_to_refuse() -> None:
    """A --retrieval-only set may give gold without answers: its misses read "expected (refuse)", as if the
    question were one the system must refuse."""
    from eval.report import _misses

    retrieval_only = {"id": "r1", "question": "r1?", "type": "t", "gold": ["a7.txt"], "answers": [],
                      "hits": [{"source": "a2.txt", "score": 0.2, "chunk_id": "a2.txt#0"}], "answer": None,
                      "refused": None, "recall@5": 0.0}
    assert _misses([retrieval_only])[2] == "| r1 | t | r1? | a7.txt | a2.txt | – |  |"


def test_diff_says_how_the_two_runs_were_made_differently_and_takes_their_folders(tmp_path: Path, capsys) -> None:
    """A run at k=5 beside one at k=3: the table silently lost R@5, and nothing said the runs were not made alike."""
    from eval.diff import main as diff_main

    def run(folder: str, k: int, overall: dict) -> Path:
        path = tmp_path / folder
        path.mkdir()
        summary = {"overall": {"n": 14, **overall}, "run": {"dataset": "my.jsonl", "mode": "extractive", "k": k}}
        (path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
        return path

    old = run("old", 5, {"recall@1": 0.875, "recall@5": 1.0, "correct": 0.9})
    new = run("new", 3, {"recall@1": 0.875, "correct": 0.8})
    assert diff_main([str(old), str(new)]) == 0  # the folders: "Is a directory" before
    out = capsys.readouterr().out
    assert "| overall | accuracy | 0.900 | 0.800 | -0.100 |" in out
    assert "The runs differ in k (5 → 3): the change is partly that, not the system's alone." in out
    assert "Figures only one run gives: R@5 (old only)." in out
    assert diff_main([str(old / "summary.json"), str(old / "summary.json")]) == 0
    same = capsys.readouterr().out
    assert "differ" not in same and "only one run" not in same
