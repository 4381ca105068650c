"""korquad-chain: each follow-up asked third, after a question naming its article and a follow-up about it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from eval.korquad_chain import load_korquad_chain, load_korquad_switch


def _article(title: str, qas: list[tuple[str, str, str]]) -> dict:
    context = " ".join(f"{title}의 {answer}." for _, _, answer in qas)
    return {"title": title, "paragraphs": [{"context": context, "qas": [
        {"id": qid, "question": text, "answers": [{"text": answer, "answer_start": context.index(answer)}]}
        for qid, text, answer in qas]}]}


def _dev(tmp_path: Path) -> Path:
    # ids in sha1 order: d < f < g < c < a (b names no article); h < e < j; k, l
    assert sorted("dfgca", key=lambda i: hashlib.sha1(i.encode()).hexdigest()) == list("dfgca")
    assert sorted("hej", key=lambda i: hashlib.sha1(i.encode()).hexdigest()) == list("hej")
    path = tmp_path / "dev.json"
    path.write_text(json.dumps({"data": [
        _article("한빛", [("a", "한빛이 세워진 해는 언제인가?", "1990년"), ("b", "대표의 이름은 무엇인가?", "김하나"),
                         ("c", "한빛의 본사가 있는 도시는?", "세종"), ("d", "한빛이 처음 만든 제품은?", "반도체"),
                         ("f", "한빛은 무엇?", "회사"),  # too little question is left without the name
                         ("g", "한빛을 세운 사람은 누구인가?", "이두리")]),
        _article("누리", [("e", "누리의 창업자는 누구인가?", "박누리"), ("h", "누리가 만든 첫 제품은?", "전지"),
                         ("j", "누리의 본사는 어디에 있나?", "부산")]),
        _article("가람", [("k", "가람이 세워진 해는 언제인가?", "2001년"), ("l", "가람의 대표는 누구인가?", "최가람")]),
    ]}, ensure_ascii=False), encoding="utf-8")
    return path


def test_each_followup_is_asked_after_the_articles_first_question_and_its_next_followup(tmp_path: Path):
    corpus, questions = load_korquad_chain(_dev(tmp_path), None, every=2)  # article 2 is withheld
    by_id = {q.id: q for q in questions}
    # 한빛: d is turn 1, f has no follow-up form, g is turn 2, c and a are asked third; b does not name 한빛.
    # 누리: h, e, then j. 가람 has two naming questions only: no third turn.
    assert sorted(by_id) == ["a", "c", "j"]
    assert [(t.role, t.content) for t in by_id["a"].history] == [
        ("user", "한빛이 처음 만든 제품은?"), ("assistant", "반도체"),
        ("user", "세운 사람은 누구인가?"), ("assistant", "이두리")]
    assert by_id["c"].history == by_id["a"].history
    assert by_id["a"].question == "세워진 해는 언제인가?" and by_id["c"].question == "본사가 있는 도시는?"
    assert by_id["a"].type == "korquad-chain" and by_id["a"].gold == ("korquad-001-01",)
    assert by_id["a"].answers == (("1990년",),)
    assert [t.content for t in by_id["j"].history] == ["누리가 만든 첫 제품은?", "전지", "창업자는 누구인가?", "박누리"]
    assert by_id["j"].type == "korquad-chain-withheld" and by_id["j"].unanswerable
    assert [a.doc_id for a in corpus] == ["korquad-001-01", "korquad-003-01"]  # open QA's corpus


def test_the_chain_set_runs_through_python_m_eval_with_its_two_turns_recorded(tmp_path: Path, monkeypatch):
    """`python -m eval --dataset korquad-chain`: open QA's store, the calibration half, and each case recording the
    four turns it was asked after (real Chroma, hashing embedder, the synthetic dev file)."""
    import eval.__main__ as cli
    from fakes import HashingEmbedder
    from rag.config import load_settings

    dev = _dev(tmp_path)
    monkeypatch.setattr(cli, "load_korquad_chain", lambda path, spec: load_korquad_chain(dev, "1-3", every=2))
    settings = load_settings(None, env={"RAG_PATHS__DATA_DIR": str(tmp_path / "data"),
                                        "RAG_PATHS__CACHE_DIR": str(tmp_path / "cache"),
                                        "RAG_GENERATION__BACKEND": "extractive"})
    assert cli.is_korquad("korquad-chain") and cli._korquad_range("korquad-chain", "calibrate") == "1-70"
    assert cli._dataset_label("korquad-chain:1-70") == "korquad-chain-1-70"

    out = tmp_path / "run"
    assert cli.main(["--dataset", "korquad-chain", "--mode", "extractive", "--out", str(out), "--no-progress"],
                    settings=settings, embedder=HashingEmbedder()) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["store"] == str(tmp_path / "data" / "korquad-open" / "store")
    assert "asked third in a chat" in summary["run"]["corpus"]
    cases = {c["id"]: c for c in map(json.loads, (out / "cases.jsonl").read_text(encoding="utf-8").splitlines())}
    assert sorted(cases) == ["a", "c", "j"]
    assert [t["content"] for t in cases["a"]["history"]][2] == "세운 사람은 누구인가?"
    assert cases["a"]["standalone_question"]  # what the chat made of the third question, kept for reading


def test_a_topic_switch_asks_each_followup_after_another_articles_question_and_one_naming_its_own(tmp_path: Path):
    corpus, questions = load_korquad_switch(_dev(tmp_path), None, every=2)  # article 2 is withheld
    by_id = {q.id: q for q in questions}
    # 한빛: turn 1 is the last article's (가람) first question, turn 2 its own first (d) as written; g, c and a
    # are asked third (f has no follow-up form). 누리: after 한빛's first; 가람 (l, then k): after 누리's.
    assert sorted(by_id) == ["a", "c", "e", "g", "j", "k"]
    assert [t.content for t in by_id["a"].history] == ["가람의 대표는 누구인가?", "최가람",
                                                       "한빛이 처음 만든 제품은?", "반도체"]
    assert by_id["g"].question == "세운 사람은 누구인가?" and by_id["g"].history == by_id["a"].history
    assert by_id["a"].type == "korquad-switch" and by_id["a"].gold == ("korquad-001-01",)
    assert [t.content for t in by_id["e"].history] == ["한빛이 처음 만든 제품은?", "반도체", "누리가 만든 첫 제품은?", "전지"]
    assert by_id["j"].type == "korquad-switch-withheld" and by_id["j"].unanswerable
    assert [t.content for t in by_id["k"].history][::2] == ["누리가 만든 첫 제품은?", "가람의 대표는 누구인가?"]
    assert by_id["k"].question == "세워진 해는 언제인가?" and by_id["k"].answers == (("2001년",),)
    assert [a.doc_id for a in corpus] == ["korquad-001-01", "korquad-003-01"]
    _, first_only = load_korquad_switch(_dev(tmp_path), "1", every=2)  # the half is B's; A may lie outside it
    assert sorted(q.id for q in first_only) == ["a", "c", "g"]
