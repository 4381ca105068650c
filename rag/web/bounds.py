"""What one request may carry: conversation size limits and text that can be encoded at all.

Earlier turns are read by the follow-up rewrite (Kiwi over every turn): 200k characters of history
cost 31.9 s of a core before these limits, so each turn, their number and their total are capped
(`app.max_message_chars`, `app.max_history_turns`, `app.max_history_chars`) and a request beyond
them gets a 400 that names the limit — at once, before any model work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from rag.config import AppSettings
from rag.types import Turn


class BoundsError(ValueError):
    """A request over a limit; the message names the limit (becomes a 400)."""


@dataclass(frozen=True)
class RequestBounds:
    max_question_chars: int = 2000
    max_message_chars: int = 4000
    max_history_turns: int = 40
    max_history_chars: int = 16000

    @classmethod
    def from_settings(cls, app: AppSettings) -> "RequestBounds":
        return cls(app.max_question_chars, app.max_message_chars, app.max_history_turns, app.max_history_chars)

    def check_history(self, turns: Sequence[Turn], field: str = "history") -> None:
        if len(turns) > self.max_history_turns:
            raise BoundsError(f"{field}: {len(turns)} earlier turns; at most {self.max_history_turns} (app.max_history_turns)")
        for i, turn in enumerate(turns):
            if len(turn.content) > self.max_message_chars:
                raise BoundsError(
                    f"{field}[{i}]: {len(turn.content)} characters; at most {self.max_message_chars} (app.max_message_chars)"
                )
        total = sum(len(t.content) for t in turns)
        if total > self.max_history_chars:
            raise BoundsError(f"{field}: {total} characters in all; at most {self.max_history_chars} (app.max_history_chars)")

    def check_text(self, text: str, field: str, limit: int | None = None, setting: str = "app.max_message_chars") -> None:
        """`limit` defaults to `max_message_chars`; a caller passing another limit names its `setting`."""
        limit = self.max_message_chars if limit is None else limit
        if len(text) > limit:
            raise BoundsError(f"{field}: {len(text)} characters; at most {limit} ({setting})")


def reject_lone_surrogates(data: Any, where: str = "body") -> Any:
    """Raise ValueError at the first string holding half a UTF-16 pair ("\\ud800" in JSON).

    JSON allows such escapes and Python decodes them, but no UTF-8 text can hold them: they would
    fail later, deep in the pipeline or while writing the response, as a 500.
    """
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{where}: text holds a lone surrogate (U+{ord(data[exc.start]):04X}); send valid Unicode") from None
    elif isinstance(data, dict):
        for key, value in data.items():
            reject_lone_surrogates(key, where)
            reject_lone_surrogates(value, f"{where}.{key}" if isinstance(key, str) and key.isascii() else where)
    elif isinstance(data, (list, tuple)):
        for i, item in enumerate(data):
            reject_lone_surrogates(item, f"{where}[{i}]")
    return data
