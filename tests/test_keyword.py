import json

import pytest

from rag.keyword import KiwiKeywordIndex
from rag.types import Chunk


def _chunks():
    texts = {
        "samsung": "삼성전자는 협력사와 상생 펀드를 운영한다.",
        "lgu": "LGU+는 협력사 2000여곳에 납품대금을 조기 지급했다.",
        "innotek": "LG이노텍은 1,030억 원 규모의 동반성장 펀드를 운영 중이다.",
        "kt": "KT는 중소 협력사와 공동 연구개발에 100억원을 출연한다.",
    }
    return [Chunk(chunk_id=k, doc_id=f"{k}.txt", text=v, start=0, end=len(v)) for k, v in texts.items()]


def test_korean_particles_do_not_hide_names(korean):
    index = KiwiKeywordIndex(korean.tokens_batch)
    index.build(_chunks())
    assert index.search(index.query_terms("삼성전자 펀드"), 1)[0][0] == "samsung"
    assert index.search(index.query_terms("LGU+ 납품대금"), 1)[0][0] == "lgu"
    assert index.search(index.query_terms("1030억 펀드는 누가?"), 1)[0][0] == "innotek"


def test_no_match_returns_nothing(korean):
    index = KiwiKeywordIndex(korean.tokens_batch)
    index.build(_chunks())
    assert index.search(index.query_terms("날씨"), 5) == []


def test_coverage_is_the_share_of_query_weight_present(korean):
    index = KiwiKeywordIndex(korean.tokens_batch)
    index.build(_chunks())
    terms = index.query_terms("삼성전자 펀드")
    assert index.coverage(terms, "samsung") == pytest.approx(1.0)
    assert 0.0 < index.coverage(terms, "innotek") < 1.0  # has 펀드, not 삼성전자
    assert index.coverage(terms, "kt") == 0.0
    # a query term that no chunk contains weighs in as maximally rare
    assert index.coverage(index.query_terms("삼성전자 반도체"), "samsung") < 0.6


def test_token_cache_is_reused_and_rebuilt_when_corrupt(korean, tmp_path):
    calls = []

    def counting(texts):
        calls.append(len(texts))
        return korean.tokens_batch(texts)

    cache = tmp_path / "kw.json"
    assert KiwiKeywordIndex(counting).build(_chunks(), cache) == 4
    assert KiwiKeywordIndex(counting).build(_chunks(), cache) == 0  # nothing re-tokenized
    changed = _chunks()[:3] + [Chunk(chunk_id="kt", doc_id="kt.txt", text="KT는 5G를 한다.", start=0, end=9)]
    assert KiwiKeywordIndex(counting).build(changed, cache) == 1
    cache.write_text("{not json", encoding="utf-8")
    index = KiwiKeywordIndex(counting)
    assert index.build(_chunks(), cache) == 4
    assert json.loads(cache.read_text(encoding="utf-8"))["version"].startswith("1:")
    assert index.search(index.query_terms("삼성전자"), 1)[0][0] == "samsung"


def test_token_cache_of_another_tokenizer_version_is_not_reused(korean, tmp_path):
    cache = tmp_path / "kw.json"
    assert KiwiKeywordIndex(korean.tokens_batch, tokenizer_version="v1").build(_chunks(), cache) == 4
    assert KiwiKeywordIndex(korean.tokens_batch, tokenizer_version="v1").build(_chunks(), cache) == 0
    assert KiwiKeywordIndex(korean.tokens_batch, tokenizer_version="v2").build(_chunks(), cache) == 4
