"""The one JSON shape of an `Answer`: `rag ask --json`, `POST /api/ask` and the chat API share it."""

from __future__ import annotations

from typing import Any

from rag.sources import CitedArticle, cited_articles
from rag.types import Answer, Citation, GroundingReport, Hit


def citation_to_dict(citation: Citation) -> dict[str, Any]:
    """A verified [n] with its exact span (offsets into the cleaned article)."""
    return {
        "n": citation.n,
        "source": citation.source,
        "title": citation.title,
        "publisher": citation.publisher,
        "date": citation.date,
        "quote": citation.quote,
        "start": citation.start,
        "end": citation.end,
    }


def source_to_dict(source: CitedArticle) -> dict[str, Any]:
    """A cited article, once however many of its sentences are cited: `citations` are their numbers, the [n]
    of `citations` entries (a client shows one card per article and finds each sentence by its number)."""
    return {
        "source": source.source,
        "title": source.title,
        "publisher": source.publisher,
        "date": source.date,
        "citations": list(source.numbers),
    }


def hit_to_dict(hit: Hit, with_text: bool = False) -> dict[str, Any]:
    """A retrieved chunk: the source and the calibrated score (and the chunk text when asked)."""
    out = {
        "source": hit.chunk.doc_id,
        "score": round(float(hit.score), 4),
        "chunk_id": hit.chunk.chunk_id,
        "title": hit.chunk.title,
        "date": hit.chunk.date,
        "publisher": hit.chunk.publisher,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
    }
    if with_text:
        out["dense"] = None if hit.dense is None else round(float(hit.dense), 4)
        out["keyword"] = None if hit.keyword is None else round(float(hit.keyword), 4)
        out["text"] = hit.chunk.text
    return out


def grounding_to_dict(report: GroundingReport) -> dict[str, Any]:
    """Why it answered or refused: the refusal model's probability that the passages answer, the bar it was
    held to (null: not judged by the model), and for a refusal its code (rag.types.REASONS), reason and the
    names no passage mentions; for an answer, the question's names when none of the articles it cites mentions
    them ("unnamed": the answer may be about something else); for either, the reference word a first question
    opens with that nothing earlier explains ("dangling": "그 회사")."""
    return {"probability": report.probability, "threshold": report.threshold, "code": report.code,
            "reason": report.reason, "missing": list(report.missing), "unnamed": list(report.unnamed),
            "dangling": report.dangling}


def answer_to_dict(answer: Answer) -> dict[str, Any]:
    """Answer -> plain JSON-ready dict; timings are milliseconds (retrieval, first_token, total)."""
    return {
        "question": answer.question,
        "searched_as": answer.searched_as,  # "" unless a follow-up or a translation was searched in other words
        "answer": answer.text,
        "short": answer.short,
        "short_date": answer.short_date,  # ISO: the date a short "7일" or "지난해" means in its article, or ""
        "refused": answer.refused,
        "mode": answer.mode,
        "notice": answer.notice,
        "notice_code": answer.notice_code,
        "grounding": grounding_to_dict(answer.grounding),
        "citations": [citation_to_dict(c) for c in answer.citations],
        "sources": [source_to_dict(s) for s in cited_articles(answer.citations)],
        "hits": [hit_to_dict(h) for h in answer.hits],
        "timings": {key: round(float(answer.timings.get(key, 0.0)), 1) for key in ("retrieval", "first_token", "total")}
        | {key: round(float(v), 1) for key, v in answer.timings.items()},
    }
