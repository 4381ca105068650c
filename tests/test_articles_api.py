"""The article manager over HTTP (rag.web.articles + rag.inbox): admin-only upload, background ingest
with a job to poll, list, delete, re-ingest — against the real store, corpus reader and keyword index.
Hostile uploads get one clear message and leave the store and the uploads folder as they were."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.config import PROJECT_ROOT
from tests.fakes import HashingEmbedder
from tests.doc_sample import RELEASE as DOC_RELEASE
from tests.hwp_sample import RELEASE as HWP_RELEASE
from tests.hwpx_sample import RELEASE as HWPX_RELEASE
from tests.hwpx_sample import zip_bytes as _zip
from tests.odt_sample import RELEASE as ODT_RELEASE
from tests.test_rtf import release as rtf_release
from tests.realapp import TOKEN, real_app, real_pipeline, real_settings

HTML = PROJECT_ROOT / "tests" / "data" / "html"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOTE = ("온새물산 협력사 기술지원 발표\n\n온새물산은 협력사 38곳에 스마트공장 구축 비용 72억 원을 지원한다고 밝혔다. "
        "지원은 내년 3월까지 이어진다.\n").encode("utf-8")


class GatedEmbedder(HashingEmbedder):
    """The article jobs' ingest embeds passages only once `gate` is set: an ingest that is visibly
    still running. Answers embed evidence sentences too (their e5 relevance): those are never held."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()

    def embed_passages(self, texts):
        if threading.current_thread().name == "rag-article-jobs":
            assert self.gate.wait(30)
        return super().embed_passages(texts)


@pytest.fixture(scope="module")
def app_parts(tmp_path_factory, korean):
    tmp = tmp_path_factory.mktemp("articles")
    settings = real_settings(tmp, admin_token=TOKEN)
    embedder = GatedEmbedder()
    from rag.pipeline import build_pipeline

    pipe = build_pipeline(settings, embedder=embedder, korean=korean)
    pipe.ingest([PROJECT_ROOT / "seeds"])
    app = real_app(settings, pipe)
    yield TestClient(app), app, settings, embedder
    pipe.close()


@pytest.fixture
def client(app_parts):
    return app_parts[0]


def upload(client, *files: tuple[str, bytes]) -> dict:
    response = client.post("/api/articles", headers=AUTH, files=[("files", (n, d, "application/octet-stream")) for n, d in files])
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/api/articles/jobs/{response.json()['job']['id']}"
    return response.json()


def finish(client, job_id: str) -> dict:
    for _ in range(600):
        response = client.get(f"/api/articles/jobs/{job_id}", headers=AUTH)
        if response.status_code == 200:
            return response.json()["job"]
        assert response.status_code == 202 and response.json()["job"]["state"] in ("queued", "running")
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def listed(client) -> dict[str, dict]:
    return {a["doc_id"]: a for a in client.get("/api/articles", headers=AUTH).json()["articles"]}


def folder_state(settings) -> list[str]:
    folder = Path(settings.uploads.dir)
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []


def test_health_counts_an_upload_and_a_delete_at_once(app_parts) -> None:
    """/health showed the counts described before the upload (refreshed every few seconds, and only on a poll)."""
    client = app_parts[0]
    before = client.get("/health").json()["pipeline"]
    sent = upload(client, ("health_note.txt", NOTE.replace("온새물산".encode(), "누리물산".encode())))
    assert finish(client, sent["job"]["id"])["state"] == "done"
    after = client.get("/health").json()["pipeline"]
    assert after["n_docs"] == before["n_docs"] + 1 and after["n_chunks"] > before["n_chunks"]
    assert client.delete("/api/articles/health_note.txt", headers=AUTH).status_code == 200
    assert client.get("/health").json()["pipeline"]["n_docs"] == before["n_docs"]


