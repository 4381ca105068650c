"""Word 97-2003 documents (.doc): the main text, from the piece table.

    doc = read_doc(path.read_bytes())      # DocumentError(reason) for a broken, locked or older file
    doc.text, doc.title

Years of press releases were saved as .doc. One is an OLE compound file (rag.ole): its
`WordDocument` stream opens with the FIB, which says how many characters each part of the document
has — the main document, then in the same character stream its footnotes, headers and footers,
comments, endnotes and text boxes — and where, in the `0Table` or `1Table` stream, the piece table
lies: the runs of characters and where each is stored, 8-bit (cp1252) or UTF-16. The main document is
read, then its text boxes (a release's summary box, a chart's labels: .docx, .odt and .hwp(x) read
theirs in place); footnotes and endnotes, headers and footers, and comments are not, as in the other
formats' readers. Inline marks become text: a paragraph mark a line,
a field's instructions (between its begin and separator marks) are dropped and its result kept, and a
table is a line a row, told by the paragraph property that marks a row's end. Laid out after
Microsoft's published [MS-DOC] format description.
"""

from __future__ import annotations

import struct

from rag.documents import DocumentError, DocumentText, document_text, table_lines
from rag.ole import open_compound

_LABEL = "DOC"
_WIDENT, _WIDENT_WORD6 = 0xA5EC, 0xA5DC
_WORD97 = 0x00C1  # nFib of Word 97 and every later writer of the format; Word 6 and 95 wrote 101-105
_ENCRYPTED, _WHICH_TABLE, _OBFUSCATED = 0x0100, 0x0200, 0x8000  # FibBase flags
_FC_CLX, _FC_PLCF_BTE_PAPX = 33, 13  # pairs of FibRgFcLcb97
_COMPRESSED = 0x40000000  # a piece stored 8 bits a character
_IN_TABLE, _TTP = 0x2416, 0x2417  # sprmPFInTable: a paragraph of a table cell; sprmPFTtp: a row's end mark
_HUGE_PAPX = 0x6646  # sprmPHugePapx: the paragraph's properties are in the Data stream, at this offset
_CELL, _PARAGRAPH, _FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END = "\x07", "\r", "\x13", "\x14", "\x15"
# marks that are not text: a picture or drawn object, a footnote or comment reference, a soft hyphen
_DROPPED = dict.fromkeys(map(ord, "\x01\x02\x05\x08\x1f"))
_SPACES = {ord(c): " " for c in "\t\x0b\xa0"}  # a tab, a line break inside a paragraph, a no-break space
_LINES = {ord("\x0c"): "\n", ord("\x0e"): "\n", ord("\x1e"): "-"}  # page or column break; no-break hyphen


def read_doc(data: bytes) -> DocumentText:
    """The text of a .doc, a paragraph a line, a table a line a row: the main document, then its text
    boxes."""
    with open_compound(data, _LABEL, "a .docx is a zip") as ole:
        word = ole.stream("WordDocument")
        ident, nfib = struct.unpack_from("<HH", word, 0)
        if ident not in (_WIDENT, _WIDENT_WORD6):
            raise DocumentError("not a readable DOC file (no Word signature)")
        if ident == _WIDENT_WORD6 or nfib < _WORD97:
            raise DocumentError("Word 6 or 95 document: open it in Word and save it as .docx")
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        if flags & (_ENCRYPTED | _OBFUSCATED):
            raise DocumentError("encrypted DOC: it needs a password to be read")
        table = ole.stream("1Table" if flags & _WHICH_TABLE else "0Table")
        extra = ole.stream("Data") if ole.exists("Data") else b""
        lines = [line for chars, marks in _texts(word, table, extra, _stories(word)) for line in _lines(chars, marks)]
        title = ole.summary_title()
    return document_text(lines, title, _LABEL)


