"""What the web layer asks of the pipeline: background start-up, waiting for it, a health report.

The page is served at once; `ChatService.start()` ingests the seeds (when the store is empty) and
loads the models in a thread, and every question waits for that instead of failing.
"""

from __future__ import annotations

import inspect
import ipaddress
import logging
import re
import threading
import time
import weakref
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

from rag.types import Answer, Article, ArticleInfo, Event, Filters, IngestReport, Turn

log = logging.getLogger(__name__)

MODES = ("llm", "extractive")
WARM_UP_QUESTION = "상생협력"
# how often the store is described for /health in the background (the app passes store.refresh_s): what another
# process (a CLI ingest beside a Chroma server) changed shows within it, however seldom /health is polled; this
# process's own ingests show at once
DESCRIBE_EVERY_S = 2.0
# the least time between two descriptions whatever describe_every_s is: store.refresh_s = 0 (re-check the
# store before every question) would otherwise describe it in a loop that keeps a core busy
DESCRIBE_FLOOR_S = 1.0


class PipelineLike(Protocol):
    """The part of `rag.pipeline.Pipeline` the web layer uses."""

    def ingest(self, paths: Sequence[Path] | None = None, progress: bool = False) -> IngestReport: ...
    def ask(self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None,
            filters: Filters | None = None) -> Answer: ...
    def stream(self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None,
               filters: Filters | None = None) -> Iterator[Event]: ...
    def article(self, doc_id: str) -> Article | None: ...
    def describe(self) -> dict: ...
    def warm_up(self) -> None: ...


class NotReadyError(RuntimeError):
    """The pipeline failed to start, or did not become ready in time."""


class _Closing(Exception):
    """The app is shutting down: start-up stops between its steps."""


