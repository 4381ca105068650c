from __future__ import annotations

import json
import re
import shutil
import unicodedata
from pathlib import Path

import pytest

import rag.corpus as corpus
from rag.config import PROJECT_ROOT
from rag.corpus import clean_text, extract_metadata, load_corpus

SEED_META = {
    "000_7f8c52e3f50417da.txt": ("LG전자·LG유플러스, 협력사와 상생 방안 논의", "2025-11-09", "세계일보"),
    "001_d5bd6796c56307a8.txt": ("LG이노텍, 협력사 상생으로 고객경험 혁신할 것", "2022-09-21", "LG이노텍"),
    "002_2b509c53194e2463.txt": ("“한국경제 뿌리 中企과 함께”...이통3사 '동행경영' 팔 걷었다", "2021-04-23", "뉴스드림"),
    "003_5b08162b347d2118.txt": ("오영주 장관, 상생협력 우수 기업을 만나 동반성장을 위한 현장 의견 청취", "2024-11-28", "중소벤처기업부"),
    "004_3623695115e5a12c.txt": ("KT, 중소 협력사와 ‘5G 생태계’ 조성…2018년도 파트너스 데이 개최", "2018-11-20", "데일리임팩트"),
}
# Furniture that must not survive in any seed, and per seed.
FURNITURE = ["본문 바로가기", "URL복사", "더보기", "저작권자", "무단전재", "양보해 주셔서", "동네 병의원", "Press Center",
             "기상청 제공", "여행/레저", "키워드", "#KT", "<ul", "style=", "보도시점", "date 2025"]
KEY_SENTENCES = {
    "000_7f8c52e3f50417da.txt": ["협력회는 LG전자 협력사들이 동반성장을 위해 조성한 자발적 협의체다.",
                                 "지난 7일 경기도 평택 LG디지털파크에서 열린 ‘협력회 워크숍’에서 기념 촬영하고 있다."],
    "001_d5bd6796c56307a8.txt": ["LG이노텍은 금융분야에서 1,030억 원 규모의 동반성장 펀드를 운영 중이다.",
                                 "1,030억 동반성장 펀드 운영, 협력사 스마트공장 고도화 지원"],
    "002_2b509c53194e2463.txt": ["국내 이동통신 3사가 중소기업과의 동행경영에 발 벗고 나섰다.",
                                 "LGU+, 협력사 2000여곳 납품대금 조기지급"],
    "003_5b08162b347d2118.txt": ["원원 아너스는 대기업과 공공기관이 협력 중소기업과 원팀으로 추진한 동반성장 활동에 대해",
                                 "(세미솔루션) LED 광원 내장형 초소형 구동 IC 부품 국산화 개발",
                                 "11 한국보훈복지의료공단"],
    "004_3623695115e5a12c.txt": ["KT는 중소 협력사와 공동 연구개발(R&D)에 100억원을 출연하는 등의 계획을 세웠다.",
                                 "KT가 올해 글로벌에서 거둔 주요 성과와 함께 내년 사업방향을 공유했다."],
}


@pytest.fixture(scope="module")
def seeds(seeds_dir: Path) -> dict:
    load = load_corpus([seeds_dir])
    assert load.problems == []
    return {a.doc_id: a for a in load.articles}


@pytest.fixture(scope="module")
def seeds_dir() -> Path:  # module scope, so the seeds are loaded once for this file
    return PROJECT_ROOT / "seeds"


@pytest.mark.parametrize("doc_id", sorted(SEED_META))
def test_seed_title_date_publisher(seeds: dict, doc_id: str) -> None:
    article = seeds[doc_id]
    assert (article.title, article.date, article.publisher) == SEED_META[doc_id]


@pytest.mark.parametrize("doc_id", sorted(SEED_META))
def test_seed_furniture_is_gone_and_sentences_stay(seeds: dict, doc_id: str) -> None:
    text = seeds[doc_id].text
    assert [f for f in FURNITURE if f in text] == []
    assert not any("℃" in line for line in text.split("\n"))
    for sentence in KEY_SENTENCES[doc_id]:
        assert sentence in text


@pytest.mark.parametrize("doc_id", sorted(SEED_META))
def test_seed_cleaning_is_faithful(seeds: dict, seeds_dir: Path, doc_id: str) -> None:
    """Every cleaned line is in the original, apart from whitespace and inline tags."""
    raw = (seeds_dir / doc_id).read_text(encoding="utf-8")
    squeeze = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    original = squeeze(re.sub(r"</?[A-Za-z][^<>]*>", "", raw))
    text = seeds[doc_id].text
    assert all(squeeze(line) in original for line in text.split("\n") if line)
    assert "\n\n\n" not in text and text == text.strip()
    assert all(line == line.strip() for line in text.split("\n"))
    assert len(squeeze(text)) > 0.6 * len(squeeze(raw))  # only furniture went


