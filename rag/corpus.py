"""Read articles from files and folders, strip page furniture, and find title / date / publisher.

    load = load_corpus([Path("seeds")])
    load.articles[0].doc_id, load.articles[0].title, load.articles[0].date
    load.problems        # [(file, reason)] for binary, undecodable, empty or malformed input

Cleaning only removes whole furniture lines (menus, weather widgets, share buttons, copyright,
hashtags, banners), Markdown markup, metadata lines it has read, and photo credits at a line's
end; every article sentence stays byte-identical apart from whitespace. HTML pages first go
through trafilatura (rag.webpage), which keeps the article and drops the page around it; the same
line rules then run on its text. A page that yields no article is reported with its reason
(too large, nested too deep, no text), never raised. A `manifest.json`
next to the files supplies or overrides metadata: {"file.txt": {"title", "date", "publisher", "author"}}.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date as _date
from html import unescape
from pathlib import Path
from typing import Any, Sequence

from rag.types import Article
from rag.webpage import HtmlError, extract_html

# Part of every content hash: changing the cleaner re-ingests every article.
# cleaner-3: HTML through trafilatura instead of a tag parser.
CLEANER_VERSION = "cleaner-3"

KINDS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
}
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class CorpusLoad:
    """What a load produced: the readable articles, and one (file, reason) per thing skipped."""

    articles: list[Article] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def clean_text(raw: str, kind: str) -> str:
    """The article text of `raw` (kind: text | markdown | html) without page furniture."""
    return clean_document(raw, kind)[0]


def extract_metadata(raw: str, kind: str) -> Metadata:
    """Title, ISO date and publisher as far as the document itself states them."""
    return clean_document(raw, kind)[1]


def load_corpus(
    paths: Sequence[Path],
    manifest_name: str = "manifest.json",
    max_file_bytes: int | None = None,
    max_article_chars: int | None = None,
) -> CorpusLoad:
    """Read every supported file under `paths` (recursive, sorted, hidden files skipped).

    A file's doc id is its path relative to the folder given (`2024/a.txt`), so files of the same
    name in two subfolders never collide; a file given directly is known by its name. Files over
    `max_file_bytes` and articles over `max_article_chars` are reported and skipped.
    """
    load = CorpusLoad()
    manifests: dict[Path, dict[str, Any]] = {}
    seen: dict[str, str] = {}
    for root in paths:
        root = Path(root)
        if not root.exists():
            load.problems.append((str(root), "no such file or folder"))
            continue
        files = [root] if root.is_file() else _walk(root, manifest_name)
        if root.is_dir() and not files:
            load.problems.append((str(root), "folder holds no files"))
        for path in files:
            if max_file_bytes is not None and not _size_ok(path, max_file_bytes, load.problems):
                continue
            manifest = _manifest_for(path, manifest_name, manifests, load.problems)
            relative = path.name if path == root else path.relative_to(root).as_posix()
            for article in _read_file(path, manifest, load.problems):
                if path.suffix.lower() != ".jsonl":  # a JSONL record carries its own id
                    article = replace(article, doc_id=relative)
                if max_article_chars is not None and len(article.text) > max_article_chars:
                    load.problems.append((str(path), f"article {article.doc_id!r} is {len(article.text):,} characters "
                                          f"after cleaning, over the limit of {max_article_chars:,} "
                                          "(setting paths.max_article_chars); skipped"))
                    continue
                if article.doc_id in seen:
                    load.problems.append(
                        (str(path), f"duplicate document id {article.doc_id!r} (also {seen[article.doc_id]}); skipped")
                    )
                    continue
                seen[article.doc_id] = str(path)
                load.articles.append(article)
    return load


def _size_ok(path: Path, limit: int, problems: list[tuple[str, str]]) -> bool:
    """Checked before reading: a huge file would cost gigabytes and hours before anything is said."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        problems.append((str(path), f"cannot read: {exc.strerror or exc}"))
        return False
    if size > limit:
        problems.append((str(path), f"file is {size / 1e6:,.1f} MB, over the limit of {limit / 1e6:,.0f} MB "
                         "(setting paths.max_file_mb); skipped"))
        return False
    return True


def _walk(root: Path, manifest_name: str) -> list[Path]:
    files = []
    # symlinked folders are not followed: a link loop (or a link to "/") must not walk forever
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # hidden folders (.git) hold no articles
        for name in names:
            path = Path(folder) / name
            if name.startswith(".") or name == manifest_name:
                continue  # hidden files (.DS_Store) are never articles
            if path.is_file():
                files.append(path)
    return sorted(files, key=lambda p: p.relative_to(root).parts)


