"""A period named in the question ("2022년", "지난해", "최근") ranks that period's articles first
without filtering the others out (rag.periods + the hybrid ranking)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from rag.config import SettingsError, load_settings
from rag.periods import Period, credit_period, find_period
from rag.pipeline import build_pipeline
from rag.types import Article, Chunk
from tests.fakes import HashingEmbedder

TODAY = date(2023, 6, 1)


@pytest.mark.parametrize(
    "question,start,end",
    [
        ("2021년 상생결제 실적은?", "2021-01-01", "2021-12-31"),
        ("2018년도 KT 파트너스 데이는 어디에서 열렸나?", "2018-01-01", "2018-12-31"),
        ("2023년 이후 납품대금 조기지급을 발표한 회사들은?", "2023-01-01", "9999-12-31"),
        ("2019년 이전 기술나눔", "0001-01-01", "2018-12-31"),
        ("2014년부터 2021년까지 투입한 금액은?", "2014-01-01", "2021-12-31"),
        ("2024년 하반기 협약", "2024-07-01", "2024-12-31"),
        ("2024년 상반기 협약", "2024-01-01", "2024-06-30"),
        ("2024년 2분기 실적", "2024-04-01", "2024-06-30"),
        ("2021년까지 투입한 금액은?", "0001-01-01", "2021-12-31"),
        ("이달 간담회", "2023-06-01", "2023-06-30"),
        ("2022년 5월 행사", "2022-05-01", "2022-05-31"),
        ("지난해 조기 지급한 대금은?", "2022-01-01", "2022-12-31"),
        ("작년과 올해 실적", "2022-01-01", "2023-12-31"),
        ("지난달 간담회", "2023-05-01", "2023-05-31"),
        ("최근 상생 협약", "2022-06-01", "2023-06-01"),
        ("최근 3년 동안의 펀드", "2020-06-01", "2023-06-01"),
    ],
)
def test_periods_a_question_names(question: str, start: str, end: str) -> None:
    period = find_period(question, TODAY)
    assert period is not None and (period.start, period.end) == (start, end)


@pytest.mark.parametrize("question", ["LG유플러스 2025 기업부문 파트너 컨벤션", "3년 연속 최우수 등급", "지난 협약의 내용은?"])
def test_no_period_where_the_question_names_none(question: str) -> None:
    assert find_period(question, TODAY) is None


# one programme reported three years running; the text never states the year (only the record's
# date does), and the 2022 report lacks one of the question's words (실적)
REPORTS = {
    "2021.txt": ("2021-04-20", "한결전자 협력사 상생결제 운용 실적 발표\n\n한결전자는 협력사 상생결제 운용 실적을 발표했다. "
                 "상생결제 운용 규모는 1200억 원이다. 협력사 상생결제 운용 실적이 늘었다."),
    "2022.txt": ("2022-04-19", "한결전자 협력사 상생결제 운용 현황 발표\n\n한결전자는 협력사 상생결제 운용 현황을 발표했다. "
                 "상생결제 운용 규모는 1500억 원이다. 협력사 상생결제 운용 현황이 늘었다."),
    "2023.txt": ("2023-04-18", "한결전자 협력사 상생결제 운용 실적 발표\n\n한결전자는 협력사 상생결제 운용 실적을 발표했다. "
                 "상생결제 운용 규모는 1800억 원이다. 협력사 상생결제 운용 실적이 늘었다."),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory, korean):
    tmp = tmp_path_factory.mktemp("periods")
    s = load_settings(None, env={})
    settings = replace(s, paths=replace(s.paths, data_dir=tmp), store=replace(s.store, dir=tmp / "store"),
                       retrieval=replace(s.retrieval, reference_date=TODAY.isoformat()))
    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    pipe.ingest_articles([Article(doc_id=d, text=text, title=text.split("\n")[0], date=when, publisher="한결일보")
                          for d, (when, text) in REPORTS.items()])
    yield pipe
    pipe.close()


def _docs(pipe, question: str) -> list[str]:
    return list(dict.fromkeys(h.chunk.doc_id for h in pipe.search(question, k=6)))


def test_without_a_period_the_2022_report_is_not_first(reports) -> None:
    assert _docs(reports, "한결전자 협력사 상생결제 운용 실적은?")[0] != "2022.txt"


def test_a_year_in_the_question_ranks_that_years_article_first(reports) -> None:
    docs = _docs(reports, "2022년 한결전자 협력사 상생결제 운용 실적은?")
    assert docs[0] == "2022.txt"
    assert {"2021.txt", "2023.txt"} <= set(docs)  # preferred, not filtered


def test_a_relative_period_counts_from_the_reference_date(reports) -> None:
    assert _docs(reports, "상생결제 운용 실적은?")[0] == "2021.txt"  # without a period: a tie, broken by id
    assert _docs(reports, "지난해 상생결제 운용 실적은?")[0] == "2022.txt"  # 2023-06-01 - 1 year
    assert _docs(reports, "최근 상생결제 운용 실적은?")[0] == "2023.txt"


def test_hit_scores_stay_the_evidence_strength(reports) -> None:
    plain = {h.chunk.chunk_id: h.score for h in reports.search("한결전자 협력사 상생결제 운용 실적은?", k=6)}
    dated = {h.chunk.chunk_id: h.score for h in reports.search("2022년 한결전자 협력사 상생결제 운용 실적은?", k=6)}
    first = reports.search("2022년 한결전자 협력사 상생결제 운용 실적은?", k=6)[0]
    assert first.chunk.doc_id == "2022.txt" and first.score < max(dated.values())  # ranked first on the credit alone
    assert plain  # the same passages, scored without any bonus


def test_reference_date_must_be_a_date() -> None:
    with pytest.raises(SettingsError, match="reference_date"):
        load_settings(None, env={"RAG_RETRIEVAL__REFERENCE_DATE": "yesterday"})


class _Index:
    """A keyword index over fixed texts: a term is in a chunk when its text holds it."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts

    def query_terms(self, question: str) -> list[str]:
        return question.split()

    def weights(self, terms):
        return {t: 1.0 for t in terms}

    def score(self, terms, chunk_ids):
        return {c: 1.0 for c in chunk_ids if all(t in self.texts.get(c, "") for t in terms)}


def test_a_dated_chunk_is_credited_only_the_period_words_its_text_lacks() -> None:
    texts = {"dated": "상생결제 실적", "says": "2021년 상생결제 실적", "other": "상생결제 실적"}
    chunks = {cid: Chunk(chunk_id=cid, doc_id=cid, text=t, start=0, end=len(t), title=cid,
                         date="2022-03-01" if cid == "other" else "2021-05-01") for cid, t in texts.items()}
    period = Period("2021-01-01", "2021-12-31", "2021년")
    coverage = {"dated": 0.5, "says": 0.8, "other": 0.5, "gone": 0.5}  # "gone": no longer in the store
    credited = credit_period(coverage, chunks, ["2021년", "상생결제", "실적"], period, _Index(texts))
    assert credited == {"dated": 0.5 + 1 / 3, "says": 0.8, "other": 0.5, "gone": 0.5}
    assert not period.holds(None) and not period.holds("")
