"""PDF articles (a press release, a report page saved as PDF): the text layer, read with pypdf.

    page = read_pdf(path.read_bytes())     # PdfError(reason) when encrypted, broken or only images
    page.text, page.title

The only module that imports pypdf. A PDF holds positioned lines, not paragraphs, so the text is
rebuilt before the cleaner sees it (rag.pdf_paragraphs), with where each line ends read from pypdf's
layout mode. Decompression bombs are pypdf's to stop (its filters cap a stream at 75 MB); pages and
reading time are capped here.
"""

from __future__ import annotations

import io
import logging
import re
import time
from typing import Callable

from rag.documents import DocumentError, DocumentText
from rag.pdf_paragraphs import LineEnds, rebuild_text, spaceless

MAX_PAGES = 500  # a report past this is not an article, and each page costs text extraction time
# a PDF whose text takes longer than this to extract is refused: pypdf parses a page's content stream
# (and each form it draws) again wherever it is used, so a 100 KB file whose 500 pages share one 6 MB
# stream of text operators takes about an hour (bench/reader_stalls.py); an article's page, milliseconds
MAX_SECONDS = 60.0
# a content stream that may show text: a text operator, or a form drawn with Do that may hold one (a
# false match only costs parsing the stream)
_MAY_SHOW_TEXT = re.compile(rb"Tj|TJ|['\"]|Do")
# a title field holding a file name or an editor's default says nothing about the article
_NO_TITLE = re.compile(r"\.(?:hwpx?|docx?|pdf|pptx?|xlsx?|txt|html?)$|^(?:microsoft\s+\w+\s+-|untitled\b|제목\s*없음)",
                       re.IGNORECASE)


class PdfError(DocumentError):
    """A PDF that yields no article text; the message is for the user."""


