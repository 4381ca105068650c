"""Plain-text cleaning: page furniture out, title / date / publisher found along the way.

    text, meta = clean_document(raw, "text")                    # the bundled furniture lists
    text, meta = clean_document(raw, "html", Furniture.load([Path("rag/lexicon"), Path("~/my-lexicon")]))

Only whole furniture lines go (menus, weather widgets, share buttons, copyright, hashtags, banners),
plus Markdown markup, metadata lines read into the metadata, and photo credits at a line's end;
every article sentence stays byte-identical apart from whitespace. The shapes of such lines (a date
line, a copyright notice, a photo credit) are patterns here; the words of navigation and banners are
data a user extends: `furniture.tsv` in the lexicon folders (setting `answer.lexicon`):

    line    본문 바로가기        a whole line that is navigation (compared without spaces and case)
    word    페이스북             a line made only of such words is a menu or a share bar
    banner  가벼운 증상은 동네 병의원으로   a short line holding it is a public-service banner
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import cache
from dataclasses import dataclass
from datetime import date as _date
from html import unescape
from pathlib import Path
from typing import Sequence

from rag.config import PROJECT_ROOT
from rag.webpage import extract_html

DEFAULT_FOLDER = PROJECT_ROOT / "rag" / "lexicon"
FURNITURE_FILE = "furniture.tsv"
_KINDS = ("line", "word", "banner")


class FurnitureError(ValueError):
    """A furniture file that cannot be read: the message names the file and line."""


@dataclass(frozen=True)
class Furniture:
    lines: frozenset[str] = frozenset()  # without spaces, casefolded
    words: frozenset[str] = frozenset()
    banners: tuple[str, ...] = ()
    fingerprint: str = "empty"  # of the entries: part of the content hash when not the bundled lists

    @classmethod
    def load(cls, folders: Sequence[Path] = (DEFAULT_FOLDER,)) -> "Furniture":
        """The furniture entries of every folder (a folder without the file adds nothing)."""
        entries: dict[str, list[str]] = {kind: [] for kind in _KINDS}
        for folder in folders:
            folder = Path(folder).expanduser()
            if not folder.is_absolute():
                folder = PROJECT_ROOT / folder
            path = folder / FURNITURE_FILE
            if not path.is_file():
                continue
            for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not raw.strip() or raw.lstrip().startswith("#"):
                    continue
                kind, _, value = raw.partition("\t")  # no tab: no value
                if kind not in _KINDS or not value.strip():
                    raise FurnitureError(f"{path}:{number}: expected 'KIND<TAB>TEXT' with KIND one of "
                                         f"{', '.join(_KINDS)}, got {raw!r}")
                entries[kind].append(value.strip())
        digest = hashlib.sha1(repr(sorted((k, sorted(set(v))) for k, v in entries.items())).encode("utf-8"))
        return cls(lines=frozenset(_key(v) for v in entries["line"]), words=frozenset(entries["word"]),
                   banners=tuple(dict.fromkeys(entries["banner"])), fingerprint=digest.hexdigest()[:12])


def _key(line: str) -> str:
    return line.replace(" ", "").casefold()


@cache
def bundled() -> Furniture:
    """The project's own lists (rag/lexicon/furniture.tsv); they are part of CLEANER_VERSION."""
    return Furniture.load()


@dataclass(frozen=True)
class Metadata:
    title: str = ""
    date: str | None = None  # ISO 8601
    publisher: str | None = None
    author: str | None = None


# Control characters are never text: a NUL or an escape code from a scraped cell or a JSON "\u0000"
# would reach the passages, the keyword index and the answers. One may stand for a separator (a
# PDF's unmapped space glyph, an export's unit separator): a space never glues two words together.
# Page and vertical tabs become line breaks.
_CONTROLS = {code: " " for code in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(code) not in "\t\n"}
_CONTROLS.update({ord("\f"): "\n", ord("\v"): "\n"})


