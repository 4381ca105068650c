"""Which browser tabs of the chat page have an answer under way: one at a time per tab.

An answer streams whole copies of the tab's chat and conversation, so a second answer at once in the same tab
would overwrite the first's messages, or the first the second's. `respond` claims the tab for its answer:

    token = tabs.begin(session, question)      # None: this tab is answering already
    try: ...stream the answer...
    finally: tabs.end(session, token)
"""

from __future__ import annotations

import threading


class AnsweringTabs:
    """Gradio sessions (one per tab) -> the answer under way there (its own token, its question); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answering: dict[str, tuple[object, str]] = {}

    def begin(self, session: str, question: str) -> object | None:
        """A token for this answer, or None while the tab is answering. A session-less caller is never held."""
        token = object()
        if not session:
            return token
        with self._lock:
            if session in self._answering:
                return None
            self._answering[session] = (token, question)
        return token

    def answering(self, session: str) -> str | None:
        """The question the tab's answer is for (a double click sends it again), None when there is none."""
        with self._lock:
            held = self._answering.get(session)
        return held[1] if held else None

    def end(self, session: str, token: object) -> None:
        """The answer ended; a stopped one ends late (its thread runs on) and must not free a newer claim."""
        with self._lock:
            held = self._answering.get(session)
            if held is not None and held[0] is token:
                del self._answering[session]

    def drop(self, session: str) -> None:
        """중지 / 새 대화 / 🗑: the cancelled answer shows nothing more, so the tab may ask at once."""
        with self._lock:
            self._answering.pop(session, None)
