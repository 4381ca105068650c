"""Why LLM answers fall back to the extractive draft: which check rejected which claim, on recorded
model texts, question by question (not a test).

    python bench/llm_fallback.py --texts T.jsonl --out kq.json --dataset korquad-open --split calibrate \
        --sample 100,20 --store /tmp/kq                    # one set, the shipped defaults
    python bench/llm_fallback.py ... --set llm_kept_claim_share=0.5 --out kq-on.json   # a setting changed
    python bench/llm_fallback.py --pool kq.json klue.json seeds.json     # reason x (raw text right / wrong)
    python bench/llm_fallback.py --pool kq.json ... --against kq-on.json ...   # before / after, per set

Each claim the model wrote is traced through `rag.streaming.VerifiedStream` as the answerer runs it
(the real functions, wrapped: nothing of rag/ is changed): rejected by `check_claim` — and then why, as
`rag.citations.judge_claim` says in the same call (no valid citation; says the question back; holds no
value of the asked kind; unsupported: a number, date or name missing from the cited sentences, numbers
bound to another name, too few of its words there) — rewritten to its sentence
(`rag.claimvalue`), dropped as a duplicate, dropped for disagreeing with the draft (`rag.agreement`),
or kept. A question falls back when no claim is kept and the model did not refuse. Its reason is that
of the claim holding the gold, when one does, else of its first claim.

The model is never called: a question whose prompt is not in `--texts` (retrieval moved since the texts
were recorded) is left out of the figures and listed under "not_recorded". Calibration halves are this
bench's; `--split report` works the same way for the lead's one run on the report texts.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from rag.citations import Asking, Claim, Verdict  # noqa: E402
from rag.types import Evidence  # noqa: E402

from llm_agreement import Seen as _Seen  # noqa: E402


# --- tracing the answerer --------------------------------------------------------------------------

class Tracer:
    """Wraps the functions rag.streaming calls and keeps, per question, what happened to each claim."""

    def __init__(self) -> None:
        self.claims: list[dict[str, Any]] = []
        self.stream: Any = None
        self._last: dict[str, Any] | None = None

    def install(self, patch: Any = setattr) -> None:
        """Wrap rag.streaming's checks (`patch`: setattr, or a test's monkeypatch.setattr to undo it)."""
        import rag.answering
        import rag.streaming

        import rag.citations

        tracer = self
        real_check, real_value, real_agree = (rag.streaming.check_claim, rag.streaming.claim_with_value,
                                              rag.streaming.agrees_with_draft)
        real_judge = rag.citations.judge_claim
        verdicts: list[Verdict] = []

        class TracedStream(rag.streaming.VerifiedStream):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                tracer.stream = self

        def judge(*args: Any) -> Verdict:
            verdicts.append(real_judge(*args))
            return verdicts[-1]

        def check(claim: Claim, evidence: Sequence[Evidence], korean: Any, min_support: float, question: Asking):
            verdicts.clear()
            result = real_check(claim, evidence, korean, min_support, question)
            record = {"claim": claim.text, "cites": list(claim.cites), "outcome": "kept", "text": None}
            if result is None:
                record["outcome"] = "rejected"
                record["reason"] = verdicts[-1].reason
                # had it passed: would the draft-agreement check (when it applies) have let it through?
                draft = tracer.stream._draft if tracer.stream is not None else ""
                record["agreement_applies"] = bool(draft)
                record["would_agree"] = not draft or real_agree(claim.text, draft, question, korean)
            else:
                record["text"] = result[0]
            tracer.claims.append(record)
            tracer._last = record
            return result

        def value(text: str, *args: Any) -> str:
            out = real_value(text, *args)
            if tracer._last is not None and out != text:
                tracer._last["rewritten"] = out
            if tracer._last is not None:
                tracer._last["text"] = out
            return out

        def agree(text: str, *args: Any) -> bool:
            ok = real_agree(text, *args)
            if tracer._last is not None and not ok:
                tracer._last["outcome"] = "disagrees with the draft"
            return ok

        patch(rag.answering, "VerifiedStream", TracedStream)
        patch(rag.streaming, "check_claim", check)
        patch(rag.citations, "judge_claim", judge)
        patch(rag.streaming, "claim_with_value", value)
        patch(rag.streaming, "agrees_with_draft", agree)

    def start(self) -> None:
        self.claims, self.stream, self._last = [], None, None

    def finish(self) -> list[dict[str, Any]]:
        """The claims, a kept one marked as a duplicate when its text is not among the kept texts."""
        kept = list(self.stream.kept) if self.stream is not None else []
        for record in self.claims:
            if record["outcome"] == "kept" and record["text"] not in kept:
                record["outcome"] = "duplicate of a kept sentence"
        return self.claims


class NotRecorded(Exception):
    """A prompt the texts file does not hold: this bench never calls the model."""


def _no_model() -> Any:
    raise NotRecorded()


def classify(final: Any, raw: str, generated: bool, claims: list[dict]) -> str:
    """What the answerer did with the model's text."""
    if not generated:
        return "refused before the model" if final.refused else "no model text"
    if final.mode == "llm" and not final.refused:
        return "LLM answer"
    if final.refused:
        return "model refused: refusal"
    if not any(c["outcome"] != "rejected" for c in claims) and final.notice_code == "llm_found_nothing":
        return "model refused: draft shown"
    return "fell back"