def clean_document(raw: str, kind: str, furniture: Furniture | None = None) -> tuple[str, Metadata]:
    """Cleaned article text and the metadata read along the way (kind: text | markdown | html).

    Raises HtmlError for an HTML page that yields no article (the reason is for the user).
    """
    raw = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n")).translate(_CONTROLS)
    hints = _Hints(furniture or bundled())
    page = None
    if kind == "html":
        page = extract_html(raw)
        raw = page.text
    elif kind == "markdown":
        raw = _markdown_to_text(raw, hints)
    elif kind != "text":
        raise ValueError(f"unknown document kind {kind!r}")
    lines: list[str] = []
    for line in raw.split("\n"):
        cleaned = _clean_line(line, hints)
        if cleaned is None:
            continue  # a dropped furniture line leaves no trace, not even a paragraph break
        if cleaned or (lines and lines[-1]):  # one blank line keeps a paragraph break, runs collapse
            lines.append(cleaned)
            hints.kept += bool(cleaned)
    text = "\n".join(lines).strip("\n")
    found = hints.metadata(text)
    if page is None:
        return text, found
    # what the page declares (meta tags, JSON-LD, microdata) beats what the text suggests
    return text, Metadata(
        title=page.title or found.title,
        date=page.date or found.date,
        publisher=page.publisher or found.publisher,
        author=page.author,
    )


def iso_date(value: str) -> str | None:
    """"2021.04.23", "2018-11-20T10:00", "2018. 11. 20." -> ISO date; None if not a date."""
    m = re.search(r"((?:19|20)\d{2})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})", value)
    return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return _date(year, month, day).isoformat()
    except ValueError:
        return None


_DATE_PREFIX = re.compile(r"^date\s+(\d{4}-\d{2}-\d{2})\b\s*", re.IGNORECASE)
# a date as a page prints it: "2021.04.23 (금)", "2024년 5월 2일 목요일 10:31", "2024.05.02 10:31 목요일"
_WEEKDAY = r"(?:\s*\(\s*[월화수목금토일]\s*\)|\s*[월화수목금토일]요일)"
_DATE_TEXT = (r"(?:19|20)\d{2}\s*[-./년]\s*\d{1,2}\s*[-./월]\s*\d{1,2}\s*일?\.?"
              rf"(?:{_WEEKDAY}?\s*\d{{1,2}}:\d{{2}}(?::\d{{2}})?{_WEEKDAY}?|{_WEEKDAY})?")
_DATE_LINE = re.compile(rf"^{_DATE_TEXT}$")
# a header line of a date and the outlet ("2024-05-02 한빛경제", "한빛경제 | 2024.05.02 10:31"), read only among
# the first lines kept: further down, "2024년 5월 2일 서울" may open a paragraph
_OUTLET_TEXT = r"[가-힣A-Za-z][가-힣A-Za-z0-9&.]{0,14}(?:\s[가-힣A-Za-z][가-힣A-Za-z0-9&.]{0,14})?"
_SEPARATOR = r"\s*(?:[|│·/–-]\s*)?"
_DATE_OUTLET_LINE = re.compile(rf"^(?:{_DATE_TEXT}{_SEPARATOR}(?P<a>{_OUTLET_TEXT})"
                               rf"|(?P<b>{_OUTLET_TEXT}){_SEPARATOR}{_DATE_TEXT})$")
