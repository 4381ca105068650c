"""Upload safety (rag.uploads, rag.archive): limits, types by content, hostile zips, atomic writes."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from rag.archive import Rejected, safe_relative_path
from rag.config import UploadSettings
from rag.corpus import load_corpus
from rag.uploads import Upload, UploadReport, save_uploads

PAGES = Path(__file__).parent / "data" / "html"
ARTICLE = "중소기업과 상생협력 협약을 맺었다. 납품대금을 조기에 지급한다.\n".encode("utf-8")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
MB = 1 << 20


@pytest.fixture
def target(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "earlier.txt").write_bytes(ARTICLE)  # an article already there must survive any upload
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, hidden ones included (a left-over staging file would show)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def zipped(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def only_rejection(report: UploadReport) -> tuple[str, str]:
    assert report.accepted == [] and len(report.rejected) == 1, report
    return report.rejected[0].code, report.rejected[0].message


def test_a_20_mb_file_is_refused_without_reading_it_all(target: Path) -> None:
    before = snapshot(target)
    stream = io.BytesIO(ARTICLE * (20 * MB // len(ARTICLE)))
    code, message = only_rejection(save_uploads([Upload("big.txt", stream)], target, UploadSettings()))
    assert code == "too_large" and "'big.txt'" in message and "10 MB" in message
    assert stream.tell() <= 10 * MB + (1 << 16)  # stopped one chunk past the limit
    assert snapshot(target) == before


def test_a_binary_renamed_txt_is_refused_by_content(target: Path) -> None:
    before = snapshot(target)
    code, message = only_rejection(save_uploads([Upload("photo.txt", PNG)], target, UploadSettings()))
    assert code == "not_text" and "binary" in message and "'photo.txt'" in message
    assert snapshot(target) == before


@pytest.mark.parametrize("evil", ["../../evil.txt", "news/../../evil.txt", "/etc/evil.txt", "C:\\evil.txt",
                                  "..\\..\\evil.txt"])
def test_a_zip_with_paths_outside_the_folder_is_refused_whole(target: Path, evil: str) -> None:
    before = snapshot(target)
    data = zipped({"good.txt": ARTICLE, evil: ARTICLE})
    code, message = only_rejection(save_uploads([Upload("news.zip", data)], target, UploadSettings()))
    assert code == "unsafe_path" and "'news.zip'" in message
    assert snapshot(target) == before  # not even the good member
    assert not (target.parent / "evil.txt").exists() and not Path("/etc/evil.txt").exists()


def test_a_zip_bomb_is_refused_before_it_is_unpacked(target: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("bomb.txt", "w") as member:
        for _ in range(50):
            member.write(bytes(MB))  # 50 MB of zeros pack to ~50 kB
    assert len(buffer.getvalue()) < MB // 10
    before = snapshot(target)
    code, message = only_rejection(save_uploads([Upload("bomb.zip", buffer.getvalue())], target, UploadSettings()))
    assert code == "zip_bomb" and "bomb.txt" in message
    assert snapshot(target) == before


def test_a_zip_whose_header_understates_a_member_is_refused(target: Path) -> None:
    """A bomb that lies: the headers say 1000 bytes, the data unpacks to 5 MB."""
    data = bytearray(zipped({"small.txt": b" " * (5 * MB)}))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("small.txt")
    declared = info.file_size.to_bytes(4, "little")
    assert data.count(declared) == 2  # local header and central directory
    data = bytearray(bytes(data).replace(declared, (1000).to_bytes(4, "little")))
    before = snapshot(target)
    code, message = only_rejection(save_uploads([Upload("liar.zip", bytes(data))], target, UploadSettings()))
    assert code == "bad_zip" and "header" in message
    assert snapshot(target) == before


def test_zip_members_may_not_add_up_past_the_upload_limit(target: Path) -> None:
    settings = UploadSettings(max_file_mb=1, max_total_mb=2)
    entries = {f"{i}.txt": ARTICLE * (900_000 // len(ARTICLE)) for i in range(3)}
    before = snapshot(target)
    code, message = only_rejection(save_uploads([Upload("many.zip", zipped(entries))], target, settings))
    assert code == "total_too_large" and "2.0 MB" in message
    assert snapshot(target) == before


def test_a_zip_with_a_symlink_is_refused(target: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("good.txt", ARTICLE)
        link = zipfile.ZipInfo("passwd.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    before = snapshot(target)
    code, message = only_rejection(save_uploads([Upload("links.zip", buffer.getvalue())], target, UploadSettings()))
    assert code == "symlink" and "passwd.txt" in message
    assert snapshot(target) == before


def test_nested_zips_and_too_many_entries_are_refused(target: Path) -> None:
    before = snapshot(target)
    inner = zipped({"a.txt": ARTICLE})
    code, _ = only_rejection(save_uploads([Upload("outer.zip", zipped({"inner.zip": inner}))], target, UploadSettings()))
    assert code == "nested_zip"
    many = zipped({f"{i}.txt": ARTICLE for i in range(6)})
    code, message = only_rejection(save_uploads([Upload("many.zip", many)], target, UploadSettings(max_zip_entries=5)))
    assert code == "too_many_entries" and "6" in message
    code, _ = only_rejection(save_uploads([Upload("fake.zip", ARTICLE)], target, UploadSettings()))
    assert code == "not_zip"
    assert snapshot(target) == before


def test_a_valid_zip_of_two_pages_and_a_text_is_written_and_ingestable(target: Path) -> None:
    pages = {name: (PAGES / name).read_bytes() for name in ("hanbit_article.html", "saesol_microdata.html")}
    entries = {f"2024/{name}": data for name, data in pages.items()} | {
        "memo.txt": ARTICLE, "__MACOSX/._memo.txt": b"\x00\x05\x16\x07", ".DS_Store": b"\x00\x00\x00\x01Bud1"}
    report = save_uploads([Upload("week.zip", zipped(entries))], target, UploadSettings())
    assert report.rejected == []
    assert sorted(r.path for r in report.accepted) == ["2024/hanbit_article.html", "2024/saesol_microdata.html", "memo.txt"]
    assert [r.name for r in report.accepted][0] == "week.zip:2024/hanbit_article.html"
    assert snapshot(target) == {"earlier.txt": ARTICLE, "memo.txt": ARTICLE,
                                **{f"2024/{name}": data for name, data in pages.items()}}
    titles = {a.doc_id: a.title for a in load_corpus([target]).articles}
    # doc ids are paths relative to the corpus root: the zip's folders stay part of them
    assert titles["2024/hanbit_article.html"].startswith("한빛전자, 협력사 납품대금 연동제")
    assert titles["2024/saesol_microdata.html"].startswith("상생결제 누적 1000조 돌파")


def test_one_bad_file_does_not_stop_the_good_ones(target: Path) -> None:
    report = save_uploads([
        Upload("a.html", (PAGES / "daon_articlebody.html").read_bytes()),
        Upload("b.txt", PNG),
        Upload("c.rtf", b"PK\x03\x04 not rtf"),
        Upload("c.pptx", b"PK\x03\x04 slides"),
        Upload("c.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old binary doc"),
        Upload("c.pdf", ARTICLE),
        Upload("c.hwpx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old binary hwp"),
        Upload("c.hwp", b"PK\x03\x04 an hwpx"),
        Upload("c.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 an old binary xls"),
        Upload("c.doc", b"PK\x03\x04 a docx"),
        Upload("c.xls", b"PK\x03\x04 an xlsx"),
        Upload("c.odt", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 a doc"),
        Upload("d.jsonl", b"not json\n"),
        Upload("d.csv", "기사 한 편의 본문만 있는 파일이다. 머리글 줄이 없이 첫 줄부터 기사 문장이 길게 이어지고 쉼표는 없다. 그래서 이 줄은 머리글이 아니라 기사다.\n".encode("utf-8")),
        Upload("e.md", b""),
        Upload("a.html", ARTICLE),
        Upload(".env.txt", ARTICLE),
        Upload("~$보고서.docx", b"\x08user"),
        Upload("earlier.txt", "새 판이다. 기사가 고쳐졌다.\n".encode("utf-8")),
    ], target, UploadSettings())
    assert [(r.name, r.code) for r in report.rejected] == [
        ("b.txt", "not_text"), ("c.rtf", "not_rtf"), ("c.pptx", "unsupported_type"), ("c.docx", "not_docx"), ("c.pdf", "not_pdf"), ("c.hwpx", "not_hwpx"),
        ("c.hwp", "not_hwp"), ("c.xlsx", "not_xlsx"), ("c.doc", "not_doc"),
        ("c.xls", "not_xls"), ("c.odt", "not_odt"),
        ("d.jsonl", "not_jsonl"), ("d.csv", "not_table"), ("e.md", "empty"), ("a.html", "duplicate"), (".env.txt", "bad_name"),
        ("~$보고서.docx", "bad_name")]
    assert [(r.path, r.replaced) for r in report.accepted] == [("a.html", False), ("earlier.txt", True)]
    assert (target / "earlier.txt").read_text(encoding="utf-8") == "새 판이다. 기사가 고쳐졌다.\n"
    shape = report.as_dict()
    assert (shape["accepted"], shape["rejected"]) == (2, 17)
    assert report.rejected[3].message == "'c.docx' is named .docx but is not a Word document (it is a binary .doc: name it so)"
    assert report.rejected[4].message == "'c.pdf' is named .pdf but is not a PDF"
    assert report.rejected[5].message == "'c.hwpx' is named .hwpx but is not an HWPX document (it is a binary .hwp: name it so)"
    assert report.rejected[6].message == "'c.hwp' is named .hwp but is not a Hangul document (it is a zip, an .hwpx: name it so)"
    assert report.rejected[8].message == "'c.doc' is named .doc but is not a Word 97-2003 document (it is a zip, a .docx: name it so)"
    assert report.rejected[7].message == "'c.xlsx' is named .xlsx but is not an Excel workbook (it is a binary .xls: name it so)"
    assert report.rejected[9].message == "'c.xls' is named .xls but is not an Excel 97-2003 workbook (it is a zip, an .xlsx: name it so)"
    assert report.rejected[1].message == "'c.rtf' is named .rtf but is not a Rich Text Format document"
    assert report.rejected[12].message == "'d.csv': the first line is not a header row of ','-separated column names (본문, 제목, 일자, …)"
    assert shape["files"][1] == {"status": "rejected", "name": "b.txt", "path": "", "size": 0, "replaced": False,
                                 "code": "not_text", "message": "'b.txt': binary file, not text"}


def test_files_past_the_upload_total_are_refused_in_order(target: Path) -> None:
    part = ARTICLE * (600_000 // len(ARTICLE))
    report = save_uploads([Upload(f"{i}.txt", part) for i in range(3)], target, UploadSettings(max_file_mb=1,
                                                                                               max_total_mb=1.5))
    assert [r.name for r in report.accepted] == ["0.txt", "1.txt"]
    assert [(r.name, r.code) for r in report.rejected] == [("2.txt", "total_too_large")]
    assert "1.5 MB" in report.rejected[0].message and not (target / "2.txt").exists()


class BrokenStream(io.RawIOBase):
    """A client that goes away after the first chunk."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise ConnectionResetError(104, "Connection reset by peer")
        return ARTICLE


