"""Hangul documents in the older binary format (.hwp, HWP 5.x): the body's paragraphs and tables.

    doc = read_hwp(path.read_bytes())      # DocumentError(reason) for a broken, locked or hostile file
    doc.text, doc.title

Years of Korean press releases are .hwp files. One is an OLE compound file (rag.ole):
`FileHeader` says whether the sections are deflated and whether the document is locked, and each
`BodyText/SectionN` stream is a list of records (tag, nesting level, size). A distribution document
(배포용: a government press release, often) keeps its sections sealed in `ViewText/SectionN` instead, each
opened by a 256-byte record that holds its AES-128 key under a pseudo-random mask; the key ships in the
file, so the text is read like any other (the copy and print restrictions are settings of Hancom's
viewer, not of a reader that indexes an archive for search). A paragraph's text is a
PARA_TEXT record in UTF-16 with control codes inline; a table's cells are paragraphs nested under its
control. Headers, footers, footnotes and other page furniture are controls too and are skipped with
everything nested under them. Laid out after Hancom's published HWP 5.0 format description.
"""

from __future__ import annotations

import re
import struct
import zlib

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from rag.documents import MAX_PART_BYTES, DocumentError, DocumentText, document_text, table_lines
from rag.ole import Compound, open_compound

_SIGNATURE = b"HWP Document File"
_COMPRESSED, _PASSWORD, _DISTRIBUTION = 0x1, 0x2, 0x4  # FileHeader property bits
_BEGIN = 0x10
PARA_HEADER, PARA_TEXT, CTRL_HEADER, LIST_HEADER, TABLE = _BEGIN + 50, _BEGIN + 51, _BEGIN + 55, _BEGIN + 56, _BEGIN + 61
DISTRIBUTE_DOC_DATA = _BEGIN + 12  # a distribution document's sealed section opens with it: 256 bytes
_SEAL = 256
# a control's id is four ASCII letters stored as a little-endian number: b"daeh" is 'head'
_SKIPPED = {b"head", b"foot", b"fn  ", b"en  ", b"atno", b"nwno", b"pgnp", b"pghd", b"pgct", b"tcmt"}
_TABLE = b"tbl "
# code units 1-9, 11-12 and 14-23 are controls that take 8 code units (themselves and 7 of data)
_WIDE_CONTROLS = {*range(1, 10), 11, 12, *range(14, 24)}
_SPACES = {9, 10, 30, 31}  # tab, line break, bound space, fixed-width space
_LABEL = "HWP"
MAX_SECTIONS = 1000
MAX_TABLE_CELLS = 250_000  # rows x columns of one table's grid; a press release's tables hold dozens


def read_hwp(data: bytes) -> DocumentText:
    """The body text of an .hwp document, a paragraph a line, a table a line a row."""
    with open_compound(data, _LABEL, "an .hwpx is a zip") as ole:
        header = ole.stream("FileHeader", 256)
        if not header.startswith(_SIGNATURE):
            raise DocumentError("not a readable HWP file (no HWP signature)")
        flags = struct.unpack_from("<I", header, 36)[0]
        if flags & _PASSWORD:
            raise DocumentError("encrypted HWP: it needs a password to be read")
        # 배포용 문서: the real sections are sealed in ViewText (BodyText holds a notice to upgrade the viewer)
        storage = "ViewText" if flags & _DISTRIBUTION else "BodyText"
        sections = sorted((entry[1] for entry in ole.streams() if len(entry) == 2 and entry[0] == storage
                           and re.fullmatch(r"Section\d+", entry[1])), key=lambda name: int(name[7:]))
        if not sections:
            raise DocumentError(f"not a readable HWP file (no {storage} sections)")
        lines = []
        for name in sections[:MAX_SECTIONS]:
            raw = ole.stream(f"{storage}/{name}")
            if flags & _DISTRIBUTION:
                raw = _unseal(raw)
            lines.extend(_lines(_inflate(raw) if flags & _COMPRESSED else raw))
        title = _summary_title(ole)
    return document_text(lines, title, _LABEL)


