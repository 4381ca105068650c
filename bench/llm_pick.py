"""Does the packaged LLM pick the sentence holding the answer better than the evidence ranker does?

A measurement, not a feature. Input: `python -m eval.diagnose` records of a calibration half (each answered
question's evidence sentences, best first, and which of them hold the gold span). For every answered question
with a holding sentence among its first `--top` evidence sentences, the model is shown the question and those
sentences, numbered, and asked for the number of the one holding the answer (greedy, a few tokens). Recorded:
its pick, which sentences hold the gold, and whether the extractive answer was right. The summary sets the
model's pick against the ranker's lead (sentence 1).

    python -m eval.diagnose --dataset klue --out D.jsonl
    python bench/llm_pick.py --diagnose D.jsonl --out P.jsonl
    python bench/llm_pick.py --summary P.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SYSTEM = "당신은 질문에 답하는 문장을 고르는 도우미입니다. 번호 하나만 답하세요."


def run(diagnose: str, out: str, top: int) -> None:
    from rag.config import load_settings
    from rag.generation import complete, load_generator

    settings = load_settings()
    generator = load_generator(settings.generation, settings.paths.cache_dir)
    with open(diagnose, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as sink:
        for line in f:
            record = json.loads(line)
            evidence = record["evidence"][:top]
            if record["refused"] or not any(e["holds"] for e in evidence):
                continue
            listed = "\n".join(f"[{i}] {e['text'][:200]}" for i, e in enumerate(evidence, start=1))
            messages = [{"role": "system", "content": SYSTEM},
                        {"role": "user", "content": f"질문: {record['question']}\n\n문장:\n{listed}\n\n"
                                                    "질문의 답이 들어 있는 문장의 번호는?"}]
            started = time.perf_counter()
            text = complete(generator, messages, 4)
            number = re.search(r"\d+", text)
            sink.write(json.dumps({"id": record["id"], "correct": record["correct"],
                                   "holds": [e["holds"] for e in evidence],
                                   "pick": int(number.group()) - 1 if number else -1, "raw": text,
                                   "seconds": round(time.perf_counter() - started, 2)}, ensure_ascii=False) + "\n")
            sink.flush()


def summary(paths: Sequence[str]) -> None:
    for path in paths:
        rows = [json.loads(line) for line in open(path, encoding="utf-8")]
        picked = lambda r: 0 <= r["pick"] < len(r["holds"]) and r["holds"][r["pick"]]  # noqa: E731
        print(f"{path}: {len(rows)} answered questions with a holding sentence in the first {len(rows[0]['holds'])}")
        print(f"  ranker's lead holds the answer: {sum(r['holds'][0] for r in rows)}; the LLM's pick: "
              f"{sum(picked(r) for r in rows)}")
        for right in (True, False):
            part = [r for r in rows if r["correct"] == right]
            print(f"  extractive answer {'right' if right else 'wrong'} ({len(part)}): the LLM's pick holds it in "
                  f"{sum(picked(r) for r in part)}, the lead in {sum(r['holds'][0] for r in part)}")
        print(f"  picks: {sorted((p, sum(r['pick'] == p for r in rows)) for p in {r['pick'] for r in rows})}; "
              f"seconds p50 {sorted(r['seconds'] for r in rows)[len(rows) // 2]}")


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--diagnose", help="eval.diagnose records (JSONL) of a calibration half")
    p.add_argument("--out", help="write one JSON record per question here")
    p.add_argument("--top", type=int, default=6, help="evidence sentences shown (default 6)")
    p.add_argument("--summary", nargs="+", help="summarize these records instead")
    args = p.parse_args(argv)
    if args.summary:
        summary(args.summary)
    elif args.diagnose and args.out:
        run(args.diagnose, args.out, args.top)
    else:
        p.error("give --diagnose and --out, or --summary")


if __name__ == "__main__":
    main()