_HEADER_LINES = 3
# a reporter's byline ("홍길동 기자 2024.05.02") dates the article but names no outlet
_REPORTER = re.compile(r"(?:기자|특파원|에디터|리포터)$")
_META_LABEL = r"(?:입력|승인|기사승인|등록|발행|게재|수정|최종수정|업데이트|UPDATED\.?)"
_META_LINE = re.compile(rf"^{_META_LABEL}\s*[:：]?\s*(.{{6,40}})$", re.IGNORECASE)
# the label after the date: "2024.05.02 09:00 입력"
_DATED_LABEL_LINE = re.compile(rf"^{_DATE_TEXT}\s*(?P<label>{_META_LABEL})$", re.IGNORECASE)
# what stands beside a date and is no outlet: a label ("2024.05.02 09:00 입력"), a weekday ("화요일")
_NOT_OUTLET = re.compile(rf"(?:^|\s){_META_LABEL}(?:$|\s)|요일$", re.IGNORECASE)
# a press release's "보도시점 …" / "배포일시: 2024년 3월 5일" line: its date is the article's ("배포" only
# with a label's colon or a year after it: "배포일정은 …" is a sentence)
_RELEASE_LINE = re.compile(r"^(?:보도\s*(?:시점|일시)|배포\s*(?:일시|일자|일)(?=\s*[:：]|\s+(?:19|20)\d{2}))")
_WEATHER = re.compile(r"^[가-힣A-Za-z ]{1,15}\s*-?\d{1,2}(?:\.\d)?\s*℃$")
_COPYRIGHT_MARK = re.compile(r"[©ⓒ]|copyright|^\(c\)", re.IGNORECASE)
_COPYRIGHT_NOTICE = re.compile(r"저작권자|무단\s*(?:전재|복제|배포)|재배포\s*금지|all rights reserved", re.IGNORECASE)
_COPYRIGHT_OWNER = re.compile(r"(?:ⓒ|©|\(c\))\s*(?:\d{4}\s*)?([^\s,.<>()©ⓒ]+)", re.IGNORECASE)
_HASHTAGS = re.compile(r"^(?:#[^\s#]+\s*)+$")
_URL_LINE = re.compile(r"^(?:https?://|www\.)\S+$")
_PHOTO_LINE = re.compile(r"^[<\[(]?\s*(?:사진|자료|그래픽|영상)\s*(?:제공)?\s*[=:]\s*([^<>\[\]()=]{1,30}?)\s*[>\])]?$")
_CREDIT_NAME = r"(?:[^\s/()=:.,]{0,19}[^\s/()=:.,을를이가은는에의와과도로])"
# "…있다. LG전자 제공", "…있다 제공:KT", "… / KT 제공", "…(사진=LG전자)" at the end of a caption line.
_TRAILING_CREDIT = re.compile(
    r"\s*/?\s*(?:(?:사진\s*)?제공\s*[:=]\s*(?P<a>[^\s()]{1,20})"
    rf"|(?:사진\s*[=:]\s*)?(?P<b>{_CREDIT_NAME}(?:\s{_CREDIT_NAME})?)\s*제공"
    r"|\(\s*사진\s*(?:제공)?\s*[=:]\s*(?P<c>[^()]{1,20})\))$"
)
_CREDIT_LINE = re.compile(
    rf"^(?:(?:사진\s*)?제공\s*[:=]\s*(?P<a>[^\s()]{{1,20}})|(?:사진\s*[=:]?\s*)?(?P<b>{_CREDIT_NAME})\s*제공)$"
)
_SENTENCE_END = re.compile(r"(?:[.!?…”\"’')\]]|다)$")
_INLINE_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_BYLINE_OUTLET = re.compile(r"^\[([^\]=]{2,20})=[^\]]*기자\]")
# a wire story's dateline opens its first paragraph: "(서울=연합뉴스) 홍길동 기자 = …", "[세종=뉴시스]…",
# "(워싱턴=뉴스1) …": a place in Hangul, then the outlet
_DATELINE_OUTLET = re.compile(r"^[(\[]\s*[가-힣]{2,10}\s*=\s*([가-힣A-Za-z][가-힣A-Za-z0-9]{1,14})\s*[)\]]")
_AGENCY = re.compile(r"^([가-힣]{2,20}(?:부|처|청|위원회|공단|공사|재단))\s*\(")


