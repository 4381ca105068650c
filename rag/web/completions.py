"""Answers in the shapes OpenAI clients read: a chat completion, or server-sent chunks of one.

Citations come back in `choices[0].message.reference` (RAGFlow-style chunks + doc_aggs) and in
`citations`. An answer the pipeline fell back on (the LLM failed or its text could not be verified)
carries `notice`, and the notice is also the last paragraph of the content: a plain OpenAI client
shows only `content`, and its user must still learn that this is not the model's answer.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Iterator

from rag.serialize import answer_to_dict
from rag.store import StoreError
from rag.types import Answer
from rag.web.service import redact_paths

log = logging.getLogger(__name__)

NOTICE_SEPARATOR = "\n\n※ "


def content_of(answer: Answer) -> str:
    """The text a plain client shows: the answer, then its notice (if any) as a marked paragraph."""
    return answer.text + (NOTICE_SEPARATOR + answer.notice if answer.notice else "")


def reference_dict(answer: Answer) -> dict[str, Any]:
    """Citations shaped like RAGFlow's `reference`: chunks plus per-document aggregates."""
    data = answer_to_dict(answer)
    chunks = []
    for c in data["citations"]:
        chunks.append(
            {
                "id": f"{c['source']}:{c['start']}-{c['end']}",
                "n": c["n"],
                "content": c["quote"],
                "document_id": c["source"],
                "document_name": c["title"] or c["source"],
                "publisher": c["publisher"],
                "date": c["date"],
                "start": c["start"],
                "end": c["end"],
            }
        )
    # per document, as the answer's `sources` list them (rag.sources): each [n] once, in the answer's order
    aggs = [{"doc_id": src["source"], "doc_name": src["title"] or src["source"], "count": len(src["citations"]),
             "citations": src["citations"]} for src in data["sources"]]
    return {"chunks": chunks, "doc_aggs": aggs}


def completion_dict(answer: Answer, completion_id: str, model: str) -> dict[str, Any]:
    data = answer_to_dict(answer)
    message = {"role": "assistant", "content": content_of(answer), "reference": reference_dict(answer)}
    if answer.notice:
        message["notice"] = answer.notice
        message["notice_code"] = answer.notice_code
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": data["citations"],
        "sources": data["sources"],
        "answer": answer.text,
        "notice": answer.notice,
        "notice_code": answer.notice_code,
        "searched_as": answer.searched_as,
        "short": answer.short,
        "short_date": answer.short_date,
        "refused": answer.refused,
        "grounding": data["grounding"],
        "timings": data["timings"],
    }


def sse_chunks(events: Iterator[Any], completion_id: str, model: str, show_paths: bool = True) -> Iterator[str]:
    """Pipeline events -> OpenAI chunks. Tokens stream as deltas; an extractive answer arrives whole.

    Before the first token, chunks with an empty delta carry `status` / `draft` (the instant
    extractive draft) as extra fields, which OpenAI clients ignore.

    The last chunk carries `reference`, `citations`, `answer` (the verified final text, which can
    differ from the streamed tokens when citations were dropped or the LLM fell back), `notice` and its
    `notice_code` (rag.types.NOTICES), `searched_as` (what a follow-up was searched as; "" when as asked);
    a notice is also streamed as content, after the answer.

    A `progress` event (the model wrote a piece still held for verification) becomes "": nothing to send,
    but the caller gets control back and can close this generator (and the model) once the client left.

    `show_paths=False` (a client that is not this machine) redacts file-system paths in an error's message.
    """
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    streamed = ""
    try:
        for event in events:
            if event.kind in ("status", "draft") and event.text and not streamed:
                # not OpenAI: clients ignore these fields; our widget shows them until tokens arrive
                yield chunk({}, **{event.kind: event.text})
            elif event.kind == "token" and event.text:
                streamed += event.text
                yield chunk({"content": event.text})
            elif event.kind == "progress":
                yield ""
            elif event.kind == "final" and event.answer is not None:
                answer = event.answer
                if not streamed:
                    yield chunk({"content": answer.text})
                elif answer.text.startswith(streamed) and len(answer.text) > len(streamed):
                    yield chunk({"content": answer.text[len(streamed) :]})
                if answer.notice:
                    yield chunk({"content": NOTICE_SEPARATOR + answer.notice})
                data = answer_to_dict(answer)
                yield chunk(
                    {},
                    "stop",
                    reference=reference_dict(answer),
                    citations=data["citations"],
                    sources=data["sources"],
                    answer=answer.text,
                    notice=answer.notice,
                    notice_code=answer.notice_code,
                    searched_as=answer.searched_as,
                    short=answer.short,
                    short_date=answer.short_date,
                    refused=answer.refused,
                    grounding=data["grounding"],
                    timings=data["timings"],
                )
    # the stream has started (200 sent): an error can only be reported in-band
    except StoreError as exc:  # the store went away: say what to do, as the 503 of a plain request does
        log.warning("streamed answer: store unavailable: %s", exc)
        message = str(exc) if show_paths else redact_paths(str(exc))
        yield f"data: {json.dumps({'error': {'message': message, 'type': 'unavailable', 'code': 503}}, ensure_ascii=False)}\n\n"
    except Exception:  # noqa: BLE001
        log.exception("streamed answer failed")
        yield f"data: {json.dumps({'error': {'message': 'internal error', 'type': 'server_error'}})}\n\n"
    finally:
        close = getattr(events, "close", None)
        if callable(close):  # a client that left stops the generator (and the model) now, not at GC
            close()
    yield "data: [DONE]\n\n"