def _manifest_for(
    path: Path, name: str, cache: dict[Path, dict[str, Any]], problems: list[tuple[str, str]]
) -> dict[str, Any]:
    folder = path.parent
    if folder not in cache:
        cache[folder] = {}
        manifest_path = folder / name
        if manifest_path.is_file():
            try:
                data = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                problems.append((str(manifest_path), f"manifest not read: {exc}"))
            else:
                if isinstance(data, dict):
                    cache[folder] = data
                else:
                    problems.append((str(manifest_path), "manifest is not a JSON object"))
    return cache[folder]


def _read_file(path: Path, manifest: dict[str, Any], problems: list[tuple[str, str]]) -> list[Article]:
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        problems.append((str(path), f"unsupported file type {path.suffix or '(none)'!r}"))
        return []
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        problems.append((str(path), f"cannot read: {exc.strerror or exc}"))
        return []
    text, reason = decode_text(raw_bytes)
    if text is None:
        problems.append((str(path), reason))
        return []
    if kind == "jsonl":
        return _read_jsonl(path, text, manifest, problems)
    try:
        cleaned, meta = clean_document(text, kind)
    except HtmlError as exc:
        problems.append((str(path), str(exc)))
        return []
    if not cleaned.strip():
        problems.append((str(path), "no article text after cleaning"))
        return []
    entry = _entry(manifest, path.name)
    return [_article(path.name, cleaned, meta, entry, str(path), raw_bytes)]


