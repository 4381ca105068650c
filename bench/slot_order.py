"""Would a fitted model choose a slot question's value better than "nearest to the question's words"?
(issue 9, candidate V of bench/results/phrase_answers_2026-12-06.md; calibration half only.)

    python bench/slot_order.py [--claims 3] [--limit N]

For each answerable KorQuAD 1-70 question that gets a value today (rag/slots.py), the candidates are the
value spans of its first `--claims` claims as rag/short_answer.py reads them, each also extended by the
noun one space after it; features: rag/phrases.py's, plus the claim's index, whether today's rule picks
it, its rank by today's rule and whether it is an extension. A listwise logit (eval.fit.fit_listwise)
picks one; EM/F1 out of fold (two folds of whole articles, three shuffles) against today's pick.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.metrics import korquad_em, korquad_f1  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.evidence import question_terms  # noqa: E402
from rag.phrases import FEATURES, phrase_features, question_shape, term_of  # noqa: E402
from rag.short_answer import _distance, _joined, _word  # noqa: E402
from rag.slots import asked_slot, slot_values  # noqa: E402


def value_rows(question: str, claims: list[str], korean, n_claims: int) -> list[tuple[dict[str, float], str]]:
    morphemes = korean.morphemes_batch([question])[0]
    asked, known = asked_slot(morphemes, korean.lexicon), question_terms(question, korean)
    shape = question_shape(question, korean)
    rows, first = [], None
    claims = [c for c in claims if c.strip()][:n_claims]
    for index, (claim, morphs) in enumerate(zip(claims, korean.morphemes_batch(claims))):
        spans = slot_values(morphs, asked, known, korean.lexicon.units)
        if not spans:
            continue
        spans = _joined([_word(sp, morphs) for sp in spans], claim)
        if asked.slot == "place":  # as rag/short_answer.py: a proper noun first
            spans = [sp for sp in spans if any(t == "NNP" and s >= sp[0] and e <= sp[1] for t, _, s, e in morphs)] or spans
        anchors = [(s + e) / 2 for t, f, s, e in morphs if term_of(t, f) in known]
        found: dict[tuple[int, int], set] = {}
        for rank, sp in enumerate(sorted(spans, key=lambda sp: (_distance(sp, anchors), sp[0]))):
            found.setdefault(sp, set()).add(("value", rank))
            after = next(((t, s, e) for t, _, s, e in morphs if s >= sp[1]), None)
            if after and after[0].startswith(("NNG", "NNB", "NNP")) and claim[sp[1]:after[1]] == " ":
                found.setdefault((sp[0], after[2]), set()).add(("extended", rank))
        first = index if first is None else first
        spans_out, columns = phrase_features(shape, claim, morphs, {sp: set() for sp in found})
        for j, sp in enumerate(spans_out):
            kinds = found[sp]
            row = {f: columns[f][j] for f in FEATURES}
            row.update(claim_i=float(index), today=float(index == first and ("value", 0) in kinds),
                       slot_rank=float(min(k[1] for k in kinds)), is_ext=float(all(k[0] == "extended" for k in kinds)))
            rows.append((row, claim[sp[0]:sp[1]].strip()))
    return rows


def main() -> int:
    from eval.fit import _calibration_questions, fit_listwise

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--claims", type=int, default=3)
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args()
    settings = load_settings()
    settings = replace(settings, answer=replace(settings.answer, phrase_answers=False))
    pipe, questions = _calibration_questions("korquad-open", settings)
    korean = pipe.answerer.korean
    x, y, em, f1, groups, articles, today = [], [], [], [], [], {}, {}
    features: list[str] = []
    for q in questions[:args.limit] if args.limit else questions:
        answer = pipe.ask(q.question, mode="extractive")
        if answer.refused or not answer.short:
            continue
        truths = q.answers[0]
        today[q.id] = (korquad_em(answer.short, truths), korquad_f1(answer.short, truths))
        articles[q.id] = q.gold[0].rsplit("-", 1)[0]
        for row, text in value_rows(answer.searched_question or q.question, list(answer.claims), korean, args.claims):
            x.append([row[f] for f in row]); features = list(row)
            score = korquad_f1(text, truths)
            em.append(korquad_em(text, truths)); f1.append(score); y.append(int(score >= 0.8)); groups.append(q.id)
    pipe.close()
    if not features:
        raise SystemExit("no question got a value: nothing to fit")
    x_arr, y_arr = np.asarray(x), np.asarray(y, dtype=float)
    ids = sorted(today)
    results = []
    for seed in (1, 2, 3):
        order = sorted(set(articles.values()))
        random.Random(seed).shuffle(order)
        fold = {a: i % 2 for i, a in enumerate(order)}
        row_fold = np.asarray([fold[articles[g]] for g in groups])
        pick = dict(today)
        for k in (0, 1):
            train, test = np.flatnonzero(row_fold != k), np.flatnonzero(row_fold == k)
            model = fit_listwise(x_arr[train], y_arr[train], [groups[i] for i in train], features)
            z = model.logits({f: x_arr[test][:, j] for j, f in enumerate(features)})
            best: dict[str, tuple[float, int]] = {}
            for i, zi in zip(test, z):
                if groups[i] not in best or zi > best[groups[i]][0]:
                    best[groups[i]] = (zi, i)
            pick.update({g: (em[i], f1[i]) for g, (_, i) in best.items()})
        results.append((np.mean([pick[g][0] for g in ids]), np.mean([pick[g][1] for g in ids])))
    print(f"questions with a value today: {len(ids)} (claims read: {args.claims})")
    print(f"today: EM {np.mean([today[g][0] for g in ids]):.4f}  F1 {np.mean([today[g][1] for g in ids]):.4f}")
    e, f = np.mean(results, axis=0)
    print(f"fitted order, out of fold: EM {e:.4f}  F1 {f:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
