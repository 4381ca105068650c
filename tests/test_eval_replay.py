"""eval.replay: the extractive choice replayed over diagnose records for a grid of a setting's values."""

from __future__ import annotations

import json

from eval.replay import best_value, main, replay
from rag.korean import KoreanText


def _record(question: str, answers: list[list[str]], sentences: list[tuple[str, float]]) -> dict:
    evidence, start = [], 0
    for n, (text, score) in enumerate(sentences, 1):
        evidence.append({"n": n, "doc_id": "a.txt", "text": text, "start": start, "end": start + len(text),
                         "title": "", "score": score})
        start += len(text) + 1
    return {"question": question, "answers": answers, "refused": False, "evidence": evidence}


RECORDS = [
    _record("결승전은 몇 대 몇으로 끝났나?", [["3:1"]],
            [("결승전은 3:1로 끝났다.", 0.6), ("결승전에는 관중 2만 명이 모였다.", 0.05)]),
    # refused and unanswerable records are not replayed
    {"question": "x", "answers": [], "refused": False, "evidence": []},
    {"question": "y", "answers": [["z"]], "refused": True, "evidence": []},
]


def test_replay_scores_each_value_of_a_setting_over_the_kept_records(korean: KoreanText) -> None:
    base = {"second_share": 0.5, "slot_miss_factor": 0.5}
    got = replay(RECORDS, korean, "slot_miss_factor", [0.0, 0.5], base)
    assert got[0.0][0] == 0.0 and got[0.5][0] == 1.0
    assert got[0.5][1] == len("결승전은 3:1로 끝났다 [1].")


def test_the_chosen_value_is_the_best_mean_over_sets_first_on_ties() -> None:
    by_set = {"a": {0.0: (0.5, 1), 0.5: (0.7, 1), 1.0: (0.9, 1)}, "b": {0.0: (0.5, 1), 0.5: (0.5, 1), 1.0: (0.1, 1)}}
    assert best_value(by_set) == 0.5
    assert best_value({"a": {0.2: (0.5, 1), 0.4: (0.5, 1)}}) == 0.2


def test_the_command_prints_a_table_and_the_choice(tmp_path, capsys) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    assert main([str(path), "--values", "0,1"]) == 0
    out = capsys.readouterr().out
    assert "| 0 | 0.0000" in out and "| 1 | 1.0000" in out and "slot_miss_factor = 1" in out
