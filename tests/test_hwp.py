"""Binary Hangul documents (.hwp, HWP 5): body paragraphs and tables from the records; furniture, fields
and locked documents handled."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import hwp as hwp_reader
from rag.corpus import load_corpus
from rag.documents import DocumentError
from rag.hwp import read_hwp
from tests.hwp_sample import RELEASE, compound_file, distribution_hwp, hwp, paragraph, table


def test_a_release_reads_as_its_paragraphs_caption_and_table_rows() -> None:
    assert read_hwp(RELEASE).text.split("\n") == [
        "새누리기계, 협력사 납품대금 조기 지급",
        "배포일시: 2024년 5월 2일",
        "새누리기계는 협력사 120곳에 납품대금 350억 원을 명절 전에 앞당겨 지급한다고 2일 밝혔다.",  # a field's 8 units skipped
        "협력사별 지급액",  # the table's caption
        "구분 | 협력사 수 | 금액",
        "구분: 1차 협력사 | 협력사 수: 80곳 | 금액: 270억 원",
        "구분: 2차 협력사 | 협력사 수: 40곳 | 금액: 80억 원",
        '정하늘 상생협력팀장은 "협력사 자금 부담을 덜겠다"고 말했다.',
    ]  # not the running header ("새누리기계 보도자료") nor the footnote ("각주: …")


def test_an_uncompressed_document_reads_too() -> None:
    assert read_hwp(hwp(paragraph(0, "압축하지 않은 문서다."), compressed=False)).text == "압축하지 않은 문서다."


def test_a_folder_reads_the_document_with_its_date(tmp_path: Path) -> None:
    (tmp_path / "release.hwp").write_bytes(RELEASE)
    (article,) = load_corpus([tmp_path]).articles
    assert (article.doc_id, article.title, article.date) == ("release.hwp", "새누리기계, 협력사 납품대금 조기 지급", "2024-05-02")


@pytest.mark.parametrize(("data", "message"), [
    (b"PK\x03\x04 an .hwpx named .hwp", "not an OLE compound file"),
    (hwp(paragraph(0, "잠긴 문서다."), flags=0x2), "encrypted HWP: it needs a password"),
    (hwp(paragraph(0, "배포용 문서다."), flags=0x4), "no ViewText sections"),
    (compound_file({"FileHeader": b"HWP Document File".ljust(36, b"\x00") + b"\x05" + b"\x00" * 219,
                    "ViewText/Section0": b"\x1c\x00\x00\x01 cut short"}), "without its key record"),
    (compound_file({"FileHeader": b"Not a Hangul file".ljust(256, b"\x00"), "BodyText/Section0": b""}), "no HWP signature"),
    (compound_file({"FileHeader": b"HWP Document File".ljust(256, b"\x00")}), "no BodyText sections"),
    (compound_file({"FileHeader": b"HWP Document File".ljust(36, b"\x00") + b"\x01" + b"\x00" * 219,
                    "BodyText/Section0": b"\xff\xfe not deflate"}), "not a readable HWP file (error"),
    (hwp(b""), "HWP document has no text"),
    (RELEASE[:1000], "not a readable HWP file"),
    (compound_file({"FileHeader/x": b"a storage, not a stream"}), "not a readable HWP file (TypeError"),
])
def test_a_broken_or_locked_file_is_named(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message.replace("(", r"\(")):
        read_hwp(data)


def test_a_section_that_inflates_past_the_cap_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(hwp_reader, "MAX_PART_BYTES", 4000)
    with pytest.raises(DocumentError, match="unpacks past 4,000 bytes"):
        read_hwp(hwp(paragraph(0, "가" * 3000)))


def _addressed_table(cells: list[tuple[int, int, str]]) -> bytes:
    """A section holding a table whose cells sit at these (row, column) addresses, as their list headers say."""
    import struct

    from tests.hwp_sample import LIST_HEADER, TABLE, control, record

    body = record(TABLE, 2, struct.pack("<IHH", 0, 2, 2) + b"\x00" * 10)
    for row, column, text in cells:
        body += record(LIST_HEADER, 2, struct.pack("<iIHHHH", 1, 0, column, row, 1, 1) + b"\x00" * 14)
        body += paragraph(2, text)
    return hwp(paragraph(0, "본문.", controls=[control("tbl ", 1, body)]))


def test_a_tables_grid_has_only_the_columns_its_cells_start_in(monkeypatch) -> None:
    # a file's word for a cell's column can be 65535: the row is its cells, not 65,535 empty ones before
    # them (a 3 KB file of such cells took 128 MB); a column no cell starts in is left out
    doc = read_hwp(_addressed_table([(0, 0, "구분"), (0, 65535, "금액"), (1, 0, "1차"), (1, 65535, "270억 원")]))
    assert doc.text.split("\n") == ["본문.", "구분 | 금액", "구분: 1차 | 금액: 270억 원"]
    # cells addressed so far apart that their grid would pass the limit read row by row, in column order
    monkeypatch.setattr(hwp_reader, "MAX_TABLE_CELLS", 3)
    doc = read_hwp(_addressed_table([(0, 0, "가"), (1, 1, "나"), (2, 2, "다"), (2, 0, "라")]))
    assert doc.text.split("\n") == ["본문.", "가", "나", "라 | 다"]


def test_a_distribution_document_reads_its_sealed_sections() -> None:
    # 배포용: BodyText holds only a notice to upgrade the viewer; the text is sealed in ViewText
    doc = read_hwp(distribution_hwp(paragraph(0, "새누리기계는 협력사 납품대금을 조기 지급한다.")
                                    + table(0, [["구분", "금액"], ["1차 협력사", "350억원"]])))
    assert doc.text == "새누리기계는 협력사 납품대금을 조기 지급한다.\n구분 | 금액\n구분: 1차 협력사 | 금액: 350억원"
    assert "배포용" not in doc.text
    # another seed masks the key differently: the reader finds it wherever the seed puts it
    assert read_hwp(distribution_hwp(paragraph(0, "둘째 문서다."), seed=0x0000ABCF, key=b"k" * 16)).text == "둘째 문서다."
