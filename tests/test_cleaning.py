"""Page furniture is data (rag/lexicon/furniture.tsv, extended by a user's folders), not code."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import corpus
from rag.cleaning import Furniture, FurnitureError, bundled, clean_document
from rag.corpus import load_corpus
from rag.vocabulary import DEFAULT_LEXICON, Lexicon

# A line of a made-up outlet's page; no bundled list knows it.
ARTICLE = "새누리 협력사 지원 확대\n구독신청 바로가기\n새누리는 협력사 20곳에 10억 원을 지원한다고 밝혔다.\n"


def user_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "my-lexicon"
    folder.mkdir()
    (folder / "furniture.tsv").write_text(text, encoding="utf-8")
    return folder


def test_bundled_lists_are_part_of_the_cleaner_version() -> None:
    # editing rag/lexicon/furniture.tsv changes what every stored article would be cleaned to:
    # it needs a new CLEANER_VERSION (and then this fingerprint) so stores re-ingest
    assert bundled().fingerprint == corpus.BUNDLED_FURNITURE, (
        "rag/lexicon/furniture.tsv changed: bump CLEANER_VERSION and BUNDLED_FURNITURE in rag/corpus.py")


def test_each_kind_of_entry_drops_its_lines() -> None:
    furniture = bundled()
    assert {"본문바로가기", "presscenter"} <= furniture.lines and {"페이스북", "여행/레저"} <= furniture.words
    raw = "제목\n본문 바로가기\n페이스북 | 트위터 | 공유하기\n가벼운 증상은 동네 병의원으로\n본문 문장이다.\n"
    assert clean_document(raw, "text")[0] == "제목\n본문 문장이다."
    # with no lists at all, the same lines stay: they are dropped because of the data
    kept = clean_document(raw, "text", Furniture())[0]
    assert "본문 바로가기" in kept and "페이스북 | 트위터 | 공유하기" in kept and "가벼운 증상은" in kept


def test_a_users_folder_extends_the_bundled_lists(tmp_path: Path) -> None:
    folder = user_folder(tmp_path, "# my outlet's page\nline\t구독신청 바로가기\n")
    furniture = Furniture.load([DEFAULT_LEXICON, folder])
    assert bundled().lines < furniture.lines
    assert "구독신청" in clean_document(ARTICLE, "text")[0]
    assert clean_document(ARTICLE, "text", furniture)[0] == (
        "새누리 협력사 지원 확대\n새누리는 협력사 20곳에 10억 원을 지원한다고 밝혔다.")


def test_a_users_lists_enter_the_content_hash(tmp_path: Path) -> None:
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    before = load_corpus([tmp_path / "news"]).articles[0]
    folder = user_folder(tmp_path, "line\t구독신청 바로가기\n")
    after = load_corpus([tmp_path / "news"], furniture=Furniture.load([DEFAULT_LEXICON, folder])).articles[0]
    assert after.content_hash != before.content_hash and "구독신청" not in after.text  # re-ingested, cleaned
    # the bundled lists alone keep the hashes every existing store was built with
    assert load_corpus([tmp_path / "news"], furniture=Furniture.load()).articles[0].content_hash == before.content_hash


@pytest.mark.parametrize("text", ["menu\t구독\n", "line\n", "line\t  \n", "구독신청\n"])
def test_a_broken_furniture_file_names_the_file_and_line(tmp_path: Path, text: str) -> None:
    folder = user_folder(tmp_path, "# ok\nline\t구독\n" + text)
    with pytest.raises(FurnitureError, match=r"furniture\.tsv:3: expected 'KIND<TAB>TEXT'"):
        Furniture.load([folder])


def test_ingest_reports_a_broken_furniture_file_and_keeps_the_store(tmp_path: Path) -> None:
    from dataclasses import replace

    from rag.config import load_settings
    from rag.ingest import IngestError
    from rag.pipeline import build_pipeline
    from tests.fakes import HashingEmbedder

    s = load_settings(None, env={})
    folder = user_folder(tmp_path, "banner\n")
    s = replace(s, paths=replace(s.paths, data_dir=tmp_path, cache_dir=tmp_path / "cache"),
                store=replace(s.store, dir=tmp_path / "store"),
                answer=replace(s.answer, lexicon=(DEFAULT_LEXICON, folder)))
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "a.txt").write_text(ARTICLE, encoding="utf-8")
    pipe = build_pipeline(s, embedder=HashingEmbedder())
    try:
        with pytest.raises(IngestError, match=r"furniture\.tsv:1: .*the store is unchanged"):
            pipe.ingest([tmp_path / "news"])
    finally:
        pipe.close()


def test_the_furniture_file_is_not_part_of_the_tokenizer_cache_key(tmp_path: Path) -> None:
    folder = user_folder(tmp_path, "line\t구독신청 바로가기\n")
    assert Lexicon.load([DEFAULT_LEXICON, folder]).fingerprint == Lexicon.load([DEFAULT_LEXICON]).fingerprint


def test_control_characters_never_reach_the_text(tmp_path: Path) -> None:
    # a JSON "\u0000" or a terminal escape from a scraper is not text: it must not reach the passages
    (tmp_path / "feed.jsonl").write_text('{"id": "n1", "text": "협력사\\u0000 지원\\u001b[0m을 늘린다.\\f둘째 쪽이다."}\n',
                                         encoding="utf-8")
    (article,) = load_corpus([tmp_path]).articles
    assert article.text == "협력사 지원 [0m을 늘린다.\n둘째 쪽이다."


def test_a_press_releases_distribution_line_dates_it() -> None:
    text, meta = clean_document("협력사 지원 확대\n배포일시: 2024년 3월 5일\n배포일정은 다음 달에 정한다.\n본문이다.", "text")
    assert meta.date == "2024-03-05" and "배포일시" not in text and "배포일정은 다음 달에 정한다." in text
    assert clean_document("제목\n배포일 2023. 11. 20.\n본문이다.", "text")[1].date == "2023-11-20"


def test_a_header_line_of_date_and_outlet_dates_the_article_and_names_its_publisher() -> None:
    body = "새솔산업이 협력사와 기술을 나누는 협약을 맺었다."
    for line in ("2024-05-02 한빛경제", "한빛경제 | 2024.05.02 10:31", "2024년 5월 2일 (목) 한빛경제"):
        text, meta = clean_document(f"새솔산업, 협력사와 기술 공유\n{line}\n\n{body}", "text")
        assert text == f"새솔산업, 협력사와 기술 공유\n\n{body}", line
        assert (meta.date, meta.publisher) == ("2024-05-02", "한빛경제"), line
    # a reporter's byline dates it and names no outlet
    meta = clean_document(f"제목\n홍길동 기자 2024.05.02\n{body}", "text")[1]
    assert (meta.date, meta.publisher) == ("2024-05-02", None)
    # a label or a weekday beside the date is no outlet
    for line in ("2024.05.02 09:00 입력", "2024년 5월 2일 화요일", "입력 2024.05.02"):
        assert clean_document(f"제목\n{line}\n{body}", "text")[1].publisher is None, line
    # the label after the date dates the article as the label before it does; a modification date does not
    text, meta = clean_document(f"제목\n2024.05.02 09:00 입력\n2024.05.03 10:00 수정\n{body}", "text")
    assert text == f"제목\n{body}" and meta.date == "2024-05-02"
    assert clean_document(f"제목\n2024.05.03 수정\n{body}", "text")[1].date is None
    # a date line with its weekday written out
    text, meta = clean_document(f"제목\n2024년 5월 2일 목요일 한빛경제\n2024년 5월 2일 목요일\n{body}", "text")
    assert text == f"제목\n{body}" and (meta.date, meta.publisher) == ("2024-05-02", "한빛경제")
    # further down the article the same shape is text: "2024-05-02 서울" may open a paragraph
    raw = "제목\n첫 문단이다.\n둘째 문단이다.\n셋째 문단이다.\n2024-05-02 서울\n끝 문단이다."
    text, meta = clean_document(raw, "text")
    assert "2024-05-02 서울" in text and meta.publisher is None


def test_a_relative_lexicon_folder_is_read_from_the_project_root(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Furniture.load([Path("rag/lexicon")]) == bundled()
    assert Furniture.load([DEFAULT_LEXICON, tmp_path]) == bundled()  # a folder without the file adds nothing


_BODY = "".join(f"<p>새솔산업은 협력사 {i}곳과 기술을 나누는 협약을 맺었다고 밝혔다. 협약에 따라 특허를 무상으로 이전한다.</p>"
                for i in range(6))


def test_a_page_without_declared_metadata_takes_what_its_text_says() -> None:
    page = (f"<html><body><article><p>새솔산업, 협력사와 기술 공유</p><p>2024.05.02</p>{_BODY}"
            "<p>ⓒ 한빛경제 무단전재 및 재배포 금지</p></article></body></html>")
    meta = clean_document(page, "html")[1]
    assert (meta.title, meta.date, meta.publisher) == ("새솔산업, 협력사와 기술 공유", "2024-05-02", "한빛경제")
    declared = page.replace("<html>", "<html><head><title>선언된 제목</title><meta property='og:site_name' "
                                      "content='다온일보'><meta property='article:published_time' content='2023-01-02'></head>")
    meta = clean_document(declared, "html")[1]
    assert (meta.title, meta.date, meta.publisher) == ("선언된 제목", "2023-01-02", "다온일보")


def test_a_release_time_without_its_year_takes_the_year_printed_with_that_day() -> None:
    body = "지난 계획('23.5.2)에 이어 '24.11.28 추가 지원을 밝혔다."
    assert clean_document(f"보도시점 11.28(목) 12:00\n협력사 지원 확대\n{body}", "text")[1].date == "2024-11-28"
    body = "2023년 5월 2일 계획에 이어 2024년 11월 28일 추가 지원을 밝혔다."
    assert clean_document(f"보도시점 11.28(목) 12:00\n협력사 지원 확대\n{body}", "text")[1].date == "2024-11-28"
    assert clean_document("보도시점 11.28(목) 12:00\n협력사 지원 확대\n본문이다.", "text")[1].date is None


def test_an_agency_publishes_only_its_press_release() -> None:
    body = "중소벤처기업부(장관 홍길동)는 협력사 지원을 늘린다고 밝혔다."
    assert clean_document(f"협력사 지원 확대\n{body}", "text")[1].publisher is None
    assert clean_document(f"보도시점 11.28(목) 12:00\n협력사 지원 확대\n{body}", "text")[1].publisher == "중소벤처기업부"


def test_a_company_newsroom_title_names_its_publisher() -> None:
    body = "새솔전자는 협력사 지원을 늘린다고 밝혔다."
    assert clean_document(f"Press Center\n새솔전자, 협력사 지원 확대\n{body}", "text")[1].publisher == "새솔전자"
    assert clean_document(f"새솔전자, 협력사 지원 확대\n{body}", "text")[1].publisher is None  # no newsroom page
    assert clean_document(f"Press Center\n협력사 지원 확대\n{body}", "text")[1].publisher is None  # no name first


def test_a_wire_dateline_names_the_outlet_within_the_first_twelve_lines_of_text() -> None:
    paragraphs = [f"{i}번째 짧은 문단이다." for i in range(9)]
    raw = "\n\n".join(["협력사 지원 확대", *paragraphs, "(서울=한빛뉴스) 홍길동 기자 = 새솔전자가 협력사를 돕는다."])
    assert clean_document(raw, "text")[1].publisher == "한빛뉴스"  # the eleventh line of text; blank lines do not count


@pytest.mark.parametrize("first", [
    "새솔전자 직원들이 협력사가 만든 부품을 살펴보고 있다",  # a photo caption
    "새솔전자는 협력사 20곳에 10억 원을 지원한다고 밝혔다.",  # a sentence
    "새솔전자는 협력사를 돕는다. 지원 규모는 10억 원",  # sentences
    "새솔전자와 다온물산 한결화학 미르정밀 누리건설 가람에너지가 함께 만든 협력사 상생 지원 프로그램의 올해 첫 성과 보고회",  # over 60
])
def test_a_first_line_that_is_no_headline_is_no_title(first: str) -> None:
    assert clean_document(f"{first}\n본문이다.", "text")[1].title == ""
    assert clean_document("새솔전자 협력사 지원 확대\n본문이다.", "text")[1].title == "새솔전자 협력사 지원 확대"


@pytest.mark.parametrize("later", ["date 2025-11-09 본문 첫 문장이다.", "2025.11.09", "배포일시: 2025년 11월 9일",
                                   "입력 2025.11.09 10:00", "2025.11.09 10:00 입력", "2025-11-09 다온일보"])
def test_the_first_date_a_page_prints_is_the_articles(later: str) -> None:
    assert clean_document(f"제목\n2024.05.02\n{later}\n본문이다.", "text")[1].date == "2024-05-02"


def test_a_line_that_was_only_a_crawlers_date_leaves_no_trace() -> None:
    text, meta = clean_document("제목\ndate 2025-11-09\n본문이다.", "text")
    assert text == "제목\n본문이다." and meta.date == "2025-11-09"


def test_a_release_line_without_a_date_is_dropped() -> None:
    text, meta = clean_document("보도시점 즉시\n협력사 지원 확대\n본문이다.", "text")
    assert text == "협력사 지원 확대\n본문이다." and meta.date is None


def test_a_newsroom_page_stays_one_past_its_other_furniture() -> None:
    raw = "Press Center\n본문 바로가기\n새솔전자, 협력사 지원 확대\n새솔전자는 협력사 지원을 늘린다고 밝혔다."
    assert clean_document(raw, "text")[1].publisher == "새솔전자"


def test_a_sentence_opening_with_a_metadata_label_stays() -> None:
    text, meta = clean_document("제목\n등록 업체는 모두 120곳이었다\n본문이다.", "text")
    assert "등록 업체는 모두 120곳이었다" in text and meta.date is None


def test_a_modification_date_is_not_the_articles() -> None:
    text, meta = clean_document("제목\n수정 2024.05.03 10:00\n본문이다.", "text")
    assert text == "제목\n본문이다." and meta.date is None


def test_a_header_line_with_an_impossible_date_is_text() -> None:
    text, meta = clean_document("제목\n2019.02.30 한빛경제\n본문이다.", "text")
    assert "2019.02.30 한빛경제" in text and (meta.date, meta.publisher) == (None, None)


def test_the_first_header_outlet_is_the_publisher() -> None:
    meta = clean_document("제목\n2024-05-02 한빛경제\n다온일보 | 2024.05.02 10:31\n본문이다.", "text")[1]
    assert meta.publisher == "한빛경제"


def test_copyright_notices_go_and_the_first_owner_is_the_publisher() -> None:
    raw = "제목\n본문이다.\n무단 전재 및 재배포 금지\nⓒ 한빛경제\nⓒ 다온일보\nhttps://news.example.com/a/123"
    text, meta = clean_document(raw, "text")
    assert text == "제목\n본문이다." and meta.publisher == "한빛경제"


def test_a_long_line_is_text_whatever_it_mentions() -> None:
    line = ("저작권 단체는 협력사 자료를 무단 전재한 업체들을 상대로 소송을 준비하고 있으며 "
            "피해 규모가 수십억 원에 이를 것으로 보고 회원사들과 함께 대응 방안을 논의하는 자리를 다음 달 서울과 부산에서 차례로 열 계획이라고 밝혔다")
    assert len(line) > 120 and line in clean_document(f"제목\n{line}\n본문이다.", "text")[0]
    # a banner's words in a sentence of the article: only a short line holding them is the banner
    sentence = "보건당국은 겨울철 응급실 과밀을 막기 위해 가벼운 증상은 동네 병의원으로 가 달라고 시민들에게 거듭 당부했다."
    assert len(sentence) > 60 and sentence in clean_document(f"제목\n{sentence}\n본문이다.", "text")[0]


def test_a_menu_line_framed_by_bars_is_furniture() -> None:
    assert clean_document("제목\n| 페이스북 | 트위터 |\n본문이다.", "text")[0] == "제목\n본문이다."


def test_photo_and_credit_lines_go_and_the_first_credit_is_the_last_resort_publisher() -> None:
    text, meta = clean_document("제목\n[사진=한빛경제]\n새솔전자 제공\n본문이다.", "text")
    assert text == "제목\n본문이다." and meta.publisher == "한빛경제"
    assert clean_document("제목\n새솔전자 제공\n사진=다온일보\n본문이다.", "text")[1].publisher == "새솔전자"
    assert clean_document("제목\n제공: 다온일보\n본문이다.", "text")[1].publisher == "다온일보"


def test_a_marked_notice_ending_like_a_sentence_is_still_a_notice() -> None:
    text, meta = clean_document("제목\n본문이다.\nⓒ 한빛경제. 무단 전재 및 재배포를 금지합니다.", "text")
    assert text == "제목\n본문이다." and meta.publisher == "한빛경제"


def test_a_credit_ending_a_caption_goes_but_an_offer_in_a_sentence_stays() -> None:
    text, meta = clean_document("제목\n새솔전자 직원들이 협력사를 찾았다.(사진=한빛경제)\n본문이다.", "text")
    assert text == "제목\n새솔전자 직원들이 협력사를 찾았다.\n본문이다." and meta.publisher == "한빛경제"
    line = "새솔전자는 협력사에 기술 교육 무료 제공"
    assert clean_document(f"제목\n{line}\n본문이다.", "text")[0] == f"제목\n{line}\n본문이다."


def test_markdown_without_front_matter() -> None:
    raw = "머리말 문장이다.\n\n# 새솔전자 협력사 지원\n\n___\n\nAT&amp;T와 **새솔전자**가 [협약](https://a.example)을 맺었다.\n"
    text, meta = clean_document(raw, "markdown")
    assert text == "머리말 문장이다.\n\n새솔전자 협력사 지원\n\nAT&T와 새솔전자가 협약을 맺었다."
    assert meta.title == "새솔전자 협력사 지원"  # the first heading, wherever it is


def test_markdown_front_matter_names_the_publisher_only_by_its_keys() -> None:
    def meta(front: str):
        return clean_document(f"---\n{front}\n---\n본문이다.\n", "markdown")[1]

    assert meta("title: 협력사 지원\nauthor: 홍길동\npublisher: 한빛경제").publisher == "한빛경제"
    assert meta("title: 협력사 지원\nauthor: 홍길동").publisher is None


def test_markdown_code_fences_go_and_their_lines_stay_as_written() -> None:
    raw = "# 제목\n\n```\n# 주석 줄\n- 항목\n```\n본문이다.\n"
    assert clean_document(raw, "markdown")[0] == "제목\n\n# 주석 줄\n- 항목\n본문이다."


def test_a_masthead_logo_goes_but_a_sentence_about_a_logo_stays() -> None:
    line = "새솔전자는 협력사들과 함께 만든 새 상생 브랜드 로고"
    assert clean_document(f"제목\n한빛경제 로고\n{line}\n본문이다.", "text")[0] == f"제목\n{line}\n본문이다."


def test_markdown_with_no_entity_is_not_unescaped() -> None:
    # "&para" or "&lt" written without a semicolon is text when the file escapes nothing
    assert clean_document("R&D 부서는 &lt 표시를 쓴다.\n", "markdown")[0] == "R&D 부서는 &lt 표시를 쓴다."


def test_a_weekday_beside_a_header_date_is_no_outlet() -> None:
    assert clean_document("제목\n2024.05.02 10:31 목요일\n본문이다.", "text")[1].publisher is None


def test_a_date_line_with_the_weekday_after_the_time_dates_the_article() -> None:
    for line in ("2024.05.02 10:31 목요일", "2024.05.02 10:31 (목)", "2024.05.02 (목) 10:31", "2024.05.02 목요일"):
        text, meta = clean_document(f"제목\n{line}\n본문이다.", "text")
        assert (text, meta.date) == ("제목\n본문이다.", "2024-05-02"), line
    # a weekday alone after a date and an outlet is still no outlet
    text, meta = clean_document("제목\n한빛경제 | 2024.05.02 10:31 목요일\n본문이다.", "text")
    assert (text, meta.date, meta.publisher) == ("제목\n본문이다.", "2024-05-02", "한빛경제")
