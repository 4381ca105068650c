"""Background jobs of the article manager: one worker thread, jobs run in the order they came.

    jobs = JobRunner()
    job = jobs.submit("upload", lambda step: admit(received, progress=step.articles))
    jobs.get(job.id).as_dict()   # {"id", "kind", "state": queued|running|done|failed, "progress", "result", ...}

A job never enters the answer gate (rag.web.gate): questions keep their slots while an ingest runs,
and the pipeline answers them from the last committed view. The ingest itself also holds the
store's cross-process lock, so a CLI ingest and a web upload never write at once either. Jobs live
in memory: the last `keep` are remembered; a restart forgets them (what they stored stays).
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Job:
    id: str
    kind: str
    state: str = "queued"  # queued | running | done | failed
    stage: str = ""  # what it is doing now, for people ("색인 중", "다른 색인이 끝나기를 기다리는 중")
    done: int = 0  # articles written so far
    total: int = 0  # articles to write
    result: dict[str, Any] | None = None
    error: str = ""
    created_at: str = field(default_factory=_now)
    started_at: str = ""
    finished_at: str = ""

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "state": self.state, "stage": self.stage,
                "progress": {"done": self.done, "total": self.total}, "result": self.result, "error": self.error,
                "created_at": self.created_at, "started_at": self.started_at, "finished_at": self.finished_at}


class Step:
    """What a running job reports: a stage line and the ingest's article counts."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def stage(self, text: str) -> None:
        self.job.stage = text

    def articles(self, done: int, total: int) -> None:
        self.job.done, self.job.total = done, total


class JobFailed(Exception):
    """A job's expected failure: its message is shown to the user as it is."""


class JobRunner:
    def __init__(self, keep: int = 50) -> None:
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queue: queue.Queue[tuple[Job, Callable[[Step], dict[str, Any]]]] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def submit(self, kind: str, work: Callable[[Step], dict[str, Any]]) -> Job:
        job = Job(id=uuid.uuid4().hex[:16], kind=kind)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                oldest = next(iter(self._jobs))
                if not self._jobs[oldest].finished:
                    break
                del self._jobs[oldest]
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="rag-article-jobs", daemon=True)
                self._worker.start()
        self._queue.put((job, work))
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def active(self) -> Job | None:
        """The job running or queued first, if any."""
        with self._lock:
            return next((j for j in self._jobs.values() if not j.finished), None)

    def _run(self) -> None:
        while True:
            job, work = self._queue.get()
            job.state, job.started_at = "running", _now()
            try:
                job.result = work(Step(job))
                job.state = "done"
            except JobFailed as exc:
                job.error, job.state = str(exc), "failed"
            # the job boundary: the worker must survive whatever one job does; the log has the trace
            except Exception:  # noqa: BLE001
                log.exception("article job %s (%s) failed", job.id, job.kind)
                job.error, job.state = "internal error (see the server log)", "failed"
            finally:
                job.finished_at = _now()
                job.stage = ""
