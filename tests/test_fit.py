"""Fitting the answer layer's weights: a deterministic logistic regression, labels, and the threshold rule."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from eval.fit import choose_threshold, fit_logistic, holds_answer, top1


def test_logistic_regression_recovers_the_direction_of_a_signal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] - 0.2 * x[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(float)
    model = fit_logistic(x, y, ("useful", "weak"))
    assert model.weights[0] > 1.0 and model.weights[1] < 0 and abs(model.weights[1]) < model.weights[0]
    p = model.predict({"useful": [2.0, -2.0], "weak": [0.0, 0.0]})
    assert p[0] > 0.9 and p[1] < 0.1
    assert fit_logistic(x, y, ("useful", "weak")).weights == model.weights  # deterministic


def test_a_sentence_is_labelled_by_the_gold_span_in_a_gold_document():
    assert holds_answer("임종석은 1989년 2월 15일 지명수배됐다.", "d1", ["d1"], [["1989년 2월 15일"]])
    assert not holds_answer("임종석은 1989년 2월 15일 지명수배됐다.", "d2", ["d1"], [["1989년 2월 15일"]])
    assert holds_answer("펀드는 1030억 원이다.", "d1", ["d1"], [["1,030억"]])  # compared without separators
    assert top1([0.2, 0.9, 0.5, 0.1], [0, 1, 1, 0], ["a", "a", "b", "b"]) == 1.0


def test_the_threshold_keeps_false_refusals_within_the_bound():
    probabilities = [0.9, 0.8, 0.7, 0.3, 0.2, 0.6, 0.1]
    labels = [1, 1, 1, 1, 0, 0, 0]  # 1 = answerable
    hard = [False] * 7
    threshold, result = choose_threshold(probabilities, labels, hard, max_false_refusals=0.0)
    assert threshold == 0.3 and result == {"false_refusal_rate": 0.0, "refusal_recall": round(2 / 3, 4)}
    # a question the hard rules already refuse counts against the bound whatever its probability
    threshold, result = choose_threshold(probabilities, labels, [True] + [False] * 6, max_false_refusals=0.25)
    assert result["false_refusal_rate"] <= 0.25 and threshold == 0.3

    # a threshold chosen on one set, read on another (the gap questions of `eval.fit refusal --gap`)
    from eval.fit import at_threshold

    assert at_threshold([0.9, 0.1, 0.2, 0.8], [1, 1, 0, 0], [False, False, False, True], 0.3) == \
        {"false_refusal_rate": 0.5, "refusal_recall": 1.0}


def test_every_calibration_set_counts_equally_in_a_fit():
    from eval.fit import set_weights

    groups = ["korquad-open:1"] * 6 + ["klue:7"] * 2
    weight = set_weights(groups)
    assert weight[:6].sum() == pytest.approx(weight[6:].sum()) == pytest.approx(len(groups) / 2)
    # a weighted row counts as that many copies of it
    x = np.asarray([[0.0], [1.0], [1.0], [0.0]])
    y = np.asarray([0.0, 1.0, 0.0, 1.0])
    heavy = fit_logistic(x, y, ("f",), weight=np.asarray([1.0, 3.0, 1.0, 1.0]))
    copies = fit_logistic(np.vstack([x, x[[1, 1]]]), np.concatenate([y, y[[1, 1]]]), ("f",))
    assert heavy.predict({"f": [1.0]})[0] > 0.5 and abs(heavy.predict({"f": [1.0]})[0] - copies.predict({"f": [1.0]})[0]) < 0.05


def _write_rows(path, names, n=80):
    import json

    rng = np.random.default_rng(1)
    labels = [int(i % 4 != 0) for i in range(n)]
    rows = [{name: float(rng.normal() + (1.5 * y if name == "top" else 0.0)) for name in names} for y in labels]
    path.mkdir(parents=True, exist_ok=True)
    (path / "refusal-rows.json").write_text(json.dumps([rows, labels, [False] * n, "e5-test"]), encoding="utf-8")


def test_a_refusal_refit_weighs_only_the_signals_asked_for(tmp_path, monkeypatch):
    import eval.fit as fit
    from rag.grounding import SIGNALS

    monkeypatch.setattr(fit, "ROWS_DIR", tmp_path)
    _write_rows(tmp_path, SIGNALS)
    result = fit.fit_refusal(None, "test", 0.03, reuse=True, signals=["top", "dense"])
    assert result["answerable"]["features"] == ["top", "dense"]
    assert result["answerable"]["weights"][0] > 0.5  # the signal that tells answerable apart
    assert fit.fit_refusal(None, "test", 0.03, reuse=True)["answerable"]["features"] == list(SIGNALS)
    with pytest.raises(SystemExit, match="unknown refusal signal"):
        fit.fit_refusal(None, "test", 0.03, reuse=True, signals=["tpo"])


def test_rows_cached_before_a_signal_existed_are_not_refitted_from(tmp_path, monkeypatch):
    import eval.fit as fit
    from rag.grounding import SIGNALS

    monkeypatch.setattr(fit, "ROWS_DIR", tmp_path)
    _write_rows(tmp_path, SIGNALS[:-1])  # as if the last signal had been added after the rows were cached
    with pytest.raises(SystemExit, match="without --reuse"):
        fit.fit_refusal(None, "test", 0.03, reuse=True)


def _planted_questions():
    """Half the questions have an answer sentence, the one with the higher "a" and "b"; the other half have
    none, and every sentence of theirs has a higher "b" (a question-level offset: say, a passage that
    repeats the question's words but does not answer it). Pooled, "b" looks harmful; within a question
    it helps tell the answer sentence."""
    rng = np.random.default_rng(3)
    x, y, groups = [], [], []
    for q in range(90):
        answered = q % 2 == 0
        answer = int(rng.integers(6))
        for r in range(6):
            a, b = rng.normal(), rng.normal() + (0.0 if answered else 3.0)
            if answered and r == answer:
                a, b = a + 1.5, b + 1.5
            x.append([a, b])
            y.append(1.0 if answered and r == answer else 0.0)
            groups.append(f"set:{q}")
    return np.asarray(x), np.asarray(y), groups


def test_a_listwise_fit_puts_the_answer_sentence_first_where_a_pointwise_fit_does_not():
    from eval.fit import fit_listwise

    x, y, groups = _planted_questions()
    pointwise = fit_logistic(x, y, ("a", "b"))
    listwise = fit_listwise(x, y, groups, ("a", "b"))
    planted = {"a": [0.0, 0.0, 0.0, 0.0], "b": [0.0, 0.0, 1.0, 0.0]}  # one question: "b" tells its answer
    assert max(range(4), key=lambda i: listwise.predict(planted)[i]) == 2
    assert max(range(4), key=lambda i: pointwise.predict(planted)[i]) != 2
    columns = {"a": x[:, 0], "b": x[:, 1]}
    assert top1(listwise.predict(columns), y, groups) > top1(pointwise.predict(columns), y, groups) + 0.05
    # the Platt scale makes the scores probabilities: on average as many answers as there are
    p = listwise.predict(columns)
    assert 0 < min(p) and max(p) < 1 and abs(np.mean(p) - y.mean()) < 0.01
    assert fit_listwise(x, y, groups, ("a", "b")).weights == listwise.weights  # deterministic


def test_a_listwise_trial_step_that_underflows_an_answer_row_is_rejected_without_a_warning():
    from eval.fit import fit_listwise

    # widely scaled rows: some Newton trial step drives a question's answer rows to 0 (seed found by search)
    rng = np.random.default_rng(52)
    x = rng.normal(size=(60, 2)) * rng.choice([1, 30], size=(60, 1))
    y = (rng.random(60) < 0.3).astype(float)
    groups = [str(i // 6) for i in range(60)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "divide by zero encountered in log" was printed during fits
        model = fit_listwise(x, y, groups, ("a", "b"), l2=0.01)
    assert all(np.isfinite(model.weights))


def test_phrase_shares_sum_to_one_per_question_and_the_best_candidate_is_picked():
    from eval.fit_phrase import best_of, shares
    from rag.ranker import LogisticModel

    model = LogisticModel(("a",), (1.0,), 0.0)
    x = np.asarray([[2.0], [0.0], [1.0], [3.0]])
    groups = ["q1", "q1", "q2", "q2"]
    share = shares(model, x, groups)
    assert share[:2].sum() == pytest.approx(1.0) and share[2:].sum() == pytest.approx(1.0)
    assert share[0] > share[1] and best_of(share, groups, range(4)) == {"q1": 0, "q2": 3}


def test_phrase_figures_show_a_phrase_only_at_or_above_the_threshold():
    from eval.fit_phrase import figures

    base = {"q1": (0.0, 0.1), "q2": (1.0, 1.0), "q3": (0.0, 0.2)}
    picks = {"q1": (0.9, 1.0, 1.0), "q3": (0.4, 0.0, 0.0)}  # (share, EM, F1) of each question's best phrase
    shown = figures(picks, base, 0.5)
    assert shown == {"em": round(2 / 3, 4), "f1": round(2.2 / 3, 4), "shown": 1, "right": 1.0}
    everything = figures(picks, base, 0.0)
    assert everything["shown"] == 2 and everything["right"] == 0.5 and everything["f1"] == round(2.0 / 3, 4)
    assert figures({}, base, 0.0) == {"em": round(1 / 3, 4), "f1": round(1.3 / 3, 4), "shown": 0, "right": 0.0}


def test_refusal_rows_count_an_answer_whose_articles_never_name_the_subject_as_refused_already(korean, monkeypatch):
    # answer.refuse_unnamed refuses such a question after the answerability model: a refit must not learn from it
    # as though the model decided it
    from types import SimpleNamespace

    import eval.fit as fit
    from rag.answering import Answerer
    from rag.config import load_settings
    from tests.answer_samples import ASKED_OF_ANOTHER, UNNAMED_ARCHIVE, archive_hits

    questions = [SimpleNamespace(question=ASKED_OF_ANOTHER, unanswerable=True),
                 SimpleNamespace(question="대성반도체의 시설 투자 규모는?", unanswerable=False)]

    def rows(refuse_unnamed: str) -> list[bool]:
        settings = load_settings(None, env={"RAG_GENERATION__BACKEND": "extractive",
                                            "RAG_ANSWER__REFUSE_UNNAMED": refuse_unnamed})
        pipe = SimpleNamespace(answerer=Answerer(settings, korean, archive_hits, UNNAMED_ARCHIVE.get),
                               embedder=SimpleNamespace(name="fake"))
        monkeypatch.setattr(fit, "accept_all_questions", lambda *a, **kw: (pipe, questions, 5))
        found, labels, hard, embedder = fit.refusal_rows(None)
        assert labels == [0, 1] and embedder == "fake" and all(found)
        return hard

    assert rows("true") == [True, False]
    assert rows("false") == [False, False]


def test_value_figures_fall_back_below_the_threshold_and_count_wrong_values_on_right_answers():
    from eval.fit_value import figures

    rows = {"base": {"q1": (0.0, 0.0), "q2": (1.0, 1.0), "q3": (0.0, 0.5)},
            "fallback": {"q1": (0.0, 0.3), "q3": (0.0, 0.4)},
            "contained": {"q1": True, "q2": True, "q3": False}, "wrong": [True, False]}
    picks = {"q1": (0.9, 0.0, 0.0, 0), "q3": (0.2, 1.0, 1.0, 1)}  # (share, EM, F1, row) of each question's best value
    high = figures(picks, rows, 0.5)  # q1's wrong value shown on an answer holding the gold; q3 falls back
    assert high == {"em": round(1 / 3, 4), "f1": round(1.4 / 3, 4), "shown": 1, "right": 0.0, "wrong_on_right_answers": 1}
    low = figures(picks, rows, 0.1)
    assert low["shown"] == 2 and low["right"] == 0.5 and low["em"] == round(2 / 3, 4) and low["wrong_on_right_answers"] == 1


def test_the_value_threshold_is_the_highest_share_that_keeps_em():
    from eval.fit_value import threshold_for

    mean = {0.0: {"em": 0.33}, 0.2: {"em": 0.325}, 0.3: {"em": 0.318}, 0.4: {"em": 0.29}}
    assert threshold_for(mean, 0.32, 0.005) == 0.3
    assert threshold_for(mean, 0.32, 0.0) == 0.2
    assert threshold_for(mean, 0.40, 0.005) == 0.0  # nothing keeps it: every value shown, as before