def test_upload_lists_answers_and_delete_removes_article_and_file(app_parts) -> None:
    client, _, settings, _ = app_parts
    sent = upload(client, ("hanbit_article.html", (HTML / "hanbit_article.html").read_bytes()),
                  ("saesol_microdata.html", (HTML / "saesol_microdata.html").read_bytes()), ("onsae.txt", NOTE))
    assert sent["uploads"]["accepted"] == 3
    job = finish(client, sent["job"]["id"])
    assert job["state"] == "done", job
    assert set(job["result"]["ingest"]["added"]) >= {"hanbit_article.html", "saesol_microdata.html", "onsae.txt"}
    assert job["progress"]["done"] == job["progress"]["total"] > 0
    articles = listed(client)
    hanbit = articles["hanbit_article.html"]
    assert (hanbit["title"], hanbit["date"], hanbit["publisher"], hanbit["author"]) == (
        "한빛전자, 협력사 납품대금 연동제 조기 도입…원자재값 오르면 대금도 올린다", "2023-03-15", "한빛경제", "김서연 기자")
    assert hanbit["uploaded"] and hanbit["file"] == "hanbit_article.html" and hanbit["chunks"] > 0 and hanbit["ingested_at"]
    assert articles["saesol_microdata.html"]["date"] == "2024-11-28"
    assert not articles["001_d5bd6796c56307a8.txt"]["uploaded"]

    question = {"question": "온새물산이 스마트공장 구축 비용을 지원하는 협력사는 몇 곳인가?", "mode": "extractive"}
    answer = client.post("/api/ask", json=question).json()
    assert not answer["refused"] and "38곳" in answer["answer"]
    assert answer["citations"][0]["source"] == "onsae.txt"

    deleted = client.delete("/api/articles/onsae.txt", headers=AUTH)
    assert deleted.status_code == 200 and deleted.json()["file"] == "onsae.txt"
    assert "onsae.txt" not in listed(client) and not (Path(settings.uploads.dir) / "onsae.txt").exists()
    again = client.post("/api/ask", json=question).json()
    assert again["refused"] is True
    assert client.delete("/api/articles/onsae.txt", headers=AUTH).status_code == 404




