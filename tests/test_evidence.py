"""Evidence selection: sentences of the retrieved chunks, with offsets, within the prompt budget."""

from __future__ import annotations


from rag.korean import KoreanText
from rag.evidence import select_evidence
from rag.prompts import trim_evidence
from tests.answer_samples import ARTICLES, evidence, hits


def test_evidence_is_sentences_with_offsets_into_the_article(korean: KoreanText) -> None:
    found = evidence(korean)
    assert [ev.n for ev in found] == list(range(1, len(found) + 1))
    for ev in found:
        assert ARTICLES[ev.doc_id].text[ev.start:ev.end] == ev.text
        assert "\n" not in ev.text
    assert "1,030억 원" in found[0].text  # the sentence that answers comes first


def test_evidence_respects_the_prompt_budget(korean: KoreanText) -> None:
    small = select_evidence("LG이노텍의 동반성장 펀드 규모는?", hits(), ARTICLES.get, korean, max_evidence=2, max_chars=2000)
    assert len(small) == 2
    short = select_evidence("LG이노텍의 동반성장 펀드 규모는?", hits(), ARTICLES.get, korean, max_evidence=8, max_chars=60)
    assert len(short) == 1
    trimmed = trim_evidence(evidence(korean), 2, 10_000)
    assert [ev.n for ev in trimmed] == [1, 2]


def test_evidence_falls_back_to_chunk_text_without_the_article(korean: KoreanText) -> None:
    found = select_evidence("LG이노텍 펀드", hits(), lambda doc_id: None, korean, max_evidence=3, max_chars=2000)
    assert found and all(ARTICLES[ev.doc_id].text[ev.start:ev.end] == ev.text for ev in found)
