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


def _box(*paragraphs: str) -> str:
    """A run holding a text box (as Word writes a VML one) of these paragraphs."""
    return f"<w:r><w:pict><v:shape><v:textbox><w:txbxContent>{''.join(paragraphs)}</w:txbxContent></v:textbox></v:shape></w:pict></w:r>"


def test_text_boxes_read_in_place_each_paragraph_once() -> None:
    nested = "<w:p><w:r><w:t>상자 속 상자.</w:t></w:r></w:p>"
    boxed = f"<w:p><w:r><w:t>상자</w:t><w:tab/><w:t>첫 줄</w:t></w:r>{_box(nested)}<w:r><w:t>의 끝.</w:t></w:r></w:p>"
    body = (f"<w:p><w:r><w:t>본문 앞</w:t></w:r>{_box(boxed)}<w:r><w:t>본문 뒤.</w:t><w:br/><w:t>줄바꿈 뒤.</w:t></w:r></w:p>"
            "<w:p><w:r><w:t>마지막 문단.</w:t></w:r></w:p>")
    xml = f'<w:document {W} xmlns:v="urn:schemas-microsoft-com:vml"><w:body>{body}</w:body></w:document>'
    doc = read_docx(zip_bytes({"word/document.xml": xml.encode()}))
    # a paragraph is its own runs; the paragraphs of a box anchored in it follow it, nested ones in turn
    assert doc.text.split("\n") == ["본문 앞본문 뒤. 줄바꿈 뒤.", "상자 첫 줄의 끝.", "상자 속 상자.", "마지막 문단."]
