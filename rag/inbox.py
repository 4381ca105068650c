"""Uploaded article files into the uploads folder and the store; uploaded articles out again.

    inbox = Inbox(settings, pipe)
    received = inbox.receive([Upload("a.html", data), Upload("news.zip", stream)])   # checked, staged
    received.report.as_dict()                       # per file: accepted, or rejected with a message
    admitted = inbox.admit(received, progress=lambda done, total: ...)   # read, placed, ingested
    inbox.delete("a.html", info)                    # the article and its file (info: its ArticleInfo)
    inbox.reingest()                                # the corpus folders and the uploads folder again

Uploads live in `uploads.dir` and are ingested from there, so their doc ids are their paths
relative to it (`2024/a.html`, or a JSONL record's own id). Two rules keep other folders safe:
- an upload never takes a doc id already held by an article from another file — another corpus
  folder's, or another uploaded file's — it is rejected by name before it lands (and ingest runs
  with `owned_only`, so not even a race can let it through);
- ingesting the uploads folder only deletes articles whose file was in it, and deleting an article
  only ever removes a file inside it.
Files are staged in a hidden folder inside `uploads.dir` (ingest skips hidden names) and moved into
place one by one after the corpus reader has read them: a file it cannot read (no article text, a
broken page) is reported by name and never lands, so the folder holds only ingestible files.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

from rag.config import Settings
from rag.cleaning import Furniture
from rag.corpus import KINDS, RECORD_KINDS, decode_text, load_corpus
from rag.documents import DocumentError
from rag.tables import Columns, read_table, row_id, table_of, write_table
from rag.workbook import drop_rows, sheets
from rag.types import ArticleInfo, IngestReport
from rag.uploads import Upload, UploadReport, save_uploads

STAGING_PREFIX = ".incoming-"


class InboxError(RuntimeError):
    """An inbox operation that cannot be done as asked (the message says why)."""


class InboxPipeline(Protocol):
    def ingest(self, paths=None, progress=False, wait=True, on_wait=None, owned_only=False) -> IngestReport: ...
    def delete_articles(self, doc_ids: Sequence[str], wait: bool = True) -> IngestReport: ...
    def list_articles(self) -> list[ArticleInfo]: ...


@dataclass(frozen=True)
class Received:
    staging: Path
    report: UploadReport


@dataclass(frozen=True)
class FileOutcome:
    path: str  # relative to the uploads folder
    status: str  # "placed" | "rejected"
    doc_ids: tuple[str, ...] = ()
    message: str = ""  # rejected: why; placed: problems with some of its JSONL lines, if any


@dataclass(frozen=True)
class Admitted:
    files: tuple[FileOutcome, ...] = ()
    ingest: IngestReport | None = None

    @property
    def placed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == "placed"]


@dataclass(frozen=True)
class Deleted:
    doc_id: str
    file: str = ""  # the uploaded file removed (relative), "" when the article came from elsewhere
    records_left: int = 0  # other articles still read from that file (a JSONL of several)
    notes: tuple[str, ...] = field(default=())


class Inbox:
    def __init__(self, settings: Settings, pipe: InboxPipeline) -> None:
        self.settings = settings
        self.pipe = pipe
        self.folder = Path(settings.uploads.dir)

    # --- upload --------------------------------------------------------------------------------

    def receive(self, uploads: Iterable[Upload]) -> Received:
        """Each upload checked (type by content, sizes, zip safety) and written to a staging folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = self.folder / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
        report = save_uploads(uploads, staging, self.settings.uploads)
        if not report.accepted:
            self.discard(Received(staging, report))
        return Received(staging, report)

    def discard(self, received: Received) -> None:
        shutil.rmtree(received.staging, ignore_errors=True)

    def admit(self, received: Received, progress: Callable[[int, int], None] | None = None,
              on_wait: Callable[[str], None] | None = None) -> Admitted:
        """Read the staged files; place the readable ones whose doc ids are free; ingest the folder."""
        try:
            outcomes = self._place(received.staging)
        finally:
            self.discard(received)
        if not any(o.status == "placed" for o in outcomes):
            return Admitted(tuple(outcomes))
        report = self.pipe.ingest([self.folder], progress=progress or False, on_wait=on_wait, owned_only=True)
        return Admitted(tuple(outcomes), report)

    def _place(self, staging: Path) -> list[FileOutcome]:
        paths = self.settings.paths
        load = load_corpus([staging], manifest_name=paths.manifest, max_file_bytes=int(paths.max_file_mb * 1e6),
                           max_article_chars=paths.max_article_chars,
                           furniture=Furniture.load(self.settings.answer.lexicon),
                           columns=Columns.load(self.settings.answer.lexicon))
        by_file: dict[str, list[str]] = {}
        for article in load.articles:
            by_file.setdefault(_relative(article.path, staging), []).append(article.doc_id)
        problems: dict[str, list[str]] = {}
        staged = sorted((str(p) for p in staging.rglob("*") if p.is_file()), key=len, reverse=True)
        for where, why in load.problems:
            # a problem names its file, maybe with a line ("file:5") or a workbook's sheet ("file:요약", "file:요약:5")
            file = next((f for f in staged if str(where) == f or str(where).startswith(f + ":")), str(where))
            sheet, _, line = str(where)[len(file) + 1:].rpartition(":") if str(where) != file else ("", "", "")
            if line and not line.isdigit():
                sheet, line = f"{sheet}:{line}" if sheet else line, ""
            at = ", ".join(filter(None, (f"sheet {sheet}" if sheet else "", f"line {line}" if line else "")))
            problems.setdefault(_relative(file, staging), []).append(f"{at}: {why}" if at else why)
        holders = {a.doc_id: a.source for a in self.pipe.list_articles()}
        outcomes = []
        for rel in sorted(set(by_file) | set(problems)):
            doc_ids = by_file.get(rel, [])
            target = (self.folder / rel).resolve()
            # held by another file, or by an article that came from no file of ours at all
            taken = [d for d in doc_ids if d in holders and (not holders[d] or Path(holders[d]).resolve() != target)]
            if not doc_ids:
                outcomes.append(FileOutcome(rel, "rejected", (), "; ".join(problems.get(rel, ["no article in it"]))))
            elif taken:
                outcomes.append(FileOutcome(rel, "rejected", tuple(doc_ids), _taken_message(taken, holders, self.folder)))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / rel, target)
                outcomes.append(FileOutcome(rel, "placed", tuple(doc_ids), "; ".join(problems.get(rel, []))))
        return outcomes

    # --- re-ingest and delete ------------------------------------------------------------------

    def reingest(self, progress: Callable[[int, int], None] | None = None,
                 on_wait: Callable[[str], None] | None = None) -> IngestReport:
        """The configured corpus folders and the uploads folder read again (changed files, a new cleaner)."""
        roots = [p for p in self.settings.paths.corpus if Path(p).exists()]
        if self.folder.is_dir() and any(self._files()):
            roots.append(self.folder)
        if not roots:
            raise InboxError("no corpus folder and no uploaded file to read")
        return self.pipe.ingest(roots, progress=progress or False, on_wait=on_wait)

    def delete(self, doc_id: str, info: ArticleInfo | None) -> Deleted:
        """The article out of the store (IngestBusyError while an ingest runs), then out of its file
        when that file is an upload: the file is removed, or its JSONL line or table row when others remain."""
        report = self.pipe.delete_articles([doc_id], wait=False)
        if doc_id not in report.deleted:
            raise KeyError(doc_id)
        source = Path(info.source).resolve() if info and info.source else None
        if source is None or not self._owns(source) or not source.is_file():
            return Deleted(doc_id)
        rel = source.relative_to(self.folder.resolve()).as_posix()
        kind = KINDS.get(source.suffix.lower())
        if kind in RECORD_KINDS:
            columns = Columns.load(self.settings.answer.lexicon)
            left = (_drop_jsonl_record(source, doc_id) if kind == "jsonl" else
                    _drop_sheet_row(source, rel, doc_id, columns) if kind == "workbook" else
                    _drop_table_row(source, rel, doc_id, columns))
            if left:
                return Deleted(doc_id, rel, left)
        source.unlink()
        return Deleted(doc_id, rel)

    def owns(self, info: ArticleInfo) -> bool:
        """The article was read from the uploads folder."""
        return bool(info.source) and self._owns(Path(info.source).resolve())

    def display_path(self, path: str) -> str:
        """An uploaded file relative to the uploads folder ("2024/a.html"); any other path by its name
        ("a.jsonl:3" keeps its line)."""
        try:
            return Path(path).resolve().relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            return Path(path).name

    def _owns(self, path: Path) -> bool:
        return path.is_relative_to(self.folder.resolve())

    def _files(self) -> Iterable[Path]:
        return (p for p in self.folder.rglob("*") if p.is_file() and not any(
            part.startswith(".") for part in p.relative_to(self.folder).parts))


