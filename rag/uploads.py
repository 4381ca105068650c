"""Uploaded article files checked and written into a folder, each whole or not at all.

    report = save_uploads([Upload("a.html", data), Upload("news.zip", stream)], folder, settings.uploads)
    report.accepted        # UploadResult(name, path, size, replaced): written as folder / path
    report.rejected        # UploadResult(name, code, message): nothing of it written
    report.as_dict()       # the JSON the web routes return

Accepted: .txt .md .markdown .html .htm .jsonl .csv .tsv .xlsx .xls .pdf .hwp .hwpx .docx .doc .odt .rtf and .zip archives of them. The type
is checked by content (an article must decode as text, a .jsonl must start with a JSON object, a .csv
or .tsv with a header row of columns, an .xlsx, .xls, .pdf, .hwp, .hwpx, .docx, .doc, .odt, .rtf and .zip must be one; an .xls is
kept as an .xlsx of its cells, so that its rows can be deleted one by one), sizes against per-file and per-upload limits. Everything is first staged in a hidden folder
inside the target (never read by ingest, which skips hidden files) and moved into place with
os.replace once the whole upload has been checked, so a failure leaves complete files only.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Iterable

from rag.archive import Rejected, ZipLimits, ZipMember, is_zip, read_zip, safe_relative_path
from rag.config import UploadSettings
from rag.corpus import KINDS, decode_text
from rag.documents import DocumentError
from rag.tables import DELIMITERS
from rag.workbook import workbook_bytes
from rag.xls import sheets as xls_sheets

_MB = 1 << 20
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: .hwp (and the old .doc, .xls)
_HEADER_CELL_CHARS = 60
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as sent and its bytes (or a binary stream, read with limits)."""

    name: str
    data: bytes | BinaryIO


@dataclass(frozen=True)
class UploadResult:
    name: str  # as uploaded; a zip member is "archive.zip:folder/file.html"
    accepted: bool
    path: str = ""  # accepted: relative to the target folder (POSIX separators)
    size: int = 0
    replaced: bool = False  # accepted: an earlier file of that path was overwritten
    code: str = ""  # rejected: too_large, total_too_large, unsupported_type, not_text, empty, not_jsonl, not_table, not_pdf, not_hwp, not_hwpx, not_docx, not_doc, not_odt, not_rtf, not_xlsx, not_xls,
    #                 not_zip, bad_name, unsafe_path, symlink, nested_zip, too_many_entries, zip_bomb,
    #                 bad_zip, duplicate, read_failed, write_failed
    message: str = ""  # rejected: one sentence naming the file and the limit or problem


@dataclass(frozen=True)
class UploadReport:
    results: tuple[UploadResult, ...] = ()

    @property
    def accepted(self) -> list[UploadResult]:
        return [r for r in self.results if r.accepted]

    @property
    def rejected(self) -> list[UploadResult]:
        return [r for r in self.results if not r.accepted]

    def as_dict(self) -> dict[str, Any]:
        files = [{"status": "accepted" if r.accepted else "rejected", **asdict(r)} for r in self.results]
        for entry in files:
            del entry["accepted"]
        return {"accepted": len(self.accepted), "rejected": len(self.rejected), "files": files}


