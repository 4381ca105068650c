"""Rich Text Format (.rtf): paragraphs and table rows, Korean in its code page or as \\uN; fonts, headers,
notes, field codes and ignorable destinations left out; what is not RTF, or nested to exhaust memory, named."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus import load_corpus
from rag.documents import DocumentError
from rag.rtf import read_rtf


def hexed(text: str, codec: str = "cp949") -> str:
    """Text as RTF writes 8-bit characters: each byte of the code page as \\'hh."""
    return "".join(c if c.isascii() else "".join(f"\\'{b:02x}" for b in c.encode(codec)) for c in text)


def unicode(text: str) -> str:
    """Text as Word writes it beside its stand-in: \\uN then two fallback bytes (\\uc2)."""
    return "".join(c if c.isascii() else f"\\u{ord(c) if ord(c) < 32768 else ord(c) - 65536}\\'3f\\'3f" for c in text)


def release(codepage: int = 949, font_charset: str = "") -> bytes:
    """A press release as Word saves one: font and colour tables, \\info with the title, a running header,
    a field (a link), a footnote, a table with a header row, and an ignorable destination."""
    font = f"{{\\f1\\fnil{font_charset} Batang;}}"
    body = (
        f"{{\\rtf1\\ansi\\ansicpg{codepage}\\deff0{{\\fonttbl{{\\f0\\froman Times;}}{font}}}"
        "{\\colortbl;\\red0\\green0\\blue0;}"
        f"{{\\info{{\\title {hexed('새누리기계, 협력사 납품대금 조기 지급')}}}{{\\author {hexed('홍길동')}}}}}"
        f"{{\\header \\pard {hexed('새누리기계 보도자료')}\\par}}"
        "{\\*\\generator Riched20 10.0;}{\\*\\themedata 0102abcdef}\n"
        f"\\pard\\f1 {hexed('새누리기계, 협력사 납품대금 조기 지급')}\\par\n"
        f"\\pard {hexed('배포일시:')}\x00{hexed('2024년 5월 2일')}\\par\n"  # a stray control character
        f"\\pard {hexed('새누리기계는 협력사 120곳에 ')}"
        f"{{\\field{{\\*\\fldinst HYPERLINK \"http://example.com\"}}{{\\fldrslt {hexed('납품대금 350억 원')}}}}}"
        f"{{\\footnote {hexed('각주: 지급일은 명절 닷새 전이다.')}}}"
        f"{{\\uc2 {unicode('을 명절 전에 앞당겨 지급한다고')}}} {hexed('2일 밝혔다.')}\\par\n"
        f"\\trowd\\pard\\intbl {hexed('구분')}\\cell {hexed('협력사 수')}\\cell {hexed('금액')}\\cell\\row\n"
        f"\\trowd\\pard\\intbl {hexed('1차 협력사')}\\cell {hexed('80곳')}\\cell {hexed('270억 원')}\\cell\\row\n"
        f"\\trowd\\pard\\intbl {hexed('2차 협력사')}\\cell {hexed('40곳')}\\cell {hexed('80억')}\\par {hexed('원')}\\cell\\row\n"
        f"\\pard {hexed('정하늘 상생협력팀장은')} \\ldblquote {hexed('협력사 자금 부담을 덜겠다')}\\rdblquote "
        f"{hexed('고 말했다.')}\\par\n}}\x00 not RTF after the document's group"
    )
    return body.encode("ascii")


EXPECTED = [
    "새누리기계, 협력사 납품대금 조기 지급",
    "배포일시: 2024년 5월 2일",
    "새누리기계는 협력사 120곳에 납품대금 350억 원을 명절 전에 앞당겨 지급한다고 2일 밝혔다.",  # the link's result
    "구분 | 협력사 수 | 금액",
    "구분: 1차 협력사 | 협력사 수: 80곳 | 금액: 270억 원",
    "구분: 2차 협력사 | 협력사 수: 40곳 | 금액: 80억 원",  # a cell of two paragraphs is one cell
    "정하늘 상생협력팀장은 \u201c협력사 자금 부담을 덜겠다\u201d고 말했다.",
]  # not the header, the footnote, the author, the fonts or the generator


def test_a_release_reads_as_its_paragraphs_and_table_rows() -> None:
    doc = read_rtf(release())
    assert doc.title == "새누리기계, 협력사 납품대금 조기 지급"
    assert doc.text.split("\n") == EXPECTED


def test_korean_in_a_font_of_the_hangul_charset_reads_under_a_western_code_page() -> None:
    # older tools declare \ansicpg1252 and write Hangul bytes in a font of charset 129: the font decides
    doc = read_rtf(release(codepage=1252, font_charset="\\fcharset129"))
    assert doc.text.split("\n")[1:] == EXPECTED[1:]


def test_a_folder_reads_the_document_with_its_date(tmp_path: Path) -> None:
    (tmp_path / "release.rtf").write_bytes(release())
    (article,) = load_corpus([tmp_path]).articles
    assert (article.doc_id, article.title, article.date) == ("release.rtf", "새누리기계, 협력사 납품대금 조기 지급", "2024-05-02")


@pytest.mark.parametrize(("data", "message"), [
    (b"PK\x03\x04 a .docx named .rtf", "does not start with {\\rtf"),
    (b"{\\rtf1\\ansi " + b"{" * 5000 + b"deep" + b"}" * 5000 + b"}", "nested past 1,000 deep"),
    (b"{\\rtf1\\ansi {\\fonttbl{\\f0 Times;}}\\par}", "RTF document has no text"),
])
def test_what_is_not_an_rtf_document_is_named(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message.replace("\\", "\\\\").replace("{", r"\{")):
        read_rtf(data)
