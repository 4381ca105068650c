"""OpenDocument text (.odt): the body's headings, paragraphs, lists and tables in order.

    doc = read_odt(path.read_bytes())      # DocumentError(reason) for a broken, locked or hostile file
    doc.text, doc.title

The open format Korean public bodies are moving their documents to (개방형 문서 형식), and what LibreOffice
saves by default. An .odt is a zip whose `content.xml` holds the text: headings (`text:h`) and paragraphs
(`text:p`), inside lists and table cells too, with spaces (`text:s`), tabs and line breaks as elements.
A frame's text box reads in place; footnotes and endnotes (`text:note`), comments and the record of
tracked changes are not text of the article; running headers and footers live in `styles.xml` and are
not read. The title is the one `meta.xml` declares.
"""

from __future__ import annotations

import re

from lxml import etree

from rag.documents import DocumentError, DocumentText, document_text, open_package, read_part, table_lines

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_MANIFEST = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}"
_PARAGRAPHS = {f"{_TEXT}p", f"{_TEXT}h"}
# not text of the article: a note's body (its citation mark goes with it), a comment, tracked changes
_LEFT_OUT = {f"{_TEXT}note", f"{_OFFICE}annotation", f"{_TEXT}tracked-changes", f"{_TEXT}bookmark-ref"}
_LABEL = "ODT"
# a repeated row or cell is written once with a count (LibreOffice closes a sheet with a million empty
# rows so): copies past these say nothing new
_MAX_REPEAT = 1000


def read_odt(data: bytes) -> DocumentText:
    """The body text of an .odt, a paragraph a line, a table a line a row."""
    with open_package(data, _LABEL) as package:
        names = set(package.namelist())
        if "META-INF/manifest.xml" in names:
            manifest = read_part(package, "META-INF/manifest.xml", _LABEL)
            if manifest.find(f".//{_MANIFEST}encryption-data") is not None:
                raise DocumentError("encrypted ODT: it needs a password to be read")
        if "content.xml" not in names:
            raise DocumentError("not a readable ODT file (no content.xml)")
        body = read_part(package, "content.xml", _LABEL).find(f"{_OFFICE}body/{_OFFICE}text")
        meta = read_part(package, "meta.xml", _LABEL) if "meta.xml" in names else None
    title = meta.findtext(f"{_OFFICE}meta/{_DC}title") if meta is not None else None
    return document_text(_lines(body) if body is not None else [], title or "", _LABEL)


def _lines(body: etree._Element) -> list[str]:
    """Paragraphs in document order, each read once: one walk that reads a paragraph as a line and does
    not enter a table (its rows read their paragraphs) or what is not text."""
    lines: list[str] = []
    pending = [body]
    while pending:
        element = pending.pop()
        if element.tag in _LEFT_OUT:
            continue
        if element.tag == f"{_TABLE}table":
            lines.extend(table_lines(_rows(element)))
            continue
        if element.tag in _PARAGRAPHS:
            lines.append(_paragraph_text(element))
            # a frame's text box inside the paragraph: its paragraphs and tables follow, in place
            pending.extend(reversed(_nested(element)))
            continue
        pending.extend(reversed(element))
    return lines


def _nested(paragraph: etree._Element) -> list[etree._Element]:
    """The paragraphs and tables inside a paragraph (a text box's), in order, not entering them: each
    element is looked at once however deep boxes nest."""
    found: list[etree._Element] = []
    pending = list(reversed(paragraph))
    while pending:
        element = pending.pop()
        if element.tag in _LEFT_OUT:
            continue
        if element.tag in _PARAGRAPHS or element.tag == f"{_TABLE}table":
            found.append(element)
            continue
        pending.extend(reversed(element))
    return found


def _rows(table: etree._Element) -> list[list[str]]:
    rows: list[list[str]] = []
    for row in table.iter(f"{_TABLE}table-row"):
        if next(row.iterancestors(f"{_TABLE}table"), None) is not table:
            continue  # a row of a table nested in a cell is that cell's text
        cells: list[str] = []
        for cell in row:
            if cell.tag not in (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell"):
                continue
            text = " ".join(filter(None, (_paragraph_text(p) for p in cell.iter(*_PARAGRAPHS)
                                          if not any(a.tag in _LEFT_OUT for a in p.iterancestors()))))
            cells += [text] * max(0, min(_repeat(cell, "number-columns-repeated"), _MAX_REPEAT - len(cells)))
        rows += [cells] * max(0, min(_repeat(row, "number-rows-repeated"), _MAX_REPEAT - len(rows)))
        if len(rows) >= _MAX_REPEAT * 10:
            break  # a table past this is no article's
    return rows


def _repeat(element: etree._Element, attribute: str) -> int:
    value = element.get(f"{_TABLE}{attribute}", "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def _paragraph_text(paragraph: etree._Element) -> str:
    """The paragraph's own text: spans, links and fields inside it, `text:s` as its count of spaces,
    tabs and line breaks as spaces; not a note's body nor the paragraphs of a text box in it."""
    parts: list[str] = [paragraph.text or ""]
    _inline(paragraph, parts)
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _inline(element: etree._Element, parts: list[str]) -> None:
    for child in element:
        if child.tag in _LEFT_OUT or child.tag in _PARAGRAPHS or child.tag == f"{_TABLE}table":
            pass  # not text of this paragraph; a nested paragraph reads on its own line
        elif child.tag == f"{_TEXT}s":
            parts.append(" " * min(_repeat_spaces(child), 100))
        elif child.tag in (f"{_TEXT}tab", f"{_TEXT}line-break"):
            parts.append(" ")
        else:
            parts.append(child.text or "")
            _inline(child, parts)
        parts.append(child.tail or "")


def _repeat_spaces(element: etree._Element) -> int:
    value = element.get(f"{_TEXT}c", "1")
    return int(value) if value.isdigit() else 1