@dataclass
class _Hints:
    """What the cleaner noticed while dropping lines: metadata candidates, strongest first."""

    furniture: Furniture
    title: str = ""
    date: str | None = None
    release_month_day: tuple[int, int] | None = None
    copyright_owner: str | None = None
    site_name: str | None = None
    credit: str | None = None
    press_center: bool = False
    press_release: bool = False
    header_outlet: str | None = None
    kept: int = 0  # text lines kept so far: the header is the first few

    def metadata(self, text: str) -> Metadata:
        title = self.title or _title_from_text(text)
        return Metadata(title=title, date=self.date or self._release_date(text), publisher=self._publisher(text, title))

    def _release_date(self, text: str) -> str | None:
        if self.release_month_day is None:
            return None
        month, day = self.release_month_day
        # the year of a "11.28(목)" release time is printed elsewhere: "'24.11.28", "2024년 11월 28일"
        for m in re.finditer(r"[‘'’](\d{2})\s*\.\s*(\d{1,2})\s*\.\s*(\d{1,2})", text):
            if (int(m.group(2)), int(m.group(3))) == (month, day):
                return _iso(2000 + int(m.group(1)), month, day)
        for m in re.finditer(r"((?:19|20)\d{2})\s*[.년]\s*(\d{1,2})\s*[.월]\s*(\d{1,2})", text):
            if (int(m.group(2)), int(m.group(3))) == (month, day):
                return _iso(int(m.group(1)), month, day)
        return None

    def _publisher(self, text: str, title: str) -> str | None:
        if self.copyright_owner:
            return self.copyright_owner
        if self.site_name:
            return self.site_name
        if self.header_outlet:
            return self.header_outlet
        lines = [line for line in text.split("\n") if line][:12]
        for line in lines:
            m = _BYLINE_OUTLET.match(line) or _DATELINE_OUTLET.match(line)
            if m:
                return m.group(1).strip()
        if self.press_release:
            for line in lines:
                m = _AGENCY.match(line)
                if m:
                    return m.group(1)
        if self.press_center and title:
            m = re.match(r"^([^\s,·]+)\s*,", title)  # a company newsroom's titles open with its name
            if m:
                return m.group(1)
        return self.credit


def without_headline(text: str, title: str, named: bool = False) -> str:
    """`text` without its first line when that line is the article's `title`, unless nothing else is left
    or the line reads as a sentence (ends in …다, …요, …까, "?" or "!") and the title was not `named` (by
    the manifest): a found title may be a sentence that lost its full stop, and a body never loses one.

    The title is shown on the article's card and goes with every passage to the embedder and the
    keyword index; left in the body it was also a "sentence" of the first passage, one an answer could
    quote and cite though it has no verb and no full stop.

        without_headline("상생협력 확대\n\n회사는 지원을 늘린다.", "상생협력 확대")  # "회사는 지원을 늘린다."
        without_headline("지원을 늘렸다\n회사는 밝혔다.", "지원을 늘렸다")  # unchanged
    """
    first, _, rest = text.partition("\n")
    if not title or " ".join(first.split()) != " ".join(title.split()) or not rest.strip():
        return text
    if not named and _SENTENCE_ENDING.search(first.rstrip()):
        return text
    return rest.lstrip("\n")


# how a Korean sentence ends without its full stop: a headline seldom ends so (an unnamed one that does is
# kept in the body, where it loses nothing)
_SENTENCE_ENDING = re.compile(r"(?:[다요까]|[?!])$")


def _title_from_text(text: str) -> str:
    """A headline is a short first line that is not a sentence (no final period, not a caption)."""
    first = text.split("\n", 1)[0].strip()
    if not first or len(first) > 60 or first.endswith(".") or ". " in first:
        return ""
    if re.search(r"고\s*있다$", first):  # "…하고 있다": a photo caption, not a headline
        return ""
    return first


def _clean_line(line: str, hints: _Hints) -> str | None:
    """The line without extra whitespace and markup; "" for a blank line, None for furniture."""
    line = _INLINE_TAG.sub(" ", line.replace("&nbsp;", " "))
    line = re.sub(r"[\u200b\u200c\u200d\ufeff]", "", line)
    line = re.sub(r"\s+", " ", line).strip()  # \s covers tabs, NBSP and the ideographic space
    if not line:
        return ""
    m = _DATE_PREFIX.match(line)  # crawler prefix: "date 2025-11-09 <first sentence>"
    if m:
        hints.date = hints.date or m.group(1)
        line = line[m.end():]
        if not line:
            return None
    if _is_furniture(line, hints):
        return None
    return _strip_credit(line, hints)


