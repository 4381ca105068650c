"""Word 97-2003 documents (.doc): the main text from the piece table, then text boxes; fields, tables,
furniture and locked or older files handled."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus import load_corpus
from rag.doc import read_doc
from rag.documents import DocumentError
from tests.doc_sample import IN_TABLE, RELEASE, WITH_PARTS, doc
from tests.hwp_sample import compound_file


def test_a_release_reads_as_its_paragraphs_and_table_rows() -> None:
    assert read_doc(RELEASE).text.split("\n") == [
        "새누리기계, 협력사 납품대금 조기 지급",
        "배포일시: 2024년 5월 2일",
        "새누리기계는 협력사 120곳에 납품대금 350억 원을 명절 전에 앞당겨 지급한다고 2일 밝혔다.",  # a link's result, not its code
        "구분 | 협력사 수 | 금액",
        "구분: 1차 협력사 | 협력사 수: 80곳 | 금액: 270억 원",
        "구분: 2차 협력사 | 협력사 수: 40곳 | 금액: 80억 원",  # a cell of two paragraphs is one cell
        '정하늘 상생협력팀장은 "협력사 자금 부담을 덜겠다"고 말했다.',
    ]  # not the footnote or the header, stored after the main document


def test_text_boxes_follow_the_main_text_and_notes_and_headers_do_not() -> None:
    # a release's summary box is text; its running header is furniture, a comment a reviewer's, and notes
    # are left out as the other formats' readers leave them
    assert read_doc(WITH_PARTS).text.split("\n") == ["새누리기계는 납품대금 350억 원을 앞당겨 지급한다.",
                                                     "주요 내용", "협력사 120곳 대상"]
    # a text box alone is the document's text (a form or a poster saved with an empty body)
    only = read_doc(doc("\r", after="협력사 상생 박람회\r", parts={"ccpTxbx": 10})).text
    assert only == "협력사 상생 박람회"
    # counts past the stream's end (a damaged FIB) read what there is
    assert read_doc(doc("본문.\r", parts={"ccpTxbx": 10**9})).text == "본문."


def test_eight_bit_text_and_cells_without_row_marks_read_too() -> None:
    assert read_doc(doc("Plain text, stored a byte a character.\r", eight_bit=True)).text == (
        "Plain text, stored a byte a character.")
    # a row whose end mark says nothing (its properties not found): its cells still read as a row
    assert read_doc(doc("a\x07b\x07\x07after\r", cell_marks={0: IN_TABLE, 1: IN_TABLE})).text == "a | b\nafter"


def test_a_folder_reads_the_document_with_its_date(tmp_path: Path) -> None:
    (tmp_path / "release.doc").write_bytes(RELEASE)
    (article,) = load_corpus([tmp_path]).articles
    assert (article.doc_id, article.title, article.date) == ("release.doc", "새누리기계, 협력사 납품대금 조기 지급", "2024-05-02")


@pytest.mark.parametrize(("data", "message"), [
    (b"PK\x03\x04 a .docx named .doc", "not an OLE compound file; a .docx is a zip"),
    (compound_file({"1Table": b""}), "no WordDocument stream"),
    (compound_file({"WordDocument/x": b"a storage, not a stream"}), "not a readable DOC file (TypeError"),
    (doc("본문.\r", nfib=104), "Word 6 or 95 document: open it in Word and save it as .docx"),
    (doc("잠긴 문서.\r", flags=0x0200 | 0x0100), "encrypted DOC: it needs a password"),
    (doc("\r\r"), "DOC document has no text"),
    (doc("본문.\r", flags=0, table_stream="1Table"), "no 0Table stream"),  # the FIB names the other one
    (compound_file({"WordDocument": b"\x00" * 1024, "1Table": b""}), "no Word signature"),
    (RELEASE[:1500], "not a readable DOC file"),
])
def test_a_broken_locked_or_older_file_is_named(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(".", r"\.")):
        read_doc(data)
