"""Which browser tabs of the chat page have an answer under way: one at a time per tab.

An answer streams whole copies of the tab's chat and conversation, so a second answer at once in the same tab
would overwrite the first's messages, or the first the second's. `respond` claims the tab for its answer:

    token = tabs.begin(session, question, len(chat))   # None: this tab is answering already, or `chat` is stale
    try: ...stream the answer, stopping once token.stopped is set...
    finally: tabs.end(session, token, len(shown_chat))

A question that waited in Gradio's queue (every answer slot busy) carries the chat as it was when it was sent;
if the tab's previous answer finished meanwhile, that copy lacks it, and answering from it would erase it. The
tab remembers how long its chat was after its last answer, and a shorter copy is refused like a second question.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

# tabs remembered for the stale-chat check; the oldest is forgotten past this (a closed tab never says so), and a
# forgotten tab only loses the check
MAX_REMEMBERED = 10_000


@dataclass(eq=False)
class Answering:
    """One answer's claim on its tab. `stopped` is set by 중지 / 새 대화 / 🗑: Gradio cancels the answer's task but
    not the thread computing its next update, so the answer itself looks at this between the model's pieces."""

    stopped: threading.Event = field(default_factory=threading.Event)


class AnsweringTabs:
    """Gradio sessions (one per tab) -> the answer under way there (its own token, its question); thread-safe."""

    def __init__(self, remembered: int = MAX_REMEMBERED) -> None:
        self._lock = threading.Lock()
        self._answering: dict[str, tuple[Answering, str]] = {}
        self._shown: OrderedDict[str, int] = OrderedDict()  # session -> messages in its chat after its last answer
        self._remembered = remembered

    def begin(self, session: str, question: str, chat_length: int = 0) -> Answering | None:
        """A token for this answer; None while the tab is answering, or when the chat it was sent with is
        older than the tab's last finished answer. A session-less caller is never held."""
        token = Answering()
        if not session:
            return token
        with self._lock:
            if session in self._answering or chat_length < self._shown.get(session, 0):
                return None
            self._answering[session] = (token, question)
        return token

    def answering(self, session: str) -> str | None:
        """The question the tab's answer is for (a double click sends it again), None when there is none."""
        with self._lock:
            held = self._answering.get(session)
        return held[1] if held else None

    def end(self, session: str, token: Answering, chat_length: int = 0) -> None:
        """The answer ended, leaving `chat_length` messages; a stopped one ends late (its thread runs on) and
        must not free a newer claim."""
        with self._lock:
            held = self._answering.get(session)
            if held is not None and held[0] is token:
                del self._answering[session]
                self._shown[session] = chat_length
                self._shown.move_to_end(session)
                while len(self._shown) > self._remembered:
                    self._shown.popitem(last=False)

    def drop(self, session: str, cleared: bool = False) -> None:
        """중지 / 새 대화 / 🗑: the cancelled answer shows nothing more and stops computing (its `stopped` is set),
        so the tab may ask at once; `cleared`: the chat was emptied, so an empty chat is the current one."""
        with self._lock:
            held = self._answering.pop(session, None)
            if held is not None:
                held[0].stopped.set()
            if cleared:
                self._shown.pop(session, None)
