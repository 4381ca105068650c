"""A small Excel 97-2003 workbook (.xls, BIFF8) written record by record into an OLE compound file.

rag/xls.py was checked against workbooks Excel itself saved (Apache POI's test files: shared strings
continued across records, 1900 and 1904 dates, date formats, Chinese, Japanese and Cyrillic text, Excel 5
and encrypted ones); those are not ours to ship, so the tests write their own in the same shape: the
globals (date mode, a custom date format, cell formats, the shared strings, the sheets' places), then
each sheet's cell records.
"""

from __future__ import annotations

import struct

from tests.hwp_sample import compound_file

GENERAL, ISO_DATE, BUILTIN_DATE = 15, 16, 17  # the cell formats (XF indexes) the records below use


def record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def text(value: str) -> bytes:
    """An XLUnicodeString: 8-bit when it fits, else UTF-16."""
    if all(ord(c) < 256 for c in value):
        return struct.pack("<HB", len(value), 0) + value.encode("latin-1")
    return struct.pack("<HB", len(value), 1) + value.encode("utf-16-le")


def number(value: float) -> bytes:
    return struct.pack("<d", value)


def rk_integer(value: int) -> int:
    return (value << 2) | 2


def workbook(sheets: dict[str, list[bytes]], strings: list[str], split: int = 0, date1904: bool = False,
             encrypted: bool = False) -> bytes:
    """An .xls of these sheets (each a list of cell records) sharing `strings`; `split` > 0 cuts the
    shared-string table into a CONTINUE record that many characters into its last string (whose
    continuation opens with its own width flag)."""
    sst = struct.pack("<II", len(strings), len(strings)) + b"".join(text(s) for s in strings[:-1])
    continued = b""
    if strings:
        last = strings[-1]
        if split:
            head, tail = last[:split], last[split:]
            sst += struct.pack("<HB", len(last), 0) + head.encode("latin-1")  # 8-bit so far...
            continued = b"\x01" + tail.encode("utf-16-le")  # ...then the rest, UTF-16
        else:
            sst += text(last)
    globals_ = record(0x0809, struct.pack("<HH", 0x0600, 0x0005) + b"\x00" * 12)
    if encrypted:
        globals_ += record(0x002F, b"\x00\x00")
    globals_ += record(0x0022, struct.pack("<H", int(date1904)))
    globals_ += record(0x041E, struct.pack("<H", 164) + text("yyyy-mm-dd"))
    for fmt in [0] * 16 + [164, 14]:  # XF 0-15 general; 16: the custom date format; 17: built-in 14 (m/d/yy)
        globals_ += record(0x00E0, struct.pack("<HH", 0, fmt) + b"\x00" * 16)
    globals_ += record(0x00FC, sst) + (record(0x003C, continued) if continued else b"")
    bodies = []
    for records in sheets.values():
        bodies.append(record(0x0809, struct.pack("<HH", 0x0600, 0x0010) + b"\x00" * 12) + b"".join(records)
                      + record(0x000A, b""))
    names = [record(0x0085, b"\x00" * 6 + struct.pack("<BB", len(n), 1) + n.encode("utf-16-le")) for n in sheets]
    place = len(globals_) + sum(map(len, names)) + 4  # the globals' EOF after the sheet names
    for i, name in enumerate(names):
        names[i] = name[:4] + struct.pack("<I", place) + name[8:]
        place += len(bodies[i])
    stream = globals_ + b"".join(names) + record(0x000A, b"") + b"".join(bodies)
    return compound_file({"Workbook": stream})


def label_sst(row: int, column: int, index: int) -> bytes:
    return record(0x00FD, struct.pack("<HHHI", row, column, GENERAL, index))


def label(row: int, column: int, value: str) -> bytes:
    return record(0x0204, struct.pack("<HHH", row, column, GENERAL) + text(value))


def number_cell(row: int, column: int, value: float, xf: int = GENERAL) -> bytes:
    return record(0x0203, struct.pack("<HHH", row, column, xf) + number(value))


def rk_cell(row: int, column: int, value: int, xf: int = GENERAL) -> bytes:
    return record(0x027E, struct.pack("<HHHI", row, column, xf, rk_integer(value)))


def formula_text(row: int, column: int, value: str) -> bytes:
    """A formula whose result is a string: the FORMULA record, then the STRING record holding it."""
    result = b"\x00" + b"\x00" * 5 + b"\xff\xff"
    return (record(0x0006, struct.pack("<HHH", row, column, GENERAL) + result + b"\x00" * 6)
            + record(0x0207, text(value)))
