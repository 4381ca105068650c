"""Run a question set through a pipeline and score every case; no I/O besides the pipeline calls.

    cases = run_cases(pipe, questions, retrieval_only=True, k=10)
    summary = summarize(cases)

`pipe` is anything with the Pipeline's `search_modes`, `ask` and `article` methods (tests pass the
real pipeline with a hashing embedder, or a small fake).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any, Callable, Iterable, Protocol, Sequence

from rag.serialize import grounding_to_dict
from rag.types import Answer, Article, Hit, Turn

from eval import metrics as m
from eval.datasets import Question, question_to_json
from eval.stats import answer_shares, cautions, outcomes, refusal_bars

RETRIEVAL_KEYS = tuple(f"recall@{k}" for k in m.RECALL_KS) + ("mrr@10", "ndcg@10")
ANSWER_KEYS = ("correct", "em", "f1", "short_wrong", "citation_validity", "citation_correctness")
SEARCH_MODES = ("dense", "keyword", "hybrid")


class EvalPipeline(Protocol):
    def search_modes(self, question: str, k: int | None = None) -> dict[str, list[Hit]]: ...

    def ask(
        self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None
    ) -> Answer: ...

    def article(self, doc_id: str) -> Article | None: ...


class ArticleTexts:
    """doc_id -> cleaned article text, fetched from the pipeline once per document."""

    def __init__(self, pipe: EvalPipeline) -> None:
        self._pipe = pipe
        self._cache: dict[str, str | None] = {}

    def get(self, doc_id: str, default: str | None = None) -> str | None:
        if doc_id not in self._cache:
            article = self._pipe.article(doc_id)
            self._cache[doc_id] = article.text if article is not None else None
        found = self._cache[doc_id]
        return default if found is None else found


def hit_records(hits: Iterable[Hit]) -> list[dict[str, Any]]:
    return [
        {"source": h.chunk.doc_id, "score": round(float(h.score), 4), "chunk_id": h.chunk.chunk_id}
        for h in hits
    ]


def filters_of(q: Question) -> dict[str, Any]:
    """The question's own filters as keyword arguments (none: pipelines without filters work as before)."""
    return {"filters": q.filters} if q.filters else {}


def _base_record(q: Question) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": q.id,
        "question": q.question,
        "type": q.type or "(none)",
        "gold": list(q.gold),
        "answers": [list(g) for g in q.answers],
    }
    if q.history:
        record["history"] = [{"role": t.role, "content": t.content} for t in q.history]
    if q.filters:
        record["filters"] = question_to_json(q)["filters"]
    return record


def retrieval_case(pipe: EvalPipeline, q: Question, k: int | None, depth: int | None = None) -> dict[str, Any]:
    """Search only: dense, keyword and hybrid hits side by side, each scored against gold (to `depth`, see
    `run_cases`)."""
    started = time.perf_counter()
    # follow-ups are searched as written: condensing with history is the answerer's job
    by_mode = pipe.search_modes(q.question, k=k, **filters_of(q))
    elapsed_ms = (time.perf_counter() - started) * 1000
    record = _base_record(q)
    record.update({"answer": None, "refused": None, "citations": []})
    record["hits"] = hit_records(by_mode.get("hybrid", []))
    record["timings"] = {"retrieval": round(elapsed_ms, 2)}
    depth = _depth(depth, k, max((len(hits) for hits in by_mode.values()), default=0))
    modes: dict[str, Any] = {}
    for name, hits in by_mode.items():
        sources = [h.chunk.doc_id for h in hits]
        modes[name] = {"hits": hit_records(hits), **m.retrieval_metrics(sources, q.gold, depth)}
    record["modes"] = modes
    record.update({key: modes.get("hybrid", {}).get(key) for key in RETRIEVAL_KEYS})
    return record


