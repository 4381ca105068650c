"""Write a run folder: cases.jsonl, summary.json, report.md and the PNG plots it embeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from eval.metrics import RECALL_KS
from eval.runner import notice_kinds
from eval.stats import answer_shares, wilson

_COLUMNS = (
    ("R@1", "recall@1"),
    ("R@3", "recall@3"),
    ("R@5", "recall@5"),
    ("R@10", "recall@10"),
    ("MRR@10", "mrr@10"),
    ("nDCG@10", "ndcg@10"),
    ("accuracy", "correct"),
    ("contain", "containment"),
    ("contain (answered)", "containment_answered"),
    ("false refusals", "false_refusal_rate"),
    ("refused", "refusal_rate"),
    ("EM", "em"),
    ("F1", "f1"),
    ("wrong short", "short_wrong"),
    ("cite valid", "citation_validity"),
    ("cite correct", "citation_correctness"),
    ("refusal P", "refusal_precision"),
    ("refusal R", "refusal_recall"),
)


def write_run(
    out_dir: Path,
    cases: Sequence[dict[str, Any]],
    summary: dict[str, Any],
    *,
    with_cases: bool = True,
    with_misses: bool = True,
) -> dict[str, Path]:
    """Write all outputs of one run into `out_dir` (created); returns the written paths.

    `with_cases=False` (a copy to commit under eval/results/) leaves out cases.jsonl; KorQuAD copies
    also leave out the misses table (`with_misses=False`): its licence forbids committing a converted
    copy of its questions."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"summary": out_dir / "summary.json", "report": out_dir / "report.md"}
    if with_cases:
        paths["cases"] = out_dir / "cases.jsonl"
        with paths["cases"].open("w", encoding="utf-8") as fh:
            for case in cases:
                fh.write(json.dumps(case, ensure_ascii=False) + "\n")
    paths["summary"].write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    plots = write_plots(out_dir, cases, summary)
    paths.update(plots)
    paths["report"].write_text(render_report(cases, summary, plots, with_misses=with_misses), encoding="utf-8")
    return paths


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def metrics_table(rows: Sequence[tuple[str, dict[str, Any]]], label: str = "type") -> str:
    """A markdown table with only the metric columns that some row defines."""
    columns = [(title, key) for title, key in _COLUMNS if any(r.get(key) is not None for _, r in rows)]
    lines = [
        "| " + " | ".join([label, "n"] + [t for t, _ in columns]) + " |",
        "|" + "---|" * (len(columns) + 2),
    ]
    for name, row in rows:
        lines.append("| " + " | ".join([name, str(row.get("n", ""))] + [_figure(row, k) for _, k in columns]) + " |")
    return "\n".join(lines)


def _figure(row: dict[str, Any], key: str) -> str:
    """A figure's cell, with the number of questions it is over when that is not the row's n ("0.933 (60)": R@1
    of the 60 questions with gold among 71)."""
    over = row.get("n_by_figure", {}).get(key)
    if row.get(key) is None or over is None or over == row.get("n"):
        return _cell(row.get(key))
    return f"{_cell(row[key])} ({over})"


# under the first table: what the bracketed counts are
_N_NOTE = ("n: the questions in the row; a figure over fewer of them gives its own count in brackets (retrieval "
           "figures: those with gold; containment and false refusals: those with answers; refusal R: those to "
           "refuse; refusal P: those refused; EM/F1: those with one answer; wrong short: the right answers; citations: the answers that cite)")


_SHARES = (("accuracy", "accuracy"), ("contain", "containment"), ("contain (answered)", "containment_answered"),
           ("false refusals", "false_refusal_rate"), ("refused", "refusal_rate"), ("refusal R", "refusal_recall"))


def share_intervals(cases: Sequence[dict[str, Any]]) -> list[str]:
    """Each answer share of the run with its 95% interval: a set of 30 questions moves by whole tenths."""
    if not any(c.get("refused") is not None for c in cases):
        return []
    counts = answer_shares([c for c in cases if c.get("refused") is not None])["counts"]
    out = []
    for title, key in _SHARES:
        k, m = counts.get(key, (0, 0))
        if m:
            low, high = wilson(k, m)
            out.append(f"{title} {k / m:.3f} ({low:.3f}–{high:.3f}; {k}/{m})")
    return out


