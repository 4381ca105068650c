"""What the LLM's evidence budget (answer.llm_evidence_chars) costs and keeps, on calibration halves only
(not a test): for each budget, the share of answered calibration questions whose prompt evidence still
holds a gold answer, and the prompt's tokens after the cached system prompt (what the first token waits for).

    python bench/prompt_budget.py                                  # seeds odd ids + KorQuAD 1-70 sample
    python bench/prompt_budget.py --korquad 300 --budgets 200,300,400,500

No LLM runs: the evidence is chosen and ordered exactly as the answerer does (`Answerer.prompt_evidence`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import apply_offline_env, load_settings  # noqa: E402


def budget_rows(pipe, questions, budgets, count_tokens) -> dict[int, dict[str, list]]:
    from eval.metrics import normalize_for_match
    from rag.extractive import extractive_answer
    from rag.prompts import build_messages

    answerer = pipe.answerer
    out = {b: {"holds": [], "tokens": [], "lines": []} for b in budgets}
    for q in questions:
        if not q.answers or q.history:
            continue
        _, evidence, grounding = answerer.gather(q.question, pipe.settings.retrieval.k)
        if not grounding.answerable:
            continue  # refused: no prompt is built
        _, draft_citations = extractive_answer(q.question, evidence, answerer.korean,
                                               second_share=pipe.settings.answer.second_share)
        for b in budgets:
            chosen = answerer.prompt_evidence(q.question, evidence, draft_citations, max_chars=b)
            text = normalize_for_match(" ".join(ev.text for ev in chosen))
            out[b]["holds"].append(all(any(normalize_for_match(a) in text for a in group) for group in q.answers))
            out[b]["tokens"].append(count_tokens(build_messages(answerer.prompts, q.question, chosen)[1]["content"]))
            out[b]["lines"].append(len(chosen))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="200,250,300,350,400,500")
    parser.add_argument("--korquad", type=int, default=300, help="KorQuAD open QA calibration questions (sample)")
    parser.add_argument("--seeds-store", type=Path, default=ROOT / "data" / "store")
    parser.add_argument("--sets", default="seeds-calibrate,korquad-open-calibrate")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    apply_offline_env()
    from llama_cpp import Llama

    from eval.__main__ import parse_args, prepare
    from rag.gguf import resolve_model

    budgets = [int(b) for b in args.budgets.split(",")]
    settings = load_settings(None, env={})
    vocab = Llama(model_path=str(resolve_model(settings.generation.model, settings.paths.cache_dir)),
                  vocab_only=True, verbose=False)

    def count_tokens(text: str) -> int:
        return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    figures = {}
    for name, argv_set in (("seeds-calibrate", ["--dataset", "eval/datasets/seeds.jsonl", "--split", "calibrate",
                                                "--store", str(args.seeds_store)]),
                           ("korquad-open-calibrate", ["--dataset", "korquad-open", "--split", "calibrate",
                                                       "--sample", f"{args.korquad},0"])):
        if name not in args.sets.split(","):
            continue
        pipe, questions, _ = prepare(parse_args(argv_set + ["--no-progress"]), settings, None)
        rows = budget_rows(pipe, questions, budgets, count_tokens)
        figures[name] = {b: {"answered": len(r["holds"]), "holds_answer": round(sum(r["holds"]) / max(len(r["holds"]), 1), 4),
                             "user_tokens_p50": statistics.median(r["tokens"]) if r["tokens"] else None,
                             "lines_p50": statistics.median(r["lines"]) if r["lines"] else None}
                         for b, r in rows.items()}
        pipe.close()
        for b, f in figures[name].items():
            print(f"{name:24s} llm_evidence_chars={b:4d}: prompt holds a gold answer {f['holds_answer']:.3f} "
                  f"of {f['answered']} answered; user prompt p50 {f['user_tokens_p50']} tokens, {f['lines_p50']} lines")
    figures["load_avg"] = os.getloadavg()[0]
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
