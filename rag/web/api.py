"""HTTP API: `POST /api/ask` (the `rag ask --json` shape), OpenAI-compatible `POST /v1/chat/completions`
(with `stream: true` as server-sent events, see rag.web.completions) with `GET /v1/models` and
`GET /v1/models/{model}`, `POST /api/feedback`, `GET /health`, and the admin-only `GET /api/admin/feedback`. Bad requests get a 4xx JSON error
(rag.web.errors), never a stack trace.

Every answer passes the answer gate (rag.web.gate) and runs in one of its worker threads, so
answers never occupy the event loop or the default thread pool: `/health` stays instant however
many answers are stuck on a slow model.

    curl -s localhost:7860/api/ask -H 'content-type: application/json' \
         -d '{"question": "LG이노텍의 동반성장 펀드 규모는?", "mode": "extractive"}'
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any, AsyncIterator, Iterator, Literal, Sequence, TypeVar

import anyio
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.filters import FilterError, make_filters
from rag.question import MAX_K, QuestionError
from rag.question import check_question as check_askable
from rag.serialize import answer_to_dict
from rag.store import StoreError
from rag.types import Answer, Filters, Turn
from rag.web.admin import AdminDenied, AdminGuard
from rag.web.bounds import BoundsError, RequestBounds, reject_lone_surrogates
from rag.web.completions import completion_dict, sse_chunks
from rag.web.errors import error_response
from rag.web.feedback import FeedbackStore
from rag.web.gate import AnswerGate, Busy, GatePass
from rag.web.service import ChatService, client_host, is_loopback, shown_to

log = logging.getLogger(__name__)

MODEL_NAMES = {"sangsaeng-qa": None, "sangsaeng-qa-llm": "llm", "sangsaeng-qa-extractive": "extractive"}
READY_TIMEOUT_S = 600.0  # a first question waits this long for the models instead of failing
READY_POLL_S = 0.1


class CheckedModel(BaseModel):
    """A request body whose every string can be encoded (a lone surrogate is a 400, not a 500)."""

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        return reject_lone_surrogates(data)


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["user", "assistant"]
    content: str


class FiltersBody(BaseModel):
    """`"filters": {"date_from": "YYYY-MM-DD", "date_to": ..., "publisher": [...], "source": [...]}`."""

    model_config = ConfigDict(extra="forbid")
    date_from: str | None = Field(default=None, max_length=10)
    date_to: str | None = Field(default=None, max_length=10)
    publisher: list[str] | None = Field(default=None, max_length=50)
    source: list[str] | None = Field(default=None, max_length=200)

    def to_filters(self) -> Filters | None:
        """Validated Filters (None when empty); a date that is not YYYY-MM-DD is a 400."""
        try:
            return make_filters(self.date_from, self.date_to, self.publisher, self.source) or None
        except FilterError as exc:
            raise ApiError(400, f"filters: {exc}") from exc


def filters_of(body: FiltersBody | None) -> Filters | None:
    return body.to_filters() if body is not None else None


class AskRequest(CheckedModel):
    model_config = ConfigDict(extra="forbid")
    # "" is checked with "   " by check_question: one message for an empty question on every surface
    question: str
    mode: Literal["llm", "extractive"] | None = None
    history: list[HistoryTurn] = Field(default_factory=list)
    k: int | None = Field(default=None, ge=1, le=MAX_K)
    filters: FiltersBody | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # OpenAI content parts: keep the text ones
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(CheckedModel):
    model_config = ConfigDict(extra="ignore")  # temperature, top_p, ... are accepted and ignored
    model: str = "sangsaeng-qa"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: StrictBool = False  # "yes" or "false" as a string is a 400, not a stream (or a plain answer)
    # one answer per question: n=2 answered with one choice broke a client that reads choices[1]
    n: int | None = None
    mode: Literal["llm", "extractive"] | None = None
    k: int | None = Field(default=None, ge=1, le=MAX_K)
    filters: FiltersBody | None = None  # ours, not OpenAI's: OpenAI clients pass it as an extra body field


class FeedbackAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    question: str = ""
    answer: str = ""
    refused: bool = False
    mode: str = Field(default="", max_length=32)
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=50)


class FeedbackRequest(CheckedModel):
    model_config = ConfigDict(extra="ignore")
    vote: Literal["up", "down"]
    answer: FeedbackAnswer


class ApiError(Exception):
    """An error with an HTTP status that becomes `{"error": {...}}`."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers


def model_object(name: str) -> dict[str, Any]:
    """One entry of `/v1/models`, as OpenAI's model object (no `created`: the names are not dated)."""
    return {"id": name, "object": "model", "owned_by": "sangsaeng-qa"}


def unknown_model(name: str) -> ApiError:
    return ApiError(404, f"unknown model {name!r}; use one of {', '.join(MODEL_NAMES)}", "model_not_found")


T = TypeVar("T")
_DONE = object()  # `next`'s default: the end of an iterator whose items may be anything


class ClientGone(Exception):
    """The client closed the connection before its answer was done: nobody reads a response now."""


def busy_error(exc: Busy) -> ApiError:
    return ApiError(503, str(exc), "busy", {"Retry-After": str(exc.retry_after)})


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as JSON; internals are logged, not returned."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        # a 503's reason (start-up failed: "the store folder /srv/... is already open") names paths that only
        # this machine may see, as /health shows them
        message = exc.message if exc.status != 503 else shown_to(exc.message, client_host(request))
        return error_response(exc.status, message, exc.kind, exc.headers)

    @app.exception_handler(AdminDenied)
    async def _admin_denied(request: Request, exc: AdminDenied) -> JSONResponse:
        headers = {"WWW-Authenticate": 'Bearer realm="sangsaeng-qa"'} if exc.status == 401 else None
        return error_response(exc.status, exc.message, exc.kind, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        whole = body_problem(exc.errors(), request.headers.get("content-type", ""))
        if whole:
            return error_response(400, "invalid request: " + whole)
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
        return error_response(400, "invalid request: " + "; ".join(problems))

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> JSONResponse:
        # the store went away (Chroma server down, collection missing): not a bug of ours, and it passes
        # when the store is back; the message says what to do (as the CLI prints it)
        log.warning("%s %s: store unavailable: %s", request.method, request.url.path, exc)
        return error_response(503, shown_to(str(exc), client_host(request)), "unavailable")

    @app.exception_handler(ClientGone)
    async def _client_gone(request: Request, exc: ClientGone) -> Response:
        log.info("%s %s: the client left before its answer; the answer was stopped", request.method, request.url.path)
        return Response(status_code=499)  # nginx's "client closed request": nobody reads it

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # FastAPI turns a body json.loads cannot decode into a bare "error parsing the body" 400
        if isinstance(exc.__cause__, UnicodeDecodeError):
            return error_response(400, undecodable_body_message(exc.__cause__))
        kind = {400: "invalid_request_error", 404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, str(exc.detail), kind, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(500, "internal error", "server_error")


# pydantic's error types for a body that is no object at all (or absent)
_NOT_AN_OBJECT = {"missing", "model_attributes_type", "model_type", "dict_type"}


def body_problem(errors: Sequence[Any], content_type: str) -> str:
    """What is wrong with the body as a whole, in words a client can act on ("" when it is a field's problem).

    Pydantic's own words name no field for these ("39: JSON decode error", "Input should be a valid dictionary or
    object to extract fields from" for a form post, "Field required" for no body at all)."""
    for err in errors:
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            where = f" at character {loc[1]}" if len(loc) > 1 else ""
            why = str((err.get("ctx") or {}).get("error", "")).strip()
            return f"the body is not valid JSON ({why or 'cannot be parsed'}{where})"
        if loc != ("body",) or err.get("type") not in _NOT_AN_OBJECT:
            continue  # a field's problem, or the body's own validator (a lone surrogate) with its own words
        media = content_type.split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            # FastAPI reads a body as JSON only when it says so: a form post or text/plain never reaches the model
            came = f"it came as {media}" if media else "it came without a Content-Type"
            return f"send the body as JSON with Content-Type: application/json ({came})"
        if err.get("type") == "missing":
            return "the body is empty: send a JSON object"
        return f"the body must be a JSON object ({{...}}), not {_json_kind(err.get('input'))}"
    return ""


def _json_kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def undecodable_body_message(exc: UnicodeDecodeError) -> str:
    """What a client sending JSON in another encoding (CP949, EUC-KR, Latin-1) reads."""
    byte = exc.object[exc.start : exc.start + 1].hex() if isinstance(exc.object, bytes) else "?"
    return (f"invalid request: the body is not valid {exc.encoding.upper()} (byte 0x{byte} at position {exc.start}); "
            "send JSON encoded as UTF-8")


def is_local(request: Request) -> bool:
    """The (proxy-resolved) client is this machine: it may see file-system paths in /health and 503s."""
    return is_loopback(client_host(request))


def build_api_router(
    service: ChatService, feedback: FeedbackStore, gate: AnswerGate, bounds: RequestBounds, admin: AdminGuard
) -> APIRouter:
    router = APIRouter()

    def check_question(question: str) -> str:
        # checked before waiting for the models: a bad request gets its 400 at once, even while loading
        try:
            return check_askable(question, bounds.max_question_chars)
        except QuestionError as exc:
            raise ApiError(400, str(exc)) from exc

    def check_history(turns: list[Turn], field: str) -> None:
        try:
            bounds.check_history(turns, field)
        except BoundsError as exc:
            raise ApiError(400, str(exc)) from exc

    async def wait_ready() -> None:
        """Wait for start-up on the event loop (no thread is held while the models load)."""
        with anyio.move_on_after(READY_TIMEOUT_S):
            while not service.ready:
                await anyio.sleep(READY_POLL_S)
        if not service.ready:
            raise ApiError(503, "not ready: the models are still loading", "unavailable")
        if service.error:
            raise ApiError(503, f"not ready: {service.error}", "unavailable")

    async def answer(request: Request, question: str, history: list[Turn], mode: str | None, k: int | None,
                     filters: Filters | None = None) -> Answer:
        """The final answer of the stream, each step in a gate thread. Between steps the client is looked
        at: one that left (a client-side timeout) stops the model at its next piece and frees the slot —
        Starlette cancels a streamed response when its client leaves, never a plain one."""
        await wait_ready()
        try:
            ticket = await gate.enter()
        except Busy as exc:
            raise busy_error(exc) from exc
        try:
            events = service.stream(question, history=history, mode=mode, k=k, filters=filters)  # no work yet
            async with contextlib.aclosing(in_gate_threads(events, ticket, gate)) as steps:
                async for event in steps:
                    if event.kind == "final" and event.answer is not None:
                        return event.answer
                    if await request.is_disconnected():
                        raise ClientGone()
        except QuestionError as exc:
            raise ApiError(400, str(exc)) from exc
        finally:
            ticket.release()  # (in_gate_threads released it, unless service.stream raised before it ran)
        raise RuntimeError("the answer stream ended without its final answer")

    @router.api_route("/health", methods=["GET", "HEAD"])
    async def health(request: Request) -> JSONResponse:
        # 503 while the replica cannot answer (start-up failed, store busy or unreachable): a load
        # balancer that reads only the status code stops sending it questions. "loading" stays 200:
        # questions asked then wait for start-up rather than fail
        info = service.health(with_paths=is_local(request))
        return JSONResponse(info, status_code=503 if info["status"] == "error" else 200)

    @router.post("/api/ask")
    async def ask(body: AskRequest, request: Request) -> dict[str, Any]:
        question = check_question(body.question)
        history = [Turn(role=t.role, content=t.content) for t in body.history]
        check_history(history, "history")
        filters = filters_of(body.filters)
        return answer_to_dict(await answer(request, question, history, body.mode, body.k, filters))

    @router.post("/api/feedback")
    async def post_feedback(body: FeedbackRequest, request: Request) -> dict[str, Any]:
        try:
            bounds.check_text(body.answer.question, "answer.question", bounds.max_question_chars, "app.max_question_chars")
            bounds.check_text(body.answer.answer, "answer.answer")
        except BoundsError as exc:
            raise ApiError(400, str(exc)) from exc
        client = request.client.host if request.client else ""
        await anyio.to_thread.run_sync(feedback.record, body.vote, body.answer.model_dump(), client)
        return {"ok": True}

    @router.get("/api/admin/feedback", dependencies=[Depends(admin)])
    async def list_feedback(limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        return {"feedback": await anyio.to_thread.run_sync(feedback.recent, limit)}

    @router.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [model_object(name) for name in MODEL_NAMES]}

    @router.get("/v1/models/{model}")
    async def model(model: str) -> dict[str, Any]:
        # OpenAI's "retrieve model": clients call it to check a model id before using it
        if model not in MODEL_NAMES:
            raise unknown_model(model)
        return model_object(model)

    @router.post("/v1/chat/completions", response_model=None)
    async def chat_completions(body: ChatCompletionRequest, request: Request) -> dict[str, Any] | StreamingResponse:
        if body.model not in MODEL_NAMES:
            raise unknown_model(body.model)
        if body.n not in (None, 1):
            raise ApiError(400, f"n: {body.n}; this server gives one answer per question (n=1): ask again for another")
        mode = body.mode or MODEL_NAMES[body.model]
        turns = [m for m in body.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1].role != "user":
            raise ApiError(400, "the last message must come from the user")
        if len(body.messages) > len(turns) + bounds.max_history_turns:  # system/tool messages are ignored, not unbounded
            raise ApiError(400, f"messages: {len(body.messages)}; too many besides the conversation "
                                f"(at most {bounds.max_history_turns} others: app.max_history_turns)")
        question = check_question(turns[-1].text())
        history = [Turn(role=m.role, content=m.text()) for m in turns[:-1]]  # type: ignore[arg-type]
        check_history(history, "messages")
        filters = filters_of(body.filters)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if not body.stream:
            return completion_dict(await answer(request, question, history, mode, body.k, filters), completion_id, body.model)
        await wait_ready()
        try:
            ticket = await gate.enter()
        except Busy as exc:
            raise busy_error(exc) from exc
        try:
            events = service.stream(question, history=history, mode=mode, k=body.k, filters=filters)  # a generator: no work yet
        except QuestionError as exc:  # the pipeline checks the question eagerly, before any generator runs
            ticket.release()
            raise ApiError(400, str(exc)) from exc
        except BaseException:  # nothing will stream, so nothing else releases the slot
            ticket.release()
            raise
        return StreamingResponse(
            gated_stream(sse_chunks(events, completion_id, body.model, show_paths=is_local(request)), ticket, gate),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            background=BackgroundTask(ticket.release),  # also when the client left before the first chunk
        )

    return router


async def gated_stream(chunks: Iterator[str], ticket: GatePass, gate: AnswerGate) -> AsyncIterator[str]:
    """Each chunk is computed in a gate thread; the slot is held until the stream ends or the client leaves.

    A client that leaves cancels this generator (Starlette watches for the disconnect); the cancellation
    lands when the thread's `next` returns, which `sse_chunks` makes happen at every model piece ("").
    """
    async with contextlib.aclosing(in_gate_threads(chunks, ticket, gate)) as steps:
        async for item in steps:
            if item:  # "": the model is writing, nothing to send yet
                yield item


async def in_gate_threads(items: Iterator[T], ticket: GatePass, gate: AnswerGate) -> AsyncIterator[T]:
    """`items`, each computed in a gate thread; when this ends — done, failed, or cancelled because the
    client left — the iterator is closed (stopping the model) and the slot released."""
    limiter = gate.thread_limiter()
    try:
        while True:
            item = await anyio.to_thread.run_sync(next, items, _DONE, limiter=limiter)
            if item is _DONE:
                return
            yield item
    finally:
        # the client may be gone (cancelled): closing the generator stops the model all the same
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(getattr(items, "close", lambda: None), limiter=limiter)
        ticket.release()