def not_available_note(meta: dict[str, Any]) -> str:
    """'R@10, MRR@10, nDCG@10 — …' for the figures a run's searches were too shallow for; "" when none."""
    keys = meta.get("not_available")
    if not keys:
        return ""
    titles = dict((key, title) for title, key in _COLUMNS)
    how = ("`--k 10` gives them" if meta.get("mode") == "retrieval-only"
           else "`--retrieval-only` gives them (`--k 10` would also change what the answers read)")
    return (f"{', '.join(titles.get(k, k) for k in keys)} — each question's search returned k={meta.get('k')} hits, "
            f"fewer than these figures read; {how}")


def render_report(
    cases: Sequence[dict[str, Any]], summary: dict[str, Any], plots: dict[str, Path], with_misses: bool = True
) -> str:
    meta = summary.get("run", {})
    out = [f"# Evaluation: {meta.get('dataset', '?')}", ""]
    for key in ("started", "mode", "k", "store", "corpus", "n_questions", "seconds", "command"):
        if key in meta:
            out.append(f"- **{key}**: `{meta[key]}`" if key == "command" else f"- **{key}**: {meta[key]}")
    note = not_available_note(meta)
    if note:
        out.append(f"- **not available**: {note}")
    missing = meta.get("missing_gold") or {}
    if missing.get("count"):
        ids = ", ".join(f"`{i}`" for i in missing["ids"]) + (" …" if missing["count"] > len(missing["ids"]) else "")
        out.append(f"- **gold not in the store**: {missing['count']} document(s) ({ids}); their "
                   f"{missing['questions']} question(s) cannot score")
    out += ["", "## Overall", "", metrics_table([("all", summary["overall"])], "set"), "", _N_NOTE, ""]
    intervals = share_intervals(cases)
    if intervals:
        out += ["95% intervals (Wilson; k of m questions): " + " · ".join(intervals), ""]
    if summary["overall"].get("n_notice"):
        kinds = notice_kinds(summary["overall"].get("notices"))
        out += [f"{summary['overall']['n_notice']} answer(s) carry a notice from the pipeline (e.g. an LLM "
                f"fallback to the extractive answer){f': {kinds}' if kinds else ''}; see `notice` and `notice_code` "
                "in cases.jsonl (rag.types.NOTICES).", ""]
    if "modes" in summary:
        out += ["## Retrieval modes side by side", ""]
        out.append(metrics_table([(name, s["overall"]) for name, s in summary["modes"].items()], "mode"))
        out.append("")
        for name, s in summary["modes"].items():
            out += [f"### {name} by type", "", metrics_table(list(s["by_type"].items())), ""]
    else:
        out += ["## By type", "", metrics_table(list(summary["by_type"].items())), ""]
    latency = summary.get("latency_ms", {})
    if latency:
        out += ["## Latency (ms)", "", "| timing | n | p50 | p95 | mean |", "|---|---|---|---|---|"]
        for key, s in latency.items():
            out.append(f"| {key} | {s['n']} | {_cell(s['p50'])} | {_cell(s['p95'])} | {_cell(s['mean'])} |")
        out.append("")
    for name, path in plots.items():
        out += [f"![{name}]({path.name})", ""]
    if "compare" in summary:
        out += ["## Compared with an earlier run", "", summary["compare"], ""]
    if with_misses:
        out += ["## Misses", "", *_misses(cases), ""]
    return "\n".join(out)


