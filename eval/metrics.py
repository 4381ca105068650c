"""Evaluation metrics as pure functions of plain values (strings, lists, numbers).

Retrieval metrics work at *document* level: a ranked list of hits (chunks) is first reduced to the
ranked list of distinct source documents, because gold labels name documents, not chunks, and a
document retrieved twice must not count twice.

    >>> docs = dedupe_docs(["a.txt", "a.txt", "b.txt"])       # ["a.txt", "b.txt"]
    >>> recall_at_k(docs, ["b.txt"], 1), mrr_at_k(docs, ["b.txt"])
    (0.0, 0.5)
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from rag.citations import MARKER
from rag.short_answer import claims_of

RECALL_KS = (1, 3, 5, 10)


# --- retrieval -------------------------------------------------------------------------------


def dedupe_docs(ranked_sources: Iterable[str]) -> list[str]:
    """Distinct document ids in order of their first (best) appearance."""
    seen: set[str] = set()
    out: list[str] = []
    for source in ranked_sources:
        if source not in seen:
            seen.add(source)
            out.append(source)
    return out


def recall_at_k(ranked_docs: Sequence[str], gold: Iterable[str], k: int) -> float | None:
    """Share of the gold documents found in the top k (None when there is no gold to find)."""
    gold_set = set(gold)
    if not gold_set:
        return None
    return len(gold_set.intersection(ranked_docs[:k])) / len(gold_set)


def mrr_at_k(ranked_docs: Sequence[str], gold: Iterable[str], k: int = 10) -> float | None:
    """Reciprocal rank of the first gold document within the top k (0 if none is there)."""
    gold_set = set(gold)
    if not gold_set:
        return None
    for rank, doc in enumerate(ranked_docs[:k], start=1):
        if doc in gold_set:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked_docs: Sequence[str], gold: Iterable[str], k: int = 10) -> float | None:
    """Binary-relevance nDCG: DCG of the ranking over the DCG of the ideal one (all gold first)."""
    gold_set = set(gold)
    if not gold_set:
        return None
    dcg = sum(1.0 / math.log2(rank + 1) for rank, doc in enumerate(ranked_docs[:k], 1) if doc in gold_set)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold_set), k) + 1))
    return dcg / ideal


# how deep a ranking each retrieval figure reads
CUTOFFS = {**{f"recall@{k}": k for k in RECALL_KS}, "mrr@10": 10, "ndcg@10": 10}


def beyond_depth(depth: int | None) -> list[str]:
    """The retrieval figures a ranking of `depth` hits cannot give (none when the depth is not known)."""
    return [] if depth is None else [key for key, cutoff in CUTOFFS.items() if cutoff > depth]


def retrieval_metrics(ranked_sources: Sequence[str], gold: Sequence[str], depth: int | None = None
                      ) -> dict[str, float | None]:
    """recall@1/3/5/10, mrr@10 and ndcg@10 of one ranked hit list (sources may repeat).

    `depth` is how many hits the search was asked for: a figure reading deeper is None, not available — over
    the 5 hits an answer used, "recall@10" would be recall@5 under another name.

        >>> retrieval_metrics(["a", "b"], ["b"], depth=5)["recall@10"] is None
        True
    """
    docs = dedupe_docs(ranked_sources)
    out: dict[str, float | None] = {f"recall@{k}": recall_at_k(docs, gold, k) for k in RECALL_KS}
    out["mrr@10"] = mrr_at_k(docs, gold, 10)
    out["ndcg@10"] = ndcg_at_k(docs, gold, 10)
    for key in beyond_depth(depth):
        out[key] = None
    return out


# --- answers ---------------------------------------------------------------------------------

# a comma between two digits is a thousands separator: "1,030억" == "1030억"
_THOUSANDS = re.compile(r"(?<=\d),(?=\d)")


def normalize_for_match(text: str) -> str:
    """NFC, no whitespace, no thousands separators: the contract's comparison form."""
    text = unicodedata.normalize("NFC", text)
    text = _THOUSANDS.sub("", text)
    return "".join(text.split())


def answer_matches(answer: str, groups: Sequence[Sequence[str]]) -> bool:
    """True when every group has at least one of its strings in the answer (contract rule)."""
    if not groups:
        return False
    haystack = normalize_for_match(MARKER.sub(" ", answer))  # "[2]" is a citation, not the answer "2"
    return all(any(normalize_for_match(s) in haystack for s in group) for group in groups)


def answer_correct(answer: str, refused: bool, groups: Sequence[Sequence[str]]) -> bool:
    """A case is correct when it refuses an unanswerable question or answers an answerable one."""
    if not groups:
        return refused
    return not refused and answer_matches(answer, groups)


# The official KorQuAD 1.0 evaluation script (evaluate-v1.0.py): these quote and bracket characters
# become spaces, then ASCII punctuation is dropped, case folded and whitespace collapsed.
_KORQUAD_SPACE_CHARS = "'\"《》<>〈〉()‘’"
_PUNCT = set(string.punctuation)