def test_seed_without_manifest_metadata_comes_from_the_text(seeds_dir: Path, tmp_path: Path) -> None:
    for name in SEED_META:
        shutil.copy(seeds_dir / name, tmp_path / name)
    found = {a.doc_id: a for a in load_corpus([tmp_path]).articles}
    assert found["000_7f8c52e3f50417da.txt"].date == "2025-11-09"
    assert found["000_7f8c52e3f50417da.txt"].publisher == "LG전자"  # the photo credit, the best the text says
    assert (found["001_d5bd6796c56307a8.txt"].title, found["001_d5bd6796c56307a8.txt"].publisher) == (
        "LG이노텍, 협력사 상생으로 고객경험 혁신할 것", "LG이노텍")
    assert found["002_2b509c53194e2463.txt"].title == SEED_META["002_2b509c53194e2463.txt"][0]
    assert found["002_2b509c53194e2463.txt"].date == "2021-04-23"
    assert found["003_5b08162b347d2118.txt"].title == SEED_META["003_5b08162b347d2118.txt"][0]
    assert found["003_5b08162b347d2118.txt"].date == "2024-11-28"  # 11.28(목) + '24.11.28 in the body
    assert found["003_5b08162b347d2118.txt"].publisher == "중소벤처기업부"
    assert found["004_3623695115e5a12c.txt"].publisher == "데일리임팩트"
    assert found["004_3623695115e5a12c.txt"].date is None  # not printed: the manifest supplies it


def test_a_headline_is_the_title_and_not_a_sentence_of_the_body(seeds: dict, tmp_path: Path) -> None:
    """A plain-text article's first line, when it is a headline, is shown as the title and is no longer a
    line of the text the chunks, and so the quoted and cited sentences, come from."""
    for doc_id in ("001_d5bd6796c56307a8.txt", "002_2b509c53194e2463.txt", "003_5b08162b347d2118.txt"):
        article = seeds[doc_id]
        assert article.title == SEED_META[doc_id][0]
        assert article.title not in article.text.split("\n")
    (tmp_path / "news.txt").write_text("온새물산, 협력사 지원 두 배로\n\n온새물산은 협력사 지원을 늘린다고 밝혔다.\n", "utf-8")
    # a file of one line keeps it as its text; a first line that is a sentence stays in the body
    (tmp_path / "only.txt").write_text("온새물산, 협력사 지원 두 배로\n", "utf-8")
    (tmp_path / "sentence.txt").write_text("온새물산은 지원을 늘린다.\n회사는 5일 밝혔다.\n", "utf-8")
    found = {a.doc_id: a for a in load_corpus([tmp_path]).articles}
    assert (found["news.txt"].title, found["news.txt"].text) == ("온새물산, 협력사 지원 두 배로", "온새물산은 협력사 지원을 늘린다고 밝혔다.")
    assert (found["only.txt"].title, found["only.txt"].text) == ("온새물산, 협력사 지원 두 배로", "온새물산, 협력사 지원 두 배로")
    assert (found["sentence.txt"].title, found["sentence.txt"].text) == ("온새물산은 지원을 늘린다.", "온새물산은 지원을 늘린다.\n회사는 5일 밝혔다.")


def test_a_first_line_that_reads_as_a_sentence_stays_in_the_body(tmp_path: Path) -> None:
    """A first line without a full stop that ends like a Korean sentence (…다, …요, …까, ?, !) is a sentence
    that lost its period, not a headline: it stays in the body unless the manifest names it the title."""
    body = "회사는 5일 이같이 밝혔다."
    (tmp_path / "verb.txt").write_text(f"온새물산이 협력사 지원을 두 배로 늘렸다\n{body}\n", "utf-8")
    (tmp_path / "blank.txt").write_text(f"2000년에 데니스는 대영 제국 훈장 3등급(CBE)을 받았다\n\n{body}\n", "utf-8")
    (tmp_path / "question.txt").write_text(f"협력사 지원은 왜 늘었을까?\n{body}\n", "utf-8")
    (tmp_path / "named.txt").write_text(f"이통3사 '동행경영' 팔 걷었다\n\n{body}\n", "utf-8")
    (tmp_path / "manifest.json").write_text(json.dumps({"named.txt": {"title": "이통3사 '동행경영' 팔 걷었다"}}), "utf-8")
    found = {a.doc_id: a for a in load_corpus([tmp_path]).articles}
    assert found["verb.txt"].text == f"온새물산이 협력사 지원을 두 배로 늘렸다\n{body}"
    assert found["blank.txt"].text == f"2000년에 데니스는 대영 제국 훈장 3등급(CBE)을 받았다\n\n{body}"
    assert found["question.txt"].text == f"협력사 지원은 왜 늘었을까?\n{body}"
    assert found["verb.txt"].title == "온새물산이 협력사 지원을 두 배로 늘렸다"  # still its card's title
    assert (found["named.txt"].title, found["named.txt"].text) == ("이통3사 '동행경영' 팔 걷었다", body)