def check_folders(settings: Settings) -> None:
    """The uploads folder must be neither inside a corpus folder nor contain one: ingesting one
    would then read (and delete the articles of) the other under other doc ids."""
    uploads = Path(settings.uploads.dir).resolve()
    for corpus in settings.paths.corpus:
        corpus = Path(corpus).resolve()
        if uploads == corpus or uploads.is_relative_to(corpus) or corpus.is_relative_to(uploads):
            raise InboxError(f"settings uploads.dir ({uploads}) and paths.corpus ({corpus}) overlap; "
                             "give uploads a folder of its own")


def _relative(path: str, staging: Path) -> str:
    try:
        return Path(path).resolve().relative_to(staging.resolve()).as_posix()
    except ValueError:  # not a staged file (the reader names what it could not read): keep its name
        return Path(path).name


def _taken_message(taken: list[str], holders: dict[str, str], folder: Path) -> str:
    first = taken[0]
    try:
        where = f"the uploaded file {Path(holders[first]).resolve().relative_to(folder.resolve()).as_posix()}"
    except ValueError:
        where = "an article from another corpus folder"
    more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
    return f"document id {first!r}{more} is already used by {where}; rename the file (or the record id)"


def _drop_jsonl_record(path: Path, doc_id: str) -> int:
    """Rewrites a JSONL upload without the record of `doc_id` (atomically); returns records left."""
    text, reason = decode_text(path.read_bytes())
    if text is None:
        raise InboxError(f"{path.name} cannot be rewritten: {reason}")
    kept, left = [], 0
    for line in text.splitlines():
        try:
            record = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            record = None
        rid = str(record.get("id") or record.get("doc_id") or "").strip() if isinstance(record, dict) else None
        if rid == doc_id:
            continue
        kept.append(line)
        left += rid is not None
    if left:
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
        tmp.write_text("\n".join(kept) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    return left


def _drop_table_row(path: Path, relative: str, doc_id: str, columns: Columns) -> int:
    """Rewrites a table upload without the row of `doc_id` (atomically); returns the rows left.

    Cells are written back as read; a file with a row the reader cannot parse is left as it is, since
    writing back only what parsed would lose that row."""
    raw = path.read_bytes()
    text, reason = decode_text(raw)
    if text is None:
        raise InboxError(f"{path.name} cannot be rewritten: {reason}")
    table = read_table(text, path.suffix, columns)
    if table.problem or table.row_problems:
        raise InboxError(f"{path.name} was not rewritten: {table.problem or 'it has rows that cannot be read'}; "
                         "the article is out of the store, but its row stays in the file")
    kept = [row for row in table.rows if row_id(relative, row.record) != doc_id]
    left = sum(1 for row in kept if row.record.get("text"))
    if left:
        # Excel reads UTF-8 only with a BOM: keep one where the file had it, or was in a legacy encoding
        encoding = "utf-8" if not raw.startswith(b"\xef\xbb\xbf") and _is_utf8(raw) else "utf-8-sig"
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
        tmp.write_text(write_table([*table.above, table.header, *(row.cells for row in kept)], path.suffix),
                       encoding=encoding)
        os.replace(tmp, path)
    return left


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _drop_sheet_row(path: Path, relative: str, doc_id: str, columns: Columns) -> int:
    """Rewrites a workbook upload without the row of `doc_id` (in whichever sheet holds it); returns
    the rows with text left in all its sheets."""
    if path.suffix.lower() == ".xls":  # uploads keep an .xls as .xlsx: this one was put there by hand
        raise InboxError(f"{path.name} was not rewritten: an Excel 97-2003 file cannot be written back (save it "
                         "as .xlsx); the article is out of the store, but its row stays in the file")
    try:
        book = sheets(path.read_bytes())
    except DocumentError as exc:
        raise InboxError(f"{path.name} was not rewritten: {exc}; the article is out of the store, "
                         "but its row stays in the file") from exc
    gone: dict[int, set[int]] = {}
    left = 0
    for index, sheet in enumerate(book):
        for row in table_of(sheet.rows, "XLSX", columns).rows:
            if row_id(relative, row.record) == doc_id:
                gone.setdefault(index, set()).add(row.line)
            elif row.record.get("text"):
                left += 1
    if left and gone:
        drop_rows(path, gone)
    return left