def _is_furniture(line: str, hints: _Hints) -> bool:
    bare = line.lstrip("•·▪◦*-–ㆍ ").strip()
    key = _key(bare)
    if key in hints.furniture.lines:
        hints.press_center = hints.press_center or key == "presscenter"
        return True
    if _DATE_LINE.match(bare):
        hints.date = hints.date or iso_date(bare)
        return True
    if _RELEASE_LINE.match(bare):
        hints.press_release = True
        found = iso_date(bare)
        if found:
            hints.date = hints.date or found
        else:
            md = re.search(r"(\d{1,2})\s*\.\s*(\d{1,2})\s*\.?\s*\(", bare)
            if md:
                hints.release_month_day = (int(md.group(1)), int(md.group(2)))
        return True
    m = _META_LINE.match(bare)
    if m and iso_date(m.group(1)):
        if not bare.startswith(("수정", "업데이트", "UPDATED", "Updated")):
            hints.date = hints.date or iso_date(m.group(1))
        return True
    m = _DATED_LABEL_LINE.match(bare)
    if m:  # a modification date is not the article's
        if not m.group("label").lower().startswith(("수정", "최종수정", "업데이트", "updated")):
            hints.date = hints.date or iso_date(bare)
        return True
    m = _DATE_OUTLET_LINE.match(bare) if hints.kept < _HEADER_LINES else None
    outlet = (m.group("a") or m.group("b")).strip() if m else ""
    if outlet and iso_date(bare) and not _NOT_OUTLET.search(outlet):
        hints.date = hints.date or iso_date(bare)
        if not _REPORTER.search(outlet):
            hints.header_outlet = hints.header_outlet or outlet
        return True
    if "℃" in bare and _WEATHER.match(bare):
        return True
    if len(bare) <= 120 and _is_copyright(bare):
        owner = _COPYRIGHT_OWNER.search(bare)
        if owner and not hints.copyright_owner:
            hints.copyright_owner = owner.group(1)
        return True
    if _HASHTAGS.match(bare) or _URL_LINE.match(bare):
        return True
    if len(bare) <= 60 and any(banner in bare for banner in hints.furniture.banners):
        return True
    words = [word for word in re.split(r"[\s|]+", bare) if word]
    if all(word in hints.furniture.words for word in words):  # a line of bullets alone too
        return True
    if len(bare) <= 20 and bare.endswith("로고"):  # a masthead image's alt text: "아시아투데이 로고"
        return True
    m = _PHOTO_LINE.match(bare)
    if m:
        hints.credit = hints.credit or m.group(1).strip()
        return True
    m = _CREDIT_LINE.match(bare)
    if m:  # the whole line is a credit: "LG전자 제공", "제공:KT"
        hints.credit = hints.credit or (m.group("a") or m.group("b")).strip()
        return True
    return False


def _is_copyright(line: str) -> bool:
    mark, notice = _COPYRIGHT_MARK.search(line), _COPYRIGHT_NOTICE.search(line)
    if mark:
        return bool(notice) or not line.endswith("다.")
    # "…무단 전재한 업체를 고소했다." is news about copyright, not a notice
    return bool(notice) and not line.endswith("다.")


def _strip_credit(line: str, hints: _Hints) -> str:
    """Drop a photo credit that ends a caption line, so it never becomes a sentence of its own."""
    m = _TRAILING_CREDIT.search(line)
    if not m or m.start() == 0:
        return line
    body = line[: m.start()].rstrip()
    if not _SENTENCE_END.search(body):
        return line  # "…교육을 무상으로 제공" is article text, not a credit
    hints.credit = hints.credit or (m.group("a") or m.group("b") or m.group("c")).strip()
    return body


def _markdown_to_text(raw: str, hints: _Hints) -> str:
    front = re.match(r"^---\n(.*?)\n---\n", raw, re.DOTALL)
    if front:
        for line in front.group(1).split("\n"):
            key, _, value = line.partition(":")
            key, value = key.strip().lower(), value.strip().strip("\"'")
            if key == "title" and value:
                hints.title = value
            elif key == "date":
                hints.date = iso_date(value)
            elif key in ("publisher", "source", "site") and value:
                hints.site_name = value
        raw = raw[front.end():]
    out = []
    in_fence = False
    for line in raw.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue  # the fence markers go, the code inside stays text
        if not in_fence:
            heading = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if heading:
                line = heading.group(1)
                hints.title = hints.title or line
            if re.match(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$", line):
                continue  # horizontal rule
            line = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", line)  # images carry no article text
            line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)
            line = re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)
            line = re.sub(r"^\s{0,3}>\s?", "", line)
            line = re.sub(r"^\s*[-*+]\s+", "", line)
        out.append(line)
    return unescape("\n".join(out)) if "&" in raw and re.search(r"&[a-z]+;|&#\d+;", raw) else "\n".join(out)