def test_photo_credit_does_not_stay_as_its_own_sentence(seeds: dict) -> None:
    for doc_id in ("000_7f8c52e3f50417da.txt", "004_3623695115e5a12c.txt"):
        for line in seeds[doc_id].text.split("\n"):
            assert not re.search(r"제공\s*(:\s*KT)?$", line), line


def test_manifest_overrides_and_enters_the_hash(seeds_dir: Path, tmp_path: Path) -> None:
    name = "002_2b509c53194e2463.txt"
    shutil.copy(seeds_dir / name, tmp_path / name)
    before = load_corpus([tmp_path]).articles[0]
    (tmp_path / "manifest.json").write_text(json.dumps({name: {"title": "새 제목", "publisher": "뉴스"}}), "utf-8")
    after = load_corpus([tmp_path]).articles[0]
    assert (after.title, after.publisher, after.date) == ("새 제목", "뉴스", "2021-04-23")
    assert after.content_hash != before.content_hash
    assert load_corpus([tmp_path]).articles[0].content_hash == after.content_hash  # stable


def test_hash_follows_bytes_and_cleaner_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.txt"
    path.write_text("첫 문장이다.\n", encoding="utf-8")
    first = load_corpus([path]).articles[0].content_hash
    monkeypatch.setattr(corpus, "CLEANER_VERSION", corpus.CLEANER_VERSION + "-next")
    assert load_corpus([path]).articles[0].content_hash != first
    monkeypatch.undo()
    path.write_text("첫 문장이다!\n", encoding="utf-8")
    assert load_corpus([path]).articles[0].content_hash != first


