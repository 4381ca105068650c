"""Rich Text Format documents (.rtf): the body's paragraphs and tables.

    doc = read_rtf(path.read_bytes())      # DocumentError(reason) for a file that is not RTF
    doc.text, doc.title

What wire services, older newsroom systems and TextEdit save. An RTF file is text: groups in braces,
control words, and the characters, 8-bit ones as `\\'hh` in the document's code page (`\\ansicpg949` for
Korean: a Hangul syllable is two such bytes) or as `\\uN` followed by a fallback the reader skips.
Read here: paragraphs (`\\par`) as lines, tables (`\\cell`, `\\row`) a line a row named under a header
row; left out: the font, colour and style tables, pictures and objects, headers, footers, footnotes and
comments, a field's instructions (its result stays), and any destination marked ignorable (`\\*`). The
title is the `\\info` group's. One pass over the text, never recursion; groups nested past 1,000 deep
(Word writes a dozen) are refused.
"""

from __future__ import annotations

import codecs
import re

from rag.documents import MAX_PART_BYTES, DocumentError, DocumentText, document_text, table_lines

_LABEL = "RTF"
_TOKENS = re.compile(rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([\r\n]+)|([^\\{}\r\n]+)",
                     re.DOTALL)
# destinations whose text is not the article's (headers, footers, notes, comments, tables of fonts…)
_SKIPPED = frozenset(
    "fonttbl colortbl stylesheet listtable listoverridetable revtbl rsidtbl generator pict object "
    "header headerl headerr headerf footer footerl footerr footerf footnote annotation atnid atnauthor "
    "fldinst themedata colorschememapping latentstyles datastore xmlnstbl pgdsctbl filetbl "
    "bkmkstart bkmkend shp shpinst shppict nonshppict private userprops docvar author operator company "
    "subject keywords comment doccomm category manager hlinkbase xe tc".split())
_SPECIAL = {b"~": "\u00a0", b"_": "-", b"-": "", b"\\": "\\", b"{": "{", b"}": "}"}
_PLAIN = {"tab": " ", "emdash": "\u2014", "endash": "\u2013", "bullet": "\u2022", "lquote": "\u2018",
          "rquote": "\u2019", "ldblquote": "\u201c", "rdblquote": "\u201d", "emspace": " ", "enspace": " ",
          "qmspace": " ", "line": " ", "softline": " "}
# a font's character set says the code page of its 8-bit text (Korean RTF often declares \ansicpg1252 and
# writes Hangul in a font of charset 129)
_CHARSETS = {128: "cp932", 129: "cp949", 130: "johab", 134: "gbk", 136: "big5", 161: "cp1253", 162: "cp1254",
             163: "cp1258", 177: "cp1255", 178: "cp1256", 186: "cp1257", 204: "cp1251", 222: "cp874", 238: "cp1250"}
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # not text: a NUL after the last brace, a stray control
MAX_DEPTH = 1000  # groups nested in groups: Word writes a dozen; deeper is a file built to exhaust memory


class _State:
    """What a group sets and its inner groups inherit."""

    __slots__ = ("skip", "uc", "title", "fonts", "font", "intbl")

    def __init__(self) -> None:
        self.skip, self.uc, self.title, self.fonts, self.font, self.intbl = False, 1, False, False, -1, False

    def copy(self) -> "_State":
        other = _State()
        other.skip, other.uc, other.title, other.fonts, other.font, other.intbl = (
            self.skip, self.uc, self.title, self.fonts, self.font, self.intbl)
        return other


def read_rtf(data: bytes) -> DocumentText:
    """The body text of an .rtf, a paragraph a line, a table a line a row."""
    if data.lstrip()[:5] != b"{\\rtf":
        raise DocumentError("not a readable RTF file (it does not start with {\\rtf)")
    if len(data) > MAX_PART_BYTES:
        raise DocumentError(f"RTF file is {len(data):,} bytes: refused")
    return _Reader().read(data)


