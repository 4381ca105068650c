"""A small .hwp (HWP 5) written record by record into an OLE compound file, for tests.

rag/hwp.py was checked against documents Hangul itself saved (pyhwp's test files: tables with
captions, header and footer, footnotes and endnotes, a password and a distribution document); those
are not ours to ship, so the tests write their own in the same shape: a FileHeader stream, a deflated
BodyText/Section0 (a distribution document: a sealed ViewText/Section0 beside it) of records (paragraph header and text, a table control with its cells, a running
header control), in a version 3 compound file whose small streams live in the mini stream.
"""

from __future__ import annotations

import struct
import zlib

_END, _FREE, _FATSECT = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
PARA_HEADER, PARA_TEXT, CTRL_HEADER, LIST_HEADER, TABLE = 66, 67, 71, 72, 77


def record(tag: int, level: int, payload: bytes) -> bytes:
    if len(payload) >= 0xFFF:
        return struct.pack("<II", tag | level << 10 | 0xFFF << 20, len(payload)) + payload
    return struct.pack("<I", tag | level << 10 | len(payload) << 20) + payload


def text_units(text: str) -> bytes:
    return text.encode("utf-16-le")


def field(code: int = 3) -> bytes:
    """An inline control of 8 code units (a field's start, say): not text."""
    return struct.pack("<8H", code, 0x6C64, 0x6966, 0, 0, 0, 0, code)


def paragraph(level: int, *parts: bytes | str, controls: list[bytes] = ()) -> bytes:
    body = b"".join(text_units(p) if isinstance(p, str) else p for p in parts) + text_units("\r")
    return (record(PARA_HEADER, level, b"\x00" * 22) + record(PARA_TEXT, level + 1, body)
            + b"".join(controls))


def control(ctrl: str, level: int, nested: bytes = b"") -> bytes:
    return record(CTRL_HEADER, level, ctrl[::-1].encode("ascii") + b"\x00" * 8) + nested


def table(level: int, rows: list[list[str]], caption: str = "") -> bytes:
    """A table control at `level` (its paragraph's level + 1): caption list, TABLE record, then cells."""
    out = b""
    if caption:
        out += record(LIST_HEADER, level + 1, struct.pack("<iI", 1, 0) + b"\x00" * 8) + paragraph(level + 1, caption)
    out += record(TABLE, level + 1, struct.pack("<IHH", 0, len(rows), len(rows[0])) + b"\x00" * 10)
    for r, cells in enumerate(rows):
        for c, cell in enumerate(cells):
            out += record(LIST_HEADER, level + 1, struct.pack("<iIHHHH", 1, 0, c, r, 1, 1) + b"\x00" * 14)
            out += paragraph(level + 1, cell)
    return control("tbl ", level, out)


def hwp(section: bytes, compressed: bool = True, flags: int = 0) -> bytes:
    header = b"HWP Document File".ljust(32, b"\x00") + struct.pack("<II", 0x05000300, flags | int(compressed))
    header = header.ljust(256, b"\x00")
    if compressed:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        section = packer.compress(section) + packer.flush()
    return compound_file({"FileHeader": header, "BodyText/Section0": section})