def question_reason(claims: list[dict], gold: list, answer_matches: Any) -> tuple[str, bool]:
    """The reason of the claim holding the gold (True), else of the first claim (False)."""
    if not claims:
        return "no claim in the text", False
    for c in claims:
        if gold and answer_matches(c["claim"], gold):
            return _reason_of(c), True
    return _reason_of(claims[0]), False


def _reason_of(claim: dict) -> str:
    return claim["reason"] if claim["outcome"] == "rejected" else claim["outcome"]


def answer_all(answerer: Any, questions: list, settings: Any, seen: _Seen, tracer: Tracer) -> list[dict[str, Any]]:
    from eval.metrics import answer_correct, answer_matches

    answerer.settings = settings
    rows = []
    for q in questions:
        seen.messages, seen.text = None, ""
        tracer.start()
        draft, final = None, None
        try:
            for event in answerer.stream(q.question, q.history, mode="llm"):
                draft = event.text if event.kind == "draft" else draft
                final = event.answer if event.kind == "final" else final
        except NotRecorded:
            # its prompt changed since the texts were recorded (retrieval moved): left out, and counted
            rows.append({"id": q.id, "question": q.question, "answerable": bool(q.answers),
                         "outcome": "prompt not recorded"})
            continue
        claims = tracer.finish()
        generated = seen.messages is not None
        raw = seen.text
        gold = [list(g) for g in q.answers]
        outcome = classify(final, raw, generated, claims)
        reason, on_gold = question_reason(claims, gold, answer_matches) if outcome == "fell back" else ("", False)
        rows.append({"id": q.id, "question": q.question, "gold": gold, "answerable": bool(q.answers),
                     "outcome": outcome, "reason": reason, "reason_on_gold_claim": on_gold,
                     "claims": claims, "raw": raw, "draft": draft, "answer": final.text, "refused": final.refused,
                     "mode": final.mode, "notice": final.notice,
                     "raw_correct": bool(q.answers) and generated and answer_matches(raw, gold),
                     "draft_correct": bool(q.answers) and draft is not None and answer_matches(draft, gold),
                     "correct": answer_correct(final.text, final.refused, gold)})
    return rows


def _value(text: str, like: Any) -> Any:
    if isinstance(like, bool):
        return text.lower() in ("1", "true", "on", "yes")
    return type(like)(text)


