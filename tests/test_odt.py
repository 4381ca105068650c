"""OpenDocument text (.odt): headings, paragraphs, lists and table rows in order; notes, comments and
deletions are not text; a text box reads in place; broken, locked and hostile files are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus import load_corpus
from rag.documents import DocumentError
from rag.odt import read_odt
from tests.hwpx_sample import zip_bytes
from tests.odt_sample import RELEASE, cell, odt, table


def test_a_release_reads_as_its_paragraphs_and_table_rows() -> None:
    doc = read_odt(RELEASE)
    assert doc.title == "새누리기계, 협력사 납품대금 조기 지급"
    assert doc.text.split("\n") == [
        "새누리기계, 협력사 납품대금 조기 지급",
        "배포일시: 2024년 5월 2일",
        "새누리기계는 협력사 120곳에 납품대금 350억 원을 명절 전에 앞당겨 지급한다고 2일 밝혔다.",  # not the footnote
        "지급 대상: 1차와 2차 협력사",
        "구분 | 협력사 수 | 금액",
        "구분: 1차 협력사 | 협력사 수: 80곳 | 금액: 270억 원",
        "구분: 2차 협력사 | 협력사 수: 40곳 | 금액: 80억 원",  # a cell of two paragraphs is one cell
        '정하늘 상생협력팀장은 "협력사 자금 부담을 덜겠다"고 말했다.',
        "상자 속 문의처: 상생협력팀",  # the text box anchored in the paragraph, after it
    ]  # not the comment ("메모: …") nor the tracked deletion ("지운 문장이다.")


def test_repeated_cells_and_nested_tables_read_as_written() -> None:
    inner = table(cell("안쪽") + cell("표"))
    doc = read_odt(odt(table(cell("2023년", repeated=2) + cell("2024년"), cell("칸 " + inner))))
    # a repeated cell stands for that many; a table in a cell is that cell's text
    assert doc.text.split("\n") == ["2023년 | 2023년 | 2024년", "칸 안쪽 표"]


def test_a_folder_reads_the_document_with_its_date(tmp_path: Path) -> None:
    (tmp_path / "release.odt").write_bytes(RELEASE)
    (article,) = load_corpus([tmp_path]).articles
    assert (article.doc_id, article.title, article.date) == ("release.odt", "새누리기계, 협력사 납품대금 조기 지급", "2024-05-02")


@pytest.mark.parametrize(("data", "message"), [
    (b"\xd0\xcf\x11\xe0 an old binary .doc", "not a zip"),
    (zip_bytes({"mimetype": "application/vnd.oasis.opendocument.text"}), "no content.xml"),
    (odt("<text:p>잠긴 문서.</text:p>", encrypted=True), "encrypted ODT: it needs a password"),
    (zip_bytes({"content.xml": b"<office:document-content"}), "not a readable ODT file (content.xml"),
    (odt(""), "ODT document has no text"),
    (zip_bytes({"content.xml": b"<d>" + b" " * (30 << 20) + b"</d>"}), "a zip bomb"),
])
def test_a_broken_locked_or_hostile_file_is_named(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(".", r"\.")):
        read_odt(data)
