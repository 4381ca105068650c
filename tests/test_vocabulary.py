"""Lexicons are plain files a user extends: loaded through the settings, part of the token-cache key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import load_settings
from rag.glossary import korean_glosses, korean_names
from rag.korean import KoreanText
from rag.vocabulary import DEFAULT_LEXICON, Lexicon, LexiconError


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_project_lexicon_loads_and_the_settings_name_it():
    lexicon = Lexicon.load()
    assert ("LGU+", "NNP") in lexicon.user_words
    assert lexicon.wh_words["어디"] == "place" and lexicon.head_words["해"] == "year"
    assert {"각각", "무엇", "what"} <= lexicon.question_words and "해" not in lexicon.question_words
    assert {"왜", "어떻다"} <= lexicon.sentence_words and "무엇" not in lexicon.sentence_words
    # slot "sentence": a question word a sentence answers (no phrase short answer), asking no kind of value
    assert {"왜", "어떻다"} <= lexicon.sentence_words and lexicon.wh_words["왜"] == "" and "무엇" not in lexicon.sentence_words
    assert "다음" in lexicon.frame_words and "not in the context" in lexicon.refusal_cues
    assert lexicon.ordinals["두 번째"] == 2 and lexicon.ordinals["마지막"] == -1
    assert load_settings(None, env={}).answer.lexicon == (DEFAULT_LEXICON,)


def test_a_users_folder_extends_the_project_lexicon(tmp_path: Path):
    mine = write(tmp_path / "mine", "user_words.tsv", "# my corpus\n새솔테크\tNNP\n")
    write(mine, "aliases.tsv", "새솔테크\t새솔\n")
    write(mine, "glossary.tsv", "name\tSaesol\\s*Tech\t새솔테크\n")
    base, extended = Lexicon.load(), Lexicon.load([DEFAULT_LEXICON, mine])
    assert ("새솔테크", "NNP") in extended.user_words and ("LGU+", "NNP") in extended.user_words
    assert korean_names("Who founded Saesol Tech?", extended.glossary) == ["새솔테크"]
    assert korean_names("Who founded Saesol Tech?", base.glossary) == []
    assert base.fingerprint != extended.fingerprint
    # the alias group is applied on both sides, and token caches built with the old words are stale
    korean = KoreanText(lexicon=extended)
    assert "새솔" in korean.tokens("새솔테크는 협력사를 돕는다")
    assert korean.version != KoreanText(lexicon=base).version
    settings = load_settings(None, env={"RAG_ANSWER__LEXICON": f"{DEFAULT_LEXICON},{mine}"})
    assert settings.answer.lexicon == (DEFAULT_LEXICON, mine)


def test_sentence_words_extend_without_touching_the_token_cache_key(tmp_path: Path):
    mine = write(tmp_path / "mine", "sentence_words.txt", "# a sentence answers these\n이유\n")
    base, extended = Lexicon.load(), Lexicon.load([DEFAULT_LEXICON, mine])
    assert "이유" in extended.sentence_words and "이유" not in base.sentence_words and "왜" in extended.sentence_words
    assert extended.fingerprint == base.fingerprint  # the keyword index is not rebuilt for it


def test_notes_kept_in_a_lexicon_folder_are_not_lexicon(tmp_path: Path):
    # a README or a backup beside the files is read by nobody: it neither loads nor changes the cache key
    mine = write(tmp_path / "mine", "user_words.tsv", "새솔테크\tNNP\n")
    before = Lexicon.load([DEFAULT_LEXICON, mine]).fingerprint
    write(mine, "README.md", "새솔테크 is our parent company\n")
    write(mine, "user_words.tsv.bak", "옛말\tNNP\n")
    after = Lexicon.load([DEFAULT_LEXICON, mine])
    assert after.fingerprint == before and ("옛말", "NNP") not in after.user_words


def test_blank_lines_notes_and_doubled_tabs_are_forgiven(tmp_path: Path):
    text = "# my words\n\n   \n새솔테크\t\tNNP\t# our parent company\n한결물산\tNNP\n"
    words = Lexicon.load([write(tmp_path, "user_words.tsv", text)]).user_words
    assert words == (("새솔테크", "NNP"), ("한결물산", "NNP"))


def test_a_glossary_row_with_a_stray_comma_gives_no_empty_form(tmp_path: Path):
    mine = write(tmp_path / "mine", "glossary.tsv", "name\tSaesol\t새솔테크, ,\n")
    (entry,) = Lexicon.load([mine]).glossary
    assert entry.forms == ("새솔테크",)


@pytest.mark.parametrize(("name", "text", "message"), [
    ("user_words.tsv", "LGU+\n", "user_words.tsv:1: expected 2"),
    ("glossary.tsv", "company\tx\ty\n", "kind must be"),
    ("glossary.tsv", "term\t(unclosed\ty\n", "bad regular expression"),
    ("question_words.tsv", "어디\tplace\tsomewhere\n", "role must be"),
    ("multi_part_cues.txt", "# cues\n두 (곳\n", "multi_part_cues.txt:2: bad regular expression"),
    ("ordinals.tsv", "두 번째\tsecond\n", "ordinals.tsv:1: position must be"),
    ("ordinals.tsv", "두 번째\t0\n", "ordinals.tsv:1: position must be"),
    ("units.tsv", "# units\n톤\tweight\n", "units.tsv:2: kind must be one of"),
    ("user_words.tsv", "새솔테크\tNNP\t여분\n", "user_words.tsv:1: expected 2 tab-separated field\\(s\\), found 3"),
    ("references.tsv", "그 사람\tsomeone\n", "references.tsv:1: kind must be one of"),
])
def test_a_bad_lexicon_line_names_its_file_and_line(tmp_path: Path, name: str, text: str, message: str):
    with pytest.raises(LexiconError, match=message):
        Lexicon.load([write(tmp_path, name, text)])


def test_a_missing_lexicon_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(LexiconError, match="not found"):
        Lexicon.load([tmp_path / "nope"])


def test_the_glossary_is_data():
    assert korean_glosses("How large is LG Innotek's shared growth fund?")[:2] == ["LG이노텍", "동반성장"]
    assert korean_glosses("How large is LG Innotek's shared growth fund?", ()) == []
