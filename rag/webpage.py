"""The article inside a saved news page (.html): main text and metadata through trafilatura.

    page = extract_html(html_text)
    page.text          # paragraphs separated by a blank line, <br> kept as a line break
    page.title, page.date, page.author, page.publisher

trafilatura tells the article from the page around it (menus, related-article lists, most-read
boxes, comments, share buttons, ads, footers) and reads the metadata (og:/article: meta tags,
JSON-LD, htmldate for the date); schema.org microdata, a labelled Korean byline date and the site
name in <title> fill the gaps. It only ever gets a parsed tree here, never a URL, so nothing
reaches the network. A page it cannot read raises HtmlError with a reason a user can act on;
limits keep a hostile page under about ten seconds of CPU.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Iterator

from lxml import etree

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# libxml2 stops nesting here (without its "huge" option) and drops what lies deeper, so a page
# that reaches it may have lost text silently: refuse it instead.
PARSER_MAX_DEPTH = 256

# Inline images of a "save as single file" page: megabytes of base64 with no article text, and
# trafilatura's time grows with them (20 MB: 7 s); the URI is kept, its payload dropped.
_DATA_URI = re.compile(r"data:[\w.+/-]{1,100};base64,[A-Za-z0-9+/=\s]+")
_DOCUMENT_TAG = re.compile(r"<(?:!doctype|html|head|body)\b", re.IGNORECASE)
# "headline - Site", "headline | Site", "headline < Section < 기사본문 - Site", "headline :: Site"
_TITLE_SEPARATORS = re.compile(r"\s+(?:[-|<>:–—]|::)\s+")
# a data table holds short values; a cell holding a paragraph means the table lays out the page
_LAYOUT_CELL_CHARS = 200
# htmldate reads dates from meta tags, JSON-LD, <time> and date-classed elements; its "extensive"
# text search is off: it falls back to the footer's copyright year as January 1 and reads the
# Korean "23.05.10" as 23 May 2010. A labelled Korean byline date is read here instead.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}
_BYLINE_DATE = re.compile(
    r"(?:기사\s*)?(?:입력|등록|작성|게재|발행|승인|송고)(?:일|일시|시간)?\s*[:：]?\s*"
    r"((?:19|20)?\d{2})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})(?!\d)"
)


class HtmlError(ValueError):
    """A page that yields no article: the message says why (too large, too deep, no text)."""


@dataclass(frozen=True)
class HtmlLimits:
    max_chars: int = 5_000_000  # after inline data: URIs are dropped; news pages are 0.1-2 M
    # news pages hold 1-10 thousand elements; 30 thousand bound the worst case (a page of links, or
    # of long paragraphs) at 6-10 s of CPU here (bench/html_pages.py)
    max_elements: int = 30_000


@dataclass(frozen=True)
class HtmlPage:
    text: str
    title: str = ""
    date: str | None = None  # ISO 8601
    author: str | None = None
    publisher: str | None = None


def extract_html(raw: str, limits: HtmlLimits = HtmlLimits()) -> HtmlPage:
    """The main text and metadata of one page (a whole document or a fragment of one)."""
    # imported here: trafilatura takes ~0.5 s to import (urllib3, courlan), a cost only pages need
    import trafilatura
    from trafilatura.utils import load_html

    raw = _DATA_URI.sub("data:,", raw)
    if len(raw) > limits.max_chars:
        raise HtmlError(f"HTML page too large: {len(raw):,} characters (limit {limits.max_chars:,})")
    if not _DOCUMENT_TAG.search(raw[:4096]):
        raw = f"<html><body>{raw}</body></html>"  # a fragment (a JSONL body): trafilatura wants a document
    try:
        tree = load_html(raw)
    except (ValueError, TypeError, etree.LxmlError) as exc:
        raise HtmlError(f"HTML not parsed: {exc}") from exc
    if tree is None:
        raise HtmlError("not an HTML document")
    _check_shape(tree, limits)
    microdata = _microdata(tree)
    page_title = tree.findtext(".//head/title") or ""
    _unwrap_layout_tables(tree)
    try:
        doc = trafilatura.bare_extraction(
            tree, with_metadata=True, include_comments=False, include_tables=True, include_images=False,
            include_links=False, include_formatting=False, deduplicate=False,
            date_extraction_params=dict(_DATE_PARAMS),
        )
    except (ValueError, TypeError, etree.LxmlError) as exc:
        raise HtmlError(f"HTML not read: {exc}") from exc
    if doc is None or doc.body is None:
        raise HtmlError("no article text found in the HTML page")
    text = _render(doc.body)
    if not text.strip():
        raise HtmlError("no article text found in the HTML page")
    title = _squeeze(doc.title or microdata.get("headline") or "")
    publisher = _squeeze(doc.sitename or microdata.get("publisher") or _site_from_title(page_title, title) or "")
    return HtmlPage(
        text=text,
        title=title,
        date=_iso(doc.date) or _iso(microdata.get("datePublished")) or _byline_date(tree),
        author=_squeeze(microdata.get("author") or doc.author or "") or None,
        publisher=publisher or None,
    )


def _check_shape(tree: HtmlElement, limits: HtmlLimits) -> None:
    elements = depth = 0
    for event, _ in etree.iterwalk(tree, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        elements += 1
        depth += 1
        if elements > limits.max_elements:
            raise HtmlError(f"HTML page has over {limits.max_elements:,} elements: not one article page")
        if depth >= PARSER_MAX_DEPTH:
            raise HtmlError(f"HTML nested {PARSER_MAX_DEPTH} levels deep: the parser cannot read the text inside")


def _unwrap_layout_tables(tree: HtmlElement) -> None:
    """Turn tables that lay out the page into plain blocks, so trafilatura can tell the article
    cell from the menu cells; as a table, the whole page reads as one data table."""
    for table in list(tree.iter("table")):
        if table.tag == "table" and _is_layout_table(table):
            for element in list(table.iter("table", "thead", "tbody", "tfoot", "tr", "td", "th")):
                element.tag = "div"


def _is_layout_table(table: HtmlElement) -> bool:
    if table.find(".//table") is not None or table.find(".//form") is not None:
        return True
    return any(len(cell.text_content()) > _LAYOUT_CELL_CHARS for cell in table.iter("td", "th"))


def _microdata(tree: HtmlElement) -> dict[str, str]:
    """schema.org microdata (itemprop) values that trafilatura does not read: author, publisher."""
    found: dict[str, str] = {}
    for element in tree.iterfind(".//*[@itemprop]"):
        prop = element.get("itemprop", "").strip()
        if prop in found or prop not in ("author", "publisher", "headline", "datePublished"):
            continue
        if prop in ("author", "publisher"):
            name = element.find(".//*[@itemprop='name']")
            value = _item_value(name) if name is not None else _item_value(element)
        else:
            value = _item_value(element)
        if value:
            found[prop] = value
    return found


def _item_value(element: HtmlElement) -> str:
    value = element.get("content") or element.get("datetime") or element.text_content()
    return _squeeze(value)


def _byline_date(tree: HtmlElement) -> str | None:
    """The first "입력 2021.06.08 14:05" / "작성일 : 23.05.10" on the page (year first, Korean order)."""
    for text in tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]"):
        m = _BYLINE_DATE.search(text)
        if m:
            year = int(m.group(1)) + (2000 if len(m.group(1)) == 2 else 0)
            found = _iso(f"{year:04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}")
            if found:
                return found
    return None


def _site_from_title(page_title: str, headline: str) -> str | None:
    """The site name a <title> adds to the headline ("headline - Site"), if it is short."""
    page_title, headline = _squeeze(page_title), _squeeze(headline)
    if not headline or not page_title.startswith(headline):
        return None
    parts = [p for p in _TITLE_SEPARATORS.split(" " + page_title[len(headline):].strip()) if p.strip()]
    site = parts[-1].strip() if parts else ""
    return site if 0 < len(site) <= 30 else None


# trafilatura's output elements: blocks become paragraphs, items and rows lines, cells words
_BLOCKS = frozenset({"p", "head", "quote", "code", "list", "table", "div"})
_LINES = frozenset({"item", "row"})


def _render(body: etree._Element) -> str:
    """Text of trafilatura's output tree with the paragraph structure the chunker uses."""
    text = re.sub(r"[^\S\n]*\n[^\S\n]*", "\n", "".join(_pieces(body)))  # no spaces around line breaks
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _pieces(element: etree._Element) -> Iterator[str]:
    tag = element.tag
    edge = "\n\n" if tag in _BLOCKS else "\n" if tag in _LINES or tag == "lb" else " " if tag == "cell" else ""
    yield edge
    if element.text:
        yield element.text
    for child in element:
        yield from _pieces(child)
    if tag in _BLOCKS:
        yield edge
    if element.tail:
        yield element.tail


def _iso(value: str | None) -> str | None:
    """The YYYY-MM-DD at the start of `value` if it is a real calendar date."""
    m = re.match(r"^((?:19|20)\d{2})-(\d{2})-(\d{2})", value or "")
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


def _squeeze(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()
