"""Cross-process locks on a store: one ingest at a time, and one process per Chroma folder.

    with ingest_lock(path, wait_s=600, on_wait=print):   # the second ingest waits, or says who holds it
        ...
    release = claim_folder(store_dir)                   # StoreBusyError when another process has it open

Both are `flock` locks on small files: the kernel drops them when the holder dies, even by SIGKILL,
so a killed ingest never leaves a stale lock behind. Each file also records who holds it (pid,
command, since) for the message the next process prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator


class LockBusyError(RuntimeError):
    """Another process (or thread) holds the lock: the message names it."""


def holder(path: Path) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return "another process"
    return text or "another process"


def _describe_self() -> str:
    command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200]
    since = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"pid {os.getpid()} ({command or 'python'}) since {since}"


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _stamp(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, _describe_self().encode("utf-8"), 0)


@contextlib.contextmanager
def ingest_lock(path: Path, wait_s: float, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Holds the store's ingest lock; waits up to `wait_s` for another ingest, then LockBusyError."""
    fd = _open(Path(path))
    try:
        if not _try_lock(fd):
            who = holder(path)
            if wait_s <= 0:
                raise LockBusyError(f"another ingest of this store is running ({who}); try again when it ends")
            if on_wait is not None:
                on_wait(f"waiting for another ingest of this store to finish ({who})")
            deadline = time.monotonic() + wait_s
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    raise LockBusyError(f"another ingest of this store is still running after {wait_s:g} s ({who})")
                time.sleep(0.2)
        _stamp(fd)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# One claim per folder per process: flock locks belong to an open file, so a second open() in the
# same process would conflict with the first. Pipelines in one process share the claim.
_claims: dict[str, list[int]] = {}  # folder -> [fd, users]
_claims_lock = threading.Lock()


def claim_folder(path: Path, what: str) -> Callable[[], None]:
    """Marks `path` as open by this process; LockBusyError if another process has it open.

    Returns the release function (call it once when done with the folder).
    """
    key = str(Path(path).resolve())
    with _claims_lock:
        if key in _claims:
            _claims[key][1] += 1
        else:
            lock_file = Path(key) / ".open.lock"
            fd = _open(lock_file)
            if not _try_lock(fd):
                os.close(fd)
                raise LockBusyError(f"{what} is already open in another process ({holder(lock_file)})")
            _stamp(fd)
            _claims[key] = [fd, 1]
    released = threading.Event()

    def release() -> None:
        if released.is_set():
            return
        released.set()
        with _claims_lock:
            entry = _claims.get(key)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] == 0:
                fcntl.flock(entry[0], fcntl.LOCK_UN)
                os.close(entry[0])
                del _claims[key]

    return release
