"""PDF articles (rag.pdf): the text layer rebuilt into paragraphs; a locked, broken or image-only file is named."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from rag.config import PROJECT_ROOT
from rag.corpus import load_corpus
from rag.pdf import PdfError, read_pdf
from rag.pdf_paragraphs import rebuild_text
from tests.pdf_hostile import drawing_pdf, hostile_pdf, korean_cmap_pdf, latin_pdf

RELEASE = PROJECT_ROOT / "tests" / "data" / "pdf" / "onsae_release.pdf"
PDFS = PROJECT_ROOT / "tests" / "data" / "pdf"
# the two paragraphs of wrap_words.html and wrap_justified.html, as written
WRAPPED_PARAGRAPHS = [
    "한빛전자는 중소 협력사와의 상생협력을 추진하기 위해 올해 모두 120억 원 규모의 공동 기술개발 사업을 새로 시작한다고 "
    "7일 밝혔다. 이번 사업은 협력사의 생산성 향상과 기술 보호를 함께 지원하며, 참여를 원하는 기업은 다음 달부터 회사 "
    "상생포털에서 신청서를 내면 된다. 회사는 상반기 중에 외부 전문가로 평가위원회를 구성해 지원 과제를 선정하고, 하반기에는 "
    "성과 점검 회의를 두 차례 열 계획이다.",
    "한빛전자 상생협력팀 윤바다 팀장은 \"협력사가 기술을 지키면서 함께 성장할 수 있도록 지원 범위를 해마다 넓혀 가겠다\"고 "
    "말했다. 회사는 지난해 협력사 45곳에 납품대금 380억 원을 앞당겨 지급했으며, 올해는 그 규모를 500억 원으로 늘릴 예정이다.",
]


def test_a_printed_release_reads_as_its_paragraphs() -> None:
    page = read_pdf(RELEASE.read_bytes())
    assert page.title == "온새물산, 협력사 스마트공장 지원 확대"
    lines = page.text.split("\n")
    # a line wrapped inside a word ("밝혔|다.", "품질관|리") is one sentence again, without a space in it
    assert ("온새물산은 중소 협력사 38곳의 스마트공장 구축을 돕기 위해 올해 72억 원을 지원한다고 5일 밝혔다. 지원 대상은 "
            "부품과 소재를 납품하는 1차와 2차 협력사이며, 회사는 공정 자동화 설비와 품질관리 소프트웨어 도입 비용의 절반을 "
            "부담한다.") in lines
    # list items keep their own lines, and the last item does not run into the next page's paragraph
    assert "○ 품질관리 전문가 12명이 협력사 현장을 6개월 동안 방문해 개선 과제를 함께 찾음" in lines
    assert lines[-1].startswith("온새물산 상생협력실 박하늘 실장은") and lines[-1].endswith("상생포털에서 받는다.")
    # the running header and footer printed on both pages are gone
    assert "보도자료" not in page.text and "새솔로 12" not in page.text


@pytest.mark.parametrize("name", ["wrap_words.pdf", "wrap_justified.pdf"])
def test_korean_lines_that_wrap_between_words_join_with_a_space(name: str) -> None:
    """Printed with CSS keep-all (the 어절 wrapping of Hangul's own PDFs), ragged and justified: the words at
    each line end are not glued to the next line's first word ("규모의|공동" is not "규모의공동"), while the
    release printed with Chromium's default wrapping still joins "밝혔|다." without one (test above)."""
    page = read_pdf((PDFS / name).read_bytes())
    assert page.text.split("\n") == ["한빛전자, 협력사 공동 기술개발에 120억 원", *WRAPPED_PARAGRAPHS]


def test_a_word_hyphenated_at_a_line_end_is_whole_again() -> None:
    # printed with Chromium: "state-|owned" at a break keeps its hyphen, a soft hyphen's "trans‐|ported" loses it
    page = read_pdf((PDFS / "wrap_english.pdf").read_bytes())
    assert page.text.split("\n")[0] == ("Officials said the state-owned lenders would guarantee equipment purchases for "
                                         "suppliers, and the new programme would be transported to every regional office.")
    # a plain hyphen is the word's own unless the document spells the word without it elsewhere
    assert rebuild_text(["The state-\nowned lenders grew."]) == "The state-owned lenders grew."
    assert rebuild_text(["Goods were trans-\nported fast.\nThe transported goods arrived."]) == (
        "Goods were transported fast.\nThe transported goods arrived.")



def test_a_word_hyphenated_before_a_non_ascii_letter_joins_and_the_folder_still_ingests(tmp_path: Path) -> None:
    # "pre-|état": the next line opens with a lowercase letter outside A-Z, which once crashed the join
    # (and with it the whole folder's ingest)
    (tmp_path / "etat.pdf").write_bytes(latin_pdf(["the so-called pre-", "état system is used"]))
    (tmp_path / "release.pdf").write_bytes(RELEASE.read_bytes())
    load = load_corpus([tmp_path])
    assert {article.doc_id: article.text for article in load.articles}["etat.pdf"] == "the so-called pre-état system is used"
    assert not load.problems
    assert rebuild_text(["the Kremlin-\nаппарат said"]) == "the Kremlin-аппарат said"


def test_a_pdf_whose_text_cannot_be_rebuilt_is_skipped_with_a_reason(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def breaks(pages, ends=None):
        raise IndexError("list index out of range")

    monkeypatch.setattr("rag.pdf.rebuild_text", breaks)  # a defect yet unknown in rebuilding a page's lines
    (tmp_path / "release.pdf").write_bytes(RELEASE.read_bytes())
    (tmp_path / "note.txt").write_text("온새물산이 협력사 지원을 늘렸다고 5일 밝혔다.\n", encoding="utf-8")
    load = load_corpus([tmp_path])
    assert [article.doc_id for article in load.articles] == ["note.txt"]
    ((where, why),) = load.problems
    assert where == str(tmp_path / "release.pdf")
    assert why == "PDF text could not be rebuilt into paragraphs (IndexError: list index out of range)"

def test_repeated_page_furniture_goes_and_other_scripts_join_with_a_space() -> None:
    pages = ["- 1 -\nThe partnership fund will grow to one hundred billion won over the next three years as\n"
             "planned.\nShort heading\n다음 줄",
             "- 2 -\n두 번째 쪽의 문장이다."]
    assert rebuild_text(pages) == ("The partnership fund will grow to one hundred billion won over the next three years as "
                                   "planned.\nShort heading\n다음 줄\n두 번째 쪽의 문장이다.")
    assert rebuild_text(["- 1 -\n한 쪽뿐인 문서다."]) == "- 1 -\n한 쪽뿐인 문서다."  # one page: nothing repeats


def _pdf(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_locked_broken_or_image_only_pdf_is_named() -> None:
    locked = PdfWriter(clone_from=PdfReader(RELEASE))
    locked.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with pytest.raises(PdfError, match="encrypted PDF: it needs a password"):
        read_pdf(_pdf(locked))
    # encrypted only against editing (as many public-sector PDFs are, with AES): the empty user password opens it
    for algorithm in ("RC4-128", "AES-128", "AES-256"):
        editable = PdfWriter(clone_from=PdfReader(RELEASE))
        editable.encrypt(user_password="", owner_password="owner", algorithm=algorithm)
        assert "박하늘 실장" in read_pdf(_pdf(editable)).text
    with pytest.raises(PdfError, match="not a readable PDF"):
        read_pdf(b"%PDF-1.7\n" + b"\x8f garbage " * 200)
    blank = PdfWriter()
    blank.add_blank_page(width=595, height=842)
    with pytest.raises(PdfError, match="no text layer"):
        read_pdf(_pdf(blank))
    with pytest.raises(PdfError, match="PDF has 2 pages, over the limit of 1"):
        read_pdf(RELEASE.read_bytes(), max_pages=1)


def test_a_folder_of_pdfs_reads_the_good_and_reports_the_bad(tmp_path: Path) -> None:
    (tmp_path / "release.pdf").write_bytes(RELEASE.read_bytes())
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    load = load_corpus([tmp_path])
    (article,) = load.articles
    assert (article.doc_id, article.title, article.date) == ("release.pdf", "온새물산, 협력사 스마트공장 지원 확대", "2024-03-05")
    assert "품질관리 전문가 12명이" in article.text
    ((where, why),) = load.problems
    assert where == str(tmp_path / "scan.pdf") and why.startswith("not a readable PDF")


def test_a_decompression_bomb_is_refused_not_inflated() -> None:
    import zlib

    from pypdf.generic import NameObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    packer = zlib.compressobj(9)
    bomb = StreamObject()  # 300 MB of zeros in 0.3 MB: pypdf stops inflating at 75 MB
    bomb.set_data(b"".join(packer.compress(b"\x00" * (1 << 20)) for _ in range(300)) + packer.flush())
    bomb[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(bomb)
    with pytest.raises(PdfError, match="not a readable PDF .LimitReachedError"):
        read_pdf(_pdf(writer))



class _TickingClock:
    """One second passes every time the reader looks at the clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.mark.parametrize("form_calls", [0, 30])
def test_a_pdf_that_takes_too_long_to_extract_is_refused_mid_page(form_calls: int) -> None:
    hostile = hostile_pdf(pages=3, operators=200, form_calls=form_calls)
    # every page is read when the reader has time (the shared stream is parsed once per page or call)
    assert read_pdf(hostile, max_seconds=100_000, clock=_TickingClock()).text.count("a") >= 3
    # with 50 clock looks allowed the reader stops inside the first page, not after it (pypdf catches
    # what is raised inside a form and goes on with the page: the page's next operator stops it)
    clock = _TickingClock()
    with pytest.raises(PdfError, match=r"PDF text took longer than 50 s to extract \(at page 1 of 3\): refused"):
        read_pdf(hostile, max_seconds=50, clock=clock)
    assert clock.now < 60
    if form_calls:
        # the time runs out inside a page's last form: the page ends quietly, its text cut short
        with pytest.raises(PdfError, match=r"took longer than 50 s to extract \(at page 1 of 1\)"):
            read_pdf(hostile_pdf(pages=1, operators=200, form_calls=1), max_seconds=50, clock=_TickingClock())
    # a drawing shows no text: it is not parsed operator by operator (pypdf skips a stream without
    # text operators unless given a visitor), so its 5,000 operators never look at the clock
    with pytest.raises(PdfError, match="PDF has no text layer"):
        read_pdf(drawing_pdf(5_000), max_seconds=50, clock=_TickingClock())
    # an article's two pages are far inside the default limit
    assert read_pdf(RELEASE.read_bytes()).title == "온새물산, 협력사 스마트공장 지원 확대"


@pytest.mark.parametrize(("encoding", "codec"), [
    ("/KSCms-UHC-H", "cp949"), ("/KSC-EUC-H", "euc_kr"), ("/UniKS-UTF16-H", "utf-16-be"), ("/UniKS-UCS2-H", "utf-16-be"),
])
def test_korean_in_a_font_the_pdf_does_not_embed_reads_by_its_cmap(encoding: str, codec: str) -> None:
    text = "상생협력 기금 500억 원을 조성했다."
    assert read_pdf(korean_cmap_pdf(encoding, text, codec)).text == text


def test_a_code_no_font_maps_is_dropped_not_kept_as_half_a_character() -> None:
    # bytes that are no UTF-16 text: pypdf keeps lone surrogate halves, which no UTF-8 store can hold
    lone_halves = b"\xd8\x00" + "가".encode("utf-16-be") + b"\xdc\x01"
    page = read_pdf(korean_cmap_pdf("/UniKS-UTF16-H", "", "utf-16-be", codes=lone_halves)).text
    assert page == "가" and page.encode("utf-8")
