"""A small Word 97-2003 .doc written by hand into an OLE compound file, for tests.

rag/doc.py was checked against documents Word itself saved (Apache POI's and textract's test files:
tables, headers and footers, fields, embedded objects, Unicode text, Word 6/95 and encrypted ones);
those are not ours to ship, so the tests write their own in the same shape: a WordDocument stream of
FIB, one page of paragraph properties (FKP) and the text in UTF-16, and a 1Table stream holding the
piece table (Clx) and the page's place (PlcBtePapx). Characters past `main` stand for what follows the
main document in a real file (footnotes, headers, text boxes): the FIB's ccpText leaves them out, and
`parts` gives the FIB's counts of them.
"""

from __future__ import annotations

import struct

from tests.hwp_sample import compound_file

_FKP_PAGE, _TEXT_AT = 2, 1536  # the FKP's 512-byte page in WordDocument, and where the text starts
IN_TABLE, ROW_END = b"\x16\x24\x01", b"\x16\x24\x01\x17\x24\x01"  # sprmPFInTable=1; and sprmPFTtp=1


def doc(main: str, after: str = "", cell_marks: dict[int, bytes] | None = None, flags: int = 0x0200,
        nfib: int = 0x00C1, eight_bit: bool = False, table_stream: str = "",
        parts: dict[str, int] | None = None) -> bytes:
    """A .doc whose main document is `main` (\\r a paragraph mark, \\x07 a cell or row-end mark), with
    each paragraph mark's properties from `cell_marks` ({index of the mark among them: sprms}); by
    default a \\x07 closing a run of cells is a row end, every other mark inside a row in a table.
    `eight_bit`: the text stored a byte a character (cp1252), as Word stores a run without other letters.
    `parts`: how many characters of `after` are footnotes, headers, comments, endnotes and text boxes, in
    that order ({"ccpFtn": 10, "ccpHdd": 5, "ccpTxbx": 8}; each 0 unless given)."""
    text = main + after
    marks = [i for i, c in enumerate(main) if c in "\r\x07"]
    if cell_marks is None:
        cell_marks = _table_marks(main, marks)
    # the FKP: a run per paragraph, ending just past its mark; properties at the page's end
    width = 1 if eight_bit else 2
    ends = [_TEXT_AT] + [_TEXT_AT + width * (i + 1) for i in marks]
    page = bytearray(512)
    struct.pack_into(f"<{len(ends)}I", page, 0, *ends)
    free = 511
    for run, sprms in cell_marks.items():
        grpprl = b"\x00\x00" + sprms  # style index 0, then the properties
        if len(grpprl) % 2:
            papx = bytes([(len(grpprl) + 1) // 2]) + grpprl
        else:
            papx = b"\x00" + bytes([len(grpprl) // 2]) + grpprl
        free = (free - len(papx)) & ~1
        page[free:free + len(papx)] = papx
        page[len(ends) * 4 + run * 13] = free // 2
    page[511] = len(marks)
    fib = bytearray(900)
    struct.pack_into("<HH", fib, 0, 0xA5EC, nfib)
    struct.pack_into("<H", fib, 0x0A, flags)
    struct.pack_into("<H", fib, 32, 14)  # csw, then FibRgW97
    struct.pack_into("<H", fib, 62, 22)  # cslw, then FibRgLw97: ccpText is its fourth field
    struct.pack_into("<I", fib, 64 + 12, len(main))
    fields = ("ccpFtn", "ccpHdd", "ccpMcr", "ccpAtn", "ccpEdn", "ccpTxbx")  # FibRgLw97's fields after ccpText
    for name, count in (parts or {}).items():
        struct.pack_into("<I", fib, 64 + 16 + 4 * fields.index(name), count)
    struct.pack_into("<H", fib, 152, 93)  # cbRgFcLcb: FibRgFcLcb97's pairs follow
    # a piece's place: a byte offset, or for 8-bit text twice it with the "compressed" bit
    place = (_TEXT_AT * 2) | 0x40000000 if eight_bit else _TEXT_AT
    plc_pcd = struct.pack("<II", 0, len(text)) + struct.pack("<HIH", 0, place, 0)
    clx = b"\x02" + struct.pack("<I", len(plc_pcd)) + plc_pcd
    bte = struct.pack("<III", _TEXT_AT, ends[-1], _FKP_PAGE)
    struct.pack_into("<II", fib, 154 + 33 * 8, 0, len(clx))  # fcClx, lcbClx
    struct.pack_into("<II", fib, 154 + 13 * 8, 64, len(bte))  # fcPlcfBtePapx, lcbPlcfBtePapx
    word = bytes(fib).ljust(_FKP_PAGE * 512, b"\x00") + bytes(page) + text.encode("cp1252" if eight_bit else "utf-16-le")
    table = clx.ljust(64, b"\x00") + bte
    # the FIB's fWhichTblStm says which table stream holds the piece table (`table_stream`: another name)
    return compound_file({"WordDocument": word, table_stream or ("1Table" if flags & 0x0200 else "0Table"): table})


def _table_marks(main: str, marks: list[int]) -> dict[int, bytes]:
    """Word's marks of a table: "a\x07b\x07\x07" is two cells and the row's end mark; a \r after a cell
    mark and before the next cell mark ("…\x07첫째\r둘째\x07") is a paragraph inside a cell."""
    out: dict[int, bytes] = {}
    for n, i in enumerate(marks):
        if main[i] == "\x07":
            out[n] = ROW_END if i > 0 and main[i - 1] == "\x07" else IN_TABLE
        elif n and main[marks[n - 1]] == "\x07" and "\x07" in main[i + 1:].split("\r", 1)[0]:
            out[n] = IN_TABLE
    return out


RELEASE = doc(
    "새누리기계, 협력사 납품대금 조기 지급\r"
    "배포일시: 2024년 5월 2일\r"
    "새누리기계는 협력사 120곳에 \x13 HYPERLINK \"http://example.com\" \x14납품대금 350억 원\x15을 명절 전에 앞당겨 "
    "지급한다고 2일 밝혔다.\x01\r"
    "구분\x07협력사 수\x07금액\x07\x07"
    "1차 협력사\x0780곳\x07270억 원\x07\x07"
    "2차 협력사\x0740곳\x0780억\r원\x07\x07"
    '정하늘 상생협력팀장은 "협력사 자금 부담을 덜겠다"고 말했다.\r',
    after="각주: 지급일은 명절 닷새 전이다.\r새누리기계 보도자료\r")

# the character stream's parts after the main document, in the FIB's order: a footnote, a running header,
# a comment, an endnote and a text box (a release's summary box)
PARTS = {"ccpFtn": "\x02 지급일은 명절 닷새 전이다.\r", "ccpHdd": "새누리기계 보도자료\r", "ccpAtn": "확인 필요\r",
         "ccpEdn": "\x02 자료: 새누리기계\r", "ccpTxbx": "주요 내용\r협력사 120곳 대상\r"}
WITH_PARTS = doc("새누리기계는 납품대금 350억 원을 앞당겨 지급한다.\r", after="".join(PARTS.values()),
                 parts={name: len(text) for name, text in PARTS.items()})
