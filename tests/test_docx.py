"""Word documents (.docx): body paragraphs and tables in order; headers, footers and deletions are not text."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT
from rag.corpus import load_corpus
from rag.docx import read_docx
from rag.documents import DocumentError
from tests.hwpx_sample import zip_bytes

RELEASE = PROJECT_ROOT / "tests" / "data" / "docx" / "saenuri_release.docx"  # written by python-docx


def test_a_release_reads_as_its_paragraphs_and_table_rows() -> None:
    doc = read_docx(RELEASE.read_bytes())
    assert doc.title == "새누리기계, 협력사 납품대금 조기 지급"
    assert doc.text.split("\n") == [
        "새누리기계, 협력사 납품대금 조기 지급",
        "배포일시: 2024년 5월 2일",
        "새누리기계는 협력사 120곳에 납품대금 350억 원을 명절 전에 앞당겨 지급한다고 2일 밝혔다.",
        "구분 | 협력사 수 | 금액",
        "구분: 1차 협력사 | 협력사 수: 80곳 | 금액: 270억 원",
        "구분: 2차 협력사 | 협력사 수: 40곳 | 금액: 80억 원",
        '정하늘 상생협력팀장은 "협력사 자금 부담을 덜겠다"고 말했다.',
    ]  # not the header ("새누리기계 보도자료"), the footer ("- 1 -") or the tracked deletion ("지운 문장이다.")


def test_a_folder_reads_the_document_with_its_date(tmp_path: Path) -> None:
    (tmp_path / "release.docx").write_bytes(RELEASE.read_bytes())
    (article,) = load_corpus([tmp_path]).articles
    assert (article.doc_id, article.title, article.date) == ("release.docx", "새누리기계, 협력사 납품대금 조기 지급", "2024-05-02")



W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _damaged() -> bytes:
    """The fixture with bytes of its body's deflate stream overwritten (zlib fails, not the zip reader)."""
    data = bytearray(RELEASE.read_bytes())
    start = data.index(b"word/document.xml") + len("word/document.xml") + 40
    data[start:start + 16] = b"\xff" * 16
    return bytes(data)


@pytest.mark.parametrize(("data", "message"), [
    (b"\xd0\xcf\x11\xe0 an old binary .doc", "not a zip"),
    (zip_bytes({"[Content_Types].xml": b"<Types/>"}), "no word/document.xml"),
    (zip_bytes({"word/document.xml": b"<w:document"}), "not a readable DOCX file (word/document.xml"),
    (zip_bytes({"word/document.xml": f"<w:document {W}><w:body/></w:document>".encode()}), "has no text"),
    (zip_bytes({"word/document.xml": b"<d>" + b" " * (30 << 20) + b"</d>"}), "a zip bomb"),
    (_damaged(), "not a readable DOCX file (word/document.xml"),
])
def test_a_broken_or_hostile_file_is_named(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(".", r"\.")):
        read_docx(data)
