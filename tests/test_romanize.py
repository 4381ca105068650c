"""rag/romanize.py: a name in Latin letters found where a passage writes it in Hangul."""

from __future__ import annotations

import pytest

from rag.romanize import SoundIndex, latin_names, romanized, sound_key


def test_hangul_is_romanized_syllable_by_syllable() -> None:
    assert romanized("박준범") == "bakjunbeom"
    assert romanized("한남동") == "hannamdong"
    assert romanized("최진균") == "choejingyun"
    assert romanized("값") == "gap"  # a double final is one sound
    assert romanized("LG이노텍") == "LGinotek"  # other characters are kept


@pytest.mark.parametrize(("latin", "hangul"), [
    ("Park Jun-beom", "박준범"),  # "ar" before a consonant: an English spelling of ㅏ
    ("Choi Jin-kyun", "최진균"),  # oi / oe, k / g
    ("Shin Jae-yong", "신재용"),  # sh / s, ae
    ("Hannam-dong", "한남동"),
    ("Duromina", "두로미나"),
    ("Allen", "알렌"),  # ll / l
    ("Shopping", "쇼핑"),  # a loanword: pp / p, y before a vowel
])
def test_romanizations_of_one_name_share_a_key(latin: str, hangul: str) -> None:
    assert sound_key(latin) == sound_key(romanized(hangul))


def test_a_name_matches_within_the_edits_its_length_allows() -> None:
    index = SoundIndex(["이주형", "이노텍", "갑판", "서울", "박수", "오늘", "두로미나"])
    assert index.matches("Lee Joo-hyung") == ["이주형"]  # a long key: two edits (l, u/o)
    assert index.matches("Innotek") == ["이노텍"]
    assert index.matches("Japan") == []  # a short key must be the same ("tapan" / "kapan")
    assert SoundIndex(["오이"]).matches("Oe") == []  # under three letters of key: too little to tell
    # only Hangul words are candidates: a Latin word of the vocabulary is matched as written elsewhere
    assert SoundIndex(["shopping", "쇼핑"]).matches("Shopping") == ["쇼핑"]
    assert index.matches("Duromina") == ["두로미나"]


def test_an_english_questions_names_are_its_capitalized_runs_then_their_words() -> None:
    assert latin_names("On what day was the first event Choi Jin-kyun hosted held?") == [
        ["Choi Jin-kyun", "Choi", "Jin-kyun"]]
    # the first word is capitalized as a first word; all-capital words are written so in Korean news too
    assert latin_names("Samsung's plant?") == []
    assert latin_names("Choi Jin-kyun", sentence=False) == [["Choi Jin-kyun", "Choi", "Jin-kyun"]]  # a search query
    assert latin_names("Which CEO runs Lotte Home Shopping and Nuri?") == [
        ["Lotte Home Shopping", "Lotte", "Home", "Shopping"], ["Nuri"]]


def test_a_vocabulary_is_searched_by_sound_a_run_before_its_words() -> None:
    index = SoundIndex(["박준범", "박준석", "박", "파악", "롯데", "쇼핑", "서울", "술", "LG", "갑판"])
    assert index.matches("Seoul") == ["서울"]  # not 술: one syllable
    assert index.matches("Japan") == []  # 갑판 is two edits away in sound, and the key is short
    assert index.matches("Park Jun-beom") == ["박준범", "박준석"]  # closest first; a long key tolerates one edit
    # the run found its word: "Park" alone (파악) is not looked up
    assert index.lookup([["Park Jun-beom", "Park", "Jun-beom"]]) == ["박준범", "박준석"]
    # no word for the run: each word is tried
    assert index.lookup([["Lotte Home Shopping", "Lotte", "Home", "Shopping"]]) == ["롯데", "쇼핑"]
    assert index.matches("Park Jun-beom", limit=1) == ["박준범"]


def test_the_edit_distance_to_many_keys_at_once() -> None:
    import numpy as np

    from rag.romanize import _distances

    codes = np.frombuffer(b"kittensittenkitchnkittenmitten", dtype=np.uint8).reshape(5, 6)
    assert _distances("kitten", codes).tolist() == [0, 1, 2, 0, 1]
    assert _distances("sitting", np.frombuffer(b"kitten", dtype=np.uint8).reshape(1, 6)).tolist() == [3]


def test_a_pasted_paragraph_looks_up_a_bounded_number_of_names() -> None:
    from rag.romanize import MAX_GROUPS, MAX_RUN_WORDS

    paragraph = "Why " + ", ".join(f"Alpha{i} Bravo Charlie Delta Echo Foxtrot" for i in range(40)) + "?"
    groups = latin_names(paragraph)
    assert all(len(g) <= MAX_RUN_WORDS + 1 for g in groups)  # a run of 6 capitalized words is cut to 4

    class Counting(SoundIndex):
        def __init__(self, words):
            super().__init__(words)
            self.asked: list[str] = []

        def matches(self, name, limit=3):
            self.asked.append(name)
            return super().matches(name, limit)

    index = Counting(["쇼핑"])
    index.lookup(groups)
    # each name once, from the first MAX_GROUPS groups only ("Bravo" … recur in every group)
    assert len(index.asked) == len(set(index.asked)) <= MAX_GROUPS * (MAX_RUN_WORDS + 1)
    long_word = "가나다라마바사아자차카타파하가나"  # a key of 26 letters: over MAX_KEY, no name
    assert SoundIndex([long_word]).matches(romanized(long_word)) == []
    assert SoundIndex([long_word[:8]]).matches(romanized(long_word[:8])) == [long_word[:8]]