def korquad_normalize(text: str) -> str:
    """KorQuAD 1.0's normalize_answer."""
    for ch in _KORQUAD_SPACE_CHARS:
        text = text.replace(ch, " ")
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    return " ".join(text.split())


def korquad_em(prediction: str, truths: Sequence[str]) -> float:
    """Exact match after KorQuAD normalization, best over the ground truths."""
    pred = korquad_normalize(prediction)
    return max((1.0 if pred == korquad_normalize(t) else 0.0 for t in truths), default=0.0)


def korquad_f1(prediction: str, truths: Sequence[str]) -> float:
    """Character-level F1 (whitespace excluded) after KorQuAD normalization, best over truths."""
    return max((_char_f1(prediction, t) for t in truths), default=0.0)


def value_conflicts(value: str, truths: Sequence[str]) -> bool:
    """Whether a short value is wrong outright: after KorQuAD normalization, spaces removed, neither it nor
    any gold span holds the other ("2020년" for "1,030억 원", "5개" for "10개"). A part of the span ("서울" of
    "서울 서초구") or the span with more around it ("6년연속" for "6년") is not: char-F1 would call "2020년"
    and "1,030억 원" alike for their zeros."""
    said = korquad_normalize(value).replace(" ", "")
    if not said:
        return False  # nothing shown is nothing wrong
    for truth in truths:
        gold = korquad_normalize(truth).replace(" ", "")
        if gold and (said in gold or gold in said):
            return False
    return True


def _char_f1(prediction: str, truth: str) -> float:
    pred_chars = list(korquad_normalize(prediction).replace(" ", ""))
    truth_chars = list(korquad_normalize(truth).replace(" ", ""))
    same = sum((Counter(pred_chars) & Counter(truth_chars)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_chars)
    recall = same / len(truth_chars)
    return 2 * precision * recall / (precision + recall)


def shortest_cited_span(answer: str) -> str:
    """The shortest piece of an answer that ends in a citation marker, markers and end punctuation
    removed: "A사는 2019년 설립됐다 [1]. 본사는 서울 [2]." -> "본사는 서울". The whole answer when
    nothing is cited."""
    pieces = claims_of(answer)
    if not pieces:
        return answer.strip()
    return min(pieces, key=len).rstrip(".。!? ")


# --- citations -------------------------------------------------------------------------------


def _squash(text: str) -> str:
    # quotes may be re-spaced by a generator; whitespace differences do not make a quote invalid
    return " ".join(unicodedata.normalize("NFC", text).split())


def citation_valid(source: str, quote: str, retrieved: Iterable[str], texts: Mapping[str, str]) -> bool:
    """The cited source was among the retrieved hits and the quote occurs in that source's text."""
    if source not in set(retrieved):
        return False
    text = texts.get(source)
    if text is None or not quote.strip():
        return False
    return _squash(quote) in _squash(text)


def citation_scores(
    citations: Sequence[tuple[str, str]],
    retrieved: Iterable[str],
    gold: Iterable[str],
    texts: Mapping[str, str],
) -> dict[str, float | None]:
    """Share of (source, quote) citations that are valid, and share whose source is gold."""
    if not citations:
        return {"citation_validity": None, "citation_correctness": None}
    retrieved_set, gold_set = set(retrieved), set(gold)
    valid = sum(citation_valid(s, q, retrieved_set, texts) for s, q in citations)
    correct = sum(s in gold_set for s, _ in citations)
    n = len(citations)
    # no gold (an unanswerable question): any citation is wrong, which correctness then shows
    return {"citation_validity": valid / n, "citation_correctness": correct / n}


# --- refusals --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefusalScores:
    precision: float | None  # of the refusals, the share that were right to refuse
    recall: float | None  # of the unanswerable questions, the share refused
    n_refused: int
    n_unanswerable: int


def refusal_scores(refused: Sequence[bool], unanswerable: Sequence[bool]) -> RefusalScores:
    """Refusal precision/recall with "unanswerable" as the positive class."""
    if len(refused) != len(unanswerable):
        raise ValueError("refused and unanswerable must have the same length")
    both = sum(r and u for r, u in zip(refused, unanswerable))
    n_refused, n_unanswerable = sum(refused), sum(unanswerable)
    return RefusalScores(
        precision=both / n_refused if n_refused else None,
        recall=both / n_unanswerable if n_unanswerable else None,
        n_refused=n_refused,
        n_unanswerable=n_unanswerable,
    )


# --- latency and averages --------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def latency_summary(values_ms: Sequence[float]) -> dict[str, float | None]:
    """p50 / p95 / mean of a list of latencies (ms)."""
    return {
        "p50": percentile(values_ms, 50),
        "p95": percentile(values_ms, 95),
        "mean": sum(values_ms) / len(values_ms) if values_ms else None,
        "n": len(values_ms),
    }


def mean_defined(values: Iterable[float | bool | None]) -> float | None:
    """Mean over the values that are defined (None = metric does not apply to that case)."""
    defined = [float(v) for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None
