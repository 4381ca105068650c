"""Files of many articles: JSONL (a JSON object a line, with its "id") and tables (.csv, .tsv, .xlsx,
.xls; rag.tables, rag.workbook, rag.xls).

    records = read_records(path, "news.csv", text, "table", problems, furniture, columns)
    records[0].doc_id, records[0].text, records[0].meta, records[0].raw

Each record's text is cleaned like a file's; its own fields (title, date, publisher, author) come
before what the text states. `raw` is what the article's content hash is taken of: the JSONL line, or
a table row's mapped cells, so rewriting a table without one row (other quoting, say) leaves every
other row unchanged. Problems are appended as ("file:line", reason) — a workbook of several sheets names
the sheet too ("file:sheet:line") — never raised.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag import xls
from rag.cleaning import Furniture, Metadata, clean_document, iso_date
from rag.documents import DocumentError
from rag.tables import Columns, Table, read_table, row_id, table_of
from rag.workbook import sheets
from rag.webpage import HtmlError


@dataclass(frozen=True)
class Record:
    doc_id: str
    text: str  # cleaned
    meta: Metadata
    raw: bytes


def read_records(path: Path, relative: str, content: str | bytes, kind: str, problems: list[tuple[str, str]],
                 furniture: Furniture, columns: Columns) -> list[Record]:
    """The articles of a JSONL (`kind` "jsonl"), table ("table": CSV/TSV text) or workbook ("workbook":
    .xlsx or .xls bytes) file; `relative` names the file in the ids it makes."""
    if kind == "jsonl":
        records = _jsonl(path, str(content), problems, furniture)
    elif kind == "table":
        records = _table(str(path), relative, read_table(str(content), path.suffix, columns), problems, furniture)
    else:
        legacy = path.suffix.lower() == ".xls"  # Excel 97-2003
        try:
            book = (xls.sheets if legacy else sheets)(bytes(content))
        except DocumentError as exc:
            problems.append((str(path), str(exc)))
            return []
        records = []
        for sheet in book:
            # a problem names the sheet when there are several ("news.xlsx:2월:5"); an empty sheet is no problem
            where = f"{path}:{sheet.title}" if len(book) > 1 else str(path)
            if any(cells for _, cells, _ in sheet.rows):
                records += _table(where, relative, table_of(sheet.rows, "XLS" if legacy else "XLSX", columns), problems,
                                  furniture)
    if not records and not any(p[0].startswith(f"{path}:") or p[0] == str(path) for p in problems):
        problems.append((str(path), "no articles in JSONL file" if kind == "jsonl" else
                         "no articles in the table (no row with text)"))
    return records


def _jsonl(path: Path, text: str, problems: list[tuple[str, str]], furniture: Furniture) -> list[Record]:
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((where, f"not JSON: {exc.msg}"))
            continue
        if not isinstance(record, dict):
            problems.append((where, "not a JSON object"))
            continue
        doc_id = str(record.get("id") or record.get("doc_id") or "").strip()
        if not doc_id:
            problems.append((where, "no 'id' or 'doc_id'"))
            continue
        fields = {"text": record.get("text") or record.get("body") or "",
                  "publisher": record.get("publisher") or record.get("source") or "",
                  **{name: record.get(name) or "" for name in ("title", "date", "author")}}
        found = _record(where, doc_id, fields, line.encode("utf-8"), problems, furniture)
        if found is not None:
            records.append(found)
    return records


def _table(source: str, relative: str, table: Table, problems: list[tuple[str, str]],
           furniture: Furniture) -> list[Record]:
    """The articles of one table; `source` names it in problems (the file, or the file and its sheet)."""
    if table.problem:
        problems.append((source, table.problem))
        return []
    problems.extend((f"{source}:{line}", why) for line, why in table.row_problems)
    records = []
    for row in table.rows:
        where = f"{source}:{row.line}"
        if not row.record.get("text"):
            problems.append((where, "the row's text cell is empty"))
            continue
        raw = json.dumps(row.record, ensure_ascii=False, sort_keys=True).encode("utf-8")
        found = _record(where, row_id(relative, row.record), row.record, raw, problems, furniture)
        if found is not None:
            records.append(found)
    return records


def _record(where: str, doc_id: str, fields: dict[str, Any], raw: bytes, problems: list[tuple[str, str]],
            furniture: Furniture) -> Record | None:
    body = fields.get("text")
    if not isinstance(body, str) or not body.strip():
        problems.append((where, "no 'text' or 'body'"))
        return None
    try:
        cleaned, found = clean_document(body, "html" if _looks_like_html(body) else "text", furniture)
    except HtmlError as exc:
        problems.append((where, str(exc)))
        return None
    if not cleaned.strip():
        problems.append((where, "no article text after cleaning"))
        return None
    given = Metadata(
        title=str(fields.get("title") or "").strip() or found.title,
        date=iso_date(str(fields.get("date") or "")) or found.date,
        publisher=str(fields.get("publisher") or "").strip() or found.publisher,
        author=str(fields.get("author") or "").strip() or found.author,
    )
    return Record(doc_id, cleaned, given, raw)


def _looks_like_html(text: str) -> bool:
    return bool(re.search(r"<(?:p|div|br|html|body|article|span)\b", text[:2000], re.IGNORECASE))