def test_a_stream_that_breaks_mid_upload_leaves_nothing_behind(target: Path) -> None:
    before = snapshot(target)
    report = save_uploads([Upload("cut.txt", BrokenStream()), Upload("ok.txt", ARTICLE)], target, UploadSettings())
    assert [(r.name, r.code) for r in report.rejected] == [("cut.txt", "read_failed")]
    assert snapshot(target) == before | {"ok.txt": ARTICLE}


def test_a_file_that_cannot_be_moved_into_place_is_reported(target: Path) -> None:
    (target / "blocked").write_bytes(b"a file where a folder is needed")
    before = snapshot(target)
    report = save_uploads([Upload("blocked/a.txt", ARTICLE)], target, UploadSettings())
    assert [r.code for r in report.rejected] == ["write_failed"]
    assert snapshot(target) == before


def test_korean_names_from_windows_and_macos_zips(target: Path) -> None:
    data = zipped({"XXXX.txt": ARTICLE})  # Explorer writes CP949 names without the UTF-8 flag
    data = data.replace(b"XXXX.txt", "기사.txt".encode("cp949"))
    report = save_uploads([Upload("win.zip", data), Upload("\u1100\u1175\u1109\u1161 2.txt", ARTICLE)], target,
                          UploadSettings())
    assert [r.path for r in report.accepted] == ["기사.txt", "기사 2.txt"]  # NFD from macOS becomes NFC
    assert (target / "기사.txt").read_bytes() == ARTICLE


@pytest.mark.parametrize(("name", "code"), [("", "bad_name"), ("a\x00.txt", "bad_name"), ("../a.txt", "unsafe_path"),
                                            ("/a.txt", "unsafe_path"), ("D:/a.txt", "unsafe_path")])
def test_unsafe_names(name: str, code: str) -> None:
    with pytest.raises(Rejected) as caught:
        safe_relative_path(name)
    assert caught.value.code == code


def test_safe_names_are_normalized() -> None:
    assert str(safe_relative_path("./2024//news\\a.html")) == "2024/news/a.html"
