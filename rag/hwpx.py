"""Hangul documents (.hwpx, the OWPML format Hancom Office saves by default): the body's paragraphs.

    doc = read_hwpx(path.read_bytes())     # DocumentError(reason) for a broken, locked or hostile file
    doc.text, doc.title

Korean press releases (보도자료) are written in Hangul. An .hwpx is a zip: `Contents/content.hpf` lists
the sections in reading order (`Contents/section0.xml`, …), each a tree of paragraphs (`hp:p`) whose
runs hold the text (`hp:t`). A table becomes a line a row, its cells separated by " | " and, under a
header row, named by their column ("금액: 80억 원"); running
headers, footers and master pages are page furniture and are left out, and so are footnotes, endnotes
and hidden comments (as the other formats' readers leave them). The older binary .hwp has its own
reader (rag/hwp.py).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import PurePosixPath

from lxml import etree

from rag.documents import DocumentError, DocumentText, document_text, open_package, read_part, table_lines

_PARAGRAPH = "{http://www.hancom.co.kr/hwpml/2011/paragraph}"
_OPF = "{http://www.idpf.org/2007/opf/}"
_SECTION = re.compile(r"^Contents/section(\d+)\.xml$")
# running page furniture; footnotes, endnotes and hidden comments (숨은 설명), left out as the .hwp, .doc,
# .docx and .odt readers leave them
_LEFT_OUT = {f"{_PARAGRAPH}{tag}" for tag in ("header", "footer", "masterPage", "footNote", "endNote", "hiddenComment")}
_CELL = f"{_PARAGRAPH}tc"
_ROW = f"{_PARAGRAPH}tr"
_TABLE = f"{_PARAGRAPH}tbl"
_DUTMAL = f"{_PARAGRAPH}dutmal"
_LABEL = "HWPX"


def read_hwpx(data: bytes) -> DocumentText:
    """The body text of an .hwpx document, a paragraph a line."""
    with open_package(data, _LABEL) as package:
        names = {info.filename: info for info in package.infolist()}
        if "META-INF/encryption.xml" in names:  # a password-locked document: its sections are ciphertext
            raise DocumentError("encrypted HWPX: it needs a password to be read")
        content = read_part(package, "Contents/content.hpf", _LABEL) if "Contents/content.hpf" in names else None
        sections = _section_order(content, names)
        if not sections:
            raise DocumentError("not a readable HWPX file (no Contents/section*.xml)")
        lines = [line for name in sections for line in _lines(read_part(package, name, _LABEL))]
    title = content.findtext(f"{_OPF}metadata/{_OPF}title") if content is not None else None
    return document_text(lines, title or "", _LABEL)


def _section_order(package: etree._Element | None, names: dict[str, zipfile.ZipInfo]) -> list[str]:
    """Sections in the package's reading order (its spine), else by number."""
    if package is not None:
        hrefs = {item.get("id"): item.get("href", "") for item in package.iter(f"{_OPF}item")}
        ordered = [hrefs.get(ref.get("idref"), "") for ref in package.iter(f"{_OPF}itemref")]
        ordered = [str(PurePosixPath(href)) for href in ordered if _SECTION.match(href or "")]
        if ordered and all(name in names for name in ordered):
            return ordered
    return sorted((n for n in names if _SECTION.match(n)), key=lambda n: int(_SECTION.match(n).group(1)))


def _lines(section: etree._Element) -> list[str]:
    """A section's paragraphs in document order; a table a line a row. One walk that does not enter
    running headers and footers, nor a table (whose rows read its paragraphs): checking each
    paragraph's ancestors instead made a 1.2 MB file of text boxes nested 40 deep take 15 s."""
    lines: list[str] = []
    pending = [section]
    while pending:
        element = pending.pop()
        if element.tag in _LEFT_OUT:
            continue
        if element.tag == _TABLE:
            lines.extend(_table_rows(element))  # a nested table reads in its cell
            continue
        if element.tag == f"{_PARAGRAPH}p":
            lines.append(_paragraph_text(element))
        pending.extend(reversed(element))
    return lines


def _table_rows(table: etree._Element) -> list[str]:
    rows = []
    for row in table.iter(_ROW):
        if next((a for a in row.iterancestors(_TABLE)), None) is not table:
            continue  # a row of a table nested in a cell is part of that cell's text
        rows.append([" ".join(filter(None, (_paragraph_text(p) for p in cell.iter(f"{_PARAGRAPH}p"))))
                     for cell in row if cell.tag == _CELL])
    return table_lines(rows)


def _paragraph_text(paragraph: etree._Element) -> str:
    """The text of a paragraph's own runs (not of the paragraphs of a table or text box inside it)."""
    parts: list[str] = []
    for run in paragraph.iterchildren(f"{_PARAGRAPH}run"):
        for text in run.iterchildren(f"{_PARAGRAPH}t", _DUTMAL):
            if text.tag == _DUTMAL:  # 덧말: the word in the line, with a gloss set above it (not read)
                parts.append(text.findtext(f"{_PARAGRAPH}mainText") or "")
                continue
            parts.append(text.text or "")
            for child in text:  # <hp:tab/>, <hp:lineBreak/>, <hp:fwSpace/> … inside the text, then more text
                parts.append(" ")
                parts.append(child.tail or "")
    return re.sub(r"\s+", " ", "".join(parts)).strip()
