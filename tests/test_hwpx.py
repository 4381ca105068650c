"""Hangul documents (.hwpx): body paragraphs in reading order, tables a line a row, page furniture out."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus import load_corpus
from rag.documents import DocumentError
from rag.hwpx import read_hwpx
from tests.hwpx_sample import RELEASE, hwpx, paragraph, section, zip_bytes


def test_a_release_reads_as_its_paragraphs_and_table_rows() -> None:
    doc = read_hwpx(RELEASE)
    assert doc.title == "새누리기계, 협력사 납품대금 조기 지급"
    assert doc.text.split("\n") == [
        "새누리기계, 협력사 납품대금 조기 지급",
        "배포일시: 2024년 5월 2일",
        "새누리기계는 협력사 120곳에 납품대금 350억 원을 명절 전에 앞당겨 지급한다고 2일 밝혔다.",  # two runs, one line
        "□ 지급 내용",
        "구분 | 협력사 수 | 금액",
        "구분: 1차 협력사 | 협력사 수: 80곳 | 금액: 270억 원",  # under a header row a cell says what it is
        "구분: 2차 협력사 | 협력사 수: 40곳 | 금액: 80억 원",
        '정하늘 상생협력팀장은 "협력사 자금 부담을 덜겠다"고 말했다. 문의는 상생협력팀으로 하면 된다.',
    ]  # the running header ("새누리기계 보도자료") and footer ("- 1 -") are not text of the article


def test_a_table_without_a_header_row_is_its_cells() -> None:
    from tests.hwpx_sample import table

    doc = read_hwpx(hwpx([section(paragraph("표:", inner=table([["2023년", "120곳"], ["2024년", "150곳", ""]])))]))
    assert doc.text == "표:\n2023년 | 120곳\n2024년 | 150곳"


def test_text_boxes_and_nested_tables_read_in_place_each_once() -> None:
    from tests.hwpx_sample import header_footer, table

    def box(*paragraphs: str) -> str:  # a rectangle with text in it, as Hangul writes one
        return f'<hp:run charPrIDRef="0"><hp:rect><hp:drawText><hp:subList>{"".join(paragraphs)}</hp:subList></hp:drawText></hp:rect></hp:run>'

    cell_with_table = table([["바깥 칸", "자리"]]).replace(paragraph("자리"), paragraph("자리", inner=table([["안쪽", "표"]])))
    body = section(
        paragraph("본문 첫 문단.", inner=box(paragraph("상자 문단.", inner=box(paragraph("상자 속 상자.")))) + header_footer("머리말", "꼬리말")),
        paragraph("표 앞:", inner=cell_with_table),
        paragraph("끝 문단."))
    # a paragraph, then the paragraphs of a box anchored in it (nested ones in turn); a table nested in
    # a cell is that cell's text; running headers and footers are left out wherever they are
    assert read_hwpx(hwpx([body])).text.split("\n") == [
        "본문 첫 문단.", "상자 문단.", "상자 속 상자.", "표 앞:", "바깥 칸 | 자리 안쪽 표", "끝 문단."]


def test_notes_and_hidden_comments_are_left_out_as_in_the_other_formats() -> None:
    def control(tag: str, text: str) -> str:  # a note or comment as Hangul writes one: a control's sub-list
        return f'<hp:run charPrIDRef="0"><hp:ctrl><hp:{tag} number="1"><hp:subList>{paragraph(text)}</hp:subList></hp:{tag}></hp:ctrl></hp:run>'

    body = section(paragraph("납품대금 350억 원을 앞당겨 지급한다.", inner=control("footNote", "지급일은 명절 닷새 전이다.")
                             + control("endNote", "자료: 새누리기계") + control("hiddenComment", "확인 필요")),
                   paragraph("끝 문단."))
    assert read_hwpx(hwpx([body])).text.split("\n") == ["납품대금 350억 원을 앞당겨 지급한다.", "끝 문단."]


def test_a_word_with_a_gloss_reads_as_the_word() -> None:
    # 덧말 (a gloss set above a word) is a run's child beside its text: the word is text, the gloss is not
    dutmal = ('<hp:run charPrIDRef="0"><hp:t>상생협력의 </hp:t><hp:dutmal posType="TOP"><hp:mainText>동반성장</hp:mainText>'
              "<hp:subText>同伴成長</hp:subText></hp:dutmal><hp:t>지수</hp:t></hp:run>")
    assert read_hwpx(hwpx([section(paragraph(inner=dutmal))])).text == "상생협력의 동반성장지수"


def test_sections_follow_the_packages_reading_order() -> None:
    doc = read_hwpx(hwpx([section(paragraph("둘째로 읽는 문단이다.")), section(paragraph("먼저 읽는 문단이다."))],
                         spine=[1, 0]))
    assert doc.text == "먼저 읽는 문단이다.\n둘째로 읽는 문단이다."


def test_a_folder_reads_the_document_with_its_date(tmp_path: Path) -> None:
    (tmp_path / "release.hwpx").write_bytes(RELEASE)
    (article,) = load_corpus([tmp_path]).articles
    assert (article.doc_id, article.title, article.date) == ("release.hwpx", "새누리기계, 협력사 납품대금 조기 지급", "2024-05-02")
    assert "구분: 1차 협력사 | 협력사 수: 80곳 | 금액: 270억 원" in article.text and "배포일시" not in article.text



@pytest.mark.parametrize(("data", "message"), [
    (b"\xd0\xcf\x11\xe0 an old binary .hwp", "not a zip"),
    (zip_bytes({"mimetype": b"application/hwp+zip"}), "no Contents/section"),
    (zip_bytes({"Contents/section0.xml": b"<hs:sec><unclosed"}), "not a readable HWPX file (Contents/section0.xml"),
    (zip_bytes({"Contents/section0.xml": b"<?xml version='1.0'?><sec/>"}), "has no text"),
    (zip_bytes({"Contents/section0.xml": b"<sec>" + b" " * (30 << 20) + b"</sec>"}), "a zip bomb"),
    (zip_bytes({"META-INF/encryption.xml": b"<x/>", "Contents/section0.xml": b"<x/>"}), "encrypted HWPX"),
])
def test_a_broken_locked_or_hostile_file_is_named(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(".", r"\.")):
        read_hwpx(data)


def test_an_external_entity_reads_nothing(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("비밀번호 1234", encoding="utf-8")
    xml = (f'<?xml version="1.0"?><!DOCTYPE sec [<!ENTITY x SYSTEM "file://{secret}">]>'
           f'{section(paragraph("본문 &x; 끝"))[section("").index("<hs:sec"):]}')
    text = read_hwpx(zip_bytes({"Contents/section0.xml": xml.encode("utf-8")})).text
    assert "비밀번호" not in text and text.startswith("본문")
