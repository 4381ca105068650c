from __future__ import annotations

import os
from pathlib import Path

import pytest

import rag.chunking as chunking
from rag.chunking import chunk_article, count_tiktoken
from rag.config import PROJECT_ROOT
from rag.corpus import load_corpus
from rag.korean import KoreanText
from rag.types import Article


@pytest.fixture(scope="module")
def korean() -> KoreanText:
    return KoreanText()


@pytest.fixture(scope="module")
def seed_articles() -> list[Article]:
    return load_corpus([PROJECT_ROOT / "seeds"]).articles


def chars(text: str) -> int:
    return len(text)


def sentence(i: int) -> str:
    return f"협력사 {i}곳이 상생 프로그램에 참여했다."


@pytest.mark.parametrize(("counter", "max_tokens"), [(chars, 120), (count_tiktoken, 200), (count_tiktoken, 40)])
def test_seed_chunks_have_exact_offsets_and_fit(
    korean: KoreanText, seed_articles: list[Article], counter, max_tokens: int
) -> None:
    for article in seed_articles:
        chunks = chunk_article(article, korean, counter, max_tokens=max_tokens)
        assert chunks, article.doc_id
        for chunk in chunks:
            assert article.text[chunk.start : chunk.end] == chunk.text
            assert chunk.n_tokens == counter(chunk.text) <= max_tokens
            assert (chunk.doc_id, chunk.title, chunk.date, chunk.publisher) == (
                article.doc_id, article.title, article.date, article.publisher)
        assert chunks[0].start == 0 and chunks[-1].end == len(article.text)
        # every non-space character of the article is in some chunk
        covered = set()
        for chunk in chunks:
            covered.update(range(chunk.start, chunk.end))
        assert all(i in covered for i, ch in enumerate(article.text) if not ch.isspace())


def test_chunks_end_on_sentence_boundaries(korean: KoreanText, seed_articles: list[Article]) -> None:
    article = seed_articles[1]
    bounds = korean.sentences(article.text)
    starts, ends = {a for a, _ in bounds}, {b for _, b in bounds}
    for chunk in chunk_article(article, korean, count_tiktoken, max_tokens=120):
        assert chunk.start in starts and chunk.end in ends


def test_consecutive_chunks_of_a_paragraph_overlap(korean: KoreanText) -> None:
    text = " ".join(sentence(i) for i in range(30))
    article = Article(doc_id="a.txt", text=text)
    chunks = chunk_article(article, korean, chars, max_tokens=100, overlap_sentences=1)
    assert len(chunks) > 3
    for prev, nxt in zip(chunks, chunks[1:]):
        assert nxt.start < prev.end  # the last sentence of one chunk opens the next
        assert text[nxt.start : prev.end].endswith("했다.")
    without = chunk_article(article, korean, chars, max_tokens=100, overlap_sentences=0)
    assert all(nxt.start > prev.end for prev, nxt in zip(without, without[1:]))
    assert len(without) < len(chunks)


def test_paragraph_break_is_not_crossed_needlessly(korean: KoreanText) -> None:
    para = " ".join(sentence(i) for i in range(3))  # ~75 characters
    text = f"짧은 제목\n\n{para}\n\n{para}"
    chunks = chunk_article(Article(doc_id="p.txt", text=text), korean, chars, max_tokens=100)
    # the title paragraph fits whole with the next one; the third paragraph does not fit: it starts a chunk
    assert [c.text for c in chunks] == [f"짧은 제목\n\n{para}", para]


def test_overlong_sentence_is_cut_at_clause_or_space(korean: KoreanText) -> None:
    clause = "중소기업의 판로 개척을 돕기 위해 우수 제품을 구매하고,"
    text = " ".join([clause] * 12) + " 전 매장에서 활용한다."
    chunks = chunk_article(Article(doc_id="l.txt", text=text), korean, chars, max_tokens=80, overlap_sentences=0)
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(chunk.text) <= 80
        assert chunk.end == len(text) or text[chunk.end] == " "
    assert all(c.text.endswith(",") for c in chunks[:-1])  # clause boundaries, not mid-clause
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")


def test_text_without_spaces_is_cut_between_characters(korean: KoreanText) -> None:
    text = "가" * 250
    chunks = chunk_article(Article(doc_id="n.txt", text=text), korean, chars, max_tokens=60)
    assert [len(c.text) for c in chunks] == [60, 60, 60, 60, 10]


def test_ids_are_deterministic_and_unique(korean: KoreanText, seed_articles: list[Article]) -> None:
    article = seed_articles[3]
    first = chunk_article(article, korean, count_tiktoken, max_tokens=100)
    second = chunk_article(article, korean, count_tiktoken, max_tokens=100)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert len({c.chunk_id for c in first}) == len(first)
    assert all(c.chunk_id.startswith(f"{article.doc_id}#{i}-") for i, c in enumerate(first))
    edited = Article(doc_id=article.doc_id, text=article.text.replace("동반성장 주간", "동반성장 주일", 1))  # in chunk 0
    assert chunk_article(edited, korean, count_tiktoken, max_tokens=100)[0].chunk_id != first[0].chunk_id