class ChatService:
    """The pipeline plus its start-up state; thread-safe for concurrent questions."""

    def __init__(self, build: Callable[[], PipelineLike], ingest_if_empty: bool = True, load_llm: bool = False,
                 describe_every_s: float = DESCRIBE_EVERY_S) -> None:
        # the pipeline is built in the start-up thread too: its imports (chromadb, ...) take seconds
        self._build = build
        self.pipe: PipelineLike | None = None
        self.ingest_if_empty = ingest_if_empty
        self.load_llm = load_llm
        self.status = "시작 중…"
        self.error: str | None = None
        self.started_at = time.monotonic()
        self.ready_at: float | None = None
        self._ready = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._describe_lock = threading.Lock()
        self._description: dict[str, Any] | None = None
        self._describe_every_s = describe_every_s
        self._describer: threading.Thread | None = None
        self.store_error: str | None = None  # the store stopped answering (StoreError) since start-up

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def start(self, background: bool = True) -> None:
        """Ingest the seeds if the store is empty and warm the models, in a thread unless told not to."""
        if background:
            self._thread = threading.Thread(target=self._load, name="rag-warmup", daemon=True)
            self._thread.start()
        else:
            self._load()

    def _load(self) -> None:
        try:
            self.status = "검색 색인 여는 중…"
            self.pipe = self._build()
            self._go_on()
            if self.ingest_if_empty and int(self.pipe.describe().get("n_docs", 0) or 0) == 0:
                self.status = "처음 시작: 기본 기사(seeds)를 색인하는 중…"
                report = self._first_ingest()
                log.info("ingested %d new articles", len(report.added))
            self._go_on()
            self.status = "임베딩 모델을 불러오는 중…"
            self.pipe.warm_up()
            self._go_on()
            self.status = "검색 색인을 준비하는 중…"
            # one throwaway question loads what warm_up leaves lazy (keyword index, Kiwi, answerer),
            # so "ready" means the next question is answered at full speed
            self._warm_answer()
            self._describe_now()  # /health has the counts the moment it says ready
        except _Closing:
            self.status = "종료 중…"
        # the start-up boundary: whatever broke is shown on the page and in /health, not swallowed
        except Exception as exc:  # noqa: BLE001
            log.exception("pipeline start-up failed")
            self.error = f"{type(exc).__name__}: {exc}"
            self.status = f"시작 실패: {self.error}"
        else:
            self.ready_at = time.monotonic()
            self.status = "준비됨"
            # the thread holds the service weakly: an app dropped without close() (a test's) stops describing
            self._describer = threading.Thread(
                target=_describe_on, args=(weakref.ref(self), self._closing, self._describe_every_s),
                name="rag-describe", daemon=True)
            self._describer.start()
        finally:
            self._ready.set()
        if self.load_llm and self.pipe is not None and not self.error and not self._closing.is_set():
            self._warm_llm()

    def _first_ingest(self):
        """The corpus folders into the empty store; an error says which setting named them and the way out.

        "IngestError: /srv/news: no such file or folder" alone left a user with every question a 503 and no
        hint that the first start reads paths.corpus, or that --no-ingest starts without it."""
        from rag.ingest import IngestError

        try:
            return self.pipe.ingest()
        except IngestError as exc:
            raise IngestError(f"{exc} (the first start ingests the folders of setting paths.corpus into the empty "
                              f"store: point it at your articles, or start with --no-ingest and upload them)") from exc

    def _go_on(self) -> None:
        if self._closing.is_set():
            raise _Closing

    def _warm_answer(self) -> None:
        pipe = self.pipe
        assert pipe is not None
        try:
            pipe.ask(WARM_UP_QUESTION, mode="extractive")
        # not fatal: the store and models loaded; a real question will report its own error
        except Exception as exc:  # noqa: BLE001
            log.warning("warm-up question failed: %s: %s", type(exc).__name__, exc)

    def _warm_llm(self) -> None:
        """Questions are answered (extractive draft first) while the LLM loads; it loads lazily anyway."""
        warm_up = self.pipe.warm_up  # type: ignore[union-attr]
        if "llm" not in inspect.signature(warm_up).parameters:
            return
        self.status = "준비됨 (LLM 불러오는 중…)"
        try:
            warm_up(llm=True)
        # the LLM is optional: answers fall back to extractive; say so on the page
        except Exception as exc:  # noqa: BLE001
            log.warning("LLM warm-up failed: %s", exc)
            self.status = f"준비됨 (LLM 사용 불가: {type(exc).__name__})"
        else:
            self.status = "준비됨"

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until start-up finished; raise NotReadyError if it failed or timed out."""
        if not self._ready.wait(timeout):
            raise NotReadyError("the models are still loading")
        if self.error:
            raise NotReadyError(self.error)

    def _ready_pipe(self) -> PipelineLike:
        self.wait_ready()
        assert self.pipe is not None  # set before the ready event unless start-up failed (raised above)
        return self.pipe

    def pipeline(self) -> PipelineLike:
        """The pipeline once start-up finished (NotReadyError if it failed)."""
        return self._ready_pipe()

    def ask(self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None,
            filters: Filters | None = None) -> Answer:
        return self._ready_pipe().ask(question, history=history, mode=mode, k=k, filters=filters)

    def stream(
        self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None,
        filters: Filters | None = None,
    ) -> Iterator[Event]:
        return self._ready_pipe().stream(question, history=history, mode=mode, k=k, filters=filters)

    def article(self, doc_id: str) -> Article | None:
        return self.pipe.article(doc_id) if self.pipe is not None else None

    def find_articles(self, query: str, filters: Filters | None = None, sort: str = "relevance", page: int = 1,
                      per_page: int = 10) -> Any:
        """Every matching article, grouped and paged (rag.finder.MatchPage)."""
        return self._ready_pipe().find_articles(query, filters=filters, sort=sort, page=page, per_page=per_page)  # type: ignore[attr-defined]

    def articles(self) -> list[ArticleInfo]:
        """What the store holds (the filter choices, the article manager); empty until ready."""
        list_articles = getattr(self.pipe, "list_articles", None) if self.ready and not self.error else None
        return list(list_articles()) if callable(list_articles) else []

    def close(self, wait_s: float = 120.0) -> None:
        """Stops start-up between its steps, waits (at most `wait_s`) for the step under way, then closes
        the pipeline. A model still loading in native code when the interpreter exits aborts the process
        (a Ctrl-C during start-up ended in "terminate called without an active exception", status 134)."""
        self._closing.set()
        for thread in (self._thread, self._describer):
            if thread is not None and thread is not threading.current_thread():
                thread.join(wait_s)
        close = getattr(self.pipe, "close", None)
        if callable(close):
            close()

    def health(self, with_paths: bool = False) -> dict[str, Any]:
        """Start-up state and what the pipeline holds; never waits for the pipeline or reads the store: the
        background description, with the counts of the view questions are answered from now.

        `with_paths=False` (callers that are not this machine) leaves out anything that names a file
        or folder: the store location, a model path, a path inside an error message.
        """
        info: dict[str, Any] = {"status": "ok" if self.ready and not self.error else ("error" if self.error else "loading")}
        info["ready"] = self.ready and not self.error
        info["detail"] = self.status if with_paths else redact_paths(self.status)
        store_error = self.store_error if info["ready"] else None
        if store_error:  # questions get a 503 with this message until the store answers again
            info["status"], info["detail"] = "error", store_error if with_paths else redact_paths(store_error)
        if self.ready_at is not None:
            info["startup_s"] = round(self.ready_at - self.started_at, 2)
        described = self._described() if info["ready"] else None
        if described is not None:
            # an upload or delete of this process swaps the view in at once: counted at once, not a period later
            counts = getattr(self.pipe, "counts", None)
            held = counts() if callable(counts) else None
            if held:
                described = {**described, **held}
            info["pipeline"] = described if with_paths else {k: v for k, v in described.items() if not _names_a_path(v)}
        return info

    def _described(self) -> dict[str, Any] | None:
        with self._describe_lock:
            return self._description

    def _describe_now(self) -> None:
        from rag.store import StoreError  # here: rag.store's imports are not needed before start-up

        counts = getattr(self.pipe, "counts", None)
        if self._description is not None and callable(counts) and counts() is None:
            return  # nothing open (the pipeline was closed): describing would open the store and its view again

        try:
            described = {k: (str(v) if isinstance(v, Path) else v) for k, v in self.pipe.describe().items()}  # type: ignore[union-attr]
        # /health must keep answering: a store that cannot be read right now keeps the last description,
        # and a store that went away (Chroma server down) is shown until it answers again
        except StoreError as exc:
            if self.store_error != str(exc):  # said once per outage, not every store.refresh_s while it lasts
                log.warning("describe() failed: the store is unavailable: %s", exc)
            described, self.store_error = self._description, str(exc)
        except Exception as exc:  # noqa: BLE001
            log.warning("describe() failed: %s: %s", type(exc).__name__, exc)
            described = self._description
        else:
            self.store_error = None
        with self._describe_lock:
            self._description = described


def _describe_on(service: "weakref.ref[ChatService]", closing: threading.Event, every_s: float) -> None:
    """Describes the store every `every_s` until the app closes: not on a /health poll, whose answer would then
    be as old as the poll before it (a load balancer polling each minute saw another process's ingest a minute
    late). `describe()` also re-checks the store's generation (store.refresh_s), so the view follows another
    process's ingest when no question comes."""
    while not closing.wait(max(every_s, DESCRIBE_FLOOR_S)):
        held = service()
        if held is None:
            return
        held._describe_now()
        del held  # not held while waiting


_PATHLIKE = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s'\"/\\]+)+[\\/]?")


def redact_paths(text: str) -> str:
    """'… /srv/data/store/chroma.sqlite3 …' -> '… <path> …'."""
    return _PATHLIKE.sub("<path>", text)


def is_loopback(host: str) -> bool:
    """A client address on this machine: it may see file-system paths (in /health, in a 503's message)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def client_host(request: Any) -> str:
    """The (proxy-resolved) address of a Starlette or Gradio request's client; "" when it has none."""
    client = getattr(request, "client", None)
    return (client.host or "") if client is not None else ""


def shown_to(text: str, host: str) -> str:
    """`text` for the client at `host`: paths redacted unless it is this machine (as /health does)."""
    return text if is_loopback(host) else redact_paths(text)


def _names_a_path(value: Any) -> bool:
    return isinstance(value, str) and (redact_paths(value) != value or "://" in value)
