from __future__ import annotations

from rag.glossary import korean_glosses, korean_names, mostly_latin, with_glosses


def test_english_names_and_domain_words_get_their_korean_forms() -> None:
    glosses = korean_glosses("How many supplier representatives attended LG Electronics' partners workshop?")
    assert {"LG전자", "협력사", "대표", "참석", "워크숍"} <= set(glosses)
    assert korean_names("What was Samsung Electronics' supplier budget?")[0] == "삼성전자"
    assert korean_names("How much will KT contribute each year?") == []


def test_korean_text_is_left_alone() -> None:
    question = "LG이노텍의 동반성장 펀드 규모는?"
    assert not mostly_latin(question) and with_glosses(question) == question
    assert with_glosses("What is the fund of LG Innotek?").endswith("LG이노텍 펀드 기금")
