"""Failure diagnosis: each missed answer is put at the first step of the answer path that lost it."""

from __future__ import annotations

from eval.diagnose import classify, table


def test_a_miss_is_put_at_the_first_step_that_lost_the_answer():
    # (refused, correct, gold retrieved, span in gold text, in one sentence, candidate rank, evidence rank)
    assert classify(False, True, True, True, True, 1, 1) == "correct"
    assert classify(True, False, False, True, True, None, None) == "refused: gold not retrieved"
    assert classify(True, False, True, True, True, 2, 2) == "refused: answer sentence in evidence"
    assert classify(False, False, False, True, True, None, None) == "retrieval miss"
    assert classify(False, False, True, True, False, None, None) == "span crosses sentences"
    assert classify(False, False, True, True, True, None, None) == "answer sentence not a candidate"
    assert classify(False, False, True, True, True, 12, None) == "candidate ranked out of evidence"
    assert classify(False, False, True, True, True, 3, 3) == "in evidence, another sentence chosen"


def test_the_table_counts_categories_and_the_answer_length():
    records = [{"category": "correct", "refused": False, "answer_chars": 40},
               {"category": "retrieval miss", "refused": False, "answer_chars": 80},
               {"category": "refused: other", "refused": True, "answer_chars": 0}]
    shown = table(records)
    assert "| correct | 1 | 0.333 |" in shown and "| retrieval miss | 1 | 0.333 |" in shown
    assert "containment 0.333" in shown and "mean answer length 60 chars over 2 answers" in shown


def test_diagnose_asks_a_question_file_of_the_store_it_is_given(tmp_path, capsys):
    """`python -m eval --store DIR` measured one's own archive, but diagnose had no --store: it read the configured
    store (created empty) and told the user to ingest the seeds there."""
    from dataclasses import replace

    from conftest import SEEDS_DIR
    from fakes import HashingEmbedder

    from eval.diagnose import main
    from rag.pipeline import build_pipeline
    from test_eval import _settings

    settings = _settings(tmp_path / "mine")
    pipe = build_pipeline(settings, embedder=HashingEmbedder())
    pipe.ingest([SEEDS_DIR / "004_3623695115e5a12c.txt"])
    pipe.close()
    questions = tmp_path / "mine.jsonl"
    questions.write_text('{"id": "q1", "question": "KT 파트너스 데이는 어디에서 열렸나?", "answers": [["더케이호텔"]], '
                         '"gold": ["004_3623695115e5a12c.txt"]}\n', encoding="utf-8")
    configured = replace(settings, store=replace(settings.store, dir=tmp_path / "configured"))
    assert main(["--dataset", str(questions), "--store", str(settings.store.dir)], settings=configured,
                embedder=HashingEmbedder()) == 0
    out = capsys.readouterr().out
    assert f"store:  {settings.store.dir}" in out and "1 answerable questions" in out
    assert not (tmp_path / "configured").exists()