HOSTILE = {
    "20 MB file": (("huge.txt", "상생 협력 기사 본문. ".encode("utf-8") * 700_000), "too_large", "10 MB limit"),
    "binary renamed .txt": (("photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40), "not_text", "binary file"),
    "zip with ../ paths": (("escape.zip", _zip({"ok.txt": NOTE, "../../escape.txt": NOTE})), "unsafe_path", "escape.txt"),
    "zip bomb": (("bomb.zip", _zip({"zeros.txt": b"0" * 30_000_000})), "zip_bomb", "zeros.txt"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_upload_gets_one_clear_message_and_changes_nothing(app_parts, case: str) -> None:
    client, _, settings, _ = app_parts
    (name, data), code, needle = HOSTILE[case]
    before_store, before_folder = listed(client), folder_state(settings)
    response = client.post("/api/articles", headers=AUTH, files=[("files", (name, data, "application/octet-stream"))])
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"]["type"] == "upload_rejected" and needle in body["error"]["message"]
    assert [f["code"] for f in body["uploads"]["files"]] == [code]
    assert listed(client) == before_store and folder_state(settings) == before_folder


def test_upload_cannot_take_another_folders_doc_id(app_parts) -> None:
    client, _, settings, _ = app_parts
    seed = listed(client)["001_d5bd6796c56307a8.txt"]
    job = finish(client, upload(client, ("001_d5bd6796c56307a8.txt", NOTE))["job"]["id"])
    [outcome] = job["result"]["files"]
    assert outcome["status"] == "rejected" and "already used by an article from another corpus folder" in outcome["message"]
    assert listed(client)["001_d5bd6796c56307a8.txt"] == seed
    assert "001_d5bd6796c56307a8.txt" not in folder_state(settings)


def test_a_broken_file_is_reported_by_name_and_the_others_land(app_parts) -> None:
    client, _, settings, _ = app_parts
    empty_page = b"<html><head><title>x</title></head><body><script>var page = 1;</script></body></html>"
    job = finish(client, upload(client, ("empty_page.html", empty_page),
                                ("daon_articlebody.html", (HTML / "daon_articlebody.html").read_bytes()))["job"]["id"])
    files = {f["path"]: f for f in job["result"]["files"]}
    assert files["empty_page.html"]["status"] == "rejected" and files["empty_page.html"]["message"]
    assert files["daon_articlebody.html"]["status"] == "placed"
    assert "empty_page.html" not in folder_state(settings) and "daon_articlebody.html" in listed(client)
    assert client.delete("/api/articles/daon_articlebody.html", headers=AUTH).status_code == 200


def test_zip_members_keep_their_folders_and_a_jsonl_record_is_deleted_alone(app_parts) -> None:
    client, _, settings, _ = app_parts
    records = (b'{"id": "feed-1", "title": "first", "text": "\xec\xb2\xab \xea\xb8\xb0\xec\x82\xac \xeb\xb3\xb8\xeb\xac\xb8\xec\x9d\xb4\xeb\x8b\xa4."}\n'
               b'{"id": "feed-2", "title": "second", "text": "\xeb\x91\x98\xec\xa7\xb8 \xea\xb8\xb0\xec\x82\xac \xeb\xb3\xb8\xeb\xac\xb8\xec\x9d\xb4\xeb\x8b\xa4."}\n')
    job = finish(client, upload(client, ("batch.zip", _zip({"2024/onsae.txt": NOTE, "feeds/feed.jsonl": records})))["job"]["id"])
    assert job["state"] == "done" and {"2024/onsae.txt", "feed-1", "feed-2"} <= set(listed(client))
    deleted = client.delete("/api/articles/feed-1", headers=AUTH).json()
    assert deleted["file"] == "feeds/feed.jsonl" and deleted["records_left_in_file"] == 1
    reingest = finish(client, client.post("/api/articles/reingest", headers=AUTH).json()["job"]["id"])
    assert reingest["state"] == "done" and "feed-1" not in listed(client) and "feed-2" in listed(client)
    for doc_id in ("feed-2", "2024/onsae.txt"):
        assert client.delete(f"/api/articles/{doc_id}", headers=AUTH).status_code == 200
    assert not (Path(settings.uploads.dir) / "feeds" / "feed.jsonl").exists()


def test_a_csv_export_is_an_article_a_row_and_a_deleted_row_leaves_the_others(app_parts) -> None:
    client, _, settings, _ = app_parts
    export = ("\ufeff한빛경제 기사 내보내기 (2024년 3월),,,,\r\n"  # a title line above the header, as exports write
              "뉴스 식별자,일자,언론사,제목,본문\r\n"
              "csv-1,20240305,한빛경제,온새물산 상생결제,\"온새물산은 협력사 41곳에 상생결제를 도입했다.\r\n도입은 4월부터다.\"\r\n"
              ",20240306,새솔뉴스,다온식품 기술나눔,\"다온식품은 특허 17건을 협력사에 무상으로 이전했다.\"\r\n")
    job = finish(client, upload(client, ("archive/export.csv", export.encode("utf-8")))["job"]["id"])
    assert job["state"] == "done", job
    articles = listed(client)
    (derived,) = [d for d in articles if d.startswith("archive/export.csv/")]  # the row without an id
    assert (articles["csv-1"]["title"], articles["csv-1"]["date"], articles["csv-1"]["publisher"]) == (
        "온새물산 상생결제", "2024-03-05", "한빛경제")
    assert articles[derived]["file"] == "archive/export.csv" and articles[derived]["date"] == "2024-03-06"

    answer = client.post("/api/ask", json={"question": "다온식품이 협력사에 무상으로 이전한 특허는 몇 건인가?",
                                           "mode": "extractive"}).json()
    assert not answer["refused"] and "17건" in answer["answer"] and answer["citations"][0]["source"] == derived

    deleted = client.delete("/api/articles/csv-1", headers=AUTH).json()
    assert deleted["file"] == "archive/export.csv" and deleted["records_left_in_file"] == 1
    rewritten = (Path(settings.uploads.dir) / "archive" / "export.csv").read_bytes()
    assert rewritten.startswith(b"\xef\xbb\xbf") and "csv-1" not in rewritten.decode("utf-8-sig")
    assert rewritten.decode("utf-8-sig").startswith("한빛경제 기사 내보내기 (2024년 3월),,,,\r\n뉴스 식별자,")  # kept
    reingest = finish(client, client.post("/api/articles/reingest", headers=AUTH).json()["job"]["id"])
    report = reingest["result"]["ingest"]
    assert derived in report["unchanged"] and derived not in report["updated"] and "csv-1" not in listed(client)
    assert client.delete(f"/api/articles/{derived}", headers=AUTH).json()["file"] == "archive/export.csv"
    assert not (Path(settings.uploads.dir) / "archive" / "export.csv").exists()


def test_an_excel_list_is_an_article_a_row_and_a_deleted_row_leaves_the_others(app_parts) -> None:
    import io

    from openpyxl import load_workbook

    from tests.test_workbook import CLIPPINGS, workbook

    client, _, settings, _ = app_parts
    # two sheets, each with its header: the second article is on the second sheet
    book = load_workbook(io.BytesIO(workbook(CLIPPINGS[:2])))
    second = book.create_sheet("5월 둘째 주")
    second.append(CLIPPINGS[0])
    second.append(CLIPPINGS[2])
    out = io.BytesIO()
    book.save(out)
    job = finish(client, upload(client, ("lists/clippings.xlsx", out.getvalue()))["job"]["id"])
    assert job["state"] == "done", job
    rows = {d: a for d, a in listed(client).items() if d.startswith("lists/clippings.xlsx/")}
    by_title = {a["title"]: d for d, a in rows.items()}
    assert set(by_title) == {"새누리기계 대금 조기 지급", "다온식품 기술 나눔"}
    assert rows[by_title["새누리기계 대금 조기 지급"]]["date"] == "2024-05-02"
    deleted = client.delete(f"/api/articles/{by_title['다온식품 기술 나눔']}", headers=AUTH).json()
    assert deleted["file"] == "lists/clippings.xlsx" and deleted["records_left_in_file"] == 1
    kept = load_workbook(Path(settings.uploads.dir) / "lists" / "clippings.xlsx")
    assert kept.sheetnames == ["Sheet", "5월 둘째 주"] and kept["5월 둘째 주"].max_row == 1  # its header alone
    reingest = finish(client, client.post("/api/articles/reingest", headers=AUTH).json()["job"]["id"])
    assert by_title["새누리기계 대금 조기 지급"] in reingest["result"]["ingest"]["unchanged"]
    assert by_title["다온식품 기술 나눔"] not in listed(client)
    assert client.delete(f"/api/articles/{by_title['새누리기계 대금 조기 지급']}", headers=AUTH).status_code == 200
    assert not (Path(settings.uploads.dir) / "lists" / "clippings.xlsx").exists()


def test_an_excel_97_list_is_kept_as_xlsx_and_its_rows_deleted_one_by_one(app_parts) -> None:
    from tests.test_xls import clippings

    client, _, settings, _ = app_parts
    sent = upload(client, ("lists/old.xls", clippings(split=20)), ("lists/broken.xls", HWP_RELEASE))  # an OLE file, no workbook
    received = {f["name"]: f for f in sent["uploads"]["files"]}
    assert received["lists/old.xls"]["path"] == "lists/old.xlsx" and received["lists/old.xls"]["status"] == "accepted"
    assert received["lists/broken.xls"]["code"] == "not_xls" and "no Workbook stream" in received["lists/broken.xls"]["message"]
    job = finish(client, sent["job"]["id"])
    assert job["state"] == "done", job
    # the summary sheet's problem is the file's, named by its sheet (not a file of its own)
    (placed,) = job["result"]["files"]
    assert (placed["path"], placed["status"]) == ("lists/old.xlsx", "placed")
    assert placed["message"].startswith("sheet 요약: no article text column"), placed
    rows = {a["title"]: d for d, a in listed(client).items() if d.startswith("lists/old.xlsx/")}
    assert set(rows) == {"새누리기계 대금 조기 지급", "다온식품 기술 나눔"}
    deleted = client.delete(f"/api/articles/{rows['다온식품 기술 나눔']}", headers=AUTH).json()
    assert deleted["file"] == "lists/old.xlsx" and deleted["records_left_in_file"] == 1
    assert client.delete(f"/api/articles/{rows['새누리기계 대금 조기 지급']}", headers=AUTH).status_code == 200
    assert not (Path(settings.uploads.dir) / "lists" / "old.xlsx").exists()


def test_uploaded_pdf_hangul_and_word_documents_are_read_answered_and_searched(app_parts) -> None:
    client, _, settings, _ = app_parts
    release = PROJECT_ROOT / "tests" / "data" / "pdf" / "onsae_release.pdf"
    job = finish(client, upload(client, ("releases/onsae.pdf", release.read_bytes()),
                                ("releases/locked.pdf", b"%PDF-1.4\n%%EOF\n"), ("releases/saenuri.hwpx", HWPX_RELEASE),
                                ("releases/saenuri.docx", (PROJECT_ROOT / "tests" / "data" / "docx" / "saenuri_release.docx").read_bytes()),
                                ("releases/saenuri.hwp", HWP_RELEASE), ("releases/saenuri.doc", DOC_RELEASE),
                                ("releases/saenuri.odt", ODT_RELEASE), ("releases/saenuri.rtf", rtf_release()))["job"]["id"])
    assert job["state"] == "done", job
    files = {f["path"]: f for f in job["result"]["files"]}
    assert files["releases/onsae.pdf"]["status"] == "placed"
    assert files["releases/locked.pdf"]["status"] == "rejected" and "not a readable PDF" in files["releases/locked.pdf"]["message"]
    assert listed(client)["releases/onsae.pdf"]["title"] == "온새물산, 협력사 스마트공장 지원 확대"
    assert {listed(client)[f"releases/saenuri.{kind}"]["date"] for kind in ("hwpx", "hwp", "docx", "doc", "odt", "rtf")} == {"2024-05-02"}
    # a table row is text of the article: the keyword search finds the document by it and shows the row
    found = {a["doc_id"]: a for a in client.get("/api/search", params={"q": "2차 협력사 금액"}).json()["articles"]}
    for doc_id in ("releases/saenuri.hwpx", "releases/saenuri.hwp", "releases/saenuri.docx", "releases/saenuri.doc",
                   "releases/saenuri.odt", "releases/saenuri.rtf"):
        assert "구분: 2차 협력사 | 협력사 수: 40곳 | 금액: 80억 원" in found[doc_id]["passage"]["text"]
    answer = client.post("/api/ask", json={"question": "온새물산의 품질관리 전문가 몇 명이 협력사 현장을 방문하나?",
                                           "mode": "extractive"}).json()
    assert not answer["refused"] and "12명" in answer["answer"]
    assert answer["citations"][0]["source"] == "releases/onsae.pdf"
    assert client.delete("/api/articles/releases/onsae.pdf", headers=AUTH).status_code == 200
    assert not (Path(settings.uploads.dir) / "releases" / "onsae.pdf").exists()
    for doc_id in ("releases/saenuri.hwpx", "releases/saenuri.hwp", "releases/saenuri.docx", "releases/saenuri.doc",
                   "releases/saenuri.odt", "releases/saenuri.rtf"):
        assert client.delete(f"/api/articles/{doc_id}", headers=AUTH).status_code == 200


def test_questions_are_answered_while_an_ingest_runs_and_delete_waits_for_it(app_parts) -> None:
    client, app, _, embedder = app_parts
    embedder.gate.clear()  # the upload's ingest now hangs in its embedding step
    try:
        job_id = upload(client, ("slow.txt", NOTE.replace(b"38", b"39")))["job"]["id"]
        for _ in range(1200):  # until the ingest holds the lock and waits in its embedding step
            if app.state.jobs.get(job_id).state == "running" and app.state.jobs.get(job_id).total:
                break
            time.sleep(0.05)
        assert app.state.jobs.get(job_id).total, "the ingest never reached its writing step"
        assert client.get(f"/api/articles/jobs/{job_id}", headers=AUTH).status_code == 202
        answer = client.post("/api/ask", json={"question": "LG이노텍의 동반성장 펀드 규모는?", "mode": "extractive"})
        assert answer.status_code == 200 and "1,030억" in answer.json()["answer"]
        assert client.delete("/api/articles/001_d5bd6796c56307a8.txt", headers=AUTH).status_code == 409
    finally:
        embedder.gate.set()
    assert finish(client, job_id)["state"] == "done"
    assert client.delete("/api/articles/slow.txt", headers=AUTH).status_code == 200


def test_list_filters_and_searches(app_parts) -> None:
    client, *_ = app_parts
    data = client.get("/api/articles", headers=AUTH, params={"publisher": "중소벤처기업부"}).json()
    assert [a["doc_id"] for a in data["articles"]] == ["003_5b08162b347d2118.txt"] and data["total"] == 1
    assert {a["doc_id"] for a in client.get("/api/articles", headers=AUTH, params={"q": "lg이노텍"}).json()["articles"]} == {
        "001_d5bd6796c56307a8.txt"}
    assert client.get("/api/articles", headers=AUTH, params={"date_from": "2024-99-01"}).status_code == 400


def test_without_the_token_nothing_is_reachable(client) -> None:
    assert client.get("/api/articles").status_code == 401
    assert client.post("/api/articles", files=[("files", ("a.txt", NOTE, "text/plain"))]).status_code == 401
    assert client.delete("/api/articles/001_d5bd6796c56307a8.txt").status_code == 401
    assert client.get("/api/articles", headers={**AUTH, "Origin": "http://elsewhere.example"}).status_code == 403
    assert client.get("/api/articles", headers={**AUTH, "Referer": "http://testserver/widget"}).status_code == 403
    assert client.get("/api/articles/jobs/nope", headers=AUTH).status_code == 404


def test_default_body_limit_fits_a_whole_upload() -> None:
    from rag.config import load_settings
    from rag.web.server import upload_bytes_needed

    settings = load_settings(None, env={})
    assert settings.app.max_upload_bytes >= upload_bytes_needed(settings)


def test_uploads_folder_inside_a_corpus_folder_is_refused(tmp_path) -> None:
    from dataclasses import replace

    from rag.config import SettingsError
    from rag.web.server import create_app

    settings = real_settings(tmp_path, admin_token=TOKEN)
    settings = replace(settings, uploads=replace(settings.uploads, dir=PROJECT_ROOT / "seeds" / "uploads"))
    with pytest.raises(SettingsError, match="overlap"):
        create_app(settings, lambda: None)