def test_empty_article_has_no_chunks(korean: KoreanText) -> None:
    assert chunk_article(Article(doc_id="e.txt", text=""), korean, chars) == []
    with pytest.raises(ValueError):
        chunk_article(Article(doc_id="e.txt", text="문장."), korean, chars, max_tokens=0)


def test_count_tiktoken_uses_bundled_encoding_without_leaving_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    chunking._cl100k.cache_clear()
    assert count_tiktoken("hello world") == 2
    assert count_tiktoken("동반성장 펀드") > 2
    assert "TIKTOKEN_CACHE_DIR" not in os.environ
    assert Path(chunking._llama_index_tiktoken_cache()).is_dir()


def test_count_tiktoken_keeps_a_users_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import shutil

    user_dir = tmp_path / "tk"
    shutil.copytree(chunking._llama_index_tiktoken_cache(), user_dir)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(user_dir))
    chunking._cl100k.cache_clear()
    assert count_tiktoken("hello world") == 2
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(user_dir)
    chunking._cl100k.cache_clear()


def test_thin_headline_leads_into_the_next_paragraph(korean: KoreanText) -> None:
    body = " ".join(sentence(i) for i in range(12))  # ~300 characters: never fits whole
    text = f"제목\n\n{body}"
    chunks = chunk_article(Article(doc_id="h.txt", text=text), korean, chars, max_tokens=100)
    assert chunks[0].start == 0 and chunks[0].text.startswith("제목\n\n협력사 0곳이")
    assert all(len(c.text) <= 100 for c in chunks)


def test_a_long_paragraphs_chunks_are_filled_to_the_budget(korean: KoreanText) -> None:
    text = " ".join(sentence(i) for i in range(10))  # 22 characters each: four fit in 100, five do not
    chunks = chunk_article(Article(doc_id="f.txt", text=text), korean, chars, max_tokens=100, overlap_sentences=0)
    assert [c.text.count("참여했다.") for c in chunks] == [4, 4, 2]


def test_the_next_paragraph_is_taken_whole_when_it_fits(korean: KoreanText) -> None:
    # a first paragraph that is no thin headline, a second that fits beside it, a third that does not
    third = " ".join(sentence(i) for i in range(2, 5))
    text = f"{sentence(0)}\n\n{sentence(1)}\n\n{third}"
    chunks = chunk_article(Article(doc_id="w.txt", text=text), korean, chars, max_tokens=80)
    assert [c.text for c in chunks] == [f"{sentence(0)}\n\n{sentence(1)}", third]


# words ending in no clause ending (rag.chunking._CLAUSE_END): a cut between them is a plain space
WORDS = ["협력사", "대기업", "공급망", "상생안"]


def _pieces(text: str, max_tokens: int) -> list[str]:
    return [text[a:b] for a, b in chunking._split_long(text, 0, len(text), chars, max_tokens)]


def test_an_overlong_sentence_is_cut_no_more_often_than_it_must(korean: KoreanText) -> None:
    words = (WORDS * 2)[:7]
    # five words fill 19 of 20 characters; the two left fit in one piece, cut at spaces, not mid-word
    assert _pieces(" ".join(words), 20) == [" ".join(words[:5]), " ".join(words[5:])]


def test_a_clause_boundary_is_not_taken_when_it_leaves_the_piece_under_half_full() -> None:
    text = "지원하고, " + " ".join(WORDS * 2)
    first = _pieces(text, 24)[0]
    assert first != "지원하고," and len(first) > 12  # a cut at the last space that fits
    assert _pieces("협력사 대기업 지원하고, " + " ".join(WORDS), 24)[0] == "협력사 대기업 지원하고,"  # past half: the clause


def test_an_overlap_that_leaves_no_room_for_the_next_sentence_is_left_out(korean: KoreanText) -> None:
    # the second sentence cannot open the next chunk beside the third: no chunk lies inside another
    short, long_a, long_b = sentence(0), "가" * 68 + ".", "나" * 68 + "."
    text = f"{short} {long_a} {long_b}"
    chunks = chunk_article(Article(doc_id="o.txt", text=text), korean, chars, max_tokens=100, overlap_sentences=1)
    assert [c.text for c in chunks] == [f"{short} {long_a}", long_b]


@pytest.mark.parametrize("spec", [None, type("Module", (), {"submodule_search_locations": None})()])
def test_tiktoken_without_llama_index_says_what_is_missing(monkeypatch: pytest.MonkeyPatch, spec) -> None:
    monkeypatch.setattr(chunking.importlib.util, "find_spec", lambda name: spec)
    with pytest.raises(RuntimeError, match="llama-index-core is not installed"):
        chunking._llama_index_tiktoken_cache()
