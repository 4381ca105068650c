"""OLE compound files, the container of the binary office formats (.hwp, .doc, .xls): the only module
that imports olefile.

    with open_compound(data, "DOC", "a .docx is a zip") as ole:   # DocumentError when it is not one
        word = ole.stream("WordDocument")                          # at most MAX_PART_BYTES
        title = ole.summary_title()

A reader's own parsing runs inside the block: whatever a damaged file makes olefile or the reader
raise (a bad sector chain, a record past the end of its stream) becomes one DocumentError naming the
format, so a broken file is reported and skipped, never raised.
"""

from __future__ import annotations

import io
import struct
import zlib
from contextlib import contextmanager
from typing import Any, Iterator

from rag.documents import MAX_PART_BYTES, DocumentError

# olefile's own errors are OSError; a damaged directory gives TypeError (a storage where a stream should
# be) and OverflowError (a sector number past any index); a reader's parsing of a damaged stream gives
# the rest (bench/reader_fuzz.py)
_BROKEN = (OSError, ValueError, TypeError, OverflowError, struct.error, zlib.error, IndexError, KeyError)


class Compound:
    """An open compound file of one format (`label` names it in messages)."""

    def __init__(self, ole: Any, label: str) -> None:
        self._ole = ole
        self.label = label

    def exists(self, name: str) -> bool:
        return bool(self._ole.exists(name))

    def streams(self) -> list[list[str]]:
        """Every stream's path, as lists of storage names ("BodyText", "Section0")."""
        return self._ole.listdir()

    def stream(self, name: str, limit: int = MAX_PART_BYTES) -> bytes:
        """A stream's bytes; DocumentError when it is missing or larger than `limit`."""
        if not self._ole.exists(name):
            raise DocumentError(f"not a readable {self.label} file (no {name} stream)")
        size = self._ole.get_size(name)
        if size > limit:
            raise DocumentError(f"{name} is {size:,} bytes: refused")
        return self._ole.openstream(name).read()

    def properties(self, name: str) -> dict[int, Any]:
        """A property-set stream's properties by id ({} when it is missing or broken)."""
        try:
            return self._ole.getproperties(name, convert_time=False) if self._ole.exists(name) else {}
        except _BROKEN:
            return {}

    def summary_title(self) -> str:
        """The title in the standard SummaryInformation, decoded by its code page ("" when none)."""
        try:
            meta = self._ole.get_metadata()
        except _BROKEN:
            return ""
        title = meta.title
        if isinstance(title, bytes):
            codec = {1200: "utf-16-le", 65001: "utf-8"}.get(meta.codepage or 0, f"cp{meta.codepage or 1252}")
            try:
                title = title.decode(codec, "replace")
            except LookupError:  # a code page Python does not know
                title = title.decode("cp1252", "replace")
        return (title or "").split("\x00")[0].strip()


@contextmanager
def open_compound(data: bytes, label: str, other: str) -> Iterator[Compound]:
    """The compound file in `data`; `other` says what a file of this name that is not one may be."""
    import olefile

    if not olefile.isOleFile(data=data):
        raise DocumentError(f"not a readable {label} file (not an OLE compound file; {other})")
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            yield Compound(ole, label)
    except DocumentError:
        raise
    except _BROKEN as exc:
        raise DocumentError(f"not a readable {label} file ({type(exc).__name__}: {str(exc)[:120]})") from exc
