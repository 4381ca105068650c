"""The bm25s keyword index: Korean terms, global statistics across segments, filters before ranking."""

import numpy as np
import pytest

from rag.keyword import KeywordIndex, build_segment

TEXTS = {
    "samsung.txt#0": "삼성전자는 협력사와 상생 펀드를 운영한다.",
    "lgu.txt#0": "LGU+는 협력사 2000여곳에 납품대금을 조기 지급했다.",
    "innotek.txt#0": "LG이노텍은 1,030억 원 규모의 동반성장 펀드를 운영 중이다.",
    "kt.txt#0": "KT는 중소 협력사와 공동 연구개발에 100억원을 출연한다.",
    "kt.txt#1": "KT는 협력사 펀드도 운영한다.",
}


def _index(korean, groups=(list(TEXTS),)):
    """One segment per group of chunk ids, as successive ingests would leave them."""
    index = KeywordIndex([], korean.tokens_batch)
    for n, ids in enumerate(groups):
        index = index.with_changes([(i, korean.tokens(TEXTS[i])) for i in ids], [], n + 1)
    return index


def test_korean_particles_do_not_hide_names(korean):
    index = _index(korean)
    assert index.search(index.query_terms("삼성전자 펀드"), 1)[0][0] == "samsung.txt#0"
    assert index.search(index.query_terms("LGU+ 납품대금"), 1)[0][0] == "lgu.txt#0"
    assert index.search(index.query_terms("1030억 펀드는 누가?"), 1)[0][0] == "innotek.txt#0"
    assert index.search(index.query_terms("날씨"), 5) == []


def test_coverage_is_the_share_of_query_weight_present(korean):
    index = _index(korean)
    terms = index.query_terms("삼성전자 펀드")
    assert index.coverage(terms, "samsung.txt#0") == pytest.approx(1.0)
    assert 0.0 < index.coverage(terms, "innotek.txt#0") < 1.0  # has 펀드, not 삼성전자
    assert index.coverage(terms, "lgu.txt#0") == 0.0
    # a query term that no chunk contains weighs in as maximally rare
    assert index.coverage(index.query_terms("삼성전자 반도체"), "samsung.txt#0") < 0.6


def test_statistics_are_global_however_the_chunks_are_split_into_segments(korean):
    whole = _index(korean)
    split = _index(korean, (["samsung.txt#0", "lgu.txt#0"], ["innotek.txt#0"], ["kt.txt#0", "kt.txt#1"]))
    assert len(split.segments) == 3 and len(split) == len(whole) == 5
    for question in ("삼성전자 펀드", "협력사 펀드 운영", "KT 연구개발 출연"):
        terms = whole.query_terms(question)
        assert split.idf(terms) == pytest.approx(whole.idf(terms))
        for cid in TEXTS:
            assert split.coverage(terms, cid) == pytest.approx(whole.coverage(terms, cid))
        # each segment's baked-in IDF and average chunk length are rescaled to the global ones: the
        # BM25 scores, and so the ranking, are those of one segment over all the chunks
        ranked = whole.search(terms, 5)
        assert [c for c, _ in split.search(terms, 5)] == [c for c, _ in ranked]
        assert split.search(terms, 5) == ranked  # the same bits: ties break alike
        assert split.score(terms, list(TEXTS)) == whole.score(terms, list(TEXTS))


def test_ties_at_the_cut_go_to_the_chunk_id(korean):
    # twenty copies of one passage (an article syndicated under twenty names) score alike: the top 3 are
    # the three smallest ids, as they are when the copies sit in different segments
    ids = [f"copy{n:02d}.txt#0" for n in range(20, 0, -1)]
    segment = build_segment("s", ids, [korean.tokens("협력사 상생 펀드") for _ in ids])
    index = KeywordIndex([segment], korean.tokens_batch)
    assert [c for c, _ in index.search(["펀드"], 3)] == ["copy01.txt#0", "copy02.txt#0", "copy03.txt#0"]


