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