def test_bad_manifest_is_reported_and_articles_still_load(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("기사 본문이다.", encoding="utf-8")
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    load = load_corpus([tmp_path])
    assert [a.doc_id for a in load.articles] == ["a.txt"]
    assert len(load.problems) == 1 and load.problems[0][0].endswith("manifest.json")


def test_html_article(tmp_path: Path) -> None:
    # an article of a real page's length: for a few lines trafilatura falls back to the whole page
    (tmp_path / "story.html").write_text(
        """<!doctype html><html><head><title>사이트 | 기사</title>
        <meta property="og:title" content="KT, 협력사와 5G 생태계 조성">
        <meta property="og:site_name" content="테스트일보">
        <meta property="article:published_time" content="2018-11-20T10:00:00+09:00">
        <style>p { color: red }</style><script>var ad = "광고 스크립트";</script></head>
        <body><header>로그인 회원가입</header><nav><a href="/">정치</a> <a href="/e">경제</a></nav>
        <article><h1>KT, 협력사와 5G 생태계 조성</h1>
        <p>KT는 20일 파트너스 데이를 열었다. 협력사 300여명이 참석했다.</p>
        <p>KT는 100억원을 &amp; 출연한다.<br>두 번째 줄이다.</p>
        <ul><li>첫째 항목</li><li>둘째 항목</li></ul>
        <p>행사에는 협력사 대표와 KT 임직원이 함께해 5G 상용화 일정과 공동 연구개발 과제를 공유했다. 참석자들은
        네트워크 장비, 소프트웨어, 공사 분야로 나뉘어 올해 성과와 내년 계획을 논의했다.</p></article>
        <footer>저작권자 © 테스트일보 무단전재 및 재배포 금지</footer></body></html>""",
        encoding="utf-8",
    )
    (article,) = load_corpus([tmp_path]).articles
    assert (article.title, article.date, article.publisher) == ("KT, 협력사와 5G 생태계 조성", "2018-11-20", "테스트일보")
    assert "KT는 20일 파트너스 데이를 열었다. 협력사 300여명이 참석했다.\n\nKT는 100억원을 & 출연한다." in article.text
    assert "두 번째 줄이다." in article.text and "둘째 항목" in article.text
    for gone in ("광고 스크립트", "color", "로그인", "정치", "저작권자", "<p>"):
        assert gone not in article.text


def test_markdown_article(tmp_path: Path) -> None:
    (tmp_path / "note.md").write_text(
        "---\ntitle: 마크다운 기사\ndate: 2024.11.28\npublisher: 중기부\n---\n"
        "# 큰 제목\n\n**중기부**는 [간담회](https://example.com)를 열었다.\n\n![사진](a.png)\n\n- 목록 항목이다.\n",
        encoding="utf-8",
    )
    (article,) = load_corpus([tmp_path]).articles
    assert (article.title, article.date, article.publisher) == ("마크다운 기사", "2024-11-28", "중기부")
    assert article.text == "큰 제목\n\n중기부는 간담회를 열었다.\n\n목록 항목이다."


def test_jsonl_articles_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "n1", "title": "첫 기사", "text": "첫 기사 본문이다.", "date": "2021-04-23", "publisher": "A"}),
        "{broken",
        json.dumps({"doc_id": "n2", "body": "둘째 본문이다.\n\n저작권자 © B 무단전재 및 재배포 금지", "source": "B"}),
        json.dumps({"id": "n3", "title": "본문 없음"}),
        "",
    ]
    (tmp_path / "news.jsonl").write_text("\n".join(lines), encoding="utf-8")
    load = load_corpus([tmp_path])
    assert [(a.doc_id, a.title, a.date, a.publisher) for a in load.articles] == [
        ("n1", "첫 기사", "2021-04-23", "A"),
        ("n2", "둘째 본문이다.", None, "B"),
    ]
    assert load.articles[1].text == "둘째 본문이다."
    assert sorted(p[0].rsplit(":", 1)[1] for p in load.problems) == ["2", "4"]
    assert load.articles[0].content_hash != load.articles[1].content_hash


def test_unreadable_files_are_reported_never_raised(tmp_path: Path) -> None:
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_bytes(b" \n\n\t\n")
    (tmp_path / "latin.txt").write_bytes(b"\x80\xff\x80\xff not text \xff")
    (tmp_path / "only_furniture.txt").write_text("본문 바로가기\nURL복사\n더보기\n", encoding="utf-8")
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04 slides")
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.4 whatever")
    (tmp_path / "good.txt").write_text("멀쩡한 기사다.", encoding="utf-8")
    load = load_corpus([tmp_path])
    assert [a.doc_id for a in load.articles] == ["good.txt"]
    reasons = {Path(f).name: r for f, r in load.problems}
    assert set(reasons) == {"binary.txt", "empty.txt", "blank.md", "latin.txt", "only_furniture.txt", "slides.pptx", "doc.pdf"}
    assert "binary" in reasons["binary.txt"] and "empty" in reasons["empty.txt"] and "empty" in reasons["blank.md"]
    assert "undecodable" in reasons["latin.txt"] and "unsupported" in reasons["slides.pptx"]
    assert reasons["doc.pdf"].startswith("not a readable PDF")


def test_folders_recursive_sorted_hidden_skipped(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "2.txt").write_text("둘째 기사다.", encoding="utf-8")
    (tmp_path / "1.txt").write_text("첫째 기사다.", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("숨은 기사다.", encoding="utf-8")
    (tmp_path / ".git" / "x.txt").write_text("깃 내부다.", encoding="utf-8")
    (tmp_path / "~$보고서.docx").write_bytes(b"\x08user name" + b"\x00" * 150)  # Word's owner file of an open document
    load = load_corpus([tmp_path])
    # ids are paths relative to the folder given: the same name in two subfolders cannot collide
    assert [a.doc_id for a in load.articles] == ["1.txt", "b/2.txt"] and load.problems == []


def test_a_symlinked_folder_loop_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "1.txt").write_text("첫째 기사다.", encoding="utf-8")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    load = load_corpus([tmp_path])
    assert [a.doc_id for a in load.articles] == ["a/1.txt"]