def decode_text(raw: bytes) -> tuple[str | None, str]:
    """(text, "") for readable text; (None, reason) for empty, binary or undecodable bytes."""
    if not raw.strip():
        return None, "empty file"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), ""
        except UnicodeDecodeError:
            return None, "undecodable UTF-16 text"
    head = raw[:_SNIFF_BYTES]
    if b"\x00" in head or head.startswith((b"%PDF", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return None, "binary file, not text"
    for encoding in ("utf-8-sig", "cp949"):  # cp949: legacy Korean files (EUC-KR superset)
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None, "undecodable: neither UTF-8 nor CP949 text"
    controls = sum(1 for ch in text[:_SNIFF_BYTES] if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f\v")
    if controls > 0.05 * min(len(text), _SNIFF_BYTES):
        return None, "binary file, not text"
    if not text.strip():
        return None, "empty file"
    return text, ""


def _read_jsonl(path: Path, text: str, manifest: dict[str, Any], problems: list[tuple[str, str]]) -> list[Article]:
    articles = []
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
        body = record.get("text") or record.get("body") or ""
        if not doc_id:
            problems.append((where, "no 'id' or 'doc_id'"))
            continue
        if not isinstance(body, str) or not body.strip():
            problems.append((where, "no 'text' or 'body'"))
            continue
        try:
            cleaned, found = clean_document(body, "html" if _looks_like_html(body) else "text")
        except HtmlError as exc:
            problems.append((where, str(exc)))
            continue
        if not cleaned.strip():
            problems.append((where, "no article text after cleaning"))
            continue
        given = Metadata(
            title=str(record.get("title") or "").strip() or found.title,
            date=iso_date(str(record.get("date") or "")) or found.date,
            publisher=str(record.get("publisher") or record.get("source") or "").strip() or found.publisher,
            author=str(record.get("author") or "").strip() or found.author,
        )
        entry = _entry(manifest, doc_id)
        articles.append(_article(doc_id, cleaned, given, entry, str(path), line.encode("utf-8")))
    if not articles and not any(p[0].startswith(f"{path}:") for p in problems):
        problems.append((str(path), "no articles in JSONL file"))
    return articles


def _looks_like_html(text: str) -> bool:
    return bool(re.search(r"<(?:p|div|br|html|body|article|span)\b", text[:2000], re.IGNORECASE))


def _entry(manifest: dict[str, Any], key: str) -> dict[str, Any]:
    entry = manifest.get(key)
    return entry if isinstance(entry, dict) else {}


def _article(
    doc_id: str, text: str, meta: Metadata, entry: dict[str, Any], path: str, raw: bytes
) -> Article:
    title = str(entry.get("title") or "").strip() or meta.title or _fallback_title(text)
    date = iso_date(str(entry.get("date") or "")) or meta.date
    publisher = str(entry.get("publisher") or "").strip() or meta.publisher
    digest = hashlib.sha256()
    digest.update(raw)
    digest.update(CLEANER_VERSION.encode())
    digest.update(json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return Article(
        doc_id=doc_id,
        text=text,
        title=title,
        date=date,
        publisher=publisher or None,
        author=str(entry.get("author") or "").strip() or meta.author,
        path=path,
        content_hash=digest.hexdigest(),
    )


def _fallback_title(text: str, limit: int = 60) -> str:
    """The first line, shortened: better than no title in a result list."""
    first = text.strip().split("\n", 1)[0].strip()
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"




# ---- cleaning -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metadata:
    title: str = ""
    date: str | None = None  # ISO 8601
    publisher: str | None = None
    author: str | None = None


def clean_document(raw: str, kind: str) -> tuple[str, Metadata]:
    """Cleaned article text and the metadata read along the way (kind: text | markdown | html).

    Raises HtmlError for an HTML page that yields no article (the reason is for the user).
    """
    raw = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    hints = _Hints()
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


# Whole lines that are navigation or widgets, compared without spaces and case.
_FURNITURE = frozenset(
    s.replace(" ", "").casefold()
    for s in (
        "본문 바로가기", "본문으로 바로가기", "주메뉴 바로가기", "Press Center", "URL복사", "URL 복사", "주소복사",
        "기상청 제공", "더보기", "키워드", "관련기사", "닫기", "공유하기", "기사공유", "이 기사를 공유합니다",
        "페이스북", "트위터", "카카오톡", "카카오스토리", "네이버블로그", "인쇄", "프린트", "기사프린트",
        "스크랩", "글자크기", "글자사이즈", "기사듣기", "목록", "이전기사", "다음기사", "댓글", "댓글0", "구독",
        "맨위로", "TOP", "로그인", "회원가입", "검색", "전체메뉴", "메뉴", "많이 본 뉴스", "최신뉴스", "기사 URL이 복사되었습니다.",
    )
)
# A line made only of these is a section menu ("여행/레저", "정치 경제 사회").
_MENU_WORDS = frozenset(
    "정치 경제 사회 국제 세계 문화 연예 스포츠 여행/레저 여행 레저 IT IT/과학 과학 생활 라이프 오피니언 사설 칼럼 "
    "포토 영상 전국 지역 산업 금융 증권 부동산 건강 교육 전체 뉴스 홈 HOME 더보기 기업 통신 전기·전자".split()
)
# Share and reader-tool buttons, often several on one bulleted line ("페이스북 공유하기").
_TOOL_WORDS = frozenset(
    "페이스북 트위터 카카오톡 카카오스토리 네이버 네이버블로그 밴드 링크 공유 공유하기 기사공유 주소복사 URL복사 "
    "기사듣기 기사듣기실행 기사듣기중지 글자사이즈 글자크기 프린트 기사프린트 인쇄 인쇄하기 스크랩 이메일 메일 "
    "닫기 확대 축소 댓글 좋아요 구독".split()
)
# Public-service banners pasted into press releases; never part of the release itself.
_BANNERS = ("더 아픈 환자에게 양보해 주셔서 감사합니다", "가벼운 증상은 동네 병의원으로")
_DATE_PREFIX = re.compile(r"^date\s+(\d{4}-\d{2}-\d{2})\b\s*", re.IGNORECASE)
_DATE_LINE = re.compile(
    r"^((?:19|20)\d{2})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})\s*일?\.?\s*(?:\(\s*[월화수목금토일]\s*\))?"
    r"\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_META_LINE = re.compile(r"^(?:입력|승인|기사승인|등록|발행|게재|수정|업데이트|UPDATED\.?)\s*[:：]?\s*(.{6,40})$", re.IGNORECASE)
_RELEASE_LINE = re.compile(r"^보도\s*(?:시점|일시)")
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
_AGENCY = re.compile(r"^([가-힣]{2,20}(?:부|처|청|위원회|공단|공사|재단))\s*\(")


@dataclass
class _Hints:
    """What the cleaner noticed while dropping lines: metadata candidates, strongest first."""

    title: str = ""
    date: str | None = None
    release_month_day: tuple[int, int] | None = None
    copyright_owner: str | None = None
    site_name: str | None = None
    credit: str | None = None
    press_center: bool = False
    press_release: bool = False

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
        lines = [line for line in text.split("\n") if line][:12]
        for line in lines:
            m = _BYLINE_OUTLET.match(line)
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
    key = bare.replace(" ", "").casefold()
    if key in _FURNITURE:
        hints.press_center = hints.press_center or key == "presscenter"
        return True
    m = _DATE_LINE.match(bare)
    if m:
        hints.date = hints.date or _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
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
    if "℃" in bare and _WEATHER.match(bare):
        return True
    if len(bare) <= 120 and _is_copyright(bare):
        owner = _COPYRIGHT_OWNER.search(bare)
        if owner and not hints.copyright_owner:
            hints.copyright_owner = owner.group(1)
        return True
    if _HASHTAGS.match(bare) or _URL_LINE.match(bare):
        return True
    if len(bare) <= 60 and any(banner in bare for banner in _BANNERS):
        return True
    words = [word for word in re.split(r"[\s|]+", bare) if word]
    if all(word in _MENU_WORDS or word in _TOOL_WORDS for word in words):
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
