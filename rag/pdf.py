"""PDF articles (a press release, a report page saved as PDF): the text layer, read with pypdf.

    page = read_pdf(path.read_bytes())     # PdfError(reason) when encrypted, broken or only images
    page.text, page.title

The only module that imports pypdf. A PDF holds positioned lines, not paragraphs, so the text is
rebuilt before the cleaner sees it: a line the page repeats (a running header or footer) goes, and a
line that fills the width and does not end a sentence continues on the next one. Decompression
bombs are pypdf's to stop (its filters cap a stream at 75 MB); pages and reading time are capped here.

Where a wrapped Korean line meets the next, the PDF's geometry says whether the writer breaks lines
inside words (Chromium by default, Word's "한글 단어 잘림 허용": "밝혔|다." joins as "밝혔다.") or only
between them (Hangul's 어절 wrapping, CSS keep-all: "상생협력을|추진" joins as "상생협력을 추진"):
a writer that breaks inside words fills each line to within a syllable of the margin, while one that
breaks between words leaves a word's room at some line ends, or stretches the spaces of justified lines.
"""

from __future__ import annotations

import io
import logging
import math
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Callable

from rag.documents import DocumentError, DocumentText

MAX_PAGES = 500  # a report past this is not an article, and each page costs text extraction time
# a PDF whose text takes longer than this to extract is refused: pypdf parses a page's content stream
# (and each form it draws) again wherever it is used, so a 100 KB file whose 500 pages share one 6 MB
# stream of text operators takes about an hour (bench/reader_stalls.py); an article's page, milliseconds
MAX_SECONDS = 60.0
_FULL_LINE = 0.9  # of the document's usual line width: a line this wide was wrapped, not ended
_REPEATED_MAX_CHARS = 80  # running headers and footers are short; a long repeated line is content
_EDGE_LINES = 3  # a page's first and last lines: where a running header or footer can be
# a C0/C1 control character in extracted text is a glyph without a Unicode mapping, most often the
# space (Chromium's PDFs map it to U+0001): a space never glues two words together
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# a content stream that may show text: a text operator, or a form drawn with Do that may hold one (a
# false match only costs parsing the stream)
_MAY_SHOW_TEXT = re.compile(rb"Tj|TJ|['\"]|Do")
_SENTENCE_END = re.compile(r"[.?!。…\"'”’」』)\]>]$")
# a list item starts its own line ("가." is left out: "다." opens every line that wraps "…밝혔|다.")
_ITEM_START = re.compile(r"^(?:[□■○●◎◇◆▶▷►•·‣※*\-–—]|\(?\d{1,2}[.)]\s|<)")
_HANGUL = re.compile(r"[가-힣]")
# room left at a wrapped line's end, in ems of its font: past a syllable and a space, the next word did
# not fit (a writer that breaks inside words would have put its first syllable there); past a syllable,
# this one line broke between words
_ROOM_FOR_A_WORD = 1.25
_ROOM_FOR_A_SYLLABLE = 1.0
_SPACE = 0.3  # em, as `_width` counts a space
_SHORT_LINE = 0.5  # of the usual width: a line this short ended where it did, whatever room it left
# two blanks between words: pypdf writes a gap wider than a space as one more space, which is how the
# stretched spaces of a justified line show in the text
_STRETCHED = re.compile(r"[^\s\x00-\x1f][\s\x00-\x1f]{2,}[^\s\x00-\x1f]")
# a word hyphenated at a line's end ("trans-|ported"); U+2010 and the soft hyphen are a writer's own
_HYPHENATED = re.compile(r"[A-Za-z](-|\s?[\u2010\u00ad])$")
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
    text = rebuild_text([text for text, _ in pages], [ends for _, ends in pages])
    if not text.strip():
        raise PdfError("PDF has no text layer (a scan or images only: run OCR on it first)")
    return DocumentText(text, "" if _NO_TITLE.search(title) else title)


def rebuild_text(pages: list[str], ends: list[dict[str, tuple[float, float]]] | None = None) -> str:
    """Pages' extracted lines as paragraphs: repeated header/footer lines out, wrapped lines joined.

    `ends`, per page: where each line ends and its font size, by `_spaceless(line)` (`_line_ends`); without
    them wrapped Korean lines join without a space, as the lines of a writer that breaks inside words.
    """
    ends = ends or [{} for _ in pages]
    lines_by_page = [[_Line(line, number, _STRETCHED.search(raw) is not None, where.get(_spaceless(line)))
                      for line, raw in ((_tidy(raw), raw) for raw in page.split("\n")) if line]
                     for number, (page, where) in enumerate(zip(pages, ends))]
    repeated = _repeated_edges([[line.text for line in page] for page in lines_by_page])
    lines = [line for page in lines_by_page for i, line in enumerate(page)
             if not (_at_edge(i, len(page)) and _key(line.text) in repeated)]
    if not lines:
        return ""
    usual = _usual_width([line.text for line in lines])
    room = _room_left(lines, [_width(line.text) >= _FULL_LINE * usual for line in lines])
    # where the geometry is known, a line that leaves less room than the next line's first word needs
    # was wrapped (a ragged line may end a word short of the margin, a justified one reads narrower
    # than it prints); a short one (a right-aligned date) never is
    full = [_width(line.text) >= _FULL_LINE * usual
            or (_width(line.text) >= _SHORT_LINE * usual and i + 1 < len(lines) and i in room
                and room[i] < _width(lines[i + 1].text.split(" ", 1)[0]) + _SPACE)
            for i, line in enumerate(lines)]
    # a word hyphenated at a line's end goes on in the next line, however wide the line looks
    wrapped = [(full[i] and not _SENTENCE_END.search(previous.text) and not _ITEM_START.match(line.text))
               or _hyphenated(previous.text, line.text) for i, (previous, line) in enumerate(zip(lines, lines[1:]))]
    korean = {i for i, wraps in enumerate(wrapped)
              if wraps and _HANGUL.match(lines[i].text[-1]) and _HANGUL.match(lines[i + 1].text[0])}
    # one wrapped Korean line that left a word's room, or had its spaces stretched, shows a writer that
    # breaks lines between words: all its lines join with a space
    between_words = any(room.get(i, 0.0) >= _ROOM_FOR_A_WORD or lines[i].stretched for i in korean)
    vocabulary = {word.lower() for line in lines for word in re.findall(r"[A-Za-z]+", line.text)}
    out = [lines[0].text]
    for i, line in enumerate(lines[1:]):
        if not wrapped[i]:
            out.append(line.text)
        elif i in korean:
            broke_between = between_words or room.get(i, 0.0) >= _ROOM_FOR_A_SYLLABLE
            out[-1] += (" " if broke_between else "") + line.text
        else:
            out[-1] = _join_latin(out[-1], line.text, vocabulary)
    return "\n".join(out)


