from __future__ import annotations

from rag.glossary import (copied_latin_runs, is_hangul_form, korean_glosses, korean_names, mostly_foreign, mostly_latin,
                          with_glosses)


def test_english_names_and_domain_words_get_their_korean_forms() -> None:
    glosses = korean_glosses("How many supplier representatives attended LG Electronics' partners workshop?")
    assert {"LG전자", "협력사", "대표", "참석", "워크숍"} <= set(glosses)
    assert korean_names("What was Samsung Electronics' supplier budget?")[0] == "삼성전자"
    assert korean_names("How much will KT contribute each year?") == []


def test_korean_text_is_left_alone() -> None:
    question = "LG이노텍의 동반성장 펀드 규모는?"
    assert not mostly_latin(question) and with_glosses(question) == question
    assert with_glosses("What is the fund of LG Innotek?").endswith("LG이노텍 펀드 기금")


def test_the_names_a_translation_copied_in_latin_script_are_found_acronyms_aside() -> None:
    question = "Which AI seminar did Han Ga-ram of Solbit Works join, and what did the KT unit say?"
    translated = "Solbit Works의 Han Ga-ram이 참가한 AI 세미나와 KT 자회사의 말은?"
    assert copied_latin_runs(translated, question) == ["Solbit Works", "Han Ga-ram"]
    # a word the question does not hold as written is the model's own; the tail of a word is no name
    assert copied_latin_runs("Solbitt의 멜로디.ly 세미나는?", "What did Solbit's Melody.ly say?") == []
    assert copied_latin_runs("A b c d e", "A b c d e", limit=3) == ["A b c d e"]
    assert is_hangul_form("한가람") and is_hangul_form("LG이노텍") and not is_hangul_form("Han 가람") and not is_hangul_form("") \
        and not is_hangul_form("가" * 31)


def test_a_korean_question_with_latin_names_or_figures_is_korean() -> None:
    # Latin letters are counted, not Hangul, digits or punctuation; only letters decide "foreign"
    assert not mostly_latin("Samsung의 반도체")
    assert not mostly_latin("2023.12.31 기준 KT 매출은?")
    assert not mostly_foreign("2023.12.31 기준 매출은?")
    assert with_glosses("Samsung의 협력사 펀드는?") == "Samsung의 협력사 펀드는?"
    assert with_glosses("What is it?") == "What is it?"  # nothing glossed: nothing added


def test_each_korean_form_is_given_once() -> None:
    # "suppliers" and "partners" both give 협력사
    assert korean_glosses("suppliers and partners") == ["협력사", "파트너"]


def test_a_copied_run_is_a_whole_word_taken_once() -> None:
    # "ly" ends a word the translation wrote in Hangul: it is no name of its own
    assert copied_latin_runs("뮤지컬ly 앱은?", "What is the Musical.ly app?") == []
    assert copied_latin_runs("Park Jun-beom은 Park Jun-beom이라고 불린다", "Who is Park Jun-beom?") == ["Park Jun-beom"]
    assert not is_hangul_form("LG")  # a transliteration holds some Hangul
