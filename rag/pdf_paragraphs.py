"""A PDF page's extracted lines rebuilt into paragraphs (rag.pdf reads them; nothing here imports pypdf).

    text = rebuild_text(page_texts, line_ends)   # pypdf's text of each page, and where its lines end

A line the pages repeat (a running header or footer) goes, and a line that fills the width and does not
end a sentence continues on the next one. Where a wrapped Korean line meets the next, the PDF's geometry
(where each line ends, `LineEnds`) says whether the writer breaks lines inside words (Chromium by default,
Word's "한글 단어 잘림 허용": "밝혔|다." joins as "밝혔다.") or only between them (Hangul's 어절 wrapping, CSS
keep-all: "상생협력을|추진" joins as "상생협력을 추진"): a writer that breaks inside words fills each line to
within a syllable of the margin, while one that breaks between words leaves a word's room at some line
ends, or stretches the spaces of justified lines.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

# a page's lines by `spaceless(line)`: (where the line ends, its font size), in the page's own units
LineEnds = dict[str, tuple[float, float]]

_FULL_LINE = 0.9  # of the document's usual line width: a line this wide was wrapped, not ended
_REPEATED_MAX_CHARS = 80  # running headers and footers are short; a long repeated line is content
_EDGE_LINES = 3  # a page's first and last lines: where a running header or footer can be
# a C0/C1 control character in extracted text is a glyph without a Unicode mapping, most often the
# space (Chromium's PDFs map it to U+0001): a space never glues two words together
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
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
_WORD_GOES_ON = re.compile(r"[^\W\d_]+")  # the letters that open the next line: the hyphenated word's end


def rebuild_text(pages: list[str], ends: list[LineEnds] | None = None) -> str:
    """Pages' extracted lines as paragraphs: repeated header/footer lines out, wrapped lines joined.

    `ends`, per page: where each line ends and its font size, by `spaceless(line)` (`_line_ends`); without
    them wrapped Korean lines join without a space, as the lines of a writer that breaks inside words.
    """
    ends = ends or [{} for _ in pages]
    lines_by_page = [[_Line(line, number, _STRETCHED.search(raw) is not None, where.get(spaceless(line)))
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
    # the word goes on in a lowercase letter of any script ("pre-|état", "Kremlin-|аппарат"), not a digit
    # or a symbol that Python also calls lowercase ("ⓐ")
    return _WORD_GOES_ON.match(line) is not None and line[:1].islower() and _HYPHENATED.search(previous) is not None


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
    whole = (re.search(r"[A-Za-z]+$", stem).group(0) + _WORD_GOES_ON.match(line).group(0)).lower()
    if m.group(1) != "-" or whole in vocabulary:
        return stem + line
    return stem + "-" + line


def _tidy(line: str) -> str:
    # pypdf decodes with "surrogatepass": a pair becomes its character, a lone half (a code no font maps)
    # goes; it could not be stored as UTF-8
    line = line.encode("utf-16", "surrogatepass").decode("utf-16", "replace").replace("\ufffd", "")
    return re.sub(r"\s+", " ", _CONTROLS.sub(" ", line)).strip()


def spaceless(line: str) -> str:
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
