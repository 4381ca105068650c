"""Article lists kept in Excel (.xlsx): each sheet read like a CSV, dates and numbers as text."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from rag.corpus import load_corpus
from rag.documents import DocumentError
from rag.workbook import drop_rows, sheets
from tests.hwpx_sample import zip_bytes


def workbook(rows: list[list[object]], second_sheet: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if second_sheet:
        book.create_sheet("메모").append(["본문"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CLIPPINGS = [
    ["일자", "언론사", "제목", "본문", "조회수"],
    [datetime(2024, 5, 2, 9, 30), "한빛경제", "새누리기계 대금 조기 지급", "새누리기계는 협력사 120곳에 납품대금 350억 원을 앞당겨 지급한다.", 1520],
    ["20240503", "새솔뉴스", "다온식품 기술 나눔", "다온식품은 특허 17건을 협력사에 무상으로 이전했다.", 33.0],
    [None, None, None, None, None],
    ["2024-05-04", "새솔뉴스", "빈 본문", None, 1],
]


def test_a_clipping_sheet_reads_as_articles_with_their_metadata(tmp_path: Path) -> None:
    (tmp_path / "clippings.xlsx").write_bytes(workbook(CLIPPINGS, second_sheet=True))
    load = load_corpus([tmp_path])
    first, second = load.articles
    assert (first.title, first.date, first.publisher) == ("새누리기계 대금 조기 지급", "2024-05-02", "한빛경제")
    assert first.doc_id.startswith("clippings.xlsx/") and second.date == "2024-05-03"
    # the workbook has two sheets: a problem names the sheet and its row (the second sheet, a header alone, is none)
    assert load.problems == [(f"{tmp_path / 'clippings.xlsx'}:Sheet:5", "the row's text cell is empty")]


def test_every_sheet_is_read_with_its_own_header(tmp_path: Path) -> None:
    book = Workbook()
    book.active.title = "5월"
    for row in CLIPPINGS[:3]:
        book.active.append(row)
    june = book.create_sheet("6월")  # an export's title line and a blank row above its header, English names
    for row in [["2024년 6월 스크랩"], [], ["date", "title", "text"], ["2024-06-03", "온새물산 펀드", "온새물산은 상생펀드 500억 원을 조성했다."]]:
        june.append(row)
    book.create_sheet("요약").append(["월", "건수"])  # a summary sheet: no article text column
    book["요약"].append(["5월", 2])
    book.create_sheet("빈 시트")
    out = io.BytesIO()
    book.save(out)
    (tmp_path / "scraps.xlsx").write_bytes(out.getvalue())
    load = load_corpus([tmp_path])
    assert [(a.title, a.date) for a in load.articles] == [
        ("새누리기계 대금 조기 지급", "2024-05-02"), ("다온식품 기술 나눔", "2024-05-03"), ("온새물산 펀드", "2024-06-03")]
    (where, why), = load.problems  # the summary is named; the empty sheet is not a problem
    assert where == f"{tmp_path / 'scraps.xlsx'}:요약" and why.startswith("no article text column: the header row has '월', '건수'")


def test_cells_read_as_text() -> None:
    rows = sheets(workbook(CLIPPINGS))[0].rows
    assert rows[1][1] == ["2024-05-02", "한빛경제", "새누리기계 대금 조기 지급",
                          "새누리기계는 협력사 120곳에 납품대금 350억 원을 앞당겨 지급한다.", "1520"]
    assert rows[2][1][-1] == "33" and rows[3] == (4, [], "")  # an empty row: nothing


def test_a_sheet_declaring_a_huge_size_is_refused_without_reading_it(monkeypatch) -> None:
    # one stray cell far down (or a hand-edited dimension "A1:XFD1048576") must not make the reader
    # walk a million empty rows of 16,384 columns
    import rag.workbook

    monkeypatch.setattr(rag.workbook, "MAX_ROWS", 1000)
    book = Workbook()
    book.active.append(["본문"])
    book.active.cell(row=5000, column=16000, value="멀리 있는 칸")
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(DocumentError, match="more than 1,000 rows"):
        sheets(out.getvalue())


def test_dropping_a_row_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "clippings.xlsx"
    path.write_bytes(workbook(CLIPPINGS, second_sheet=True))
    drop_rows(path, {0: {2}})
    book = load_workbook(path)
    assert [row[2] for row in book.worksheets[0].iter_rows(values_only=True)][:3] == ["제목", "다온식품 기술 나눔", None]
    assert book.sheetnames == ["Sheet", "메모"]


def _cut_sheet(data: bytes) -> bytes:
    """The workbook with its sheet's XML cut short."""
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = source.read(info.filename)
            target.writestr(info.filename, part[:300] if info.filename == "xl/worksheets/sheet1.xml" else part)
    return out.getvalue()


@pytest.mark.parametrize(("data", "message"), [
    (b"\xd0\xcf\x11\xe0 an old binary .xls", "not a zip"),
    (zip_bytes({"mimetype": "x"}), "no xl/workbook.xml"),
    (zip_bytes({"xl/workbook.xml": "<workbook/>", "xl/worksheets/sheet1.xml": b" " * (30 << 20)}), "a zip bomb"),
    (zip_bytes({"xl/workbook.xml": "<not-closed"}), "not a readable XLSX file"),
    (_cut_sheet(workbook(CLIPPINGS)), "not a readable XLSX file .ParseError"),
])
def test_a_broken_or_hostile_workbook_is_named(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        sheets(data)


def test_sheets_written_back_as_text_read_the_same() -> None:
    from rag.workbook import Sheet, workbook_bytes

    long = "보도자료 목록: 2024/5월 [국내]*?" + "가" * 30  # past Excel's 31 characters, with [ ] : * ? /
    book = [Sheet(long, [(1, ["제목", "본문"], ""), (3, ["=SUM(A1)", "본문\x01이다."], "")]),
            Sheet(long, [(1, ["본문"], "")])]
    first, second = sheets(workbook_bytes(book))
    # a formula-looking cell stays text, a control character is a space, a blank row stays blank
    assert first.rows == [(1, ["제목", "본문"], ""), (2, [], ""), (3, ["=SUM(A1)", "본문 이다."], "")]
    assert len(first.title) <= 31 and not set(first.title) & set("[]:*?/\\")
    assert second.title != first.title and len(second.title) <= 31  # a title made unique