def run_set(args: argparse.Namespace, eval_argv: list[str]) -> int:
    from llm_agreement import recorded_answerer

    answerer, questions, settings, generator = recorded_answerer(eval_argv, args.texts)
    generator._factory = _no_model
    changed = {}
    for item in args.set or []:
        name, _, text = item.partition("=")
        if name not in {f.name for f in fields(settings.answer)}:
            raise SystemExit(f"--set {item}: no answer setting {name!r}")
        changed[name] = _value(text, getattr(settings.answer, name))
    settings = replace(settings, answer=replace(settings.answer, **changed))
    seen = _Seen(generator)
    answerer._generator_factory = lambda: seen
    tracer = Tracer()
    tracer.install()
    rows = answer_all(answerer, questions, settings, seen, tracer)
    missing = [r["id"] for r in rows if r["outcome"] == "prompt not recorded"]
    rows = [r for r in rows if r["outcome"] != "prompt not recorded"]
    print(json.dumps(figures(rows)), f"\nmodel texts generated: {generator.generated}; "
          f"questions left out, their prompt not recorded: {len(missing)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"argv": eval_argv, "settings_changed": changed, "rows": rows,
                                    "not_recorded": missing, "model_texts_generated": generator.generated},
                                   ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def figures(rows: list[dict]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"]]
    return {"n": len(answerable), "contained": sum(r["correct"] for r in answerable),
            "draft": sum(r["draft_correct"] for r in answerable),
            "raw": sum(r["raw_correct"] for r in answerable),
            "false_refusals": sum(r["refused"] for r in answerable),
            "must_refuse": len(rows) - len(answerable),
            "refused": sum(r["refused"] for r in rows if not r["answerable"]),
            "outcomes": dict(Counter(r["outcome"] for r in rows))}


# --- tables ---------------------------------------------------------------------------------------

def _label(path: Path) -> str:
    return path.stem


def reason_counts(sets: dict[str, list[dict]]) -> dict[str, Counter]:
    """Fell-back answerable questions by reason: raw text right / wrong, and the draft right among each;
    "right+draft_wrong+agrees": the right ones the draft misses whose claim the agreement check would pass."""
    table: dict[str, Counter] = defaultdict(Counter)
    for rows in sets.values():
        for r in rows:
            if r["outcome"] != "fell back" or not r["answerable"]:
                continue
            side = "right" if r["raw_correct"] else "wrong"
            table[r["reason"]][side] += 1
            table[r["reason"]][side + "+draft"] += r["draft_correct"]
            table[r["reason"]]["on_gold"] += r["reason_on_gold_claim"]
            if r["raw_correct"] and not r["draft_correct"]:
                table[r["reason"]]["right+draft_wrong+agrees"] += any(
                    c.get("would_agree") for c in r["claims"] if c["outcome"] == "rejected")
    return table


def reason_table(sets: dict[str, list[dict]]) -> list[str]:
    """Fell-back answerable questions: reason x raw text right / wrong (draft right in brackets)."""
    table = reason_counts(sets)
    out = ["| rejected because (the claim holding the gold, else the first) | raw text right (draft right) | "
           "raw text wrong (draft right) | all | right, draft wrong, the agreement check would pass it |",
           "|---|---|---|---|---|"]
    for reason, c in sorted(table.items(), key=lambda kv: -(kv[1]["right"] + kv[1]["wrong"])):
        out.append(f"| {reason} | {c['right']} ({c['right+draft']}) | {c['wrong']} ({c['wrong+draft']}) | "
                   f"{c['right'] + c['wrong']} | {c['right'] - c['right+draft']}: {c['right+draft_wrong+agrees']} |")
    tot = Counter()
    for c in table.values():
        tot.update(c)
    out.append(f"| all fell back | {tot['right']} ({tot['right+draft']}) | {tot['wrong']} ({tot['wrong+draft']}) | "
               f"{tot['right'] + tot['wrong']} | {tot['right'] - tot['right+draft']}: {tot['right+draft_wrong+agrees']} |")
    return out


def claim_table(sets: dict[str, list[dict]]) -> list[str]:
    """Every claim of fell-back questions: its outcome, and whether it holds the gold."""
    table: dict[str, Counter] = defaultdict(Counter)
    for rows in sets.values():
        for r in rows:
            if r["outcome"] != "fell back" or not r["answerable"]:
                continue
            from eval.metrics import answer_matches
            for c in r["claims"]:
                table[_reason_of(c)]["gold" if answer_matches(c["claim"], r["gold"]) else "no gold"] += 1
    out = ["| claim outcome (fell-back questions) | claims holding the gold | claims without it |", "|---|---|---|"]
    for reason, c in sorted(table.items(), key=lambda kv: -sum(kv[1].values())):
        out.append(f"| {reason} | {c['gold']} | {c['no gold']} |")
    return out


def passed_wrong(sets: dict[str, list[dict]]) -> list[str]:
    """LLM answers shown that miss the gold: raw right / wrong, draft right / wrong."""
    out = ["| set | LLM answers shown | contain the gold | miss it: raw text right | raw wrong, draft right | "
           "both wrong |", "|---|---|---|---|---|---|"]
    for k, rows in sets.items():
        shown = [r for r in rows if r["outcome"] == "LLM answer" and r["answerable"]]
        miss = [r for r in shown if not r["correct"]]
        out.append(f"| {k} | {len(shown)} | {len(shown) - len(miss)} | {sum(r['raw_correct'] for r in miss)} | "
                   f"{sum(not r['raw_correct'] and r['draft_correct'] for r in miss)} | "
                   f"{sum(not r['raw_correct'] and not r['draft_correct'] for r in miss)} |")
    return out


def outcome_table(sets: dict[str, list[dict]]) -> list[str]:
    names = ["LLM answer", "fell back", "model refused: draft shown", "model refused: refusal",
             "refused before the model"]
    out = ["| set | questions | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
    for k, rows in sets.items():
        c = Counter(r["outcome"] for r in rows)
        out.append(f"| {k} | {len(rows)} | " + " | ".join(str(c[n]) for n in names) + " |")
    return out


def before_after(before: dict[str, list[dict]], after: dict[str, list[dict]]) -> list[str]:
    """Per set and pooled, with the decision rule of the results file applied."""
    out = ["| set | answerable | draft alone | before | after | must-refuse refused before -> after | "
           "false refusals before -> after | LLM answers shown before -> after |", "|---" * 8 + "|"]
    fb, fa = {k: figures(v) for k, v in before.items()}, {k: figures(v) for k, v in after.items()}
    for (k, b), a in zip(fb.items(), fa.values()):
        out.append(f"| {k} | {b['n']} | {b['draft']} | {b['contained']} | {a['contained']} | "
                   f"{b['refused']}/{b['must_refuse']} -> {a['refused']}/{a['must_refuse']} | "
                   f"{b['false_refusals']} -> {a['false_refusals']} | "
                   f"{b['outcomes'].get('LLM answer', 0)} -> {a['outcomes'].get('LLM answer', 0)} |")
    n = sum(v["n"] for v in fb.values())
    c_b, c_a = sum(v["contained"] for v in fb.values()), sum(v["contained"] for v in fa.values())
    r_b, r_a = sum(v["refused"] for v in fb.values()), sum(v["refused"] for v in fa.values())
    out.append(f"| pooled | {n} | {sum(v['draft'] for v in fb.values())} | {c_b} | {c_a} | {r_b} -> {r_a} | | |")
    need = 3  # the rule of bench/results/llm_fallback_2026-12-03.md
    sets_ok = {k: fa[k]["contained"] >= fb[k]["contained"] - 1 for k in fb}
    fr_ok = sum(v["false_refusals"] for v in fa.values()) <= sum(v["false_refusals"] for v in fb.values())
    out.append("")
    out.append(f"rule: pooled gain {c_a - c_b} >= {need}: {c_a - c_b >= need}; no set loses more than 1: {sets_ok}; "
               f"must-refuse refusals not lower ({r_b} -> {r_a}): {r_a >= r_b}; false refusals not higher: {fr_ok}")
    ok = c_a - c_b >= need and all(sets_ok.values()) and r_a >= r_b and fr_ok
    out.append(f"decision by the rule: {'TAKE' if ok else 'do not take'}")
    out.append("")
    out.append("answers that change (contains the gold: before -> after)")
    for k in before:
        for b, a in zip(before[k], after[k]):
            if (b["answer"], b["refused"]) != (a["answer"], a["refused"]):
                out.append(f"- {k} {b['id']} {b['correct']} -> {a['correct']}  {b['question']}")
                out.append(f"  - before: {b['answer'][:200]}")
                out.append(f"  - after: {a['answer'][:200]}")
    return out


def summary(sets: dict[str, list[dict]], after: dict[str, list[dict]] | None) -> dict[str, Any]:
    """The pooled tables as data (the results file's JSON)."""
    out: dict[str, Any] = {
        "figures": {k: figures(v) for k, v in sets.items()},
        "reasons": {k: dict(v) for k, v in reason_counts(sets).items()},
        "shown_but_wrong": {k: {"shown": sum(r["outcome"] == "LLM answer" and r["answerable"] for r in v),
                                "miss": sum(r["outcome"] == "LLM answer" and r["answerable"] and not r["correct"] for r in v),
                                "miss_raw_right": sum(r["outcome"] == "LLM answer" and r["answerable"] and not r["correct"]
                                                      and r["raw_correct"] for r in v),
                                "miss_draft_right": sum(r["outcome"] == "LLM answer" and r["answerable"]
                                                        and not r["correct"] and r["draft_correct"] for r in v)}
                            for k, v in sets.items()},
    }
    if after:
        out["after"] = {"figures": {k: figures(v) for k, v in after.items()},
                        "changed": [{"set": k, "id": b["id"], "before": b["correct"], "after": a["correct"]}
                                    for k in sets for b, a in zip(sets[k], after[k])
                                    if (b["answer"], b["refused"]) != (a["answer"], a["refused"])]}
    return out


def pool(paths: list[Path], against: list[Path] | None, json_out: Path | None = None) -> int:
    sets = {_label(p): json.loads(p.read_text(encoding="utf-8"))["rows"] for p in paths}
    print("## Outcomes\n")
    print("\n".join(outcome_table(sets)))
    print("\n## Fell back: why, and whether the model's raw text held the gold\n")
    print("\n".join(reason_table(sets)))
    print("\n## Every claim of the fell-back questions\n")
    print("\n".join(claim_table(sets)))
    print("\n## LLM answers shown that miss the gold\n")
    print("\n".join(passed_wrong(sets)))
    print("\n## Fell back with the raw text right (one by one)\n")
    for k, rows in sets.items():
        for r in rows:
            if r["outcome"] == "fell back" and r["raw_correct"]:
                print(f"- {k} {r['id']} draft {'right' if r['draft_correct'] else 'WRONG'}: {r['question']} "
                      f"— {r['reason']}{' (gold claim)' if r['reason_on_gold_claim'] else ''}")
                for c in r["claims"]:
                    print(f"  - [{_reason_of(c)}] {c['claim'][:160]} {c['cites']}")
    after = None
    if against:
        after = {_label(p): json.loads(q.read_text(encoding="utf-8"))["rows"] for p, q in zip(paths, against)}
        print("\n## Before / after\n")
        print("\n".join(before_after(sets, after)))
    if json_out:
        json_out.write_text(json.dumps(summary(sets, after), ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, nargs="+", help="per-set files of earlier runs")
    parser.add_argument("--against", type=Path, nargs="+", help="with --pool: the same sets after a change")
    parser.add_argument("--texts", type=Path, help="the model's texts by prompt (JSONL; never extended)")
    parser.add_argument("--out", type=Path, help="per-set file: every question, its claims and their fate")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="an [answer] setting changed")
    parser.add_argument("--json", type=Path, help="with --pool: write the tables as data here")
    args, eval_argv = parser.parse_known_args(argv)
    if args.pool:
        return pool(args.pool, args.against, args.json)
    if not args.texts or not args.out:
        parser.error("--texts and --out are needed for a set's run")
    return run_set(args, eval_argv)


if __name__ == "__main__":
    raise SystemExit(main())
