"""Feedback in SQLite: two processes writing at once lose nothing; an old feedback.jsonl moves in once."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from rag.config import PROJECT_ROOT
from rag.web.feedback import FeedbackStore

WRITER = """
import sys
from pathlib import Path
from rag.web.feedback import FeedbackStore
store = FeedbackStore(Path(sys.argv[1]))
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()  # both processes start writing together
for i in range(int(sys.argv[3])):
    store.record("up" if i % 2 else "down", {"question": f"{sys.argv[2]}-{i}", "answer": "답", "citations": [{"n": 1}]})
"""


def test_two_processes_write_at_once_and_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db), name, "150"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        proc.stdin.close()
        assert proc.wait(120) == 0
    votes = FeedbackStore(db).recent(1000)
    questions = {v["question"] for v in votes}
    assert len(votes) == 300 and questions == {f"{n}-{i}" for n in "ab" for i in range(150)}
    assert votes[0]["citations"] == [{"n": 1}]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_opened_while_another_process_holds_the_new_file_waits_for_it(tmp_path: Path) -> None:
    # two replicas starting at once: one creates the file and holds it while the other sets WAL
    import threading

    db = tmp_path / "feedback.sqlite3"
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE other (x)")
    holder.execute("BEGIN")
    holder.execute("INSERT INTO other VALUES (1)")  # a writer mid-transaction: SQLite's busy handler is skipped
    threading.Timer(0.5, lambda: holder.execute("COMMIT")).start()
    store = FeedbackStore(db)  # "database is locked" at once without the wait
    store.record("up", {"question": "q", "answer": "a"})
    assert store.count() == 1
    holder.close()


def test_a_legacy_jsonl_file_is_imported_once(tmp_path: Path) -> None:
    legacy = tmp_path / "feedback.jsonl"
    lines = [
        {"ts": "2026-01-01T00:00:00", "vote": "up", "question": "q1", "answer": "a1", "refused": False, "mode": "llm", "citations": [], "client": "x"},
        {"ts": "2026-01-02T00:00:00", "vote": "down", "question": "q2", "answer": "a2", "refused": True, "mode": "extractive", "citations": [], "client": "y"},
    ]
    legacy.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\nnot json\n", encoding="utf-8")
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    assert [v["question"] for v in store.recent()] == ["q2", "q1"] and store.recent()[0]["refused"] is True
    assert not legacy.exists() and (tmp_path / "feedback.jsonl.imported").exists()
    assert FeedbackStore(tmp_path / "feedback.sqlite3").count() == 2  # a second start imports nothing again