def _fib(word: bytes) -> tuple[int, tuple[int, ...]]:
    """(where FibRgFcLcb begins, the character counts of the document's parts) from the FIB: FibRgLw97's
    fields from its fourth on, ccpText, ccpFtn, ccpHdd, ccpMcr (unused), ccpAtn, ccpEdn, ccpTxbx."""
    at = 32
    at += 2 + struct.unpack_from("<H", word, at)[0] * 2  # csw, FibRgW97
    cslw = struct.unpack_from("<H", word, at)[0]
    fields = max(0, min(cslw - 3, 7))  # a FIB shorter than Word 97's (22 fields) has only some of them
    counts = struct.unpack_from(f"<{fields}I", word, at + 2 + 12) + (0,) * (7 - fields)
    return at + 2 + cslw * 4, counts


def _stories(word: bytes) -> list[tuple[int, int]]:
    """The character ranges read: the main document, then its text boxes (after its footnotes, headers
    and footers, comments and endnotes in the stream, which are not read)."""
    text, footnotes, headers, macros, comments, endnotes, boxes = _fib(word)[1]
    start = text + footnotes + headers + macros + comments + endnotes
    return [(0, text)] + ([(start, start + boxes)] if boxes else [])


def _fib_pair(word: bytes, index: int) -> tuple[int, int]:
    """(fc, lcb) of FibRgFcLcb's pair `index`: where in the table stream a structure is, and its size."""
    at = _fib(word)[0]
    if struct.unpack_from("<H", word, at)[0] <= index:  # cbRgFcLcb
        raise DocumentError("not a readable DOC file (a short FIB)")
    return struct.unpack_from("<II", word, at + 2 + index * 8)


def _texts(word: bytes, table: bytes, extra: bytes, ranges: list[tuple[int, int]]) -> list[tuple[str, list[int]]]:
    """For each (first, stop) character range of the document, its characters and for each character
    its paragraph properties that matter here: 1 a paragraph of a table cell, 2 the mark ending a table
    row (0 for any other)."""
    fc_clx, lcb_clx = _fib_pair(word, _FC_CLX)
    clx = table[fc_clx:fc_clx + lcb_clx]
    at = 0
    while at < len(clx) and clx[at] == 1:  # Prc: formatting of pieces, not needed for text
        at += 3 + struct.unpack_from("<h", clx, at + 1)[0]
    if at >= len(clx) or clx[at] != 2:
        raise DocumentError("not a readable DOC file (no piece table)")
    size = struct.unpack_from("<I", clx, at + 1)[0]
    plc = clx[at + 5:at + 5 + size]
    pieces = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{pieces + 1}I", plc, 0)
    paragraph_ends = _table_paragraph_ends(word, table, extra)
    return [_range(word, plc, pieces, cps, paragraph_ends, first, stop) for first, stop in ranges]


def _range(word: bytes, plc: bytes, pieces: int, cps: tuple[int, ...], paragraph_ends: dict[int, int],
           first: int, stop: int) -> tuple[str, list[int]]:
    chars: list[str] = []
    marks: list[int] = []
    for k in range(pieces):
        start, end = max(cps[k], first), min(cps[k + 1], stop)
        if cps[k] >= stop:
            break
        if start >= end:
            continue
        fc = struct.unpack_from("<I", plc, (pieces + 1) * 4 + k * 8 + 2)[0]
        skip = start - cps[k]  # characters of the piece before the range
        if fc & _COMPRESSED:
            at, width = (fc & ~_COMPRESSED) // 2 + skip, 1
            text = word[at:at + end - start].decode("cp1252", "replace")
        else:
            at, width = fc + 2 * skip, 2
            text = word[at:at + 2 * (end - start)].decode("utf-16-le", "replace")
        for i, char in enumerate(text):
            chars.append(char)
            # a paragraph's properties are found by the offset just past its mark
            marks.append(paragraph_ends.get(at + (i + 1) * width, 0) if char in (_CELL, _PARAGRAPH) else 0)
    return "".join(chars), marks


