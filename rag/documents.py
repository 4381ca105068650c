"""What the office-document readers share (rag.hwpx, rag.docx): a zip package's XML parts read
safely, and a table written as lines.

    package = open_package(data, "HWPX")            # DocumentError when it is not a zip
    root = read_part(package, "Contents/section0.xml", "HWPX")
    table_lines([["구분", "금액"], ["1차 협력사", "270억 원"]])   # ["구분 | 금액", "구분: 1차 협력사 | 금액: 270억 원"]
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from lxml import etree

# what an unpacked part may take: a news release is kilobytes of XML; a zip bomb is refused by the
# size its entry declares before it is inflated, and by never reading past the cap after
MAX_PART_BYTES = 50 * 1024 * 1024
_MAX_RATIO = 200  # XML packs 5-12x in the documents Hangul and Word write; past this it is a bomb
_BOMB_FLOOR = 1024 * 1024  # a small part may pack as well as it likes


class DocumentError(ValueError):
    """An office document that yields no article text; the message is for the user."""


@dataclass(frozen=True)
class DocumentText:
    """What a document reader gives the corpus: the text, a paragraph a line, and the title it declares."""

    text: str
    title: str = ""


# what zipfile and zlib raise on a damaged archive: a bad header or offset, a corrupt deflate stream,
# an unknown compression method or version, an encrypted member
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError)


def open_package(data: bytes, label: str) -> zipfile.ZipFile:
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as exc:
        raise DocumentError(f"not a readable {label} file (not a zip: {exc})") from exc
    if any(info.flag_bits & 0x1 for info in package.infolist()):
        raise DocumentError(f"encrypted {label}: it needs a password to be read")
    return package


def check_size(info: zipfile.ZipInfo) -> None:
    """A member whose declared size is past the cap, or past the ratio a document packs to, is a bomb."""
    if info.file_size > MAX_PART_BYTES or (info.file_size > _BOMB_FLOOR and
                                           info.file_size > _MAX_RATIO * max(info.compress_size, 1)):
        raise DocumentError(f"{info.filename} unpacks to {info.file_size:,} bytes from {info.compress_size:,}: "
                            "refused (a zip bomb)")


def read_part(package: zipfile.ZipFile, name: str, label: str) -> etree._Element:
    """One XML part, parsed without entities, DTDs or network: an XML bomb or an external entity reads nothing."""
    info = package.getinfo(name)
    check_size(info)
    try:
        with package.open(info) as member:
            raw = member.read(MAX_PART_BYTES + 1)  # the declared size may lie: never read past the cap
    except ZIP_ERRORS as exc:
        raise DocumentError(f"not a readable {label} file ({name}: {exc})") from exc
    if len(raw) > MAX_PART_BYTES:
        raise DocumentError(f"{name} unpacks past {MAX_PART_BYTES:,} bytes: refused (a zip bomb)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"not a readable {label} file ({name}: {exc})") from exc


def document_text(lines: list[str], title: str, label: str) -> DocumentText:
    """The read lines as one text (DocumentError when there is none) with the title the document declares."""
    text = "\n".join(line for line in lines if line)
    if not text.strip():
        raise DocumentError(f"{label} document has no text")
    return DocumentText(text, title.strip())


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table a line a row, cells separated by " | "; under a header row each cell is named by its
    column, so a row read alone (a sentence of its own in a passage) keeps what its cells mean:
    "2차 협력사 | 40곳 | 80억 원" says less than "구분: 2차 협력사 | 협력사 수: 40곳 | 금액: 80억 원"."""
    rows = [_trimmed(cells) for cells in rows]
    rows = [cells for cells in rows if cells]
    if len(rows) < 2 or not _is_header(rows[0]):
        return [" | ".join(cells) for cells in rows]
    header = rows[0]
    named = [" | ".join(f"{name}: {cell}" if name and cell else cell
                        for name, cell in zip(header + [""] * len(cells), cells)) for cells in rows[1:]]
    return [" | ".join(header), *named]


def _trimmed(cells: list[str]) -> list[str]:
    cells = list(cells)
    while cells and not cells[-1]:
        cells.pop()  # a row's empty cells at its end ("합계 | | |") say nothing
    return cells


def _is_header(cells: list[str]) -> bool:
    """A first row of short labels without figures names the columns."""
    return len(cells) > 1 and all(cell and len(cell) <= 20 and not any(ch.isdigit() for ch in cell) for cell in cells)