def read_pdf(data: bytes, max_pages: int = MAX_PAGES, max_seconds: float = MAX_SECONDS,
             clock: Callable[[], float] = time.monotonic) -> DocumentText:
    """The article text of a PDF's text layer, paragraphs rebuilt, running headers and footers dropped."""
    from pypdf import PdfReader

    _know_korean_cmaps()

    # a malformed object or an encoding pypdf falls back on is our problem report or none, never a log line
    # on the console of an ingest (pypdf logs them as errors: "Advanced encoding /EUC-H not implemented")
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _opens_without_password(reader):
            raise PdfError("encrypted PDF: it needs a password to be read")
        count = len(reader.pages)
        if count > max_pages:
            raise PdfError(f"PDF has {count:,} pages, over the limit of {max_pages:,}")
        deadline = _Deadline(clock, max_seconds, count)
        pages = [deadline.page_text(number, page) for number, page in enumerate(reader.pages, start=1)]
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except PdfError:
        raise
    except Exception as exc:  # noqa: BLE001 -- a hostile file may break the parser anywhere; report it, never crash
        raise PdfError(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from exc
    try:
        text = rebuild_text([text for text, _ in pages], [ends for _, ends in pages])
    except Exception as exc:  # noqa: BLE001 -- a defect in rebuilding one file's lines skips that file, not the ingest
        raise PdfError(f"PDF text could not be rebuilt into paragraphs ({type(exc).__name__}: {str(exc)[:120]})") from exc
    if not text.strip():
        raise PdfError("PDF has no text layer (a scan or images only: run OCR on it first)")
    return DocumentText(text, "" if _NO_TITLE.search(title) else title)


# The predefined CMaps of Adobe-Korea1 fonts (a Korean font the PDF names but does not embed, as Acrobat
# Distiller and older Hangul exports write): a string's codes are then EUC-KR, UHC or UTF-16/8/32 bytes,
# and without a ToUnicode map they are the text. pypdf 7.1 lists the Chinese and Japanese ones, not these,
# and falls back on UTF-16 ("상생협력" came out "믳믽쟹럂"). (-UCS2- ones pypdf already reads.)
_KOREAN_CMAPS = {
    **{f"/KSC-EUC-{d}": "euc_kr" for d in "HV"},
    **{f"/KSCms-UHC-{d}": "cp949" for d in "HV"},
    **{f"/KSCms-UHC-HW-{d}": "cp949" for d in "HV"},
    **{f"/KSCpc-EUC-{d}": "cp949" for d in "HV"},
    **{f"/KSC-Johab-{d}": "johab" for d in "HV"},
    **{f"/UniKS-UTF16-{d}": "utf-16-be" for d in "HV"},
    **{f"/UniKS-UTF8-{d}": "utf-8" for d in "HV"},
    **{f"/UniKS-UTF32-{d}": "utf-32-be" for d in "HV"},
}


def _know_korean_cmaps() -> None:
    """Adds the Korean CMaps to pypdf's table of predefined ones (its own entries win; a pypdf without
    the table reads Korean CMaps as before)."""
    from pypdf import _cmap

    table = getattr(_cmap, "_predefined_cmap", None)
    if isinstance(table, dict):
        for name, codec in _KOREAN_CMAPS.items():
            table.setdefault(name, codec)


class _Deadline:
    """The time a PDF's text extraction may take, checked before every operator pypdf interprets:
    between pages alone, one page drawing a form thousands of times would run for minutes."""

    def __init__(self, clock: Callable[[], float], max_seconds: float, pages: int) -> None:
        self._clock = clock
        self._max_seconds = max_seconds
        self._ends = clock() + max_seconds
        self._pages = pages
        self._page = 0

    def page_text(self, number: int, page) -> tuple[str, LineEnds]:
        """The page's text, and where its lines end (`_line_ends`)."""
        self._page = number
        self._check()
        # extract_text swallows a content stream that breaks pypdf's decompression cap and returns "",
        # which would read as a scan; decoding the contents first raises it (LimitReachedError)
        contents = page.get_contents()
        if contents is None or not _MAY_SHOW_TEXT.search(contents.get_data()):
            # a drawing (a chart, a map) shows no text: pypdf skips parsing such a stream unless it is
            # given a visitor, so it is not given one here
            return "", {}
        text = page.extract_text(visitor_operand_before=self._visit) or ""
        # pypdf catches what a form's extraction raises and goes on with the page: check once more
        self._check()
        return text, (self._line_ends(page) if text.strip() else {})

    def _line_ends(self, page) -> LineEnds:
        """Where each line of the page's text ends and its font size, by `spaceless(line)`, from the glyph
        widths pypdf's layout mode measures; {} where it cannot (a text in forms only, a font it cannot
        measure, a pypdf without that mode): the lines then join as they did before geometry was read."""
        try:
            from pypdf._text_extraction import _layout_mode
            from pypdf.generic import ContentStream

            # as pypdf's layout mode reads a page: text operands kept as bytes, which its fonts decode
            operations = ContentStream(page["/Contents"].get_object(), page.pdf, "bytes").operations
            groups = _layout_mode.text_show_operations(self._checked(operations), page._layout_mode_fonts())
            lines = _layout_mode.y_coordinate_groups(groups).values() if groups else []
        except PdfError:
            raise
        except Exception:  # noqa: BLE001 -- private pypdf code on a hostile file: the geometry is a hint, not the text
            return {}
        return {spaceless("".join(g["text"] for g in line)): (max(g["displaced_tx"] for g in line),
                                                              max(g["font_height"] for g in line))
                for line in lines}

    def _checked(self, operations):
        for operation in operations:
            self._check()
            yield operation

    def _visit(self, *_operator) -> None:
        self._check()

    def _check(self) -> None:
        if self._clock() > self._ends:
            raise PdfError(f"PDF text took longer than {self._max_seconds:g} s to extract (at page {self._page:,} "
                           f"of {self._pages:,}): refused, as a file built to stall the reader or a drawing")


def _opens_without_password(reader) -> bool:
    """Many PDFs are encrypted only against editing: the empty user password opens them."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # noqa: BLE001 -- an unsupported cipher (no `cryptography`) reads as locked
        return False
