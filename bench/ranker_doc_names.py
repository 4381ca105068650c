"""Calibration-only probe (issue 9): would the evidence order pick the answer sentence more often if it knew
whether the sentence's *article* names what the question names, and whether the sentence gives the asked kind of
value beside those names? In a bigger archive (mixed stores) a passage that shares a word with the question and
gives some amount is ranked beside the one about the question's company; the ranker's "names" feature reads the
sentence, its title and the sentence before only, and "slot_has" is not tied to the names.

Candidate features (computed here, not in rag/):
- doc_names: share of the question's names (rag.grounding.asked_terms, numbers aside) found anywhere in the
  candidate's article (title and text, lower case, also unspaced); 1 when it names nothing;
- slot_named: slot_has x names (the value the question asks for, in a sentence naming the question's names).

Two-fold cross-validation by question (3 fold seeds), listwise order models fitted with `eval.fit.fit_rankers`
on the rows of the training sets, top-1 (the first sentence holds the answer) per set, with and without the
new features. Rows cache: data/fit/probe-doc-names-rows.json.

    python bench/ranker_doc_names.py [--limit N] [--reuse] [--seeds-mixed-store S]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval import fit  # noqa: E402
from rag import evidence as ev  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.grounding import asked_terms  # noqa: E402
from rag.memo import MemoKorean  # noqa: E402

SETS = {  # name -> (dataset, extra eval arguments)
    "korquad-open": ("korquad-open", []),
    "klue": ("klue", []),
    "korquad-open+klue": ("korquad-open", ["--mix-with", "klue"]),
    "seeds": ("seeds", []),
}
# the seeds in a store with KLUE's passages, when one is given (--seeds-mixed-store; built by
# `python -m rag ingest seeds eval/datasets/klue_mrc_dev/corpus --store S`)
SEEDS_MIXED = "seeds+klue"
NEW = ("doc_names", "slot_named")
CACHE = ROOT / "data" / "fit" / "probe-doc-names-rows.json"


def holds(name: str, low: str, unspaced: str) -> bool:
    return name in low or name in unspaced


def rows(limit: int | None, seeds_mixed: Path | None) -> tuple[dict[str, list], list[int], list[str], dict[str, str]]:
    settings = load_settings()
    sets = dict(SETS) | ({SEEDS_MIXED: ("seeds", ["--store", str(seeds_mixed)])} if seeds_mixed else {})
    columns: dict[str, list] = {f: [] for f in ev.CHEAP_FEATURES + NEW + ("_text",)}
    labels: list[int] = []
    groups: list[str] = []
    questions: dict[str, str] = {}
    for name, (dataset, extra) in sets.items():
        pipe, qs = fit._calibration_questions(dataset, settings, extra=extra)
        korean = MemoKorean(pipe.korean)
        qs = qs[:limit] if limit else qs
        docs: dict[str, tuple[str, str]] = {}
        for q in qs:
            hits = pipe.search(q.question, settings.retrieval.k)
            cands = ev.usable(q.question, ev.gather_candidates(hits, pipe.article, korean), korean)
            if not cands:
                continue
            found = ev.candidate_features(q.question, cands, korean)
            names = [t for t in asked_terms(q.question, korean) if not t.isdigit()]
            for c in cands:
                doc = c.hit.chunk.doc_id
                if doc not in docs:
                    article = pipe.article(doc)
                    text = f"{c.hit.chunk.title}\n{article.text if article else c.hit.chunk.text}".lower()
                    docs[doc] = (text, "".join(text.split()))
                low, unspaced = docs[doc]
                columns["doc_names"].append(sum(holds(n, low, unspaced) for n in names) / len(names) if names else 1.0)
            columns["slot_named"].extend(h * n for h, n in zip(found["slot_has"], found["names"]))
            for key in ev.CHEAP_FEATURES:
                columns[key].extend(found[key])
            columns["_text"].extend(c.text for c in cands)
            labels.extend(int(fit.holds_answer(c.text, c.hit.chunk.doc_id, q.gold, q.answers)) for c in cands)
            groups.extend(f"{name}:{q.id}" for _ in cands)
            questions[f"{name}:{q.id}"] = q.question
        pipe.close()
        print(f"{name}: {len(qs)} questions", file=sys.stderr)
    return columns, labels, groups, questions


def fold_of(group: str, seed: int) -> int:
    return hashlib.sha1(f"{seed}:{group.split(':', 1)[1]}".encode()).digest()[0] % 2


def cv_top1(columns: dict[str, list], labels: list[int], groups: list[str], questions: dict[str, str],
            relevance: Any, cheap: tuple[str, ...], train_sets: tuple[str, ...], seeds: int = 3) -> dict[str, float]:
    """Mean over fold seeds of each set's out-of-fold top-1, the models fitted on `train_sets`' rows."""
    ev.CHEAP_FEATURES = cheap  # fit_rankers and _dense_top read the feature lists from rag.evidence
    ev.FEATURES = cheap + ("dense", "dense_gap")
    sets = sorted({g.split(":", 1)[0] for g in groups})
    out: dict[str, list[float]] = {s: [] for s in sets}
    texts = columns["_text"]
    for seed in range(seeds):
        scores = [0.0] * len(labels)
        for fold in (0, 1):
            train = [i for i, g in enumerate(groups) if fold_of(g, seed) != fold and g.split(":", 1)[0] in train_sets]
            test = [i for i, g in enumerate(groups) if fold_of(g, seed) == fold]
            sub = lambda idx: {f: [columns[f][i] for i in idx] for f in cheap}  # noqa: E731
            models = fit.fit_rankers(sub(train), [labels[i] for i in train], [groups[i] for i in train], questions,
                                     [texts[i] for i in train], relevance, "listwise")
            _, ranked = fit.ranked_scores(*models, sub(test), [groups[i] for i in test], questions,
                                          [texts[i] for i in test], relevance)
            for i, s in zip(test, ranked):
                scores[i] = s
        for s, v in fit.top1_by_set(scores, labels, groups, sets).items():
            out[s].append(v)
    return {s: round(float(np.mean(v)), 4) for s, v in out.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--reuse", action="store_true")
    p.add_argument("--seeds-mixed-store", type=Path, default=None, help="the seeds ingested with KLUE's passages")
    args = p.parse_args()
    if args.seeds_mixed_store and not args.seeds_mixed_store.is_dir():
        p.error(f"no store at {args.seeds_mixed_store}")
    base = ev.CHEAP_FEATURES
    if args.reuse and CACHE.is_file():
        columns, labels, groups, questions = json.loads(CACHE.read_text(encoding="utf-8"))
    else:
        columns, labels, groups, questions = rows(args.limit, args.seeds_mixed_store)
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_text(json.dumps([columns, labels, groups, questions], ensure_ascii=False), encoding="utf-8")
    from rag.pipeline import build_pipeline
    from rag.relevance import SentenceRelevance

    embedder = build_pipeline(load_settings()).embedder
    relevance = SentenceRelevance(lambda: embedder)
    alone = ("korquad-open", "klue")
    variants = [("shipped features, trained alone", base, alone),
                ("+doc_names", base + ("doc_names",), alone),
                ("+slot_named", base + ("slot_named",), alone),
                ("+both", base + NEW, alone),
                ("shipped features, trained with mixed rows", base, alone + ("korquad-open+klue",)),
                ("+both, trained with mixed rows", base + NEW, alone + ("korquad-open+klue",))]
    sets = sorted({g.split(":", 1)[0] for g in groups})
    print("| variant | " + " | ".join(sets) + " |")
    print("|---|" + "---:|" * len(sets))
    for label, cheap, train in variants:
        result = cv_top1(columns, labels, groups, questions, relevance, cheap, train)
        print(f"| {label} | " + " | ".join(f"{result[s]:.4f}" for s in sets) + " |", flush=True)


if __name__ == "__main__":
    main()
