"""LLM answers with and without the draft-agreement check (answer.llm_agrees_with_draft), on the same
model texts, question by question in one pipeline (not a test).

    python bench/llm_agreement.py --texts bench/results/llm_texts_calibration_2026-12-02.jsonl \
        --dataset korquad-open --split calibrate --sample 40,10 --store /tmp/kq
    python bench/llm_agreement.py --texts … --dataset klue --split calibrate --sample 40 --store /tmp/klue
    python bench/llm_agreement.py --texts … --dataset eval/datasets/seeds.jsonl --split calibrate --store /tmp/seeds

The model (temperature 0) is called once per distinct prompt: its texts are kept in `--texts`, keyed
by the exact messages, so both settings — and a later run of this script — judge the same texts; a
prompt not in the file is generated and added. Each case is scored as `python -m eval` scores it
(`eval.metrics.answer_correct`), and the extractive draft's containment is given beside it. Calibration
splits only: the report halves are the lead's, once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import apply_offline_env, load_settings  # noqa: E402


class RecordedGenerator:
    """The real generator behind a file of its earlier texts, keyed by the messages it was given."""

    def __init__(self, factory: Any, path: Path) -> None:
        self._factory, self._real, self._path = factory, None, path
        self.texts: dict[str, str] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                self.texts[record["key"]] = record["text"]
        self.generated = 0

    def stream(self, messages: Any, max_tokens: int, stop: Any = ()) -> Iterator[str]:
        key = hashlib.sha1(json.dumps([messages, max_tokens, list(stop)], ensure_ascii=False).encode()).hexdigest()
        if key not in self.texts:
            self._real = self._real or self._factory()
            self.texts[key] = "".join(self._real.stream(messages, max_tokens, stop))
            self.generated += 1
            with self._path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"key": key, "text": self.texts[key]}, ensure_ascii=False) + "\n")
        yield self.texts[key]


class Seen:
    """The generator behind the answerer, remembering what it was last asked and what it wrote."""

    def __init__(self, generator: Any) -> None:
        self._generator, self.messages, self.text = generator, None, ""

    def stream(self, messages: Any, max_tokens: int, stop: Any = ()) -> Any:
        self.messages, self.text = messages, ""
        for piece in self._generator.stream(messages, max_tokens, stop):
            self.text += piece
            yield piece


def recorded_answerer(eval_argv: list[str], texts: Path) -> tuple[Any, list, Any, RecordedGenerator]:
    """The answerer, questions and settings `python -m eval` would use for these arguments, its LLM
    behind the recorded texts of `texts`."""
    apply_offline_env()
    from eval.__main__ import parse_args, prepare
    from rag.generation import load_generator

    settings = load_settings(None)
    pipe, questions, _ = prepare(parse_args(eval_argv + ["--no-progress"]), settings, None)
    generator = RecordedGenerator(lambda: load_generator(settings.generation, settings.paths.cache_dir), texts)
    pipe._generator_factory = lambda: generator  # the pipeline's own lazily built generator, recorded
    return pipe.answerer, questions, settings, generator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=Path, required=True, help="the model's texts by prompt (JSONL, extended)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures and per-question answers here")
    args, eval_argv = parser.parse_known_args(argv)
    from eval.metrics import answer_correct, answer_matches

    answerer, questions, settings, generator = recorded_answerer(eval_argv, args.texts)
    figures: dict[str, Any] = {}
    cases: dict[str, list[dict[str, Any]]] = {}
    for agree in (False, True):
        answerer.settings = replace(settings, answer=replace(settings.answer, llm_agrees_with_draft=agree))
        rows = []
        for q in questions:
            draft, final = None, None
            for event in answerer.stream(q.question, q.history, mode="llm"):
                draft = event.text if event.kind == "draft" else draft
                final = event.answer if event.kind == "final" else final
            rows.append({"id": q.id, "answerable": bool(q.answers), "answer": final.text, "refused": final.refused,
                         "mode": final.mode, "correct": answer_correct(final.text, final.refused, q.answers),
                         "draft_correct": bool(q.answers) and draft is not None and answer_matches(draft, q.answers)})
        answerable = [r for r in rows if r["answerable"]]
        unanswerable = [r for r in rows if not r["answerable"]]
        figures[str(agree)] = {
            "n": len(rows), "n_answerable": len(answerable),
            "contained": sum(r["correct"] for r in answerable),
            "draft_contained": sum(r["draft_correct"] for r in answerable),
            "false_refusals": sum(r["refused"] for r in answerable),
            "must_refuse_refused": sum(r["refused"] for r in unanswerable), "n_unanswerable": len(unanswerable),
            "llm_answers": sum(r["mode"] == "llm" and not r["refused"] for r in rows),  # shown as the model wrote them
            "modes": dict(Counter(r["mode"] for r in rows)),
        }
        cases[str(agree)] = rows
        f = figures[str(agree)]
        print(f"llm_agrees_with_draft={agree}: contained {f['contained']}/{f['n_answerable']} (draft "
              f"{f['draft_contained']}), false refusals {f['false_refusals']}, must-refuse refused "
              f"{f['must_refuse_refused']}/{f['n_unanswerable']}, LLM answers {f['llm_answers']}/{f['n']}")
    print(f"model texts generated this run: {generator.generated} (the rest read from {args.texts})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"argv": eval_argv, "figures": figures, "cases": cases}, ensure_ascii=False,
                                       indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
