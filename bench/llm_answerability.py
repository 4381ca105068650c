"""Can the packaged LLM tell a sentence that answers from one that only talks about the same thing?

A measurement, not a feature: for each question the extractive answer does not refuse, the model is shown
the question and the sentences that answer cites, and asked for one word, 예 or 아니오 ("do these sentences
state the answer?"). Recorded per question: the probability it gives 예 (from the first token's
log-probabilities, 예 against 아니오), whether the answer holds the gold span, and whether the question must
be refused. The summary gives the AUC of that probability between right answers and must-refuse questions,
and how many right answers fall below thresholds that refuse a share of the must-refuse ones.

    python bench/llm_answerability.py --dataset korquad-gap --split calibrate --sample 50,50 --out R.jsonl
    python bench/llm_answerability.py --dataset klue --split calibrate --sample 100 --out R.jsonl
    python bench/llm_answerability.py --summary R1.jsonl R2.jsonl

Needs the local model (`generation.backend = "local"`): the log-probabilities are read from llama.cpp.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROMPT = ("다음 문장들이 질문의 답을 직접 말하고 있는지 판단하세요. 문장이 질문과 같은 주제를 다루더라도 질문이 묻는 "
          "바로 그 내용(이름, 날짜, 수치, 장소 등)을 말하지 않으면 '아니오'입니다.\n\n"
          "[질문] {question}\n[문장]\n{sentences}\n\n답이 있으면 '예', 없으면 '아니오'로만 답하세요.")


def verdict(llm: Any, question: str, sentences: Sequence[str]) -> tuple[float, str]:
    """P(예) against 아니오 for the first token of the answer, and which of the two is likelier. The
    logits are read after evaluating the chat-formatted prompt (the model is not created with logits_all,
    so the completion API gives no log-probabilities)."""
    import numpy as np

    text = PROMPT.format(question=question, sentences="\n".join(f"- {s}" for s in sentences))
    prompt = f"<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"  # Qwen2.5's chat template
    tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
    llm.reset()
    llm.eval(tokens)
    # the last token's logits, straight from llama.cpp's context (not kept in llm.scores without logits_all)
    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).astype(float)
    yes = [llm.tokenize(w.encode("utf-8"), add_bos=False)[0] for w in ("예", " 예")]
    no = [llm.tokenize(w.encode("utf-8"), add_bos=False)[0] for w in ("아니오", "아니", " 아니오")]
    top = logits.max()
    p = np.exp(logits - top)
    p_yes, p_no = max(p[i] for i in yes), max(p[i] for i in no)
    return float(p_yes / (p_yes + p_no)), ("예" if p_yes >= p_no else "아니오")


def run(args: argparse.Namespace) -> None:
    from eval.__main__ import parse_args, prepare
    from eval.metrics import answer_matches
    from rag.config import load_settings

    settings = load_settings()
    eval_args = parse_args(["--dataset", args.dataset, "--split", args.split, "--no-progress"]
                           + (["--sample", args.sample] if args.sample else []))
    pipe, questions, _ = prepare(eval_args, settings, None)
    generator = pipe.generator()
    with generator._lock:  # the bench owns the model: one question at a time
        llm = generator._load()
    with open(args.out, "w", encoding="utf-8") as out:
        for q in questions:
            if q.history:
                continue
            result = pipe.ask(q.question, mode="extractive")
            row: dict[str, Any] = {"id": q.id, "question": q.question, "must_refuse": q.unanswerable,
                                   "refused": result.refused}
            if not result.refused:
                quotes = list(dict.fromkeys(c.quote for c in result.citations))
                started = time.perf_counter()
                p_yes, said = verdict(llm, q.question, quotes)
                row |= {"correct": bool(q.answers) and answer_matches(result.text, q.answers), "p_yes": round(p_yes, 4),
                        "said": said, "ms": round(1000 * (time.perf_counter() - started)), "sentences": quotes}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
    pipe.close()


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """P(a positive scores above a negative), ties counting half."""
    if not positive or not negative:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def summary(paths: Sequence[str]) -> None:
    for path in paths:
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line]
        answered = [r for r in rows if not r["refused"]]
        right = [r["p_yes"] for r in answered if r.get("correct")]
        wrong = [r["p_yes"] for r in answered if not r.get("correct") and not r["must_refuse"]]
        refuse = [r["p_yes"] for r in answered if r["must_refuse"]]
        ms = sorted(r["ms"] for r in answered)
        print(f"{path}: {len(rows)} questions, {len(answered)} answered: right {len(right)}, wrong {len(wrong)}, "
              f"must refuse {len(refuse)}; verdict p50 {ms[len(ms) // 2] if ms else '-'} ms")
        print(f"  AUC right vs must-refuse {auc(right, refuse):.3f}; right vs wrong {auc(right, wrong):.3f}; "
              f"said 예: right {sum(r.get('said', '').strip().startswith('예') for r in answered if r.get('correct'))}"
              f"/{len(right)}, must-refuse {sum(r.get('said', '').strip().startswith('예') for r in answered if r['must_refuse'])}"
              f"/{len(refuse)}")
        for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
            print(f"  p_yes < {t}: right {sum(p < t for p in right)}/{len(right)}, wrong {sum(p < t for p in wrong)}/{len(wrong)}, "
                  f"must-refuse {sum(p < t for p in refuse)}/{len(refuse)}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset")
    p.add_argument("--split", default="calibrate")
    p.add_argument("--sample", default=None)
    p.add_argument("--out")
    p.add_argument("--summary", nargs="*")
    args = p.parse_args(argv)
    if args.summary:
        summary(args.summary)
    else:
        run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
