"""Excel 97-2003 workbooks (.xls): every sheet read like a CSV through the shared strings and cell
records; dates by their format, numbers as written; older, locked and broken files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus import load_corpus
from rag.documents import DocumentError
from rag.xls import sheets
from tests.hwp_sample import compound_file
from tests.xls_sample import (BUILTIN_DATE, ISO_DATE, formula_text, label, label_sst, number_cell, rk_cell,
                              workbook)

STRINGS = ["일자", "언론사", "제목", "본문", "새누리기계 대금 조기 지급",
           "Saenuri pays its suppliers early: 새누리기계는 협력사 120곳에 납품대금 350억 원을 앞당겨 지급한다."]


def clippings(**options) -> bytes:
    may = [label_sst(0, c, i) for c, i in enumerate(range(4))]
    may += [number_cell(1, 0, 45414, ISO_DATE), label(1, 1, "한빛경제"), label_sst(1, 2, 4), label_sst(1, 3, 5)]
    may += [rk_cell(2, 0, 45415, BUILTIN_DATE), label(2, 1, "새솔뉴스"), formula_text(2, 2, "다온식품 기술 나눔"),
            label(2, 3, "다온식품은 특허 17건을 협력사에 무상으로 이전했다."), rk_cell(2, 4, 33)]
    # (a NaN, which no cell shows: the cell reads as empty)
    summary = [label(0, 0, "월"), label(0, 1, "건수"), label(1, 0, "5월"), rk_cell(1, 1, 2), number_cell(1, 2, float("nan"))]
    return workbook({"5월": may, "요약": summary}, STRINGS, **options)


def test_every_sheet_reads_its_strings_numbers_and_dates() -> None:
    # the last shared string is cut by a CONTINUE record 20 characters in, its rest in UTF-16
    may, summary = sheets(clippings(split=20))
    assert (may.title, summary.title) == ("5월", "요약")
    assert may.rows == [
        (1, ["일자", "언론사", "제목", "본문"], ""),
        (2, ["2024-05-02", "한빛경제", "새누리기계 대금 조기 지급", STRINGS[5]], ""),  # a custom date format
        (3, ["2024-05-03", "새솔뉴스", "다온식품 기술 나눔", "다온식품은 특허 17건을 협력사에 무상으로 이전했다.", "33"], ""),
    ]  # a built-in date format, a formula's string result, a whole number without ".0"
    assert summary.rows[1] == (2, ["5월", "2"], "")
    # a workbook in the 1904 date system counts its serial numbers from 1904-01-01
    assert sheets(clippings(date1904=True))[0].rows[1][1][0] == "2028-05-03"


def test_a_folder_reads_the_list_as_articles(tmp_path: Path) -> None:
    (tmp_path / "clippings.xls").write_bytes(clippings(split=20))
    load = load_corpus([tmp_path])
    assert [(a.title, a.date, a.publisher) for a in load.articles] == [
        ("새누리기계 대금 조기 지급", "2024-05-02", "한빛경제"), ("다온식품 기술 나눔", "2024-05-03", "새솔뉴스")]
    assert load.articles[0].doc_id.startswith("clippings.xls/")
    (where, why), = load.problems
    assert where == f"{tmp_path / 'clippings.xls'}:요약" and why.startswith("no article text column")


@pytest.mark.parametrize(("data", "message"), [
    (b"PK\x03\x04 an .xlsx named .xls", "not an OLE compound file; an .xlsx is a zip"),
    (compound_file({"Book": b"\x09\x08"}), "Excel 5 or 95 workbook: open it in Excel and save it as .xlsx"),
    (compound_file({"WordDocument": b"\x00" * 64}), "no Workbook stream"),
    (clippings(encrypted=True), "encrypted XLS: it needs a password"),
    (compound_file({"Workbook": b"\x09\x08\x04\x00\x00\x05\x05\x00"}), "no BIFF8 workbook"),
    (compound_file({"Workbook/x": b"a storage"}), "not a readable XLS file (TypeError"),
])
def test_an_older_locked_or_broken_workbook_is_named(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(".", r"\.")):
        sheets(data)
