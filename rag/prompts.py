"""Prompt files and the messages built from them: system rules, numbered evidence, condense.

    prompts = Prompts.load()
    messages = build_messages(prompts, question, evidence)
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from rag.config import PROJECT_ROOT
from rag.types import Evidence

PROMPTS_DIR = PROJECT_ROOT / "prompts"
# the note after an article's first sentence in the prompt, and the same note as a model copies it
# (a title may hold one pair of parentheses of its own)
_TITLE_NOTE = "(기사: {title})"
_TITLE_NOTE_WRITTEN = re.compile(r"\s*\(기사:(?:[^()\n]|\([^()\n]*\))*\)")


class PromptError(ValueError):
    """A prompt file that cannot be rendered: the message names the missing or unknown placeholder."""


def render_prompt(template: str, **values: str) -> str:
    """`str.format` that refuses a missing *or* an unused placeholder (both are typos)."""
    names = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    missing = names - values.keys()
    if missing:
        raise PromptError(f"prompt placeholder(s) without a value: {', '.join(sorted(missing))}")
    unused = values.keys() - names
    if unused:
        raise PromptError(f"value(s) for placeholder(s) the prompt does not have: {', '.join(sorted(unused))}")
    return template.format(**values)


@dataclass(frozen=True)
class Prompts:
    system: str
    answer: str
    condense: str
    refusal: str
    translate: str = ""
    transliterate: str = ""

    @classmethod
    def load(cls, folders: Path | Sequence[Path] = (PROMPTS_DIR,)) -> "Prompts":
        """Read the prompt files; the refusal text is filled into the system prompt.

        With several folders (setting `answer.prompts`), a file in a later folder replaces the
        earlier folders' file of the same name: a corpus's own folder may hold only its system.txt."""
        folders = [Path(f).expanduser() for f in ([folders] if isinstance(folders, Path) else folders)]
        for folder in folders:
            if not folder.is_dir():  # a mistyped folder would otherwise leave the packaged prompts in silence
                raise PromptError(f"prompt folder not found: {folder}")
        raw = {}
        for name in ("system", "answer", "condense", "refusal", "translate", "transliterate"):
            found = [folder / f"{name}.txt" for folder in folders if (folder / f"{name}.txt").is_file()]
            if not found:
                raise PromptError(f"prompt file missing: {name}.txt in none of "
                                  f"{', '.join(map(str, folders)) or '(no folder)'}")
            try:
                raw[name] = found[-1].read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PromptError(f"prompt file {found[-1]} cannot be read: {exc}") from exc
        refusal = raw["refusal"].strip()
        return cls(
            system=render_prompt(raw["system"], refusal=refusal).strip(),
            answer=raw["answer"],
            condense=raw["condense"],
            refusal=refusal,
            translate=raw["translate"],
            transliterate=raw["transliterate"],
        )


def format_evidence(evidence: Sequence[Evidence]) -> str:
    """Numbered lines "[n] sentence"; an article's title follows its first sentence only, to give
    the sentences a subject without paying for the same title in every line."""
    lines = []
    titled: set[str] = set()
    for ev in evidence:
        line = f"[{ev.n}] {ev.text}"
        if ev.title and ev.doc_id not in titled:
            titled.add(ev.doc_id)
            line += f" {_TITLE_NOTE.format(title=_short(ev.title, 30))}"
        lines.append(line)
    return "\n".join(lines)


def without_title_notes(text: str) -> str:
    """`text` without the "(기사: title)" notes `format_evidence` writes: a model that copies a line of
    its evidence copies them too, and they are furniture of the prompt, not part of an answer."""
    return _TITLE_NOTE_WRITTEN.sub("", text)


def trim_evidence(evidence: Sequence[Evidence], max_evidence: int, max_chars: int) -> list[Evidence]:
    """The best evidence that fits the prompt budget, renumbered from 1 (input is best-first)."""
    chosen: list[Evidence] = []
    used = 0
    for ev in evidence:
        if len(chosen) >= max_evidence:
            break
        if chosen and used + len(ev.text) > max_chars:
            continue
        used += len(ev.text)
        chosen.append(replace(ev, n=len(chosen) + 1))
    return chosen


def build_messages(prompts: Prompts, question: str, evidence: Sequence[Evidence]) -> list[dict[str, str]]:
    """System rules first and always identical, so the backend can keep their KV cache."""
    user = render_prompt(prompts.answer, evidence=format_evidence(evidence), question=question.strip())
    return [{"role": "system", "content": prompts.system}, {"role": "user", "content": user.strip()}]


def build_condense_messages(prompts: Prompts, question: str, history: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    lines = [("사용자" if role == "user" else "도우미") + ": " + _short(text, 300) for role, text in history]
    user = render_prompt(prompts.condense, history="\n".join(lines), question=question.strip())
    return [{"role": "user", "content": user.strip()}]


def build_translate_messages(prompts: Prompts, question: str) -> list[dict[str, str]]:
    """A non-Korean question into Korean, once: the articles are Korean, so search and checks use both."""
    return [{"role": "user", "content": render_prompt(prompts.translate, question=question.strip()).strip()}]


def build_transliterate_messages(prompts: Prompts, name: str) -> list[dict[str, str]]:
    """One name a translation left in Latin script, asked for alone: its Hangul form as Korean news writes it."""
    return [{"role": "user", "content": render_prompt(prompts.transliterate, name=name.strip()).strip()}]


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