def distribution_hwp(section: bytes, seed: int = 0x5EED1234, key: bytes = bytes(range(16)),
                     notice: str = "이 문서는 배포용 문서입니다.") -> bytes:
    """A distribution document (배포용): `section` deflated and sealed in ViewText/Section0 under the AES-128
    `key`, which the DISTRIBUTE_DOC_DATA record before it carries masked by rand() seeded with `seed`;
    BodyText/Section0 holds only `notice`, as a document Hangul saves does. The mask is written here apart
    from rag/hwp.py's, on purpose: a mistake shared by the writer and the reader would pass a round trip
    (the reader was also checked on a distribution document Hangul saved: pyhwp's, not shipped)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    data = bytearray(struct.pack("<I", seed) + bytes((i * 7) & 0xFF for i in range(252)))
    data[4 + (seed & 0xF):4 + (seed & 0xF) + 16] = key
    state, mask, run = seed, 0, 0
    for i in range(256):  # the same mask hides and reveals (XOR)
        if run == 0:
            state = (state * 214013 + 2531011) & 0xFFFFFFFF
            mask = (state >> 16) & 0xFF
            state = (state * 214013 + 2531011) & 0xFFFFFFFF
            run = ((state >> 16) & 0xF) + 1
        if i >= 4:
            data[i] ^= mask
        run -= 1
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = packer.compress(section) + packer.flush()
    packed += b"\x00" * (-len(packed) % 16)  # AES works in 16-byte blocks; inflating stops at the stream's end
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    sealed = record(28, 0, bytes(data)) + encryptor.update(packed) + encryptor.finalize()
    header = b"HWP Document File".ljust(32, b"\x00") + struct.pack("<II", 0x05000300, 0x4 | 0x1)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = packer.compress(paragraph(0, notice)) + packer.flush()
    return compound_file({"FileHeader": header.ljust(256, b"\x00"), "BodyText/Section0": body,
                          "ViewText/Section0": sealed})


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A version 3 compound file of small streams (under 4,096 bytes each: all in the mini stream)."""
    assert all(len(data) < 4096 for data in streams.values())
    # directory: root, then storages and streams; each storage's children chained as right siblings
    entries = [{"name": "Root Entry", "type": 5, "children": []}]
    storages: dict[str, int] = {}
    mini = b""
    minifat: list[int] = []
    for path, data in streams.items():
        parent = 0
        *folders, name = path.split("/")
        for folder in folders:
            if folder not in storages:
                storages[folder] = len(entries)
                entries.append({"name": folder, "type": 1, "children": []})
                entries[parent]["children"].append(storages[folder])
            parent = storages[folder]
        first = len(mini) // 64
        sectors = max(1, -(-len(data) // 64))
        minifat += [first + i + 1 for i in range(sectors - 1)] + [_END]
        mini += data.ljust(sectors * 64, b"\x00")
        entries.append({"name": name, "type": 2, "children": [], "start": first, "size": len(data)})
        entries[parent]["children"].append(len(entries) - 1)
    for entry in entries:
        entry.setdefault("left", _FREE)
        entry.setdefault("right", _FREE)
        kids = entry["children"]
        entry["child"] = kids[0] if kids else _FREE
        for a, b in zip(kids, kids[1:]):
            entries[a]["right"] = b
    dir_sectors = -(-len(entries) // 4)
    minifat_sectors = -(-len(minifat) // 128)
    mini_sectors = -(-len(mini) // 512)
    first_dir, first_minifat = 1, 1 + dir_sectors
    first_mini = first_minifat + minifat_sectors
    entries[0].update(start=first_mini, size=len(mini))
    fat = [_FATSECT]
    for first, count in ((first_dir, dir_sectors), (first_minifat, minifat_sectors), (first_mini, mini_sectors)):
        fat += [first + i + 1 for i in range(count - 1)] + [_END]
    directory = b"".join(_entry(e) for e in entries).ljust(dir_sectors * 512, b"\x00")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\x00" * 6 + struct.pack("<IIIIIIIII", 0, 1, first_dir, 0, 4096, first_minifat, minifat_sectors,
                                          _END, 0)
              + struct.pack("<109I", 0, *([_FREE] * 108)))
    return (header + struct.pack(f"<{len(fat)}I", *fat).ljust(512, b"\xff") + directory
            + struct.pack(f"<{len(minifat)}I", *minifat).ljust(minifat_sectors * 512, b"\xff")
            + mini.ljust(mini_sectors * 512, b"\x00"))


def _entry(entry: dict) -> bytes:
    name = entry["name"].encode("utf-16-le") + b"\x00\x00"
    return (name.ljust(64, b"\x00") + struct.pack("<HBB", len(name), entry["type"], 1)
            + struct.pack("<III", entry["left"], entry["right"], entry["child"]) + b"\x00" * 36
            + struct.pack("<III", entry.get("start", _END) if entry["type"] != 1 else 0, entry.get("size", 0), 0))


RELEASE = hwp(
    paragraph(0, "새누리기계, 협력사 납품대금 조기 지급",
              controls=[control("head", 1, paragraph(2, "새누리기계 보도자료"))])
    + paragraph(0, "배포일시: 2024년 5월 2일")
    + paragraph(0, "새누리기계는 협력사 120곳에 ", field(), "납품대금 350억 원을 명절 전에 앞당겨 지급한다고 2일 밝혔다.")
    + paragraph(0, "", controls=[table(1, [["구분", "협력사 수", "금액"], ["1차 협력사", "80곳", "270억 원"],
                                          ["2차 협력사", "40곳", "80억 원"]], caption="협력사별 지급액")])
    + paragraph(0, '정하늘 상생협력팀장은 "협력사 자금 부담을 덜겠다"고 말했다.',
                controls=[control("fn  ", 1, paragraph(2, "각주: 지급일은 명절 닷새 전이다."))]))
