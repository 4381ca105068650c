"""Article tables (.csv, .tsv): header names from columns.tsv, one article a row, ids that survive edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.corpus import load_corpus
from rag.tables import Columns, read_table, row_id, write_table
from rag.vocabulary import DEFAULT_LEXICON, Lexicon, LexiconError

# the shape of a news-archive export saved by Excel: UTF-8 with a BOM, Korean headers, a quoted
# multi-line text cell, a compact date, a column nobody maps (URL)
EXPORT = ("\ufeff뉴스 식별자,일자,언론사,기고자,제목,본문,URL\r\n"
          "01100101.20240305,20240305,한빛경제,김서연 기자,상생결제 확대,\"온새물산은 협력사 38곳에 상생결제를 확대한다.\r\n"
          "지원은 내년 3월까지 이어진다.\",http://example.com/1\r\n"
          ",2024.03.06,새솔뉴스,,동반성장 펀드,\"동반성장 펀드는 1,030억 원 규모다.\",\r\n"
          ",,,,,,\r\n")


def test_an_export_reads_as_articles_with_their_metadata(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(EXPORT, encoding="utf-8")
    load = load_corpus([tmp_path])
    assert load.problems == []
    first, second = load.articles
    assert (first.doc_id, first.title, first.date, first.publisher, first.author) == (
        "01100101.20240305", "상생결제 확대", "2024-03-05", "한빛경제", "김서연 기자")
    assert first.text == "온새물산은 협력사 38곳에 상생결제를 확대한다.\n지원은 내년 3월까지 이어진다."
    # no id column value: an id from the file and the row's content, folder-like under the file
    assert second.doc_id.startswith("export.csv/") and second.date == "2024-03-06"
    assert second.text == "동반성장 펀드는 1,030억 원 규모다."


def test_a_tsv_in_a_legacy_encoding_reads_too(tmp_path: Path) -> None:
    (tmp_path / "a.tsv").write_bytes("title\tcontent\tdate\n제목 A\t탭으로 나눈 본문입니다.\t2023-01-02\n".encode("cp949"))
    (article,) = load_corpus([tmp_path]).articles
    assert (article.title, article.text, article.date) == ("제목 A", "탭으로 나눈 본문입니다.", "2023-01-02")


def test_a_derived_id_survives_rows_added_removed_and_reordered() -> None:
    rows = [{"title": "가", "text": "첫 기사."}, {"title": "나", "text": "둘째 기사."}, {"title": "다", "text": "셋째 기사."}]
    before = {row_id("a.csv", r) for r in rows}
    assert len(before) == 3
    after = {row_id("a.csv", r) for r in [rows[2], {"title": "라", "text": "새 기사."}, rows[0]]}
    assert after - before == {row_id("a.csv", {"title": "라", "text": "새 기사."})}
    assert row_id("a.csv", {"id": " n-7 ", "text": "x"}) == "n-7"


def test_what_is_not_an_article_table_is_named(tmp_path: Path) -> None:
    (tmp_path / "numbers.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    (tmp_path / "rows.csv").write_text("제목,본문\n빈 본문,\n정상,본문이 있다.\n", encoding="utf-8")
    load = load_corpus([tmp_path])
    assert [a.text for a in load.articles] == ["본문이 있다."]
    problems = dict(load.problems)
    assert problems[str(tmp_path / "numbers.csv")].startswith("no article text column: the header row has 'x', 'y'")
    assert "본문" in problems[str(tmp_path / "numbers.csv")]
    assert problems[f"{tmp_path / 'rows.csv'}:2"] == "the row's text cell is empty"


def test_the_header_may_sit_below_a_title_line_but_not_far_down() -> None:
    columns = Columns.load()
    titled = read_table("2024년 5월 기사 목록,\n\n제목,본문\n첫 기사,본문이다.\n", ".csv", columns)
    assert (titled.header, titled.above) == (["제목", "본문"], [["2024년 5월 기사 목록", ""], []])
    assert [(row.line, row.record["title"]) for row in titled.rows] == [(4, "첫 기사")]
    # past the first HEADER_SEARCH_ROWS rows, a header is not looked for: the file is named by its first row
    far = read_table("메모\n" + "\n" * 10 + "제목,본문\n첫 기사,본문이다.\n", ".csv", columns)
    assert far.problem.startswith("no article text column: the header row has '메모'") and not far.rows


def test_a_users_columns_file_maps_its_own_headers(tmp_path: Path) -> None:
    mine = tmp_path / "lexicon"
    mine.mkdir()
    (mine / "columns.tsv").write_text("text\t기사원문\ntitle\t기사명\n", encoding="utf-8")
    text = "기사명,기사원문\n협력사 지원,협력사 지원 기사다.\n"
    assert read_table(text, ".csv", Columns.load()).problem  # the bundled names do not know these headers
    (row,) = read_table(text, ".csv", Columns.load([Path("rag/lexicon"), mine])).rows
    assert row.record == {"title": "협력사 지원", "text": "협력사 지원 기사다."}
    (mine / "columns.tsv").write_text("body_text\t기사원문\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="columns.tsv:1: field must be one of"):
        Columns.load([mine])


def test_a_huge_cell_is_reported_and_a_control_character_dropped(tmp_path: Path) -> None:
    long_text = "협력사 지원 기사다. " * 20_000  # 240,000 characters: past csv's default cell limit
    (tmp_path / "big.csv").write_text(f"본문\n\"{long_text}\"\n", encoding="utf-8")
    good = "".join(f"기사 {n},멀쩡한 본문 {n}이다.\n" for n in range(400))  # the NUL lies past the binary sniff
    (tmp_path / "nul.csv").write_text(f"제목,본문\n{good}가,\"본문\x00이다\x1b\"\n", encoding="utf-8")
    load = load_corpus([tmp_path], max_article_chars=100_000)
    assert len(load.articles) == 401 and load.articles[-1].text == "본문 이다"
    (where, why), = load.problems
    assert where == str(tmp_path / "big.csv") and "is 239,999 characters after cleaning, over the limit of 100,000" in why


def test_an_upload_of_one_text_column_is_a_table_and_a_headerless_file_is_not() -> None:
    from pathlib import PurePosixPath

    from rag.archive import Rejected
    from rag.uploads import _check_content

    _check_content("a.csv", PurePosixPath("a.csv"), "본문\n협력사 지원 기사다.\n".encode("utf-8"))  # no error
    with pytest.raises(Rejected, match="not a header row"):
        _check_content("b.tsv", PurePosixPath("b.tsv"), ("협력사 지원 기사다. " * 8 + "\t2024\n").encode("utf-8"))


def test_cells_written_back_read_the_same() -> None:
    rows = [["제목", "본문"], ["쉼표, 따옴표\"", "두 줄\n본문"]]
    table = read_table(write_table(rows, ".csv"), ".csv", Columns.load())
    assert table.header == rows[0] and [r.cells for r in table.rows] == rows[1:]


def test_editing_columns_does_not_rebuild_the_keyword_index(tmp_path: Path) -> None:
    # the header names belong to the corpus reader: the tokenizer's cache key must not move with them
    folder = tmp_path / "lexicon"
    shutil.copytree(DEFAULT_LEXICON, folder)
    before = Lexicon.load([folder]).fingerprint
    with open(folder / "columns.tsv", "a", encoding="utf-8") as fh:
        fh.write("text\t기사원문\n")
    assert Lexicon.load([folder]).fingerprint == before
    with open(folder / "user_words.tsv", "a", encoding="utf-8") as fh:
        fh.write("온새물산\tNNP\n")
    assert Lexicon.load([folder]).fingerprint != before