def test_a_term_repeated_many_times_scores_alike_in_any_layout(korean):
    # the term frequency is recovered from float32 scores and rounded: it must come back exact
    texts = {"long#0": " ".join(["펀드"] * 300 + ["협력사"] * 7), "short#0": "펀드", "mid#0": "협력사 펀드 " * 20}
    terms = {c: korean.tokens(t) for c, t in texts.items()}
    whole = KeywordIndex([], korean.tokens_batch).with_changes(list(terms.items()), [], 1)
    split = KeywordIndex([], korean.tokens_batch).with_changes([("long#0", terms["long#0"])], [], 1)
    split = split.with_changes([(c, terms[c]) for c in ("short#0", "mid#0")], [], 2)
    assert len(split.segments) == 2 and split.segments[0].built_avgdl != split._avgdl
    for query in (["펀드"], ["협력사"], ["펀드", "협력사"]):
        assert split.search(query, 3) == whole.search(query, 3)


def test_scoring_given_chunks_matches_the_ranking(korean):
    index = _index(korean, (["samsung.txt#0", "lgu.txt#0", "innotek.txt#0"], ["kt.txt#0", "kt.txt#1"]))
    terms = index.query_terms("협력사 펀드 운영")
    ranked = dict(index.search(terms, 10))
    picked = ["kt.txt#1", "innotek.txt#0", "missing.txt#0"]
    assert index.score(terms, picked) == pytest.approx({c: ranked[c] for c in picked if c in ranked})


def test_filter_applies_before_ranking(korean):
    index = _index(korean)
    terms = index.query_terms("협력사 펀드 운영")
    best = index.search(terms, 1)[0][0]
    allowed = index.search(terms, 1, allow=lambda doc: doc != best.split("#")[0])
    assert allowed and allowed[0][0].split("#")[0] != best.split("#")[0]  # the next best, not nothing
    assert index.search(terms, 5, allow=lambda doc: doc == "kt.txt") and all(
        c.startswith("kt.txt#") for c, _ in index.search(terms, 5, allow=lambda doc: doc == "kt.txt"))


def test_removed_and_replaced_rows_are_gone(korean):
    index = _index(korean)
    changed = index.with_changes([("kt.txt#1", korean.tokens("KT는 5G 장비를 공급한다."))], ["samsung.txt#0"], 9)
    assert "samsung.txt#0" not in changed and len(changed) == 4 and changed.generation == 9
    assert all(c != "samsung.txt#0" for c, _ in changed.search(changed.query_terms("삼성전자 펀드"), 5))
    assert changed.search(changed.query_terms("5G 장비"), 1)[0][0] == "kt.txt#1"
    assert "kt.txt#1" not in dict(changed.search(changed.query_terms("협력사 펀드"), 5))
    # the old index is untouched: a search in flight keeps its view
    assert "samsung.txt#0" in index and len(index) == 5


def test_a_chunk_without_terms_still_gets_a_row(korean):
    segment = build_segment("s", ["a#0", "b#0"], [[], ["펀드"]])
    index = KeywordIndex([segment], korean.tokens_batch)
    assert len(index) == 2 and index.search(["펀드"], 5)[0][0] == "b#0"
    assert np.asarray(segment.offsets).tolist() == [0, 0, 1]