def _unseal(stream: bytes) -> bytes:
    """A distribution document's section, decrypted: its first record (DISTRIBUTE_DOC_DATA) holds the
    AES-128 key of the rest, masked by MSVC's rand() seeded with the record's first four bytes (Hancom's
    HWP 5.0 format description, "배포용 문서 데이터")."""
    head = struct.unpack_from("<I", stream)[0] if len(stream) >= 4 else 0
    if head & 0x3FF != DISTRIBUTE_DOC_DATA or head >> 20 != _SEAL or len(stream) < 4 + _SEAL:
        raise DocumentError("not a readable HWP file (a distribution section without its key record)")
    data = bytearray(stream[4:4 + _SEAL])
    seed = struct.unpack_from("<I", data)[0]
    state, mask, run = seed, 0, 0
    for i in range(_SEAL):
        if run == 0:  # each mask byte covers the next 1-16 bytes
            state = (state * 214013 + 2531011) & 0xFFFFFFFF
            mask = (state >> 16) & 0xFF
            state = (state * 214013 + 2531011) & 0xFFFFFFFF
            run = ((state >> 16) & 0xF) + 1
        if i >= 4:
            data[i] ^= mask
        run -= 1
    at = 4 + (seed & 0xF)
    body = stream[4 + _SEAL:]
    decryptor = Cipher(algorithms.AES(bytes(data[at:at + 16])), modes.ECB()).decryptor()
    return decryptor.update(body[:len(body) // 16 * 16]) + decryptor.finalize()


def _inflate(raw: bytes) -> bytes:
    """A section's raw deflate stream, never inflated past the cap (a small stream can unpack to gigabytes)."""
    inflater = zlib.decompressobj(-15)
    out = inflater.decompress(raw, MAX_PART_BYTES + 1)
    if len(out) > MAX_PART_BYTES:
        raise DocumentError(f"a section unpacks past {MAX_PART_BYTES:,} bytes: refused (a zip bomb)")
    return out


def _records(data: bytes):
    """(tag, level, payload) of each record."""
    at = 0
    while at + 4 <= len(data):
        head = struct.unpack_from("<I", data, at)[0]
        tag, level, size = head & 0x3FF, (head >> 10) & 0x3FF, head >> 20
        at += 4
        if size == 0xFFF:  # a long record: its size follows
            size = struct.unpack_from("<I", data, at)[0]
            at += 4
        yield tag, level, data[at:at + size]
        at += size


class _Table:
    """A top-level table being read: a caption's list comes before the TABLE record, cells after it."""

    def __init__(self, level: int) -> None:
        self.level = level
        self.started = False  # the TABLE record seen: list headers from now on are cells
        self.caption: list[str] = []
        self.cells: list[tuple[int, int, list[str]]] = []  # (row, column, paragraph texts)

    def add_list(self, payload: bytes) -> None:
        if self.started and len(payload) >= 12:
            # a cell's list header: paragraph count (4 bytes), properties (4), then column and row
            column, row = struct.unpack_from("<HH", payload, 8)
            self.cells.append((row, column, []))

    def add_text(self, text: str) -> None:
        if not self.started:
            self.caption.append(text)
        elif self.cells:
            self.cells[-1][2].append(text)

    def lines(self) -> list[str]:
        rows: dict[int, dict[int, str]] = {}
        for row, column, texts in self.cells:
            rows.setdefault(row, {})[column] = " ".join(t for t in texts if t)
        caption = " ".join(t for t in self.caption if t)
        # a cell's column is the file's word (0-65535): the grid has the columns some cell starts in,
        # never range(max column), which a 3 KB file of cells at column 65535 made 128 MB of " | "
        columns = sorted({column for by_column in rows.values() for column in by_column})
        if len(columns) * len(rows) > MAX_TABLE_CELLS:
            # cells addressed far apart (a hostile file): each row's cells in order, no empty ones between
            return [caption, *(" | ".join(t for _, t in sorted(by_column.items()) if t) for _, by_column in sorted(rows.items()))]
        grid = [[by_column.get(c, "") for c in columns] for _, by_column in sorted(rows.items())]
        return [caption, *table_lines(grid)]


def _lines(section: bytes) -> list[str]:
    """Body paragraphs in order; a top-level table's caption and rows; nothing under page furniture."""
    lines: list[str] = []
    skip_below: int | None = None  # the level of a skipped control: records nested deeper go with it
    table: _Table | None = None
    for tag, level, payload in _records(section):
        if skip_below is not None:
            if level > skip_below:
                continue
            skip_below = None
        if table is not None and level <= table.level:
            lines.extend(table.lines())
            table = None
        if tag == CTRL_HEADER and len(payload) >= 4:
            ctrl = payload[:4][::-1]
            if ctrl in _SKIPPED:
                skip_below = level
            elif ctrl == _TABLE and table is None:  # a table inside a cell reads as that cell's paragraphs
                table = _Table(level)
        elif table is not None and tag == TABLE and level == table.level + 1:
            table.started = True
        elif table is not None and tag == LIST_HEADER:
            table.add_list(payload)
        elif tag == PARA_TEXT:
            if table is None:
                lines.append(_para_text(payload))
            else:
                table.add_text(_para_text(payload))
    if table is not None:
        lines.extend(table.lines())
    return lines


def _para_text(payload: bytes) -> str:
    units = struct.unpack(f"<{len(payload) // 2}H", payload[: len(payload) // 2 * 2])
    out: list[str] = []
    i = 0
    while i < len(units):
        code = units[i]
        if code < 32:
            if code in _SPACES:
                out.append(" ")
            i += 8 if code in _WIDE_CONTROLS else 1
            continue
        out.append(chr(code))
        i += 1
    # UTF-16 surrogate pairs were read as two code units: let Python join them
    text = "".join(out).encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return re.sub(r"\s+", " ", text).strip()


def _summary_title(ole: Compound) -> str:
    """The title in the document's summary (HwpSummaryInformation, a property set like Office's)."""
    title = ole.properties("\x05HwpSummaryInformation").get(2)  # PIDSI_TITLE
    if isinstance(title, bytes):
        title = title.decode("utf-16-le", "replace")
    # olefile reads Hangul's UTF-16 string past its end: the title stops at the first NUL
    return str(title or "").split("\x00", 1)[0].strip()