def answer_case(
    pipe: EvalPipeline, q: Question, k: int | None, mode: str | None, texts: ArticleTexts, depth: int | None = None
) -> dict[str, Any]:
    """Full answer: retrieval metrics on the answer's hits (to `depth`, see `run_cases`), accuracy, EM/F1,
    citations, timings."""
    started = time.perf_counter()
    answer = pipe.ask(q.question, history=q.history, mode=mode, k=k, **filters_of(q))
    wall_ms = (time.perf_counter() - started) * 1000
    record = _base_record(q)
    sources = [h.chunk.doc_id for h in answer.hits]
    citations = [(c.source, c.quote) for c in answer.citations]
    timings = {key: round(float(v), 2) for key, v in answer.timings.items()}
    timings.setdefault("total", round(wall_ms, 2))
    record.update(
        {
            "answer": answer.text,
            "refused": answer.refused,
            "mode": answer.mode,
            "standalone_question": answer.standalone_question,
            "searched_question": answer.searched_question,
            "notice": answer.notice,
            "notice_code": answer.notice_code,
            "citations": [{"source": s, "quote": qt} for s, qt in citations],
            "hits": hit_records(answer.hits),
            "timings": timings,
            # the refusal model's probability and bar: what a stricter bar would refuse (eval.stats.refusal_bars)
            "grounding": grounding_to_dict(answer.grounding),
        }
    )
    # the hits the answer read, not a second, deeper search: R@5 is what the answer had to go on, and a
    # figure deeper than them (R@10 of 5 hits) is left undefined
    record.update(m.retrieval_metrics(sources, q.gold, _depth(depth, k, len(answer.hits))))
    record["correct"] = m.answer_correct(answer.text, answer.refused, q.answers)
    # KorQuAD-style EM/F1 only make sense for one short gold span; they score the answer's short
    # answer when it gives one (rag/short_answer.py), else the shortest cited span of the answer (a
    # whole sentence would never match a span of a few words)
    record["em"] = record["f1"] = record["short_wrong"] = None
    record["short"] = answer.short
    record["short_date"] = answer.short_date
    if len(q.answers) == 1:
        truths = q.answers[0]
        span = answer.short or m.shortest_cited_span(answer.text)
        record["span"] = span
        record["em"] = 0.0 if answer.refused else m.korquad_em(span, truths)
        record["f1"] = 0.0 if answer.refused else m.korquad_f1(span, truths)
        # a short value that is not the gold span nor a part of it, above an answer that holds it: what a reader
        # takes in at a glance, and wrong (over the right answers only, so a run showing fewer values is not
        # rewarded for refusing more)
        if record["correct"] and not answer.refused:
            record["short_wrong"] = float(m.value_conflicts(answer.short, truths))
    record.update(m.citation_scores(citations, sources, q.gold, texts))
    return record


def run_cases(
    pipe: EvalPipeline,
    questions: Sequence[Question],
    *,
    retrieval_only: bool = False,
    mode: str | None = None,
    k: int | None = None,
    progress: bool = False,
    on_case: Callable[[dict[str, Any]], None] | None = None,
    depth: int | None = None,
) -> list[dict[str, Any]]:
    """Evaluate every question in order; `on_case` sees each record as soon as it exists.

    `depth` is how many hits a search returns (k, or the settings' retrieval.k when k is None): the retrieval
    figures that read deeper (recall@10 of an answer's 5 hits) are None, not a copy of a shallower one. Without
    it, k or else the number of hits a question got stands for it."""
    texts = ArticleTexts(pipe)
    iterator: Iterable[Question] = questions
    bar = None
    if progress:
        from tqdm import tqdm  # only the CLI wants a bar; keep the import off the library path

        bar = tqdm(questions, desc="eval", unit="q", dynamic_ncols=True)
        iterator = bar
    cases: list[dict[str, Any]] = []
    for q in iterator:
        record = (retrieval_case(pipe, q, k, depth) if retrieval_only
                  else answer_case(pipe, q, k, mode, texts, depth))
        cases.append(record)
        if on_case is not None:
            on_case(record)
        if bar is not None:
            key = "recall@5" if retrieval_only else "correct"
            bar.set_postfix({key: _fmt(m.mean_defined(c.get(key) for c in cases))}, refresh=False)
    return cases


