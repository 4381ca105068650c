"""Excel workbooks (.xlsx) of articles: every sheet's rows, for the table reader (rag.tables).

    for sheet in sheets(path.read_bytes()):  # DocumentError when unreadable
        sheet.title, sheet.rows               # (row number, cells, "") ...
    drop_rows(path, {0: {5}})                # the file rewritten without row 5 of its first sheet
    workbook_bytes(xls.sheets(old))          # an .xlsx of sheets' cells as text (an .xls upload is kept so)

The only module that imports openpyxl. News clippings kept in Excel (an export from a news
archive, a list a team maintains) are one article a row under a header row, as in a CSV, often a
sheet a month or a subject, each with its own header row. Cells come as text: a date cell as its
ISO date, a number without a trailing ".0". The zip is checked before openpyxl opens it
(rag.documents' limits), so a bomb is refused unread.
"""

from __future__ import annotations

import io
import os
import re
import warnings
import uuid
from datetime import date, datetime
from dataclasses import dataclass
from pathlib import Path

from rag.documents import ZIP_ERRORS, DocumentError, check_size, open_package

_LABEL = "XLSX"
MAX_ROWS = 100_000  # of all sheets together; the 10 MB file limit holds far fewer articles
MAX_COLUMNS = 256  # a clipping list has a dozen columns; cells past this are never read
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in a worksheet's XML


@dataclass(frozen=True)
class Sheet:
    """A worksheet's name and its rows as (sheet row number, cells as text, "")."""

    title: str
    rows: list[tuple[int, list[str], str]]


def sheets(data: bytes) -> list[Sheet]:
    """Every worksheet, in the workbook's order (chart sheets hold no rows and are left out)."""
    _check_package(data)
    # openpyxl warns of what it does not keep (conditional formats, data validation, a header it cannot
    # parse) as it reads each sheet: none of it is article text, and it would fill an ingest's console.
    # A filter on openpyxl's own warnings (adding it again replaces it), not catch_warnings, which is not
    # safe while the web server's other threads run
    warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\.")
    try:
        return _read_sheets(data)
    except DocumentError:
        raise
    # openpyxl's errors on a broken file: a missing part (KeyError), bad XML (ParseError, a SyntaxError),
    # a bad value (ValueError, TypeError), a damaged zip
    except (KeyError, TypeError, SyntaxError, *ZIP_ERRORS) as exc:
        raise DocumentError(f"not a readable XLSX file ({type(exc).__name__}: {str(exc)[:120]})") from exc


def _read_sheets(data: bytes) -> list[Sheet]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not book.worksheets:
            raise DocumentError("XLSX workbook has no worksheet")
        out, read = [], 0
        for sheet in book.worksheets:
            # the sheet's declared size ("A1:XFD1048576") is the file's word: never iterate by it
            sheet.reset_dimensions()
            rows = []
            for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
                read += 1
                if read > MAX_ROWS:
                    raise DocumentError(f"XLSX workbook has more than {MAX_ROWS:,} rows: refused")
                cells = [_text(value) for value in values]
                while cells and not cells[-1]:
                    cells.pop()  # the padding to the widest row: a million empty rows must cost nothing
                rows.append((number, cells, ""))
            out.append(Sheet(sheet.title, rows))
        return out
    finally:
        book.close()


def workbook_bytes(book: list[Sheet]) -> bytes:
    """An .xlsx of these sheets, every cell written as text (an Excel 97-2003 upload is kept as one, so
    that a row can be deleted from it): "=…" stays text, never a formula; control characters go."""
    from openpyxl import Workbook

    out = Workbook()
    out.remove(out.active)
    for sheet in book:
        # a sheet title is at most 31 characters, without []:*?/\ (an .xls allows more): kept unique
        title = _sheet_title(sheet.title, out.sheetnames)
        target = out.create_sheet(title)
        for number, cells, _ in sheet.rows:
            for column, text in enumerate(cells, start=1):
                if text:
                    cell = target.cell(row=number, column=column, value=_CONTROLS.sub(" ", text))
                    cell.data_type = "s"
    data = io.BytesIO()
    out.save(data)
    return data.getvalue()


def _sheet_title(title: str, taken: list[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Sheet"
    name, n = base, 1
    while name.lower() in (t.lower() for t in taken):
        n += 1
        name = f"{base[:31 - len(str(n)) - 1]} {n}"
    return name


def drop_rows(path: Path, numbers: dict[int, set[int]]) -> None:
    """Rewrites a workbook without these rows ({sheet index: row numbers}), atomically; the other
    rows' cells, the other sheets and styles are kept as openpyxl reads and writes them."""
    from openpyxl import load_workbook

    _check_package(path.read_bytes())
    book = load_workbook(path)
    for index, rows in numbers.items():
        sheet = book.worksheets[index]
        for number in sorted(rows, reverse=True):  # from the bottom: deleting a row moves the ones below up
            sheet.delete_rows(number)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    book.save(tmp)
    os.replace(tmp, path)


def _check_package(data: bytes) -> None:
    with open_package(data, _LABEL) as package:
        if "xl/workbook.xml" not in package.namelist():
            raise DocumentError("not a readable XLSX file (no xl/workbook.xml)")
        for info in package.infolist():
            check_size(info)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
