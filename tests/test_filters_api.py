"""Filters on the HTTP API: `"filters"` on /api/ask and /v1/chat/completions restricts what the answer
may cite (real store and keyword index), bad values are a 400 before any work."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.realapp import real_app, real_pipeline, real_settings

SEED_DATES = {
    "000_7f8c52e3f50417da.txt": "2025-11-09",
    "001_d5bd6796c56307a8.txt": "2022-09-21",
    "002_2b509c53194e2463.txt": "2021-04-23",
    "003_5b08162b347d2118.txt": "2024-11-28",
    "004_3623695115e5a12c.txt": "2018-11-20",
}
BROAD = "협력사와 상생협력 동반성장 지원"


@pytest.fixture(scope="module")
def client(tmp_path_factory, korean):
    tmp = tmp_path_factory.mktemp("filters")
    settings = real_settings(tmp)
    pipe = real_pipeline(settings, korean)
    yield TestClient(real_app(settings, pipe))
    pipe.close()


def _sources(data: dict) -> set[str]:
    return {h["source"] for h in data["hits"]} | {c["source"] for c in data["citations"]}


def test_unfiltered_question_draws_on_several_years(client) -> None:
    data = client.post("/api/ask", json={"question": BROAD, "mode": "extractive", "k": 10}).json()
    assert len({SEED_DATES[s][:4] for s in _sources(data)}) >= 3  # the filters below have something to remove


def test_date_filter_returns_only_sources_in_the_range(client) -> None:
    body = {"question": BROAD, "mode": "extractive", "k": 10, "filters": {"date_from": "2024-01-01", "date_to": "2025-12-31"}}
    data = client.post("/api/ask", json=body).json()
    assert _sources(data) and all("2024-01-01" <= SEED_DATES[s] <= "2025-12-31" for s in _sources(data))
    assert all("2024" <= c["date"] for c in data["citations"])


def test_publisher_filter_returns_only_that_publisher(client) -> None:
    body = {"question": BROAD, "mode": "extractive", "k": 10, "filters": {"publisher": ["중소벤처기업부"]}}
    data = client.post("/api/ask", json=body).json()
    assert _sources(data) == {"003_5b08162b347d2118.txt"}
    assert {c["publisher"] for c in data["citations"]} <= {"중소벤처기업부"}


def test_a_filter_nothing_matches_is_a_refusal_not_an_error(client) -> None:
    body = {"question": BROAD, "mode": "extractive", "filters": {"publisher": ["없는신문"]}}
    data = client.post("/api/ask", json=body).json()
    assert data["refused"] is True and data["hits"] == []


def test_openai_route_takes_filters_as_an_extra_body_field(client) -> None:
    body = {"model": "sangsaeng-qa-extractive", "messages": [{"role": "user", "content": BROAD}],
            "filters": {"source": ["004_3623695115e5a12c.txt"]}}
    data = client.post("/v1/chat/completions", json=body).json()
    chunks = data["choices"][0]["message"]["reference"]["chunks"]
    assert chunks and {c["document_id"] for c in chunks} == {"004_3623695115e5a12c.txt"}
    assert {c["date"] for c in chunks} == {"2018-11-20"}  # the reference says when what it cites was written


def test_openai_stream_applies_filters(client) -> None:
    body = {"model": "sangsaeng-qa-extractive", "stream": True, "messages": [{"role": "user", "content": BROAD}],
            "filters": {"date_to": "2019-12-31"}}
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ") and line != "data: [DONE]"]
    final = json.loads(lines[-1][6:])
    assert final["citations"] and {c["source"] for c in final["citations"]} == {"004_3623695115e5a12c.txt"}


@pytest.mark.parametrize(
    "filters,needle",
    [
        ({"date_from": "2024-13-01"}, "date_from"),
        ({"date_to": "last year"}, "date_to"),
        ({"date_from": "2025-01-01", "date_to": "2024-01-01"}, "after"),
        ({"publisher": [1, 2]}, "publisher"),
        ({"outlet": ["x"]}, "outlet"),
    ],
)
@pytest.mark.parametrize("route", ["/api/ask", "/v1/chat/completions"])
def test_bad_filters_are_a_400_that_names_the_field(client, route: str, filters: dict, needle: str) -> None:
    if route == "/api/ask":
        body = {"question": BROAD, "filters": filters}
    else:
        body = {"messages": [{"role": "user", "content": BROAD}], "filters": filters}
    response = client.post(route, json=body)
    assert response.status_code == 400, response.text
    assert needle in response.json()["error"]["message"]