def test_missing_path_empty_folder_and_duplicate_names(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same.txt").write_text(f"{sub} 기사다.", encoding="utf-8")
    load = load_corpus([tmp_path / "nope", tmp_path / "empty", tmp_path / "x", tmp_path / "y"])
    assert [a.text for a in load.articles] == ["x 기사다."]
    reasons = [r for _, r in load.problems]
    assert len(reasons) == 3 and "no such" in reasons[0] and "no files" in reasons[1] and "duplicate" in reasons[2]


def test_legacy_korean_encoding_is_read(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_bytes("중소기업과 상생한다.".encode("cp949"))
    (article,) = load_corpus([tmp_path]).articles
    assert article.text == "중소기업과 상생한다."


def test_clean_text_rules() -> None:
    raw = (
        "2021.04.23 (금)\n  • 흐림동두천 20.2℃\n  • 서울 -3.5℃\n기상청 제공\n\n제목 줄\n\n\n\n"
        "본문\u00a0 첫   문장이다.\t둘째 문장이다.\n서울 기온이 영하 10℃까지 떨어졌다고 밝혔다.\n"
        "#KT #상생\n키워드\n더 아픈 환자에게 양보해 주셔서 감사합니다\nⓒ 어느신문 All rights reserved\n여행/레저\n\n더보기"
    )
    text = clean_text(raw, "text")
    assert text == "제목 줄\n\n본문 첫 문장이다. 둘째 문장이다.\n서울 기온이 영하 10℃까지 떨어졌다고 밝혔다."
    meta = extract_metadata(raw, "text")
    assert (meta.title, meta.date, meta.publisher) == ("제목 줄", "2021-04-23", "어느신문")


@pytest.mark.parametrize(("first", "publisher"), [
    ("(서울=연합뉴스) 홍길동 기자 = 삼성전자는 협력사 펀드를 늘린다고 5일 밝혔다.", "연합뉴스"),
    ("[세종=뉴시스]홍길동 기자 = 정부는 납품대금 연동제를 넓힌다.", "뉴시스"),
    ("(워싱턴=뉴스1) 김철수 특파원 = 미국 상무부는 관세를 발표했다.", "뉴스1"),
    ("[다온일보=이준호 기자] 특허 312건이 중소기업에 넘어간다.", "다온일보"),  # an outlet, then its reporter
    ("(MPa = Pa * 10^6) 단위는 이렇게 바꾼다.", None),  # a formula, no place and outlet
    ("(A=B) 두 값은 같다.", None),
    ("이 기사는 (서울=연합뉴스)를 인용했다.", None),  # a dateline opens the paragraph
])
def test_a_wire_datelines_outlet_is_the_publisher(first: str, publisher: str | None) -> None:
    assert extract_metadata(f"협력사 소식\n\n{first}\n둘째 문장이다.", "text").publisher == publisher


def test_clean_text_normalizes_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "상생협력이다.")
    assert clean_text(decomposed, "text") == "상생협력이다."
    with pytest.raises(ValueError):
        clean_text("x", "pdf")


def test_caption_credit_rules() -> None:
    text = clean_text(
        "행사에서 기념 촬영하고 있다. LG전자 제공\n인사말을 하고 있다 제공:KT\n교육 과정을 무상으로 제공\nLG유플러스 제공", "text"
    )
    assert text == "행사에서 기념 촬영하고 있다.\n인사말을 하고 있다\n교육 과정을 무상으로 제공"


def test_article_lines_that_resemble_furniture_stay() -> None:
    raw = "그는 기사를 무단 전재한 업체를 고소했다.\n저작권자의 권리를 보호한다.\n항목 (a), (b), (c)\n교육을 무상으로 제공"
    assert clean_text(raw, "text") == raw


def test_dropped_furniture_leaves_no_paragraph_break() -> None:
    assert clean_text("첫 문장이다.\nURL복사\n둘째 문장이다.", "text") == "첫 문장이다.\n둘째 문장이다."


def test_news_site_chrome_is_dropped() -> None:
    raw = (
        "• 아시아투데이 로고\nKT, 중소 협력사와 5G 시대 이끈다\n\n기사승인 2018. 11. 20. 10:00\n"
        "  • 페이스북 공유하기\n  • 카카오톡 링크\n  • 기사듣기실행 기사듣기중지\n"
        "KT가 행사를 열었다. /제공=KT\n데일리 금융경제뉴스 Copyright ⓒ 한국금융신문 & FNTIMES.com\n"
    )
    assert clean_text(raw, "text") == "KT, 중소 협력사와 5G 시대 이끈다\n\nKT가 행사를 열었다."
    meta = extract_metadata(raw, "text")
    assert (meta.title, meta.date, meta.publisher) == ("KT, 중소 협력사와 5G 시대 이끈다", "2018-11-20", "한국금융신문")
