"""Excel 97-2003 workbooks (.xls): every sheet's rows, for the table reader (rag.tables).

    for sheet in sheets(path.read_bytes()):  # DocumentError when unreadable
        sheet.title, sheet.rows               # (row number, cells as text, "") ...

Lists of articles kept for years are often still .xls. One is an OLE compound file (rag.ole)
whose `Workbook` stream is a run of BIFF8 records: the workbook's shared strings (SST), number formats
and cell formats, the sheets' names and places, then each sheet's cell records. Cells come as text like
rag.workbook's: a string as written, a number without a trailing ".0", a number whose format is a date
as its ISO date. Laid out after Microsoft's published [MS-XLS] format description. The file cannot be
written back: deleting an uploaded row leaves it in the file (save the list as .xlsx for that).
"""

from __future__ import annotations

import math
import re
import struct
from datetime import date, timedelta

from rag.documents import DocumentError
from rag.ole import open_compound
from rag.workbook import MAX_COLUMNS, MAX_ROWS, Sheet

_LABEL = "XLS"
_BOF, _EOF, _CONTINUE, _FILEPASS, _DATEMODE = 0x0809, 0x000A, 0x003C, 0x002F, 0x0022
_SST, _FORMAT, _XF, _BOUNDSHEET = 0x00FC, 0x041E, 0x00E0, 0x0085
_LABELSST, _LABEL_CELL, _RSTRING, _NUMBER, _RK, _MULRK = 0x00FD, 0x0204, 0x00D6, 0x0203, 0x027E, 0x00BD
_FORMULA, _STRING, _BOOLERR = 0x0006, 0x0207, 0x0205
_BIFF8 = 0x0600
# the built-in number formats that show a date (times of day, 18-21, 32-35, 45-47, 55-56, are not dates):
# 14-17 and 22, and the East Asian ones (31: yyyy"년" m"월" d"일")
_DATE_FORMATS = {14, 15, 16, 17, 22, 27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 57, 58}
# a custom format shows a date when a year or day letter stands outside quotes, brackets and escapes, or
# a month letter without an hour or a second beside it ("h:mm" is minutes)
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')


def sheets(data: bytes) -> list[Sheet]:
    """Every worksheet of an .xls, in the workbook's order (chart and macro sheets are left out)."""
    with open_compound(data, _LABEL, "an .xlsx is a zip") as ole:
        if not ole.exists("Workbook") and ole.exists("Book"):
            raise DocumentError("Excel 5 or 95 workbook: open it in Excel and save it as .xlsx")
        return _Book(ole.stream("Workbook")).sheets()


def _records(stream: bytes, at: int):
    """(record type, data with its CONTINUE records joined, [where each piece starts in data]) from
    offset `at` until the substream's EOF."""
    while at + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, at)
        data, starts = stream[at + 4:at + 4 + size], [0]
        at += 4 + size
        while at + 4 <= len(stream) and struct.unpack_from("<H", stream, at)[0] == _CONTINUE:
            size = struct.unpack_from("<H", stream, at + 2)[0]
            starts.append(len(data))
            data += stream[at + 4:at + 4 + size]
            at += 4 + size
        yield kind, data, starts
        if kind == _EOF:
            return