class _Reader:
    def __init__(self) -> None:
        self.codec = "cp1252"  # the document's code page (\ansicpg)
        self.charsets: dict[int, str] = {}  # font number -> its code page (\fcharset in the font table)
        self.defining = -1  # the font the font table is describing
        self.state = _State()
        self.lines: list[str] = []
        self.rows: list[list[str]] = []
        self.cells: list[str] = []
        self.text: list[str] = []
        self.title: list[str] = []
        self.pending = bytearray()  # \'hh bytes decoded together: a Hangul syllable is two of them
        self.fallback = 0  # characters of a \uN's stand-in still to skip

    def read(self, data: bytes) -> DocumentText:
        stack: list[_State] = []
        opened = False  # the last token opened a group: a \* or a destination word may follow
        binary = 0
        for match in _TOKENS.finditer(data, data.index(b"{")):
            if binary:  # \binN: N raw bytes follow
                binary = max(0, binary - len(match.group(0)))
                continue
            word, number, hexa, symbol, brace, newline, chars = match.groups()
            if newline:
                continue  # line breaks in the file are not text
            first, opened = opened, False
            if brace:
                self._flush()
                if brace == b"{":
                    if len(stack) >= MAX_DEPTH:
                        raise DocumentError(f"RTF groups nested past {MAX_DEPTH:,} deep: refused")
                    stack.append(self.state)
                    self.state = self.state.copy()
                    opened = True
                elif stack:
                    self.state = stack.pop()
                    if not stack:
                        break  # the document's own group has closed: what follows is not RTF
            elif hexa is not None:
                if not self.state.skip and not self._skipped_fallback():
                    self.pending.append(int(hexa, 16))
            elif symbol is not None:
                if symbol == b"*" and first:
                    self.state.skip = True  # an ignorable destination this reader does not know
                elif symbol in (b"\n", b"\r"):
                    self._word("par", None)  # a backslash before a line break is a paragraph mark
                elif not self.state.skip and not self._skipped_fallback():
                    self._add(_SPECIAL.get(symbol, ""))
            elif chars is not None:
                if not self.state.skip:
                    piece = chars.decode(self.codec, "replace")
                    cut = min(self.fallback, len(piece))
                    self.fallback -= cut
                    self._add(piece[cut:])
            else:
                value = int(number) if number is not None else None
                if word == b"bin":
                    binary = max(value or 0, 0)
                else:
                    self._word(word.decode("ascii"), value)
        self._end_paragraph()
        if self.rows:
            self.lines.extend(table_lines(self.rows))
        return document_text(self.lines, " ".join("".join(self.title).split()), _LABEL)

    def _word(self, name: str, value: int | None) -> None:
        state = self.state
        if name == "ansicpg" and value:
            self.codec = _codec(f"cp{value}", self.codec)
        elif name == "fonttbl":
            state.skip, state.fonts = True, True
        elif state.fonts and name == "f" and value is not None:
            self.defining = value
        elif state.fonts and name == "fcharset" and value in _CHARSETS:
            self.charsets[self.defining] = _codec(_CHARSETS[value], self.codec)
        elif name in _SKIPPED or name == "info":
            state.skip = True
        elif name == "title":
            state.title, state.skip = True, False
        elif state.skip:
            return
        elif name == "f" and value is not None:
            self._flush()
            state.font = value
        elif name == "uc" and value is not None:
            state.uc = max(0, value)
        elif name == "u" and value is not None:
            self._flush()
            code = value % 65536
            self._add("" if 0xD800 <= code < 0xE000 else chr(code))  # a lone surrogate half is no text
            self.fallback = state.uc
        elif name == "pard":
            state.intbl = False
        elif name == "intbl":
            state.intbl = True
        elif name in ("par", "sect", "page"):
            if state.intbl:
                self._add(" ")  # a paragraph inside a table cell
            else:
                self._end_paragraph()
        elif name in ("cell", "nestcell"):
            self._flush()
            self.cells.append(" ".join(_CONTROLS.sub(" ", "".join(self.text)).split()))
            self.text = []
        elif name == "row":
            self._flush()
            self.rows.append(self.cells)
            self.cells, self.text = [], []
        elif name in _PLAIN:
            self._add(_PLAIN[name])

    def _skipped_fallback(self) -> bool:
        if self.fallback:
            self.fallback -= 1
            return True
        return False

    def _add(self, piece: str) -> None:
        self._flush()
        (self.title if self.state.title else self.text).append(piece)

    def _flush(self) -> None:
        if self.pending:
            codec = self.charsets.get(self.state.font, self.codec)
            (self.title if self.state.title else self.text).append(bytes(self.pending).decode(codec, "replace"))
            self.pending.clear()

    def _end_paragraph(self) -> None:
        self._flush()
        line = " ".join(_CONTROLS.sub(" ", "".join(self.text)).split())
        self.text = []
        if self.rows and not self.cells:
            self.lines.extend(table_lines(self.rows))
            self.rows = []
        self.lines.append(line)


def _codec(name: str, current: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        return current
    return name
