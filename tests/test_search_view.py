"""The search view: every matching article (not only the top passages), grouped by article, sorted by
relevance or date, paged, filtered; as `GET /api/search` (real store, keyword index, hashing embedder)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from rag.types import Article
from tests.realapp import real_app, real_pipeline, real_settings

# twelve reports of one programme (more than any top-k), one long article where it appears in
# several passages, and articles that share only common words with the query
REPORTS = [
    Article(doc_id=f"report-{i:02d}.txt", title=f"상생결제 {i}차 운용 보고",
            text=f"상생결제 {i}차 운용 보고\n\n새솔전자는 협력사 대금을 상생결제로 지급했다고 밝혔다. "
                 f"이번 지급액은 {100 + i}억 원이다.",
            date=f"20{10 + i}-05-0{1 + i % 9}", publisher="새솔뉴스" if i % 2 else "한빛경제")
    for i in range(1, 13)
]
LONG = Article(doc_id="long.txt", title="협력사 결제 환경 점검",
               text="협력사 결제 환경 점검\n\n" + " ".join(
                   f"{n}번째 문단이다. 2차 협력사까지 상생결제로 대금을 받게 하는 방안을 논의했다. " + "결제 기간과 어음 관행도 다뤘다. " * 12
                   for n in range(1, 6)),
               date=None, publisher="다온일보")
OTHERS = [
    Article(doc_id="other-1.txt", title="협력사 기술 지원", text="협력사 기술 지원\n\n대기업이 협력사에 특허를 무상으로 이전했다.",
            date="2021-06-08", publisher="다온일보"),
    Article(doc_id="other-2.txt", title="반도체 수출", text="반도체 수출\n\n반도체 수출이 석 달째 늘었다.", date="2024-02-01",
            publisher="한빛경제"),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory, korean):
    tmp = tmp_path_factory.mktemp("search")
    settings = real_settings(tmp)
    pipe = real_pipeline(settings, korean, corpus=())
    pipe.ingest_articles([*REPORTS, LONG, *OTHERS])
    yield TestClient(real_app(settings, pipe))
    pipe.close()


def _search(client, **params) -> dict:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_matching_article_is_listed_once_and_paged(client) -> None:
    first = _search(client, q="상생결제", per_page=5)
    assert first["total"] == 13 and first["pages"] == 3  # 12 reports + the long article; more than a top-5
    seen = [a["doc_id"] for p in (1, 2, 3) for a in _search(client, q="상생결제", per_page=5, page=p)["articles"]]
    assert len(seen) == 13 == len(set(seen))  # grouped: the long article's five passages are one entry
    assert "other-1.txt" not in seen and "other-2.txt" not in seen
    long_entry = next(a for p in (1, 2, 3) for a in _search(client, q="상생결제", per_page=5, page=p)["articles"]
                      if a["doc_id"] == "long.txt")
    assert long_entry["passages"] >= 3


def test_best_passage_has_the_query_words_marked(client) -> None:
    article = _search(client, q="상생결제 지급액", per_page=1)["articles"][0]
    passage = article["passage"]
    marked = {passage["text"][s:e] for s, e in passage["highlights"]}
    assert "상생결제" in marked and "지급액" in marked or "지급" in marked
    assert set(article) >= {"doc_id", "title", "date", "publisher", "score"} and "source" not in article  # no paths


def test_sort_by_date_and_by_relevance(client) -> None:
    newest = _search(client, q="상생결제", sort="date", per_page=50)["articles"]
    dates = [a["date"] for a in newest if a["date"]]
    assert dates == sorted(dates, reverse=True) and newest[-1]["date"] is None  # undated last
    oldest = [a["date"] for a in _search(client, q="상생결제", sort="date_asc", per_page=50)["articles"] if a["date"]]
    assert oldest == sorted(oldest)
    scores = [a["score"] for a in _search(client, q="상생결제 지급액", sort="relevance", per_page=50)["articles"]]
    assert scores == sorted(scores, reverse=True)


def test_filters_restrict_the_list(client) -> None:
    data = _search(client, q="상생결제", publisher="새솔뉴스", date_from="2015-01-01", per_page=50)
    assert data["total"] == len(data["articles"]) > 0
    assert all(a["publisher"] == "새솔뉴스" and a["date"] >= "2015-01-01" for a in data["articles"])
    assert _search(client, q="상생결제", source="long.txt")["total"] == 1


def test_no_match_is_an_empty_page_not_an_error(client) -> None:
    data = _search(client, q="비트코인 가격 전망")
    assert data["total"] == 0 and data["articles"] == []


@pytest.mark.parametrize("params,needle", [({"q": "상생결제", "sort": "popular"}, "sort"),
                                          ({"q": "상생결제", "date_from": "2024-02-30"}, "date_from"),
                                          ({"q": "   "}, "비어"), ({"q": "상생결제", "per_page": 500}, "per_page")])
def test_bad_search_requests_are_400(client, params: dict, needle: str) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 400 and needle in response.json()["error"]["message"]


def test_search_is_rate_limited_per_client(tmp_path, korean) -> None:
    settings = real_settings(tmp_path)
    settings = replace(settings, app=replace(settings.app, rate_limit_per_minute=3))
    pipe = real_pipeline(settings, korean, corpus=())
    pipe.ingest_articles(REPORTS[:2])
    try:
        http = TestClient(real_app(settings, pipe))
        codes = [http.get("/api/search", params={"q": "상생결제"}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
    finally:
        pipe.close()