@dataclass(frozen=True, eq=False)
class _Line:
    """A tidied line of a page, with what its geometry says: pypdf widened a gap in it (`stretched`), and
    `end`: (where it ends, its font size) in the page's units, when known."""

    text: str
    page: int
    stretched: bool
    end: tuple[float, float] | None


def _hyphenated(previous: str, line: str) -> bool:
    return line[:1].islower() and _HYPHENATED.search(previous) is not None


def _room_left(lines: list[_Line], wide: list[bool]) -> dict[int, float]:
    """The room, in ems, each line with a known end leaves before its page's right margin, by index: the
    margin is where the page's widest wide line ends (a wrapped line ends at most a word short of it)."""
    margins: dict[int, float] = {}
    for line, is_wide in zip(lines, wide):
        if is_wide and line.end is not None:
            margins[line.page] = max(margins.get(line.page, line.end[0]), line.end[0])
    return {i: (margins[line.page] - line.end[0]) / line.end[1] for i, line in enumerate(lines)
            if line.end is not None and line.end[1] > 0 and line.page in margins}


def _join_latin(previous: str, line: str, vocabulary: set[str]) -> str:
    """A wrapped line joined with a space, or a word hyphenated at the line's end made whole: the
    writer's own hyphen (U+2010, a soft hyphen) goes; a plain one could be the word's own ("state-|owned")
    and stays, unless the document spells the word without it elsewhere ("trans-|ported", "transported")."""
    if not _hyphenated(previous, line):
        return previous + " " + line
    m = _HYPHENATED.search(previous)
    stem = previous[:m.start(1)]
    whole = (re.search(r"[A-Za-z]+$", stem).group(0) + re.match(r"[a-z]+", line).group(0)).lower()
    if m.group(1) != "-" or whole in vocabulary:
        return stem + line
    return stem + "-" + line


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

    def page_text(self, number: int, page) -> tuple[str, dict[str, tuple[float, float]]]:
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

    def _line_ends(self, page) -> dict[str, tuple[float, float]]:
        """Where each line of the page's text ends and its font size, by `_spaceless(line)`, from the glyph
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
        return {_spaceless("".join(g["text"] for g in line)): (max(g["displaced_tx"] for g in line),
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


def _tidy(line: str) -> str:
    # pypdf decodes with "surrogatepass": a pair becomes its character, a lone half (a code no font maps)
    # goes; it could not be stored as UTF-8
    line = line.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\ufffd", "")
    return re.sub(r"\s+", " ", _CONTROLS.sub(" ", line)).strip()


def _spaceless(line: str) -> str:
    """A line as both of pypdf's extraction modes spell it: tidied, without blanks."""
    return re.sub(r"\s", "", _tidy(line))


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", line.replace(" ", ""))  # page numbers differ from page to page


def _at_edge(index: int, count: int) -> bool:
    """Running headers and footers sit among a page's first or last lines (where they come in the
    text depends on the program that wrote the PDF); a line in the body is never taken for one."""
    return index < _EDGE_LINES or index >= count - _EDGE_LINES


def _repeated_edges(pages: list[list[str]]) -> set[str]:
    """Keys of the short edge lines that at least half the pages (and two) share."""
    if len(pages) < 2:
        return set()
    seen: dict[str, int] = {}
    for page in pages:
        keys = {_key(line) for i, line in enumerate(page) if _at_edge(i, len(page)) and len(line) <= _REPEATED_MAX_CHARS}
        for key in keys:
            seen[key] = seen.get(key, 0) + 1
    return {key for key, count in seen.items() if count >= max(2, math.ceil(len(pages) / 2))}


def _width(line: str) -> float:
    """A line's printed width in em, roughly: a Hangul syllable is a full em, a digit or letter about
    half, a space a third (character counts would call a line of figures long and a full line short)."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.3 if ch == " " else 0.55 for ch in line)


def _usual_width(lines: list[str]) -> float:
    """The width of a full line: the 90th percentile, so a few wide lines do not set it."""
    widths = sorted(_width(line) for line in lines)
    return widths[min(len(widths) - 1, int(0.9 * len(widths)))]
