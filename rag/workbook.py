"""Excel workbooks (.xlsx) of articles: the first sheet's rows, for the table reader (rag.tables).

    rows = sheet_rows(path.read_bytes())    # (row number, cells, "") ...; DocumentError when unreadable
    drop_rows(path, {5})                    # the file rewritten without sheet row 5

The only module that imports openpyxl. News clippings kept in Excel (an export from a news
archive, a list a team maintains) are one article a row under a header row, as in a CSV. Cells
come as text: a date cell as its ISO date, a number without a trailing ".0". The zip is checked
before openpyxl opens it (rag.documents' limits), so a bomb is refused unread.
"""

from __future__ import annotations

import io
import os
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Iterator

from rag.documents import ZIP_ERRORS, DocumentError, check_size, open_package

_LABEL = "XLSX"
MAX_ROWS = 100_000  # a sheet of articles; the 10 MB file limit holds far fewer
MAX_COLUMNS = 256  # a clipping list has a dozen columns; cells past this are never read


def sheet_rows(data: bytes) -> Iterator[tuple[int, list[str], str]]:
    """The first worksheet's rows as (sheet row number, cells as text, "")."""
    from openpyxl import load_workbook

    _check_package(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not book.worksheets:
                raise DocumentError("XLSX workbook has no worksheet")
            sheet = book.worksheets[0]
            # the sheet's declared size ("A1:XFD1048576") is the file's word: never iterate by it
            sheet.reset_dimensions()
            rows = []
            for number, values in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
                if number > MAX_ROWS:
                    raise DocumentError(f"XLSX sheet has more than {MAX_ROWS:,} rows: refused")
                cells = [_text(value) for value in values]
                while cells and not cells[-1]:
                    cells.pop()  # the padding to the widest row: a million empty rows must cost nothing
                rows.append((number, cells, ""))
        finally:
            book.close()
    except DocumentError:
        raise
    # openpyxl's errors on a broken file: a missing part (KeyError), bad XML (ParseError, a SyntaxError),
    # a bad value (ValueError, TypeError), a damaged zip
    except (KeyError, TypeError, SyntaxError, *ZIP_ERRORS) as exc:
        raise DocumentError(f"not a readable XLSX file ({type(exc).__name__}: {str(exc)[:120]})") from exc
    return iter(rows)


def drop_rows(path: Path, numbers: set[int]) -> None:
    """Rewrites a workbook without these rows of its first sheet (atomically); other sheets, styles
    and the other rows' cells are kept as openpyxl reads and writes them."""
    from openpyxl import load_workbook

    _check_package(path.read_bytes())
    book = load_workbook(path)
    sheet = book.worksheets[0]
    for number in sorted(numbers, reverse=True):  # from the bottom: deleting a row moves the ones below up
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
