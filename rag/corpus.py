"""Read articles from files and folders; cleaned (rag.cleaning), with title / date / publisher.

    load = load_corpus([Path("seeds")])
    load = load_corpus([Path("archive")], furniture=Furniture.load(settings.answer.lexicon))
    load.articles[0].doc_id, load.articles[0].title, load.articles[0].date
    load.problems        # [(file, reason)] for binary, undecodable, empty or malformed input

HTML pages first go through trafilatura (rag.webpage), which keeps the article and drops the page
around it; a PDF's text layer is rebuilt into paragraphs (rag.pdf), a Hangul or Word document read
from its body (rag.hwpx, rag.hwp, rag.docx, rag.doc, rag.odt, rag.rtf); the same line rules then run on the text. A
file that yields no article is reported with its reason (too large, nested too deep, locked, no text), never raised. A
`manifest.json` next to the files supplies or overrides metadata: {"file.txt": {"title", "date",
"publisher", "author"}}. Many articles in one file: JSONL and tables (.csv, .tsv, .xlsx, .xls), rag.records;
each record is known by its own id.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from rag.cleaning import Furniture, Metadata, bundled, clean_document, iso_date, without_headline
from rag.documents import DocumentError
from rag.doc import read_doc
from rag.docx import read_docx
from rag.odt import read_odt
from rag.rtf import read_rtf
from rag.hwp import read_hwp
from rag.hwpx import read_hwpx
from rag.pdf import read_pdf
from rag.records import read_records
from rag.tables import Columns
from rag.types import Article
from rag.webpage import HtmlError

# Part of every content hash: changing the cleaner re-ingests every article. The bundled furniture
# lists (rag/lexicon/furniture.tsv) belong to it: BUNDLED_FURNITURE is their fingerprint, checked by
# a test, so editing them means a new version; a user's own lists are hashed in per article.
# cleaner-3: HTML through trafilatura instead of a tag parser. cleaner-4: a wire dateline's outlet is
# the publisher ("(서울=연합뉴스) …"). cleaner-5: a control character is a space (a NUL in a table
# cell); a press release's "배포일시:" line dates it. cleaner-6: a header line of a date and the outlet
# ("2024-05-02 한빛경제") dates the article and names its publisher. cleaner-7: a headline line is the
# title, not body text; a PDF's wrapped lines join with a space where the writer wraps between words.
# cleaner-8: a first line that reads as a sentence stays in the body unless the manifest names it the title.
CLEANER_VERSION = "cleaner-8"
BUNDLED_FURNITURE = "a05ed05588ce"

__all__ = ["CLEANER_VERSION", "KINDS", "RECORD_KINDS", "Columns", "CorpusLoad", "Furniture", "Metadata",
           "clean_document", "clean_text", "decode_text", "extract_metadata", "iso_date", "load_corpus"]

KINDS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".csv": "table",
    ".tsv": "table",
    ".pdf": "pdf",
    ".hwpx": "hwpx",
    ".docx": "docx",
    ".doc": "doc",
    ".odt": "odt",
    ".rtf": "rtf",
    ".hwp": "hwp",
    ".xlsx": "workbook",
    ".xls": "workbook",
}
DOCUMENT_KINDS = ("pdf", "hwpx", "hwp", "docx", "doc", "odt", "rtf")  # binary documents: their own reader gives the text
RECORD_KINDS = ("jsonl", "table", "workbook")  # files of many articles, each with an id of its own
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class CorpusLoad:
    """What a load produced: the readable articles, and one (file, reason) per thing skipped."""

    articles: list[Article] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def clean_text(raw: str, kind: str, furniture: Furniture | None = None) -> str:
    """The article text of `raw` (kind: text | markdown | html) without page furniture."""
    return clean_document(raw, kind, furniture)[0]


def extract_metadata(raw: str, kind: str, furniture: Furniture | None = None) -> Metadata:
    """Title, ISO date and publisher as far as the document itself states them."""
    return clean_document(raw, kind, furniture)[1]


def load_corpus(
    paths: Sequence[Path],
    manifest_name: str = "manifest.json",
    max_file_bytes: int | None = None,
    max_article_chars: int | None = None,
    furniture: Furniture | None = None,
    columns: Columns | None = None,
) -> CorpusLoad:
    """Read every supported file under `paths` (recursive, sorted, hidden files skipped).

    A file's doc id is its path relative to the folder given (`2024/a.txt`), so files of the same
    name in two subfolders never collide; a file given directly is known by its name. Files over
    `max_file_bytes` and articles over `max_article_chars` are reported and skipped. `furniture`:
    the lines the cleaner drops (default: the bundled lists); `columns`: the header names of article
    tables (.csv, .tsv; default: the bundled columns.tsv).
    """
    furniture = furniture or bundled()
    columns = columns or Columns.load()
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
            # one spelling of a Hangul name: macOS writes file names decomposed (NFD), a user types them composed
            relative = unicodedata.normalize("NFC", path.name if path == root else path.relative_to(root).as_posix())
            for article in _read_file(path, relative, manifest, load.problems, furniture, columns):
                if KINDS.get(path.suffix.lower()) not in RECORD_KINDS:  # a record carries its own id
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
            if name.startswith((".", "~$")) or name == manifest_name:
                continue  # hidden files (.DS_Store) and Office's owner files of an open document (~$보고서.docx) are never articles
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
                    cache[folder] = {unicodedata.normalize("NFC", k): v for k, v in data.items()}
                else:
                    problems.append((str(manifest_path), "manifest is not a JSON object"))
    return cache[folder]


def _read_file(path: Path, relative: str, manifest: dict[str, Any], problems: list[tuple[str, str]],
               furniture: Furniture, columns: Columns) -> list[Article]:
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        problems.append((str(path), f"unsupported file type {path.suffix or '(none)'!r}"))
        return []
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        problems.append((str(path), f"cannot read: {exc.strerror or exc}"))
        return []
    if kind in DOCUMENT_KINDS:
        return _read_document(path, kind, raw_bytes, manifest, problems, furniture)
    if kind == "workbook":  # rows of a spreadsheet: bytes for its reader, not text
        content: str | bytes = raw_bytes
    else:
        text, reason = decode_text(raw_bytes)
        if text is None:
            problems.append((str(path), reason))
            return []
        content = text
    if kind in RECORD_KINDS:
        return [_article(r.doc_id, r.text, r.meta, _entry(manifest, r.doc_id), str(path), r.raw, furniture)
                for r in read_records(path, relative, content, kind, problems, furniture, columns)]
    try:
        cleaned, meta = clean_document(text, kind, furniture)
    except HtmlError as exc:
        problems.append((str(path), str(exc)))
        return []
    if not cleaned.strip():
        problems.append((str(path), "no article text after cleaning"))
        return []
    entry = _entry(manifest, path.name)
    return [_article(path.name, cleaned, meta, entry, str(path), raw_bytes, furniture)]


def _read_document(path: Path, kind: str, raw_bytes: bytes, manifest: dict[str, Any],
                   problems: list[tuple[str, str]], furniture: Furniture) -> list[Article]:
    """A PDF, Hangul or Word document: its text, rebuilt by its reader, then cleaned like plain text."""
    reader = {"pdf": read_pdf, "hwpx": read_hwpx, "hwp": read_hwp, "docx": read_docx, "doc": read_doc,
              "odt": read_odt, "rtf": read_rtf}[kind]
    try:
        document = reader(raw_bytes)
    except DocumentError as exc:  # PdfError is one
        problems.append((str(path), str(exc)))
        return []
    cleaned, meta = clean_document(document.text, "text", furniture)
    if not cleaned.strip():
        problems.append((str(path), "no article text after cleaning"))
        return []
    meta = replace(meta, title=document.title or meta.title)
    return [_article(path.name, cleaned, meta, _entry(manifest, path.name), str(path), raw_bytes, furniture)]


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


def _entry(manifest: dict[str, Any], key: str) -> dict[str, Any]:
    entry = manifest.get(unicodedata.normalize("NFC", key))  # the manifest's keys are NFC (_manifest_for)
    return entry if isinstance(entry, dict) else {}


def _article(
    doc_id: str, text: str, meta: Metadata, entry: dict[str, Any], path: str, raw: bytes, furniture: Furniture
) -> Article:
    named = str(entry.get("title") or "").strip()
    title = named or meta.title
    # a headline stays out of the body; a first line that is only borrowed for a title (a sentence) stays in
    text = without_headline(text, title, named=bool(named))
    title = title or _fallback_title(text)
    date = iso_date(str(entry.get("date") or "")) or meta.date
    publisher = str(entry.get("publisher") or "").strip() or meta.publisher
    digest = hashlib.sha256()
    digest.update(raw)
    digest.update(CLEANER_VERSION.encode())
    if furniture.fingerprint != BUNDLED_FURNITURE:  # a user's lists: a change re-cleans, re-ingests
        digest.update(f"furniture:{furniture.fingerprint}".encode())
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