def save_uploads(uploads: Iterable[Upload], target: Path, settings: UploadSettings) -> UploadReport:
    """Check every upload, then write the accepted ones into `target` (created if missing)."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=target))
    try:
        batch = _Batch(target, staging, settings)
        for upload in uploads:
            batch.add(upload)
        return UploadReport(tuple(batch.commit()))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _Batch:
    """The files of one upload: checked and staged one by one, moved into place together."""

    def __init__(self, target: Path, staging: Path, settings: UploadSettings) -> None:
        self.target, self.staging, self.settings = target, staging, settings
        self.max_file = int(settings.max_file_mb * _MB)
        self.max_total = int(settings.max_total_mb * _MB)
        self.room = self.max_total  # what the rest of the upload may still write
        self.staged: list[tuple[int, Path, PurePosixPath]] = []  # (result index, staged file, path)
        self.results: list[UploadResult] = []
        self.paths: set[PurePosixPath] = set()

    def add(self, upload: Upload) -> None:
        try:
            path = safe_relative_path(upload.name)
            if any(part.startswith(".") for part in path.parts) or path.name.startswith("~$"):
                raise Rejected("bad_name", f"{upload.name!r}: hidden names (starting with '.') and Office's owner "
                                           "files ('~$…') are never ingested")
            kind = path.suffix.lower()
            if kind != ".zip" and kind not in KINDS:
                allowed = " ".join(sorted({*KINDS, ".zip"}))
                raise Rejected("unsupported_type", f"{upload.name!r}: only {allowed} files are accepted")
            # a zip may be as large as the whole upload; what it unpacks to is checked member by member
            data = _read_limited(upload.data, self.max_total if kind == ".zip" else self.max_file, upload.name)
            if kind == ".zip":
                self._add_zip(upload.name, data)
            else:
                self._add_file(upload.name, path, data)
        except Rejected as exc:
            self.results.append(UploadResult(upload.name, False, code=exc.code, message=exc.message))

    def _add_zip(self, name: str, data: bytes) -> None:
        if not is_zip(data[:4]):
            raise Rejected("not_zip", f"{name!r} is named .zip but is not a zip archive")
        limits = ZipLimits(self.max_file, self.room, self.settings.max_zip_entries, self.settings.max_zip_ratio)
        try:
            members = list(read_zip(io.BytesIO(data), limits))
        except Rejected as exc:
            raise Rejected(exc.code, f"{name!r} refused: {exc.message}") from exc
        if not members:
            raise Rejected("empty", f"{name!r} holds no files")
        for member in members:
            self._add_member(f"{name}:{member.path}", member)

    def _add_member(self, name: str, member: ZipMember) -> None:
        try:
            if member.path.suffix.lower() not in KINDS:
                raise Rejected("unsupported_type", f"{name!r}: not an article file (.txt .md .html .jsonl .csv .tsv .xlsx .xls .pdf .hwp .hwpx .docx .doc .odt .rtf)")
            self._add_file(name, member.path, member.data)
        except Rejected as exc:
            self.results.append(UploadResult(name, False, code=exc.code, message=exc.message))

    def _add_file(self, name: str, path: PurePosixPath, data: bytes) -> None:
        _check_content(name, path, data)
        if path.suffix.lower() == ".xls":
            data, path = _as_xlsx(name, path, data)
        if len(data) > self.room:
            raise Rejected("total_too_large", f"{name!r} would take the upload past {self.max_total / _MB:g} MB in all")
        if path in self.paths:
            raise Rejected("duplicate", f"{name!r}: an earlier file of this upload has the same path {path}")
        final = self.target / path
        if not final.parent.resolve().is_relative_to(self.target.resolve()) or final.is_dir():
            raise Rejected("unsafe_path", f"{name!r}: {path} is not a file path inside the upload folder")
        staged = self.staging / str(len(self.results))
        try:
            with open(staged, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())  # the bytes are on disk before the name points at them
        except OSError as exc:  # disk full, quota
            raise Rejected("write_failed", f"{name!r} not written: {exc.strerror or exc}") from exc
        self.room -= len(data)
        self.paths.add(path)
        self.staged.append((len(self.results), staged, path))
        self.results.append(UploadResult(name, True, path=path.as_posix(), size=len(data), replaced=final.exists()))

    def commit(self) -> list[UploadResult]:
        """Move every staged file into place; one that cannot be written is reported, not raised."""
        for index, staged, path in self.staged:
            final = self.target / path
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, final)
            except OSError as exc:
                name = self.results[index].name
                self.results[index] = UploadResult(name, False, code="write_failed",
                                                   message=f"{name!r} not written: {exc.strerror or exc}")
        return self.results


def _as_xlsx(name: str, path: PurePosixPath, data: bytes) -> tuple[bytes, PurePosixPath]:
    """An Excel 97-2003 upload is kept as an .xlsx of its cells as text: an .xls cannot be written
    back, and deleting one article of the list rewrites the file without its row."""
    try:
        book = xls_sheets(data)
    except DocumentError as exc:
        raise Rejected("not_xls", f"{name!r}: {exc}") from exc
    return workbook_bytes(book), path.with_suffix(".xlsx")


def _read_limited(data: bytes | BinaryIO, limit: int, name: str) -> bytes:
    """All bytes of an upload, reading at most one chunk past `limit` from a stream."""
    too_large = Rejected("too_large", f"{name!r} is over the {limit / _MB:g} MB limit")
    if isinstance(data, (bytes, bytearray, memoryview)):
        if len(data) > limit:
            raise too_large
        return bytes(data)
    chunks, size = [], 0
    try:
        while chunk := data.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large  # the rest is never read: a 2 GB body costs one chunk here
            chunks.append(chunk)
    except OSError as exc:  # the client went away mid-upload, a temp file vanished
        raise Rejected("read_failed", f"{name!r} could not be read: {exc.strerror or exc}") from exc
    return b"".join(chunks)


# an office document's container (a zip or an OLE compound file), the code refusing a file that is not
# one, what the file should be, and what it is when it is the other container (an upload named .hwp that
# is a zip is an .hwpx): suffix -> (container, code, what, the twin format)
_CONTAINERS = {
    ".hwpx": ("zip", "not_hwpx", "an HWPX document", "a binary .hwp"),
    ".hwp": ("ole", "not_hwp", "a Hangul document", "a zip, an .hwpx"),
    ".xlsx": ("zip", "not_xlsx", "an Excel workbook", "a binary .xls"),
    ".xls": ("ole", "not_xls", "an Excel 97-2003 workbook", "a zip, an .xlsx"),
    ".docx": ("zip", "not_docx", "a Word document", "a binary .doc"),
    ".doc": ("ole", "not_doc", "a Word 97-2003 document", "a zip, a .docx"),
    ".odt": ("zip", "not_odt", "an OpenDocument text", ""),
}


def _check_content(name: str, path: PurePosixPath, data: bytes) -> None:
    """The bytes are what the name says: text for articles, a JSON object per line for .jsonl, a header
    row of columns for a table (which column holds the text is the reader's to say: its columns.tsv may
    be a user's), a PDF's signature for a .pdf (whether it has a text layer is the reader's to say), an
    office document's container (a zip, an OLE compound file) or an RTF's opening."""
    if KINDS[path.suffix.lower()] == "pdf":
        if b"%PDF-" not in data[:1024]:  # the header may follow a little junk; readers accept that
            raise Rejected("not_pdf", f"{name!r} is named .pdf but is not a PDF")
        return
    container = _CONTAINERS.get(path.suffix.lower())
    if container:
        kind, code, what, twin = container
        if not (is_zip(data[:4]) if kind == "zip" else data.startswith(_OLE)):
            other = data.startswith(_OLE) if kind == "zip" else is_zip(data[:4])
            hint = f" (it is {twin}: name it so)" if twin and other else ""
            raise Rejected(code, f"{name!r} is named {path.suffix.lower()} but is not {what}{hint}")
        return
    if KINDS[path.suffix.lower()] == "rtf":
        if data.lstrip()[:5] != b"{\\rtf":
            raise Rejected("not_rtf", f"{name!r} is named .rtf but is not a Rich Text Format document")
        return
    text, reason = decode_text(data)
    if text is None:
        code = "empty" if "empty" in reason else "not_text"
        raise Rejected(code, f"{name!r}: {reason}")
    if KINDS[path.suffix.lower()] == "jsonl":
        first = next((line for line in text.splitlines() if line.strip()), "")
        try:
            record = json.loads(first)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            raise Rejected("not_jsonl", f"{name!r}: the first line is not a JSON object")
    if KINDS[path.suffix.lower()] == "table":
        delimiter = DELIMITERS[path.suffix.lower()]
        first = next((line for line in text.splitlines() if line.strip()), "")
        # a header names columns in a few words; a long first cell is an article's text, not a header
        if max((len(cell.strip()) for cell in first.split(delimiter)), default=0) > _HEADER_CELL_CHARS:
            shown = "tab" if delimiter == "\t" else repr(delimiter)
            raise Rejected("not_table", f"{name!r}: the first line is not a header row of {shown}-separated "
                                        "column names (본문, 제목, 일자, …)")