def test_a_long_re_tokenize_is_announced_before_it_starts(caplog):
    """After a lexicon change every chunk is re-tokenized once at the next start (15 min at 100k chunks):
    the log says so before the wait, so an operator knows why questions wait."""
    import logging

    from rag.store import StoredChunk
    from rag.types import Chunk
    from rag.view import _SAY_BEFORE, _terms_for

    class Store:  # the one read _terms_for makes
        def chunks(self, ids):
            return {c: StoredChunk(Chunk(c, "d", "본문", 0, 2), "h", np.zeros(0)) for c in ids}

    said_before = []

    def tokenize(texts):
        said_before.append(any("tokenizing" in r.getMessage() for r in caplog.records))
        return [["본문"] for _ in texts]

    with caplog.at_level(logging.WARNING, logger="rag.view"):
        _terms_for([f"d#{i}" for i in range(_SAY_BEFORE)], Store(), tokenize)
    assert said_before and all(said_before)
    caplog.clear()
    said_before.clear()
    with caplog.at_level(logging.WARNING, logger="rag.view"):
        _terms_for(["d#0", "d#1"], Store(), tokenize)  # a few chunks after a killed ingest: no alarm
    assert said_before == [False]


def test_after_a_removal_the_statistics_are_those_of_the_live_chunks(korean):
    # a removed or replaced chunk's terms leave the document frequencies: the index answers as one built
    # from the live chunks alone would
    index = _index(korean)
    changed = index.with_changes([], ["samsung.txt#0", "innotek.txt#0"], 2)
    live = _index(korean, ([c for c in TEXTS if c not in ("samsung.txt#0", "innotek.txt#0")],))
    assert sorted(changed.chunk_ids()) == sorted(live.chunk_ids()) == ["kt.txt#0", "kt.txt#1", "lgu.txt#0"]
    assert len(changed) == 3
    for question in ("협력사 펀드 운영", "삼성전자 펀드", "KT 연구개발"):
        terms = index.query_terms(question)
        assert changed.idf(terms) == pytest.approx(live.idf(terms))
        assert changed.df("펀드") == live.df("펀드") == 1
        # the dead rows' lengths leave the length normalization too: the scores are the live index's
        assert [c for c, _ in changed.search(terms, 5)] == [c for c, _ in live.search(terms, 5)]
        assert changed.search(terms, 5) == live.search(terms, 5)
        for cid in live.chunk_ids():
            assert changed.coverage(terms, cid) == pytest.approx(live.coverage(terms, cid))
    assert changed.idf(["삼성전자"]) == {"삼성전자": 0.0}  # only a removed chunk had it



def test_scores_and_coverages_of_given_chunks_edge_cases(korean):
    index = _index(korean, (["samsung.txt#0", "lgu.txt#0"], ["innotek.txt#0"], ["kt.txt#0", "kt.txt#1"]))
    terms = index.query_terms("펀드 운영")
    # chunks of one segment only; a located chunk matching no term gets no score, not a score of 0
    assert set(index.score(terms, ["kt.txt#1", "lgu.txt#0"])) == {"kt.txt#1"}
    # coverage weighs each term by its IDF: the rarer word counts for more of the question
    idf = index.idf(index.query_terms("삼성전자 펀드"))
    share = idf["삼성전자"] / (idf["삼성전자"] + idf["펀드"])
    assert index.coverage(index.query_terms("삼성전자 펀드"), "samsung.txt#0") == pytest.approx(1.0)
    assert index.coverage(index.query_terms("삼성전자 펀드"), "innotek.txt#0") == pytest.approx(1 - share)
    assert share > 0.5
    # no query term at all, or a chunk the index does not hold: coverage 0, not an error
    assert index.coverages([], ["kt.txt#1"]) == {"kt.txt#1": 0.0}
    assert index.coverages(terms, ["missing.txt#0"]) == {"missing.txt#0": 0.0}


def test_latin_names_find_the_hangul_words_of_live_chunks_only(korean):
    from rag.romanize import latin_names

    index = KeywordIndex([], korean.tokens_batch).with_changes(
        [("a#0", korean.tokens("최진균 대표는 협력사를 찾았다.")), ("b#0", korean.tokens("이주형 사장이 말했다."))], [], 1)
    names = latin_names("Who is Choi Jin-kyun?", sentence=True)
    assert index.sounding(names) == ["최진균"]
    assert index.with_changes([], ["a#0"], 2).sounding(names) == []  # its only chunk is gone