def _depth(depth: int | None, k: int | None, n_hits: int) -> int:
    """The search depth a case's figures may read to: as given, else k, else the hits it got (a search that
    returned 5 may have been asked for 5: deeper figures are not claimed)."""
    return depth if depth is not None else k if k is not None else n_hits


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def notice_counts(cases: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How many answers carry each kind of notice (rag.types.NOTICES; "other" for a notice without a code, as in
    records written before the code), most first."""
    counts = Counter(c.get("notice_code") or "other" for c in cases if c.get("notice"))
    return dict(counts.most_common())


def notice_kinds(notices: dict[str, int] | None) -> str:
    """notice_counts as a report writes them ("llm_unverified 44, llm_found_nothing 7"); "" for none, or for a run
    recorded before the codes."""
    if not notices or set(notices) == {"other"}:
        return ""
    return ", ".join(f"{code} {n}" for code, n in notices.items())


def aggregate(cases: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Means of every metric over the cases where it is defined, refusals and latencies."""
    out: dict[str, Any] = {"n": len(cases)}
    # how many questions each figure is over: "n" counts every question, R@5 only those with gold
    n_by_figure: dict[str, int] = {}
    for key in RETRIEVAL_KEYS + ANSWER_KEYS:
        values = [c.get(key) for c in cases]
        if any(v is not None for v in values):
            out[key] = m.mean_defined(values)
            n_by_figure[key] = sum(1 for v in values if v is not None)
    out["n_with_gold"] = sum(1 for c in cases if c["gold"])
    if any("notice" in c for c in cases):
        # e.g. "LLM unavailable: showing the extractive answer": such a run is not purely the mode asked for
        out["n_notice"] = sum(1 for c in cases if c.get("notice"))
        out["notices"] = notice_counts(cases)
    answered = [c for c in cases if c.get("refused") is not None]
    out.update(held_out_figures(answered))
    if answered:
        counts = answer_shares(answered)["counts"]
        n_by_figure.update({key: counts[key][1] for key in ("containment", "containment_answered",
                                                             "false_refusal_rate", "refusal_rate") if key in out})
        refusal = m.refusal_scores(
            [bool(c["refused"]) for c in answered], [not c["gold"] and not c["answers"] for c in answered]
        )
        out["refusal_precision"] = refusal.precision
        out["refusal_recall"] = refusal.recall
        out["n_refused"] = refusal.n_refused
        out["n_unanswerable"] = refusal.n_unanswerable
        n_by_figure.update(refusal_precision=refusal.n_refused, refusal_recall=refusal.n_unanswerable)
    out["n_by_figure"] = n_by_figure
    return out


def held_out_figures(cases: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Answer containment on answerable questions (refused counts as wrong), containment among the
    ones answered, the false-refusal rate, and the share of all questions refused — the shares of
    `eval.stats.answer_shares` under the keys summary.json has always had."""
    if not cases:
        return {}
    shares = answer_shares(cases)
    out: dict[str, Any] = {"refusal_rate": shares["refusal_rate"],
                           "n_answerable": shares["counts"]["containment"][1]}
    for key in ("containment", "false_refusal_rate", "containment_answered"):
        if shares[key] is not None:
            out[key] = shares[key]
    return out


def summarize(cases: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Overall and per-type metrics, per retrieval mode when present, and latency percentiles."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        by_type[case["type"]].append(case)
    summary: dict[str, Any] = {
        "overall": aggregate(cases),
        "by_type": {t: aggregate(group) for t, group in sorted(by_type.items())},
    }
    modes = sorted({name for c in cases for name in c.get("modes", {})}, key=_mode_order)
    if modes:
        summary["modes"] = {}
        for name in modes:
            flat = [{**_base_keys(c), **{k: c["modes"][name].get(k) for k in RETRIEVAL_KEYS}} for c in cases if name in c["modes"]]
            summary["modes"][name] = {
                "overall": aggregate(flat),
                "by_type": {t: aggregate([f for f in flat if f["type"] == t]) for t in sorted(by_type)},
            }
    if any(c.get("refused") is not None for c in cases):
        # which questions were right, a bit each: `--compare-to` pairs two runs of the same questions
        summary["outcomes"] = outcomes(cases)
        bars = refusal_bars(cases)
        if bars:  # what a stricter answer.refusal_min_probability would give, from this run's probabilities
            summary["refusal_bars"] = bars
        cautioned = cautions(cases)
        if cautioned is not None:  # answers from articles that never name what was asked about
            summary["cautions"] = cautioned
    timing_keys = sorted({key for c in cases for key in c.get("timings", {})})
    summary["latency_ms"] = {
        key: m.latency_summary([c["timings"][key] for c in cases if c["timings"].get(key) is not None])
        for key in timing_keys
    }
    return summary


def _base_keys(case: dict[str, Any]) -> dict[str, Any]:
    return {"type": case["type"], "gold": case["gold"], "answers": case["answers"]}


def _mode_order(name: str) -> tuple[int, str]:
    return (SEARCH_MODES.index(name) if name in SEARCH_MODES else len(SEARCH_MODES), name)
