"""Zip archives of articles, opened as hostile input: safe member names, bounded unpacking.

    for member in read_zip(fileobj, ZipLimits(...)):
        member.path, member.data      # a safe relative path, the unpacked bytes

A zip is refused as a whole (Rejected with a code) when any member would escape the target folder
(`../`, absolute paths, drive letters), is a symlink or another zip, when it has too many entries,
or when it unpacks past a limit. Sizes are counted while unpacking, never taken from the headers:
a header that understates a member makes zipfile stop early and fail its checksum, which is
refused as well.
"""

from __future__ import annotations

import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO, Iterator

_CHUNK = 1 << 16
# Below this a member cannot hurt whatever its ratio: 10 kB of indentation packs 300x.
_RATIO_FLOOR = 1 << 20
_UTF8_NAME_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


class Rejected(ValueError):
    """An upload or zip member refused: `code` for programs, the message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ZipLimits:
    max_member_bytes: int
    max_total_bytes: int
    max_entries: int
    max_ratio: float


@dataclass(frozen=True)
class ZipMember:
    path: PurePosixPath  # safe and relative, NFC
    data: bytes
    packed: int  # compressed size, for the report


def safe_relative_path(name: str) -> PurePosixPath:
    """`name` as a relative path that stays inside its folder; Rejected("unsafe_path") otherwise."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/"))  # macOS sends decomposed Hangul
    if not name.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise Rejected("bad_name", f"file name {name!r} is empty or holds control characters")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise Rejected("unsafe_path", f"{name!r} is an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise Rejected("unsafe_path", f"{name!r} points outside the upload folder ('..')")
    if not parts or any(len(part.encode("utf-8")) > 255 for part in parts):
        raise Rejected("bad_name", f"file name {name!r} is empty or too long")
    return PurePosixPath(*parts)


def is_zip(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))  # local file header, or an empty archive


def read_zip(source: BinaryIO, limits: ZipLimits) -> Iterator[ZipMember]:
    """The file members of a zip, checked before the first is unpacked and counted while unpacking.

    Directories, macOS resource forks (__MACOSX/) and hidden files (.DS_Store) are skipped.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise Rejected("bad_zip", f"not a readable zip archive: {exc}") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_entries:
            raise Rejected("too_many_entries", f"zip has {len(infos):,} entries (limit {limits.max_entries:,})")
        members = [(info, path) for info in infos if (path := _checked(info, limits)) is not None]
        declared = sum(info.file_size for info, _ in members)
        if declared > limits.max_total_bytes:
            raise Rejected("total_too_large", f"zip unpacks to {_mb(declared)} (limit {_mb(limits.max_total_bytes)})")
        total = 0
        for info, path in members:
            data = _unpack(archive, info, limits, limits.max_total_bytes - total)
            total += len(data)
            yield ZipMember(path=path, data=data, packed=info.compress_size)


def _checked(info: zipfile.ZipInfo, limits: ZipLimits) -> PurePosixPath | None:
    """The member's safe path; None for entries that are not articles (folders, hidden files)."""
    name = _decoded_name(info)
    path = safe_relative_path(name)
    if stat.S_ISLNK(info.external_attr >> 16):
        raise Rejected("symlink", f"zip entry {name!r} is a symbolic link")
    if info.is_dir() or path.parts[0] == "__MACOSX" or any(part.startswith(".") for part in path.parts):
        return None
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise Rejected("bad_zip", f"zip entry {name!r} is encrypted")
    if path.suffix.lower() == ".zip":
        raise Rejected("nested_zip", f"zip entry {name!r} is another zip: upload it on its own")
    if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        raise Rejected("zip_bomb", f"zip entry {name!r} unpacks {info.file_size / max(info.compress_size, 1):,.0f} "
                                   f"times its packed size (limit {limits.max_ratio:,.0f}): a zip bomb")
    if info.file_size > limits.max_member_bytes:
        raise Rejected("too_large", f"zip entry {name!r} unpacks to {_mb(info.file_size)} "
                                    f"(limit {_mb(limits.max_member_bytes)} per file)")
    return path


def _unpack(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, room: int) -> bytes:
    """The member's bytes, counted as they come: headers can lie about sizes."""
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                size += len(chunk)
                if size > limits.max_member_bytes or size > room:
                    raise Rejected("zip_bomb", f"zip entry {info.filename!r} unpacks past the size limits "
                                               "its header declared: a zip bomb")
                if size > _RATIO_FLOOR and size > limits.max_ratio * max(info.compress_size, 1):
                    raise Rejected("zip_bomb", f"zip entry {info.filename!r} unpacks over {limits.max_ratio:,.0f} "
                                               "times its packed size: a zip bomb")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        # a CRC failure here is also what an understated size header produces
        raise Rejected("bad_zip", f"zip entry {info.filename!r} is damaged or does not match its header: {exc}") from exc
    return b"".join(chunks)


def _decoded_name(info: zipfile.ZipInfo) -> str:
    """The entry name; Windows Explorer stores Korean names in CP949 without the UTF-8 flag."""
    if info.flag_bits & _UTF8_NAME_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for encoding in ("utf-8", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MB"
