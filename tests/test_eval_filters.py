"""The eval contract's optional per-question `filters`: parsed and checked with the line number,
written back out, and applied by the runner inside retrieval (real store, hashing embedder)."""

from __future__ import annotations

import json

import pytest

from eval.datasets import DatasetError, parse_lines, question_to_json
from eval.runner import answer_case, retrieval_case, ArticleTexts
from rag.types import Filters
from tests.realapp import real_pipeline, real_settings

LINE = {"id": "f1", "question": "협력사와 상생협력 동반성장 지원", "answers": [], "gold": [],
        "filters": {"date_from": "2024-01-01", "publisher": ["중소벤처기업부", "세계일보"]}}


def test_filters_are_parsed_and_written_back() -> None:
    [question] = parse_lines([json.dumps(LINE, ensure_ascii=False)])
    assert question.filters == Filters(date_from="2024-01-01", publisher=("중소벤처기업부", "세계일보"))
    assert question_to_json(question)["filters"] == LINE["filters"]
    [plain] = parse_lines([json.dumps({"id": "p", "question": "q"})])
    assert plain.filters is None and "filters" not in question_to_json(plain)


@pytest.mark.parametrize("filters,needle", [({"date_from": "2024-02-31"}, "date_from"), ({"outlet": ["x"]}, "filters"),
                                            ("2024", "filters"), ({"date_from": "2025-01-01", "date_to": "2024-01-01"}, "after")])
def test_bad_filters_name_the_line(filters, needle: str) -> None:
    lines = [json.dumps({"id": "ok", "question": "q"}), json.dumps({"id": "bad", "question": "q", "filters": filters})]
    with pytest.raises(DatasetError, match=rf"<dataset>:2: .*{needle}"):
        parse_lines(lines)


def test_runner_asks_within_the_questions_filters(tmp_path, korean) -> None:
    pipe = real_pipeline(real_settings(tmp_path), korean)
    try:
        [question] = parse_lines([json.dumps(LINE, ensure_ascii=False)])
        allowed = {"003_5b08162b347d2118.txt", "000_7f8c52e3f50417da.txt"}  # 2024 중기부, 2025 세계일보
        searched = retrieval_case(pipe, question, k=10)
        assert searched["filters"] == LINE["filters"]
        assert {h["source"] for h in searched["modes"]["hybrid"]["hits"]} <= allowed and searched["hits"]
        answered = answer_case(pipe, question, 10, "extractive", ArticleTexts(pipe))
        assert answered["hits"] and {h["source"] for h in answered["hits"]} <= allowed
    finally:
        pipe.close()
