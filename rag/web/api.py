"""HTTP API: `POST /api/ask` (the `rag ask --json` shape), OpenAI-compatible `POST /v1/chat/completions`
(with `stream: true` as server-sent events, citations in `reference` as RAGFlow returns them),
`POST /api/feedback`, `GET /health`. Bad requests get a 4xx JSON error, never a stack trace.

    curl -s localhost:7860/api/ask -H 'content-type: application/json' \
         -d '{"question": "LG이노텍의 동반성장 펀드 규모는?", "mode": "extractive"}'
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any, Iterator, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.question import QuestionError
from rag.question import check_question as check_askable
from rag.serialize import answer_to_dict
from rag.types import Answer, Turn
from rag.web.service import ChatService, FeedbackLog, NotReadyError

log = logging.getLogger(__name__)

MODEL_NAMES = {"sangsaeng-qa": None, "sangsaeng-qa-llm": "llm", "sangsaeng-qa-extractive": "extractive"}
READY_TIMEOUT_S = 600.0  # a first question waits this long for the models instead of failing


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1)
    mode: Literal["llm", "extractive"] | None = None
    history: list[HistoryTurn] = Field(default_factory=list, max_length=50)
    k: int | None = Field(default=None, ge=1, le=20)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # OpenAI content parts: keep the text ones
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # temperature, top_p, ... are accepted and ignored
    model: str = "sangsaeng-qa"
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    mode: Literal["llm", "extractive"] | None = None
    k: int | None = Field(default=None, ge=1, le=20)


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    vote: Literal["up", "down"]
    answer: dict[str, Any]


class ApiError(Exception):
    """An error with an HTTP status that becomes `{"error": {...}}`."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def error_response(status: int, message: str, kind: str = "invalid_request_error", headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as JSON; internals are logged, not returned."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.kind)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
        return error_response(400, "invalid request: " + "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), "not_found" if exc.status_code == 404 else "http_error")

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(500, "internal error", "server_error")


def build_api_router(service: ChatService, feedback: FeedbackLog, max_question_chars: int) -> APIRouter:
    router = APIRouter()

    def check_question(question: str) -> str:
        # checked before waiting for the models: a bad request gets its 400 at once, even while loading
        try:
            return check_askable(question, max_question_chars)
        except QuestionError as exc:
            raise ApiError(400, str(exc)) from exc

    def run_ask(question: str, history: list[Turn], mode: str | None, k: int | None) -> Answer:
        try:
            service.wait_ready(READY_TIMEOUT_S)
        except NotReadyError as exc:
            raise ApiError(503, f"not ready: {exc}", "unavailable") from exc
        try:
            return service.ask(question, history=history, mode=mode, k=k)
        except QuestionError as exc:
            raise ApiError(400, str(exc)) from exc

    @router.get("/health")
    def health() -> dict[str, Any]:
        return service.health()

    @router.post("/api/ask")
    def ask(body: AskRequest) -> dict[str, Any]:
        question = check_question(body.question)
        history = [Turn(role=t.role, content=t.content) for t in body.history]
        return answer_to_dict(run_ask(question, history, body.mode, body.k))

    @router.post("/api/feedback")
    def post_feedback(body: FeedbackRequest, request: Request) -> dict[str, Any]:
        client = request.client.host if request.client else ""
        feedback.record(body.vote, body.answer, client=client)
        return {"ok": True}

    @router.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "sangsaeng-qa"} for name in MODEL_NAMES]}

    @router.post("/v1/chat/completions", response_model=None)
    def chat_completions(body: ChatCompletionRequest) -> dict[str, Any] | StreamingResponse:
        if body.model not in MODEL_NAMES:
            raise ApiError(404, f"unknown model {body.model!r}; use one of {', '.join(MODEL_NAMES)}", "model_not_found")
        mode = body.mode or MODEL_NAMES[body.model]
        turns = [m for m in body.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1].role != "user":
            raise ApiError(400, "the last message must come from the user")
        question = check_question(turns[-1].text())
        history = [Turn(role=m.role, content=m.text()) for m in turns[:-1]]  # type: ignore[arg-type]
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if not body.stream:
            answer = run_ask(question, history, mode, body.k)
            return completion_dict(answer, completion_id, body.model)
        try:
            service.wait_ready(READY_TIMEOUT_S)
        except NotReadyError as exc:
            raise ApiError(503, f"not ready: {exc}", "unavailable") from exc
        events = service.stream(question, history=history, mode=mode, k=body.k)
        return StreamingResponse(
            sse_chunks(events, completion_id, body.model),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


def reference_dict(answer: Answer) -> dict[str, Any]:
    """Citations shaped like RAGFlow's `reference`: chunks plus per-document aggregates."""
    data = answer_to_dict(answer)
    chunks, aggs = [], {}
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
        agg = aggs.setdefault(c["source"], {"doc_id": c["source"], "doc_name": c["title"] or c["source"], "count": 0})
        agg["count"] += 1
    return {"chunks": chunks, "doc_aggs": list(aggs.values())}


def completion_dict(answer: Answer, completion_id: str, model: str) -> dict[str, Any]:
    data = answer_to_dict(answer)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text, "reference": reference_dict(answer)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": data["citations"],
        "refused": answer.refused,
        "timings": data["timings"],
    }


def sse_chunks(events: Iterator[Any], completion_id: str, model: str) -> Iterator[str]:
    """Pipeline events -> OpenAI chunks. Tokens stream as deltas; an extractive answer arrives whole.

    Before the first token, chunks with an empty delta carry `status` / `draft` (the instant
    extractive draft) as extra fields, which OpenAI clients ignore.

    The last chunk carries `reference`, `citations` and `answer` (the verified final text, which can
    differ from the streamed tokens when citations were dropped or the LLM fell back).
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
            elif event.kind == "final" and event.answer is not None:
                answer = event.answer
                if not streamed:
                    yield chunk({"content": answer.text})
                elif answer.text.startswith(streamed) and len(answer.text) > len(streamed):
                    yield chunk({"content": answer.text[len(streamed) :]})
                data = answer_to_dict(answer)
                yield chunk(
                    {},
                    "stop",
                    reference=reference_dict(answer),
                    citations=data["citations"],
                    answer=answer.text,
                    refused=answer.refused,
                    timings=data["timings"],
                )
    # the stream has started (200 sent): an error can only be reported in-band
    except Exception:  # noqa: BLE001
        log.exception("streamed answer failed")
        yield f"data: {json.dumps({'error': {'message': 'internal error', 'type': 'server_error'}})}\n\n"
    yield "data: [DONE]\n\n"