def _misses(cases: Sequence[dict[str, Any]], limit: int = 25) -> list[str]:
    """The first cases that failed: retrieval missed the gold at 5, or the answer was wrong."""
    lines = ["| id | type | question | gold | top hit | expected | answer |", "|---|---|---|---|---|---|---|"]
    shown = 0
    for c in cases:
        retrieval_miss = c.get("recall@5") is not None and c["recall@5"] < 1.0
        answer_miss = c.get("correct") is False
        if not (retrieval_miss or answer_miss):
            continue
        top = c["hits"][0]["source"] if c["hits"] else "–"
        # every group must be found, any variant of a group does: "850억 / 850억원; 김도윤"
        # (no answers and no gold: to be refused; gold only, a retrieval-only set's question: nothing to say)
        expected = ("; ".join(" / ".join(group) for group in c.get("answers") or [])
                    or ("–" if c.get("gold") else "(refuse)"))
        lines.append(
            f"| {c['id']} | {c['type']} | {_md(c['question'])} | {_md(', '.join(c['gold']) or '(none)')} "
            f"| {_md(top)} | {_md(expected)} | {_md(_answer_cell(c))} |"
        )
        shown += 1
        if shown >= limit:
            lines.append(f"| … | | (first {limit} shown; all cases are in cases.jsonl) | | | | |")
            break
    return lines if shown else ["None."]


def _answer_cell(case: dict[str, Any]) -> str:
    """The answer's first 80 characters, or why it was refused (the grounding's reason, the names no article
    mentions, the probability under its bar), and the notice's code of a fallback answer."""
    grounding = case.get("grounding") or {}
    if case.get("refused"):
        why = [grounding.get("reason") or ""]
        if grounding.get("missing"):
            why.append("not in the articles: " + ", ".join(grounding["missing"]))
        probability, bar = grounding.get("probability"), grounding.get("threshold")
        if isinstance(probability, float) and isinstance(bar, float) and probability < bar:
            why.append(f"probability {probability:.3f} < {bar:.3f}")
        reason = "; ".join(w for w in why if w)
        text = f"(refused: {reason})" if reason else "(refused)"
    else:
        text = (case.get("answer") or "")[:80]
    return f"{text} [{case['notice_code']}]" if case.get("notice_code") else text


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def write_plots(out_dir: Path, cases: Sequence[dict[str, Any]], summary: dict[str, Any]) -> dict[str, Path]:
    """recall@k curve (per retrieval mode when present) and a latency histogram, as PNG files."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt

    written: dict[str, Path] = {}
    curves = {name: s["overall"] for name, s in summary.get("modes", {}).items()} or {"system": summary["overall"]}
    if any(row.get("recall@1") is not None for row in curves.values()):
        fig, ax = plt.subplots(figsize=(5, 3.5), dpi=100)
        for name, row in curves.items():
            ax.plot(RECALL_KS, [row.get(f"recall@{k}") or 0.0 for k in RECALL_KS], marker="o", label=name)
        ax.set_xlabel("k (documents)")
        ax.set_ylabel("recall@k")
        ax.set_xticks(RECALL_KS)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title("Recall@k")
        fig.tight_layout()
        path = out_dir / "recall_at_k.png"
        fig.savefig(path)
        plt.close(fig)
        written["recall@k"] = path
    series = {
        key: [c["timings"][key] for c in cases if c.get("timings", {}).get(key) is not None]
        for key in ("retrieval", "first_token", "total")
    }
    series = {k: v for k, v in series.items() if v}
    if series:
        import numpy as np

        fig, ax = plt.subplots(figsize=(5, 3.5), dpi=100)
        everything = [v for values in series.values() for v in values if v > 0]
        lo, hi = max(min(everything, default=0.1), 0.1), max(everything, default=1.0)
        # shared log-spaced bins: retrieval (tens of ms) and LLM totals (tens of s) on one axis
        bins = np.logspace(np.log10(lo), np.log10(max(hi, lo * 1.01)), 40)
        for key, values in series.items():
            ax.hist([max(v, lo) for v in values], bins=bins, alpha=0.6, label=key)
        ax.set_xscale("log")
        ax.set_xlabel("ms (log scale)")
        ax.set_ylabel("questions")
        ax.set_title("Latency")
        ax.legend()
        fig.tight_layout()
        path = out_dir / "latency.png"
        fig.savefig(path)
        plt.close(fig)
        written["latency"] = path
    return written
