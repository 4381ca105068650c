"""Refusal models side by side on the three calibration halves, judged by the rule written before the
numbers (bench/results/refusal_relative_2026-12-03.md), from `python -m eval` run folders (not a test).

    python bench/refusal_relative.py --runs /tmp/relscore --candidates R0,R1,R2,R3 --out bench/results/x.json

Expects RUNS/eval-<name>-<set>/cases.jsonl for name in baseline + candidates and set in korquad-open,
klue, seeds, each from `python -m eval --dataset … --mode extractive --split calibrate`
(a candidate with RAG_ANSWER__REFUSAL_MODEL=<its json>). Calibration halves only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SETS = ("korquad-open", "klue", "seeds")


def figures(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures the rule reads, as `python -m eval` counts them (eval.runner.held_out_figures)."""
    answerable = [c for c in cases if c["answers"]]
    withheld = [c for c in cases if not c["answers"] and not c["gold"]]
    return {
        "n": len(cases),
        "n_answerable": len(answerable),
        "n_must_refuse": len(withheld),
        "containment": sum(bool(c["correct"]) for c in answerable) / max(len(answerable), 1),
        "false_refusals": sum(bool(c["refused"]) for c in answerable) / max(len(answerable), 1),
        "refusal_rate": sum(bool(c["refused"]) for c in cases) / max(len(cases), 1),
        "withheld_refused": sum(bool(c["refused"]) for c in withheld) / len(withheld) if withheld else None,
        "correct_ids": sorted(c["id"] for c in answerable if c["correct"]),
        "refused_must_refuse_ids": sorted(c["id"] for c in withheld if c["refused"]),
    }


def judge(base: dict[str, dict[str, Any]], cand: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """(a), (b), (c) of the rule for one candidate against the baseline."""
    kq, kb = cand["korquad-open"], base["korquad-open"]
    a = kq["false_refusals"] <= 0.03 and kq["withheld_refused"] >= kb["withheld_refused"]
    lc, lb = cand["klue"], base["klue"]
    b = (lc["containment"] >= lb["containment"] + 0.01 - 1e-9
         or (lc["refusal_rate"] <= lb["refusal_rate"] - 0.03 + 1e-9 and lc["containment"] >= lb["containment"]))
    sc, sb = cand["seeds"], base["seeds"]
    lost = sorted(set(sb["correct_ids"]) - set(sc["correct_ids"]))
    unrefused = sorted(set(sb["refused_must_refuse_ids"]) - set(sc["refused_must_refuse_ids"]))
    c = not lost and not unrefused
    return {"a": a, "b": b, "c": c, "passes": a and b and c, "seeds_lost": lost, "seeds_no_longer_refused": unrefused}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=Path, required=True)
    p.add_argument("--candidates", required=True, help="comma-separated names (baseline is always read)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    names = ["baseline"] + [n.strip() for n in args.candidates.split(",") if n.strip()]
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for name in names:
        found[name] = {}
        for s in SETS:
            path = args.runs / f"eval-{name}-{s}" / "cases.jsonl"
            found[name][s] = figures([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
    verdicts = {name: judge(found["baseline"], found[name]) for name in names[1:]}
    print("| model | KorQuAD 1-70 containment | false refusals | withheld refused | KLUE odd containment | "
          "KLUE refused | seeds odd correct | seeds must-refuse refused | (a) (b) (c) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        kq, kl, sd = (found[name][s] for s in SETS)
        v = verdicts.get(name)
        marks = " ".join("yes" if v[k] else "no" for k in "abc") if v else "-"
        print(f"| {name} | {kq['containment']:.3f} | {kq['false_refusals']:.3f} | {kq['withheld_refused']:.3f} | "
              f"{kl['containment']:.3f} | {kl['refusal_rate']:.3f} | {len(sd['correct_ids'])}/{sd['n_answerable']} | "
              f"{len(sd['refused_must_refuse_ids'])}/{sd['n_must_refuse']} | {marks} |")
    passing = [n for n in names[1:] if verdicts[n]["passes"]]
    winner = max(passing, key=lambda n: (found[n]["korquad-open"]["withheld_refused"], found[n]["klue"]["containment"]),
                 default=None)
    print(f"\npassing: {passing or 'none'}; by the rule: {winner or 'the shipped model stays'}")
    for name, v in verdicts.items():
        if v["seeds_lost"] or v["seeds_no_longer_refused"]:
            print(f"{name}: seeds lost {v['seeds_lost']}, must-refuse no longer refused {v['seeds_no_longer_refused']}")
    if args.out:
        args.out.write_text(json.dumps({"figures": found, "verdicts": verdicts, "winner": winner},
                                       ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
