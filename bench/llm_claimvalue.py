"""LLM answers with and without the claim-value rule (answer.llm_claim_keeps_value, rag/claimvalue.py), on
the same recorded model texts, question by question (not a test).

    python bench/llm_claimvalue.py --texts T.jsonl --out kq.json --dataset korquad-open --split calibrate \
        --sample 100,20 --store /tmp/kq                       # one set: the rule off and on, per question
    python bench/llm_claimvalue.py --pool kq.json klue.json seeds.json   # per set, pooled, the rule applied

Every other setting is the shipped default. The rule only rewrites claims the model has written, so the
prompts — and the texts `bench/llm_agreement.py`'s RecordedGenerator keeps by prompt — are the same both
ways: no model call when the texts file covers the sample. Each question records the draft, the model's
raw text, both answers and whether each contains the gold (`eval.metrics`), so the losses to the draft
can be read one by one. Calibration splits only: the report halves are the lead's.
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

from llm_agreement import Seen as _Seen  # noqa: E402

SETTING = "llm_claim_keeps_value"


def answer_all(answerer: Any, questions: list, settings: Any, on: bool, seen: _Seen) -> list[dict[str, Any]]:
    """Every question in LLM mode with the rule off or on, scored as `python -m eval` scores it."""
    from eval.metrics import answer_correct, answer_matches

    answerer.settings = replace(settings, answer=replace(settings.answer, **{SETTING: on}))
    rows = []
    for q in questions:
        seen.messages, seen.text = None, ""
        draft, final = None, None
        for event in answerer.stream(q.question, q.history, mode="llm"):
            draft = event.text if event.kind == "draft" else draft
            final = event.answer if event.kind == "final" else final
        prompt = seen.messages[-1]["content"] if seen.messages else ""
        rows.append({"id": q.id, "question": q.question, "gold": [list(g) for g in q.answers],
                     "answerable": bool(q.answers), "draft": draft, "raw": seen.text, "prompt": prompt,
                     "answer": final.text, "refused": final.refused, "mode": final.mode, "short": final.short,
                     "correct": answer_correct(final.text, final.refused, q.answers),
                     "draft_correct": bool(q.answers) and draft is not None and answer_matches(draft, q.answers)})
    return rows


def figures(rows: list[dict]) -> dict[str, int]:
    return {"n": sum(r["answerable"] for r in rows), "contained": sum(r["correct"] for r in rows if r["answerable"]),
            "draft": sum(r["draft_correct"] for r in rows if r["answerable"]),
            "false_refusals": sum(r["refused"] for r in rows if r["answerable"]),
            "must_refuse": sum(not r["answerable"] for r in rows),
            "refused": sum(r["refused"] for r in rows if not r["answerable"])}


def run_set(args: argparse.Namespace, eval_argv: list[str]) -> int:
    from llm_agreement import recorded_answerer

    answerer, questions, settings, generator = recorded_answerer(eval_argv, args.texts)
    seen = _Seen(generator)
    answerer._generator_factory = lambda: seen
    off = answer_all(answerer, questions, settings, False, seen)
    on = answer_all(answerer, questions, settings, True, seen) if not args.off_only else off
    if not args.off_only:
        on = [{k: v for k, v in row.items() if k != "prompt"} for row in on]  # the prompt is the same both ways
    print(f"off: {figures(off)}\non:  {figures(on)}\nmodel texts generated: {generator.generated}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"argv": eval_argv, "off": off, "on": on, "model_texts_generated": generator.generated},
                                   ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def pool(paths: list[Path]) -> int:
    """Per set and pooled, off and on; the rule of the results file applied; every changed answer."""
    sets = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in paths}
    off = {k: figures(s["off"]) for k, s in sets.items()}
    on = {k: figures(s["on"]) for k, s in sets.items()}
    n = sum(v["n"] for v in off.values())
    print("| set | answerable | draft alone | rule OFF | rule ON | must-refuse refused OFF -> ON | false refusals OFF -> ON |")
    print("|---|---|---|---|---|---|---|")
    for k in sets:
        print(f"| {k} | {off[k]['n']} | {off[k]['draft']} | {off[k]['contained']} | {on[k]['contained']} | "
              f"{off[k]['refused']}/{off[k]['must_refuse']} -> {on[k]['refused']}/{on[k]['must_refuse']} | "
              f"{off[k]['false_refusals']} -> {on[k]['false_refusals']} |")
    c_off, c_on = (sum(v["contained"] for v in f.values()) for f in (off, on))
    r_off, r_on = (sum(v["refused"] for v in f.values()) for f in (off, on))
    print(f"| pooled | {n} | {sum(v['draft'] for v in off.values())} | {c_off} | {c_on} | {r_off} -> {r_on} | |")
    gain_ok = c_on - c_off >= math.ceil(n / 40)
    sets_ok = {k: on[k]["contained"] >= off[k]["contained"] - math.ceil(off[k]["n"] / 40) for k in sets}
    refusals_ok = r_on >= r_off
    print(f"\nrule: pooled gain {c_on - c_off} (needed {math.ceil(n / 40)}): {gain_ok}; no set loses more than "
          f"ceil(n_s/40): {sets_ok}; must-refuse refusals not lower: {refusals_ok}")
    print(f"decision: {'ON' if gain_ok and all(sets_ok.values()) and refusals_ok else 'default OFF (or not at all)'}")
    print("\nanswers the rule changes (contains the gold: off -> on)")
    for k, s in sets.items():
        for a, b in zip(s["off"], s["on"]):
            if (a["answer"], a["refused"]) != (b["answer"], b["refused"]):
                print(f"  {k} {a['id']} {a['correct']} -> {b['correct']}  {a['question']}\n"
                      f"     off: {a['answer'][:160]}\n     on:  {b['answer'][:160]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, nargs="+", help="per-set files of earlier runs")
    parser.add_argument("--texts", type=Path, help="the model's texts by prompt (JSONL, extended)")
    parser.add_argument("--out", type=Path, help="per-set file: both runs, per question")
    parser.add_argument("--off-only", action="store_true", help="the rule off only (the losses before it)")
    args, eval_argv = parser.parse_known_args(argv)
    if args.pool:
        return pool(args.pool)
    if not args.texts or not args.out:
        parser.error("--texts and --out are needed for a set's run")
    return run_set(args, eval_argv)


if __name__ == "__main__":
    raise SystemExit(main())
