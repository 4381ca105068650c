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
