"""Article archives kept as tables, one article a row: a CSV or TSV file (a news-archive or scraper
export), or a workbook's sheet (rag.workbook gives its rows to `table_of`).

    columns = Columns.load(settings.answer.lexicon)        # header names -> fields, from columns.tsv
    table = read_table(text, ".csv", columns)              # or table_of(sheet.rows, "XLSX", columns) of a workbook
    table.problem                                          # "" or why the file is not an article table
    for row in table.rows: row.line, row.record            # {"id", "title", "text", "date", "publisher", "author"}

The header row names the columns; which header means which field is data (`columns.tsv` in the
lexicon folders, "본문" and "text" both the article text), so a user's export with other headers is one
line of a file away. A row without an id column gets one from its content (`row_id`): it survives
rows added, removed or reordered around it, which a row number would not, and it reads like a
file in a folder ("news.csv/3f2a9c01be47"), so the source filter "news.csv/" selects the whole table.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from rag.vocabulary import DEFAULT_LEXICON, LexiconError, lexicon_rows

COLUMNS_FILE = "columns.tsv"
FIELDS = ("id", "title", "text", "date", "publisher", "author")
DELIMITERS = {".csv": ",", ".tsv": "\t"}
# csv's default cell limit (128 KiB) is below paths.max_article_chars' reach; the file size limit
# (paths.max_file_mb) is what bounds the memory a table can take
_CELL_LIMIT = 64 * 1024 * 1024
HEADER_SEARCH_ROWS = 10  # a table's header may sit this far down: title, date and blank rows above it
_COMPACT_DATE = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})$")


@dataclass(frozen=True)
class Columns:
    """Which header names which field; a header is compared casefolded, without spaces, '_' or '-'."""

    names: dict[str, str] = field(default_factory=dict)  # normalized header -> field

    @classmethod
    def load(cls, folders: Sequence[Path] = (DEFAULT_LEXICON,)) -> "Columns":
        names: dict[str, str] = {}
        for folder in folders:
            for where, cells in lexicon_rows(Path(folder).expanduser() / COLUMNS_FILE, 2, at_most=None):
                if cells[0] not in FIELDS:
                    raise LexiconError(f"{where}: field must be one of {', '.join(FIELDS)}, not {cells[0]!r}")
                for header in cells[1:]:
                    names[_header_key(header)] = cells[0]
        return cls(names)

    def examples(self, wanted: str, limit: int = 4) -> str:
        """A few header names of a field, for a message."""
        return ", ".join([h for h, f in self.names.items() if f == wanted][:limit])


@dataclass(frozen=True)
class TableRow:
    line: int  # where the row starts in the file (its first line is 1)
    cells: list[str]  # as read, every column: what a rewrite of the file writes back
    record: dict[str, str]  # field -> cell, only the fields the header names; "date" as ISO when it reads as one


@dataclass(frozen=True)
class Table:
    rows: list[TableRow] = field(default_factory=list)
    problem: str = ""  # the whole file is unreadable as an article table
    row_problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) of rows skipped
    header: list[str] = field(default_factory=list)
    above: list[list[str]] = field(default_factory=list)  # rows above the header (a title line): kept on a rewrite


def read_table(text: str, suffix: str, columns: Columns) -> Table:
    """The rows of a CSV (",") or TSV (tab) text as records keyed by field."""
    csv.field_size_limit(max(csv.field_size_limit(), _CELL_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[suffix.lower()])
    return table_of(_csv_rows(reader, suffix[1:].upper()), suffix[1:].upper(), columns)


def table_of(rows: Iterable[tuple[int, list[str] | None, str]], label: str, columns: Columns) -> Table:
    """A table from (line, cells, problem) rows: the reader of any format (CSV, a workbook's sheet) gives
    its rows, this names the fields. The header is the first row naming a text column among the first
    `HEADER_SEARCH_ROWS`: an export often puts a title line, a date or blank rows above it."""
    rows = iter(rows)
    above: list[list[str]] = []
    header: list[str] | None = None
    fields: dict[int, str] = {}
    for line, cells, problem in rows:
        if cells is None:
            return Table(problem=f"the header row is not {label}: {problem}")
        fields = _fields(cells, columns)
        if "text" in fields.values():
            header = cells
            break
        above.append(cells)
        if len(above) >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        first = next((cells for cells in above if any(c.strip() for c in cells)), [])
        shown = ", ".join(repr(c.strip()) for c in first[:8] if c.strip()) or "nothing"
        return Table(header=first, problem=(
            f"no article text column: the header row has {shown}; a text column is named like "
            f"{columns.examples('text')} (add yours to {COLUMNS_FILE} in a lexicon folder)"))
    table = Table(header=header, above=above)
    for line, cells, problem in rows:
        if cells is None:
            table.row_problems.append((line, f"not {label}: {problem}"))
            continue
        if not any(c.strip() for c in cells):
            continue
        record = {name: cells[i].strip() for i, name in fields.items() if i < len(cells) and cells[i].strip()}
        if "date" in record:
            record["date"] = _cell_date(record["date"])
        table.rows.append(TableRow(line, cells, record))
    return table


def _fields(header: list[str], columns: Columns) -> dict[int, str]:
    """Column index -> field, for the header cells `columns` names (the first column of a field wins)."""
    fields: dict[int, str] = {}
    for index, cell in enumerate(header):
        name = columns.names.get(_header_key(cell))
        if name and name not in fields.values():
            fields[index] = name
    return fields


def _csv_rows(reader, label: str) -> Iterator[tuple[int, list[str] | None, str]]:
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell past the size limit
            yield start, None, str(exc)
            continue
        yield start, cells, ""


def row_id(relative: str, record: dict[str, str]) -> str:
    """The row's own id, else one made of the file and the row's title, date and text."""
    given = record.get("id", "").strip()
    if given:
        return given
    digest = hashlib.sha1("\x00".join(record.get(f, "") for f in ("title", "date", "text")).encode("utf-8"))
    return f"{relative}/{digest.hexdigest()[:12]}"  # a folder-like id: filter source="news.csv/" picks the table


def write_table(rows: list[list[str]], suffix: str) -> str:
    """Rows (the header first) as CSV/TSV text, quoted where a cell needs it."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=DELIMITERS[suffix.lower()], lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue()


def _header_key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header).casefold()


def _cell_date(value: str) -> str:
    """"20240305" (BIGKinds' 일자) as "2024-03-05"; any other form is left for the reader's date parser."""
    match = _COMPACT_DATE.match(value.strip())
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else value
