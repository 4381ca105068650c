"""Thumbs up/down with the question, answer and citations, in SQLite (`data/feedback.sqlite3`).

SQLite rather than a JSONL file so that several app processes (replicas on one machine, or the app
and a script reading votes) can write and read at once: WAL journaling lets readers run beside the
one writer, and `busy_timeout` makes a second writer wait its turn instead of failing. Each call
opens its own connection: no connection crosses threads, nothing is held between requests.

    store = FeedbackStore(Path("data/feedback.sqlite3"))
    store.record("up", answer_dict, client="127.0.0.1")
    store.recent(10)   # newest first
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 10.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    mode TEXT NOT NULL,
    citations TEXT NOT NULL,
    client TEXT NOT NULL
)
"""
COLUMNS = ("ts", "vote", "question", "answer", "refused", "mode", "citations", "client")


def _wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL journaling, waiting for another process that holds the file (two replicas starting
    at once): SQLite answers a journal-mode change "database is locked" at once, without its busy
    handler, so the wait is here."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn:
            _wal(conn)  # persistent: set once, every later connection uses it
            conn.execute(SCHEMA)
            conn.commit()
        self._import_jsonl(path.with_name("feedback.jsonl"))

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        return conn

    def record(self, vote: str, answer: dict[str, Any], client: str = "") -> dict[str, Any]:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "vote": vote,
            "question": str(answer.get("question", "")),
            "answer": str(answer.get("answer", "")),
            "refused": bool(answer.get("refused", False)),
            "mode": str(answer.get("mode", "")),
            "citations": list(answer.get("citations", []) or []),
            "client": client,
        }
        self._insert([entry])
        return entry

    def _insert(self, entries: list[dict[str, Any]]) -> None:
        rows = [
            tuple(json.dumps(e[c], ensure_ascii=False) if c == "citations" else (int(e[c]) if c == "refused" else e[c]) for c in COLUMNS)
            for e in entries
        ]
        with closing(self._connect()) as conn, conn:  # `with conn`: one transaction, committed or rolled back
            conn.executemany(f"INSERT INTO feedback ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", rows)

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest `limit` votes, newest first."""
        with closing(self._connect()) as conn:
            cursor = conn.execute(f"SELECT id, {', '.join(COLUMNS)} FROM feedback ORDER BY id DESC LIMIT ?", (limit,))
            rows = cursor.fetchall()
        out = []
        for row in rows:
            entry = dict(zip(("id", *COLUMNS), row))
            entry["refused"] = bool(entry["refused"])
            entry["citations"] = json.loads(entry["citations"])
            out.append(entry)
        return out

    def count(self) -> int:
        with closing(self._connect()) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def _import_jsonl(self, legacy: Path) -> None:
        """Votes an earlier version appended to feedback.jsonl move into the database once (file kept, renamed)."""
        if not legacy.is_file():
            return
        entries = []
        for line in legacy.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict) and item.get("vote") in ("up", "down"):
                entries.append({c: item.get(c, [] if c == "citations" else ("" if c != "refused" else False)) for c in COLUMNS})
        try:
            legacy.rename(legacy.with_name(legacy.name + ".imported"))
        except OSError as exc:  # another replica imported it first
            log.info("feedback.jsonl not imported here: %s", exc)
            return
        self._insert(entries)
        log.info("imported %d votes from %s", len(entries), legacy)
