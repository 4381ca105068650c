"""How far a figure of a few hundred questions can be trusted, and whether a before/after is a change.

- `wilson`: the 95% interval of a share k/m (Wilson's score interval: sound at 0 and 1 and for small m,
  where the normal approximation gives intervals outside [0, 1]).
- `outcomes` / `paired_change`: which questions a run got right, packed one bit a question with a hash
  of the questions asked, so that two runs of the same questions can be compared question by question.
- `mcnemar`: the exact two-sided McNemar p-value of such a pair — the chance of a split at least as
  uneven as gained/lost if the change made no difference (only the questions that changed count).
- `refusal_bars`: the answer shares a stricter refusal bar (answer.refusal_min_probability) would give,
  read from one run's recorded probabilities.
- `cautions`: the answers that carry the caution "no cited article names what the question asks about"
  (grounding.unnamed), by outcome, and the answer shares if each of them had been refused instead.
"""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Any, Mapping, Sequence

Z95 = 1.959964


def wilson(k: int, m: int, z: float = Z95) -> tuple[float, float] | None:
    """The (low, high) score interval of the share k/m; None with no trials."""
    if m <= 0:
        return None
    p = k / m
    denominator = 1 + z * z / m
    centre = (p + z * z / (2 * m)) / denominator
    half = z * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denominator
    # (at k = 0 and k = m the bound is exactly 0 or 1: rounding would leave 0.9999999)
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == m else min(1.0, centre + half))


def answer_shares(cases: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The answer shares of a run's cases (answerable: with answers; unanswerable: no answers and no gold)
    and, in "counts", [k, m] of each — what an interval is computed from."""
    answerable = [c for c in cases if c["answers"]]
    unanswerable = [c for c in cases if not c["answers"] and not c["gold"]]
    answered = [c for c in answerable if not c["refused"]]
    return shares(
        accuracy=[c["correct"] for c in cases],
        containment=[c["correct"] for c in answerable],
        containment_answered=[c["correct"] for c in answered],
        false_refusal_rate=[c["refused"] for c in answerable],
        refusal_recall=[c["refused"] for c in unanswerable],
        refusal_rate=[c["refused"] for c in cases],
    )


BARS = (0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def refusal_bars(cases: Sequence[Mapping[str, Any]], bars: Sequence[float] = BARS) -> list[dict[str, Any]]:
    """What each bar above the run's own would give: an answered question whose recorded probability is below
    the bar becomes a refusal; every other question keeps its outcome (a refused one stays refused, a question
    the model's bar did not judge — nothing retrieved, Latin script — keeps its answer). Only bars above the
    run's: a lower one would answer questions this run refused, whose answers it never wrote. Exact but for a
    follow-up or a question in another language, whose refusal sends it to a second try in another form. Empty
    when no case recorded a probability (a run before the field existed, or retrieval only)."""
    judged = [c["grounding"] for c in cases if (c.get("grounding") or {}).get("threshold") is not None]
    if not judged:
        return []
    own = max(g["threshold"] for g in judged)
    out = []
    for bar in sorted(b for b in bars if b > own):
        # (a refusal is right exactly for a question without answers: eval.metrics.answer_correct)
        stricter = [dict(c, refused=True, correct=not c["answers"]) if _below(c, bar) else c for c in cases]
        found = answer_shares(stricter)
        out.append({"bar": bar, **{k: found[k] for k in ("containment", "containment_answered",
                                                           "false_refusal_rate", "refusal_recall", "refusal_rate")}})
    return out


def cautions(cases: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The answered questions whose grounding names the question's names no cited article mentions: how many
    were right, wrong, or should have been refused (a question without answers), and the answer shares if
    each had been refused. None when no case recorded the field (an older run, or retrieval only)."""
    if not any("unnamed" in (c.get("grounding") or {}) for c in cases):
        return None
    flagged = [c for c in cases if not c["refused"] and (c.get("grounding") or {}).get("unnamed")]
    marked = {id(c) for c in flagged}
    refused = [dict(c, refused=True, correct=not c["answers"]) if id(c) in marked else c for c in cases]
    found = answer_shares(refused)
    return {"answers": len(flagged),
            "right": sum(1 for c in flagged if c["answers"] and c["correct"]),
            "wrong": sum(1 for c in flagged if c["answers"] and not c["correct"]),
            "must_refuse": sum(1 for c in flagged if not c["answers"]),
            "if_refused": {k: found[k] for k in ("containment", "containment_answered", "false_refusal_rate",
                                                 "refusal_recall", "refusal_rate")}}


def _below(case: Mapping[str, Any], bar: float) -> bool:
    grounding = case.get("grounding") or {}
    return (not case["refused"] and grounding.get("threshold") is not None
            and grounding.get("probability") is not None and grounding["probability"] < bar)


def shares(**groups: Sequence[Any]) -> dict[str, Any]:
    """Each named share's value (None where nothing is defined), and [k, m] of it in "counts"."""
    out: dict[str, Any] = {"counts": {}}
    for name, values in groups.items():
        defined = [bool(v) for v in values if v is not None]
        out[name] = sum(defined) / len(defined) if defined else None
        out["counts"][name] = [sum(defined), len(defined)]
    return out


def mcnemar(gained: int, lost: int) -> float:
    """Exact two-sided p-value: twice the binomial(gained + lost, ½) tail of the smaller count, at most 1."""
    n = gained + lost
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(gained, lost) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def outcomes(cases: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """{"ids_sha1": hash of the sorted question ids, "right_bits": base64 of one bit a question (sorted
    order), set where the case is correct}."""
    ids = sorted(str(c["id"]) for c in cases)
    right = {str(c["id"]) for c in cases if c.get("correct")}
    bits = bytearray((len(ids) + 7) // 8)
    for i, qid in enumerate(ids):
        if qid in right:
            bits[i // 8] |= 1 << (i % 8)
    return {"ids_sha1": hashlib.sha1("\n".join(ids).encode("utf-8")).hexdigest(),
            "right_bits": base64.b64encode(bytes(bits)).decode("ascii")}


def paired_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[int, int] | None:
    """(right answers gained, lost) from `before` to `after`; None unless both runs recorded their
    outcomes over the very same questions."""
    keys = ("ids_sha1", "right_bits")
    if not all(before.get(k) and after.get(k) for k in keys) or before["ids_sha1"] != after["ids_sha1"]:
        return None
    old, new = (base64.b64decode(x["right_bits"]) for x in (before, after))
    if len(old) != len(new):
        return None
    gained = sum(bin(~a & b & 0xFF).count("1") for a, b in zip(old, new))
    lost = sum(bin(a & ~b & 0xFF).count("1") for a, b in zip(old, new))
    return gained, lost
