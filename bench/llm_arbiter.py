"""Who wins when the LLM's verified answer and the extractive draft disagree: the draft-agreement check
gated on the ranker's confidence in the draft's lead sentence, every threshold replayed on the same
model texts (not a test).

    python bench/llm_arbiter.py --texts T.jsonl --out kq.json --dataset korquad-open --split calibrate \
        --sample 100,20 --store /tmp/kq                        # one set: both ways, signals, per question
    python bench/llm_arbiter.py --texts T.jsonl --out kq.json --check-at 0.5 --dataset …   # + the real setting
    python bench/llm_arbiter.py --pool kq.json klue.json seeds.json      # every threshold, pooled

Each question is answered in LLM mode with `answer.llm_agrees_with_draft` off and on (threshold 0: the
check always applies), recording the draft lead's fitted probability p (`rag.extractive.draft_lead`, as
`Answerer._run` reads it) and the best other evidence sentence's p_next. The gate is decided before the
model writes and the check only drops claims, so under `answer.llm_agreement_min_probability` = t a
question's answer is the "on" answer when p >= t and the "off" answer otherwise: every threshold replays
from the two runs. `--check-at` runs the real setting at those thresholds and counts the questions whose
answer differs from the replay (0 expected). The model (temperature 0) is called once per distinct prompt
(`bench/llm_agreement.py`'s RecordedGenerator). Calibration splits only: the report halves are the lead's.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


GRID = [round(0.05 * i, 2) for i in range(20)]  # 0.00 … 0.95; 0.00 = the check always on


def answer_all(answerer: Any, questions: list, settings: Any, agree: bool, min_probability: float = 0.0,
               signals: dict | None = None) -> list[dict[str, Any]]:
    """Every question answered in LLM mode under one setting, scored as `python -m eval` scores it."""
    import rag.answering as answering
    from eval.metrics import answer_correct, answer_matches

    answerer.settings = replace(settings, answer=replace(settings.answer, llm_agrees_with_draft=agree,
                                                          llm_agreement_min_probability=min_probability))
    seen: list = []
    real_lead = answering.draft_lead

    def recording_lead(question, evidence, korean, slot_miss_factor):  # the gate's inputs, as _run reads them
        lead = real_lead(question, evidence, korean, slot_miss_factor)
        seen.append((lead, list(evidence)))
        return lead

    answering.draft_lead = recording_lead
    rows = []
    try:
        for q in questions:
            seen.clear()
            draft, final = None, None
            for event in answerer.stream(q.question, q.history, mode="llm"):
                draft = event.text if event.kind == "draft" else draft
                final = event.answer if event.kind == "final" else final
            row = {"id": q.id, "answerable": bool(q.answers), "answer": final.text, "refused": final.refused,
                   "mode": final.mode, "correct": answer_correct(final.text, final.refused, q.answers),
                   "cited": [[c.source, c.start] for c in final.citations],
                   "draft_correct": bool(q.answers) and draft is not None and answer_matches(draft, q.answers)}
            if signals is not None and seen:
                lead, evidence = seen[-1]
                others = [ev.score for ev in evidence if ev is not lead]
                signals[q.id] = {"p": lead.score if lead else None, "p_next": max(others, default=0.0),
                                 "lead": [lead.doc_id, lead.start] if lead else None}
            rows.append(row)
    finally:
        answering.draft_lead = real_lead
    return rows


def replay(off: list[dict], on: list[dict], signals: dict, t: float, margin: bool = False) -> list[dict]:
    """The answers under gate threshold t: "on" where the gate passes, "off" elsewhere."""
    out = []
    for a, b in zip(off, on):
        s = signals.get(a["id"])
        value = None if s is None or s["p"] is None else (s["p"] - s["p_next"] if margin else s["p"])
        out.append(b if value is not None and value >= t else a)
    return out


def figures(rows: list[dict]) -> dict[str, int]:
    return {"n": sum(r["answerable"] for r in rows), "contained": sum(r["correct"] for r in rows if r["answerable"]),
            "must_refuse": sum(not r["answerable"] for r in rows),
            "refused": sum(r["refused"] for r in rows if not r["answerable"])}


def run_set(args: argparse.Namespace, eval_argv: list[str]) -> int:
    from llm_agreement import recorded_answerer

    answerer, questions, settings, generator = recorded_answerer(eval_argv, args.texts)
    signals: dict[str, dict] = {}
    if args.replayed:  # both runs from an earlier file of this set: only the checks run now
        earlier = json.loads(args.replayed.read_text(encoding="utf-8"))
        assert [r["id"] for r in earlier["off"]] == [q.id for q in questions], "another set or sample"
        off, on, signals = earlier["off"], earlier["on"], earlier["signals"]
    else:
        off = answer_all(answerer, questions, settings, agree=False)
        on = answer_all(answerer, questions, settings, agree=True, min_probability=0.0, signals=signals)
    for row in off:  # whether the model's answer (check off) cites the sentence the draft leads with
        s = signals.get(row["id"])
        if s is not None and row["mode"] == "llm":
            s["llm_cites_lead"] = s["lead"] in row["cited"]
    checks = {}
    for t in args.check_at:
        real = answer_all(answerer, questions, settings, agree=True, min_probability=t)
        predicted = replay(off, on, signals, t)
        differ = [r["id"] for r, p in zip(real, predicted) if (r["answer"], r["refused"]) != (p["answer"], p["refused"])]
        checks[str(t)] = {"figures": figures(real), "differ_from_replay": differ}
        print(f"real setting at t={t}: {figures(real)}, answers differing from the replay: {len(differ)} {differ}")
    print(f"off: {figures(off)}  on (t=0): {figures(on)}  model texts generated: {generator.generated}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"argv": eval_argv, "off": off, "on": on, "signals": signals, "checks": checks,
                                    "model_texts_generated": generator.generated},
                                   ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def pool(paths: list[Path]) -> int:
    """Every threshold of both gates, per set and pooled, and the rule of the results file applied."""
    sets = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in paths}
    n_total = sum(figures(s["off"])["n"] for s in sets.values())
    tol_pooled = math.ceil(n_total / 40)
    base = {name: figures(s["off"]) for name, s in sets.items()}
    print("set sizes: " + ", ".join(f"{k} {v['n']} answerable + {v['must_refuse']} must-refuse" for k, v in base.items()))
    print(f"OFF: " + ", ".join(f"{k} {v['contained']}/{v['n']} refused {v['refused']}/{v['must_refuse']}"
                               for k, v in base.items()) + f"; pooled {sum(v['contained'] for v in base.values())}/{n_total}")
    best: dict[str, tuple] = {}
    for gate, margin in (("A p>=t", False), ("B p-p_next>=m", True)):
        print(f"\ngate {gate}")
        print("| t | " + " | ".join(sets) + " | pooled | must-refuse refused | admissible |")
        print("|---|" + "---|" * (len(sets) + 3))
        results = []
        for t in GRID:
            per = {name: figures(replay(s["off"], s["on"], s["signals"], t, margin)) for name, s in sets.items()}
            c = sum(v["contained"] for v in per.values())
            r = sum(v["refused"] for v in per.values())
            ok = all(per[k]["contained"] >= base[k]["contained"] - math.ceil(base[k]["n"] / 40) for k in per) \
                and r >= sum(v["refused"] for v in base.values()) - 1
            results.append((t, c, ok))
            print(f"| {t:.2f} | " + " | ".join(f"{v['contained']}/{v['n']}" for v in per.values())
                  + f" | {c}/{n_total} | {r} | {'yes' if ok else 'no'} |")
        admissible = [(t, c) for t, c, ok in results if ok]
        chosen = max(admissible, key=lambda tc: (tc[1], tc[0]), default=None)
        best[gate] = (chosen, results)
    c_off = sum(v["contained"] for v in base.values())
    if best["A p>=t"][0] is None:
        print("\nno threshold of gate A is admissible: default stays OFF")
        return 0
    (t_a, c_a), results_a = best["A p>=t"]
    by_t = {t: c for t, c, _ in results_a}
    i = GRID.index(t_a)
    neighbours = [by_t[GRID[j]] for j in (i - 1, i + 1) if 0 <= j < len(GRID)]
    gain_ok = c_a - c_off >= tol_pooled
    plateau = all(c > c_off for c in neighbours)
    print(f"\nrule: pooled OFF {c_off}/{n_total}; gate A t*={t_a:.2f} -> {c_a} (gain {c_a - c_off}, needed "
          f"{tol_pooled}: {gain_ok}); neighbours {neighbours} all > OFF: {plateau}")
    b = best["B p-p_next>=m"][0]
    if b is not None:
        print(f"gate B best m={b[0]:.2f} -> {b[1]} (replaces A only with >= {c_a + tol_pooled}: {b[1] >= c_a + tol_pooled})")
    print(f"decision: {'ON with t=' + format(t_a, '.2f') if gain_ok and plateau else 'default stays OFF'}")
    # for information: where the check changes the answer, was the draft or the model right, how sure was
    # the ranker, and did the model's answer cite the draft's lead sentence?
    print("\nquestions whose answer the check changes (p, p_next, model cites the lead, right: off -> on)")
    for name, s in sets.items():
        for a, b in zip(s["off"], s["on"]):
            if (a["answer"], a["refused"]) != (b["answer"], b["refused"]):
                g = s["signals"].get(a["id"], {})
                print(f"  {name} {a['id']}: p={g.get('p')} p_next={g.get('p_next'):.3f} cites lead "
                      f"{g.get('llm_cites_lead')}  {a['correct']} -> {b['correct']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, nargs="+", help="per-set files of earlier runs: replay and pool them")
    parser.add_argument("--texts", type=Path, help="the model's texts by prompt (JSONL, extended)")
    parser.add_argument("--out", type=Path, help="per-set file: both runs, the signals, the checks")
    parser.add_argument("--check-at", type=float, nargs="*", default=[], help="also run the real setting at these t")
    parser.add_argument("--replayed", type=Path, help="take both runs from this earlier per-set file")
    args, eval_argv = parser.parse_known_args(argv)
    if args.pool:
        return pool(args.pool)
    if not args.texts or not args.out:
        parser.error("--texts and --out are needed for a set's run")
    return run_set(args, eval_argv)


if __name__ == "__main__":
    raise SystemExit(main())