def _table_paragraph_ends(word: bytes, table: bytes, extra: bytes) -> dict[int, int]:
    """{offset just past a paragraph mark: 1 in a table cell, 2 ending a table row}, from the paragraph
    property pages (FKPs) the PlcBtePapx lists: sprmPFInTable and sprmPFTtp (a row's properties are
    often too large for its page and stand in the Data stream, `extra`)."""
    fc, lcb = _fib_pair(word, _FC_PLCF_BTE_PAPX)
    plc = table[fc:fc + lcb]
    pages = (len(plc) - 4) // 8
    found: dict[int, int] = {}
    for page in struct.unpack_from(f"<{pages}I", plc, (pages + 1) * 4) if pages > 0 else ():
        fkp = word[page * 512:page * 512 + 512]
        if len(fkp) < 512:
            continue
        runs = fkp[511]
        ends = struct.unpack_from(f"<{runs + 1}I", fkp, 0)
        for i in range(runs):
            offset = fkp[(runs + 1) * 4 + i * 13] * 2
            kind = _table_kind(_papx_grpprl(fkp, offset), extra) if offset else 0
            if kind:
                found[ends[i + 1]] = kind
    return found


def _papx_grpprl(fkp: bytes, offset: int) -> bytes:
    """The properties (grpprl) of the PapxInFkp at `offset` of a page, without its style index."""
    size = fkp[offset] * 2 - 1 if fkp[offset] else fkp[offset + 1] * 2
    start = offset + (1 if fkp[offset] else 2)
    return fkp[start + 2:start + size]


def _table_kind(grpprl: bytes, extra: bytes) -> int:
    """2 when these paragraph properties set sprmPFTtp, 1 when they set sprmPFInTable, else 0."""
    kind = at = 0
    while at + 2 <= len(grpprl):
        sprm = struct.unpack_from("<H", grpprl, at)[0]
        at += 2
        if sprm in (_IN_TABLE, _TTP) and at < len(grpprl) and grpprl[at] == 1:
            kind = max(kind, 2 if sprm == _TTP else 1)
        elif sprm == _HUGE_PAPX and at + 4 <= len(grpprl) and extra:
            where = struct.unpack_from("<I", grpprl, at)[0]
            if where + 2 <= len(extra):  # PrcData: its size, then the properties (never a further pointer)
                size = struct.unpack_from("<H", extra, where)[0]
                huge = extra[where + 2:where + 2 + size]
                kind = max(kind, _table_kind(huge, b""))
        spra = sprm >> 13
        if spra == 6:  # variable: a length byte (sprmPChgTabs may say 255 and carry its own: stop there)
            if at >= len(grpprl) or grpprl[at] == 255:
                break
            at += 1 + grpprl[at]
        else:
            at += (1, 1, 2, 4, 2, 2, 0, 3)[spra]
    return kind


def _lines(chars: str, marks: list[int]) -> list[str]:
    """Paragraphs a line; a table's rows a line each (cells by " | ", named under a header row)."""
    lines: list[str] = []
    rows: list[list[str]] = []
    cells: list[str] = []
    text: list[str] = []
    fields: list[bool] = []  # per open field: whether its result (after the separator) has begun
    for char, mark in zip(chars, marks):
        if char == _FIELD_BEGIN:
            fields.append(False)
        elif char == _FIELD_SEPARATOR and fields:
            fields[-1] = True
        elif char == _FIELD_END and fields:
            fields.pop()
        elif not all(fields):
            continue  # a field's instructions ("HYPERLINK …", "PAGE")
        elif char == _CELL:
            if mark == 2:
                rows.append(cells)
                cells = []
            else:
                cells.append(_tidy("".join(text)))
            text = []
        elif char == _PARAGRAPH:
            if mark == 1:  # a cell of several paragraphs
                text.append(" ")
                continue
            if cells:  # a row whose end mark was not found: a paragraph after it ends it
                rows.append(cells)
                cells = []
            if rows:
                lines.extend(table_lines(rows))
                rows = []
            lines.append(_tidy("".join(text)))
            text = []
        else:
            text.append(char)
    if cells:
        rows.append(cells)  # a row whose end mark was not found
    if rows:
        lines.extend(table_lines(rows))
    lines.append(_tidy("".join(text)))
    return [line for line in lines if line]


def _tidy(text: str) -> str:
    text = text.translate(_DROPPED).translate(_SPACES).translate(_LINES)
    text = "".join(c if c >= " " or c == "\n" else " " for c in text)
    return "\n".join(" ".join(part.split()) for part in text.split("\n")).strip()