class _Book:
    def __init__(self, stream: bytes) -> None:
        self.stream = stream
        self.strings: list[str] = []
        self.formats: dict[int, str] = {}
        self.xf_formats: list[int] = []
        self.epoch = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Lotus's leap year 1900 included)
        self.places: list[tuple[str, int]] = []

    def sheets(self) -> list[Sheet]:
        records = _records(self.stream, 0)
        kind, data, _ = next(records, (0, b"", [0]))
        if kind != _BOF or len(data) < 2 or struct.unpack_from("<H", data, 0)[0] != _BIFF8:
            raise DocumentError("not a readable XLS file (no BIFF8 workbook: an Excel 5 or older file?)")
        for kind, data, starts in records:
            if kind == _FILEPASS:
                raise DocumentError("encrypted XLS: it needs a password to be read")
            if kind == _DATEMODE and data[:2] == b"\x01\x00":
                self.epoch = date(1904, 1, 1)
            elif kind == _FORMAT:
                self.formats[struct.unpack_from("<H", data, 0)[0]] = _unicode(data, 2)[0]
            elif kind == _XF:
                self.xf_formats.append(struct.unpack_from("<H", data, 2)[0])
            elif kind == _SST:
                self.strings = _shared_strings(data, starts)
            elif kind == _BOUNDSHEET and len(data) >= 8 and data[5] == 0:  # dt 0: a worksheet
                place = struct.unpack_from("<I", data, 0)[0]
                self.places.append((_short_unicode(data, 6), place))
        if not self.places:
            raise DocumentError("XLS workbook has no worksheet")
        out, read = [], 0
        for title, place in self.places:
            rows = self._rows(place)
            read += len(rows)
            if read > MAX_ROWS:
                raise DocumentError(f"XLS workbook has more than {MAX_ROWS:,} rows: refused")
            out.append(Sheet(title, rows))
        return out

    def _rows(self, place: int) -> list[tuple[int, list[str], str]]:
        cells: dict[int, dict[int, str]] = {}
        formula_cell: tuple[int, int] | None = None  # a formula whose string result comes in the next STRING

        def put(row: int, column: int, text: str) -> None:
            if column < MAX_COLUMNS and text:
                cells.setdefault(row, {})[column] = text
                if len(cells) > MAX_ROWS:
                    raise DocumentError(f"XLS sheet has more than {MAX_ROWS:,} rows: refused")

        for kind, data, starts in _records(self.stream, place):
            if kind in (_LABELSST, _LABEL_CELL, _RSTRING, _NUMBER, _RK, _MULRK, _FORMULA, _BOOLERR) and len(data) < 6:
                continue
            if kind == _LABELSST and len(data) >= 10:
                row, column, _, index = struct.unpack_from("<HHHI", data, 0)
                put(row, column, self.strings[index] if index < len(self.strings) else "")
            elif kind in (_LABEL_CELL, _RSTRING):
                row, column = struct.unpack_from("<HH", data, 0)
                put(row, column, _unicode(data, 6, starts)[0])
            elif kind == _NUMBER and len(data) >= 14:
                row, column, xf = struct.unpack_from("<HHH", data, 0)
                put(row, column, self._number(struct.unpack_from("<d", data, 6)[0], xf))
            elif kind == _RK and len(data) >= 10:
                row, column, xf, rk = struct.unpack_from("<HHHI", data, 0)
                put(row, column, self._number(_rk(rk), xf))
            elif kind == _MULRK:
                row, first = struct.unpack_from("<HH", data, 0)
                for i in range((len(data) - 6) // 6):
                    xf, rk = struct.unpack_from("<HI", data, 4 + i * 6)
                    put(row, first + i, self._number(_rk(rk), xf))
            elif kind == _FORMULA and len(data) >= 14:
                row, column, xf = struct.unpack_from("<HHH", data, 0)
                result = data[6:14]
                if result[6:8] != b"\xff\xff":
                    put(row, column, self._number(struct.unpack_from("<d", result)[0], xf))
                elif result[0] == 0:
                    formula_cell = (row, column)
                elif result[0] == 1:
                    put(row, column, "TRUE" if result[2] else "FALSE")
            elif kind == _STRING and formula_cell is not None:
                put(*formula_cell, _unicode(data, 0, starts)[0])
                formula_cell = None
            elif kind == _BOOLERR and len(data) >= 8 and data[7] == 0:
                row, column = struct.unpack_from("<HH", data, 0)
                put(row, column, "TRUE" if data[6] else "FALSE")
        rows = []
        for row in sorted(cells):
            by_column = cells[row]
            rows.append((row + 1, [by_column.get(c, "") for c in range(max(by_column) + 1)], ""))
        return rows

    def _number(self, value: float, xf: int) -> str:
        """A number as the sheet shows it, as far as text goes: a date cell as its ISO date."""
        if not math.isfinite(value):
            return ""
        fmt = self.xf_formats[xf] if xf < len(self.xf_formats) else 0
        if (fmt in _DATE_FORMATS or _is_date_format(self.formats.get(fmt, ""))) and 0 < value < 2958466:
            return (self.epoch + timedelta(days=int(value))).isoformat()
        if abs(value) < 1e15 and value == int(value):
            return str(int(value))
        return repr(value)


def _is_date_format(code: str) -> bool:
    letters = set(_FORMAT_NOISE.sub("", code).lower())
    return code.lower() != "general" and bool("y" in letters or "d" in letters
                                             or ("m" in letters and not letters & {"h", "s"}))


def _rk(rk: int) -> float:
    """An RK number: a 30-bit integer or the top 30 bits of a double, maybe divided by 100."""
    if rk & 2:
        value = float(struct.unpack("<i", struct.pack("<I", rk & 0xFFFFFFFC))[0] >> 2)
    else:
        value = struct.unpack("<d", struct.pack("<Q", (rk & 0xFFFFFFFC) << 32))[0]
    return value / 100 if rk & 1 else value


def _unicode(data: bytes, at: int, starts: list[int] | None = None) -> tuple[str, int]:
    """An XLUnicodeString (16-bit count) at `at`, its characters continued across CONTINUE records
    (each continuation starts with a new 8-or-16-bit flag); returns the text and where it ends."""
    count, flags = struct.unpack_from("<HB", data, at)
    return _characters(data, at + 3, count, flags & 1, starts or [0])


def _short_unicode(data: bytes, at: int) -> str:
    count, flags = struct.unpack_from("<BB", data, at)
    return _characters(data, at + 2, count, flags & 1, [0])[0]


def _characters(data: bytes, at: int, count: int, wide: int, starts: list[int]) -> tuple[str, int]:
    out: list[str] = []
    if count > 0 and at > 0 and at in starts:  # the header ended a record: the characters open with a flag
        wide = data[at] & 1
        at += 1
    while count > 0 and at < len(data):
        # a CONTINUE boundary inside the characters: the next piece opens with its own width flag
        limit = next((s for s in starts if s > at), len(data))
        width = 2 if wide else 1
        take = min(count, (limit - at) // width)
        chunk = data[at:at + take * width]
        out.append(chunk.decode("utf-16-le", "replace") if wide else chunk.decode("latin-1"))
        at += take * width
        count -= take
        if count > 0 and at == limit and limit < len(data):
            wide = data[at] & 1
            at += 1
        elif take == 0:
            break
    return "".join(out), at


def _shared_strings(data: bytes, starts: list[int]) -> list[str]:
    """The SST's strings: each a count, flags, then rich-text runs and phonetic data after the
    characters, any of them continued in the next CONTINUE record."""
    unique = struct.unpack_from("<I", data, 4)[0]
    strings: list[str] = []
    at = 8
    while len(strings) < unique and at + 3 <= len(data):
        count, flags = struct.unpack_from("<HB", data, at)
        at += 3
        runs = ext = 0
        if flags & 0x08:
            runs = struct.unpack_from("<H", data, at)[0]
            at += 2
        if flags & 0x04:
            ext = struct.unpack_from("<I", data, at)[0]
            at += 4
        text, at = _characters(data, at, count, flags & 1, starts)
        strings.append(text)
        at += runs * 4 + ext
    return strings
