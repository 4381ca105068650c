"""The answer gate: how many answers are computed at once, how many may wait, and who is turned away.

One gate serves the HTTP API and the chat page together (`app.concurrency` slots, `app.queue_size`
waiting). A request beyond that is refused at once with `Busy` (HTTP 503 + Retry-After) instead of
piling up: 48 requests stuck on a hung LLM server then hold 8 slots and 16 queue places, the other
24 are told to come back, and `/health` (which never enters the gate) stays instant.

    gate = AnswerGate(concurrency=8, queue_size=16, timeout_s=60)
    with gate.hold():                                  # a worker thread (Gradio)
        answer = pipeline.ask(question)
    answer = await gate.run(pipeline.ask, question)    # an async route: waits without blocking the loop
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

import anyio

T = TypeVar("T")
RETRY_AFTER_MAX_S = 60


class Busy(RuntimeError):
    """Every slot and queue place is taken (or a queued request waited too long)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the server is busy answering other questions; retry later")
        self.retry_after = retry_after


class GatePass:
    """One admitted request: holds a queue place, then a slot; `release()` gives both back (once)."""

    def __init__(self, gate: "AnswerGate") -> None:
        self._gate = gate
        self._slot_since: float | None = None
        self._released = False
        self._lock = threading.Lock()

    def take_slot(self) -> None:
        """Block (a worker thread) until a slot is free; Busy after the queue timeout."""
        if not self._gate._slots.acquire(timeout=self._gate.timeout_s):
            raise Busy(self._gate.retry_after())
        self._slot_since = self._gate.clock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._gate._leave(self._slot_since)


class AnswerGate:
    def __init__(self, concurrency: int, queue_size: int, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue_size
        self.timeout_s = timeout_s
        self.clock = clock
        self._slots = threading.Semaphore(concurrency)
        self._lock = threading.Lock()
        self._admitted = 0
        self._mean_hold_s = 5.0  # how long an answer holds a slot (running mean): sizes Retry-After
        # one thread limiter per event loop (TestClient runs a loop per request): the gate's worker
        # threads never take places in the default pool that static files and Gradio's handlers use
        self._limiters: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter]" = weakref.WeakKeyDictionary()

    @property
    def admitted(self) -> int:
        """Requests holding a slot or waiting for one."""
        return self._admitted

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the queue ahead, served `concurrency` at a time."""
        rounds = max(1, math.ceil(self._admitted / self.concurrency))
        return int(min(RETRY_AFTER_MAX_S, max(1, math.ceil(self._mean_hold_s * rounds))))

    def admit(self) -> GatePass:
        """A queue place now, or Busy: never waits."""
        with self._lock:
            full = self._admitted >= self.capacity
            if not full:
                self._admitted += 1
        if full:
            raise Busy(self.retry_after())
        return GatePass(self)

    def _leave(self, slot_since: float | None) -> None:
        if slot_since is not None:
            self._slots.release()
            held = self.clock() - slot_since
        with self._lock:
            self._admitted -= 1
            if slot_since is not None:
                self._mean_hold_s = 0.8 * self._mean_hold_s + 0.2 * held

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Admission and a slot for the body of the `with` (blocking: worker threads only)."""
        ticket = self.admit()
        try:
            ticket.take_slot()
            yield
        finally:
            ticket.release()

    def thread_limiter(self) -> anyio.CapacityLimiter:
        """The gate's own worker-thread limiter for the running event loop (never the default one)."""
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.capacity)
        return limiter

    async def enter(self) -> GatePass:
        """Admission, then a slot (waited for in a gate thread); the caller must `release()` it."""
        ticket = self.admit()
        try:
            await anyio.to_thread.run_sync(ticket.take_slot, limiter=self.thread_limiter())
        except BaseException:
            ticket.release()
            raise
        return ticket

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a gate thread while holding a slot."""
        ticket = await self.enter()
        try:
            return await anyio.to_thread.run_sync(lambda: fn(*args), limiter=self.thread_limiter())
        finally:
            ticket.release()
