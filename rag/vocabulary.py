"""The words the pipeline knows, read from plain files a user extends: `rag/lexicon/` and any folders
named in the settings (`answer.lexicon`; a later folder adds to an earlier one).

    lexicon = Lexicon.load([Path("rag/lexicon"), Path("~/news/lexicon")])
    korean = KoreanText(lexicon=lexicon)        # user words and alias groups; lexicon.fingerprint keys caches

Files (UTF-8; `#` starts a comment; fields are separated by tabs; every file is optional):
- user_words.tsv      word, Kiwi tag — names Kiwi mis-splits ("LGU+" NNP)
- aliases.tsv         the spellings of one name, one group per line ("중기부", "중소벤처기업부")
- glossary.tsv        kind (name | term), an English regular expression, Korean forms (comma-separated)
- question_words.tsv  word, slot, role: what a question asks for. Role "wh": a question word, anywhere
                      ("어디" place); "head": only as the question's last noun ("…거론된 해는?": year);
                      "shape": a word that only shapes a question ("각각", "did"). Slot "-": none.
                      Wh and shape words never count as the question's topic words.
- frame_words.txt     words of an answer's frame that answer nothing ("다음", "아래")
- refusal_cues.txt    phrases of a model saying the context lacks the answer
- multi_part_cues.txt regular expressions (case-insensitive) of a question asking for several items
                      ("각각", "두 곳"): the extractive answer gives a sentence for each part
- references.tsv      word, kind (determiner, noun, pronoun, place, event, person, time): how a follow-up
                      points back
- ordinals.tsv        word, position (1 = first, -1 = last): how a follow-up picks one item of the
                      previous answer's list ("두 번째 사례")
- units.tsv           unit, kind (year, date, percent, money, measure): what a number with that unit is
- imperative_endings.txt  Kiwi final endings (EF) of a command ("라", "세요"): a passage sentence
                      that commands is an instruction to a reader, never evidence
- sentence_words.txt  question words a sentence answers, as Kiwi's tokens ("왜", "어떻다" of 어떻게): such
                      a question gets no phrase short answer (rag/phrases.py); not part of the cache key
(`furniture.tsv` in the same folders is the cleaner's: rag/cleaning.py; `columns.tsv`, the header names
of article tables, is the CSV/TSV reader's: rag/tables.py.)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from rag.config import PROJECT_ROOT

DEFAULT_LEXICON = PROJECT_ROOT / "rag" / "lexicon"
ROLES = ("wh", "head", "shape")
UNIT_KINDS = ("year", "date", "percent", "money", "measure")
REFERENCE_KINDS = ("determiner", "noun", "pronoun", "place", "event", "person", "time")
# files that do not change a token: editing them must not rebuild the keyword index
_UNTOKENIZED_FILES = ("furniture.tsv", "columns.tsv", "sentence_words.txt")


class LexiconError(ValueError):
    """A lexicon file that cannot be read: the message names the file and line."""


@dataclass(frozen=True)
class GlossEntry:
    kind: str  # "name" (an organization: the refusal check requires it) or "term"
    pattern: re.Pattern[str]
    forms: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    user_words: tuple[tuple[str, str], ...] = ()
    alias_groups: tuple[tuple[str, ...], ...] = ()
    glossary: tuple[GlossEntry, ...] = ()
    # word -> slot asked for ("" = none); wh words count anywhere in a question, head words only as
    # its last noun ("…거론된 해는?")
    wh_words: dict[str, str] = field(default_factory=dict)
    head_words: dict[str, str] = field(default_factory=dict)
    shape_words: frozenset[str] = frozenset()
    sentence_words: frozenset[str] = frozenset()  # question words a sentence answers (sentence_words.txt)
    frame_words: frozenset[str] = frozenset()
    refusal_cues: tuple[str, ...] = ()
    multi_part: tuple[re.Pattern[str], ...] = ()
    imperative_endings: frozenset[str] = frozenset()
    units: dict[str, str] = field(default_factory=dict)
    references: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> words
    ordinals: dict[str, int] = field(default_factory=dict)  # "두 번째" -> 2, "마지막" -> -1
    fingerprint: str = "empty"

    @property
    def question_words(self) -> frozenset[str]:
        """Every word that only shapes a question: its absence from a passage says nothing."""
        return frozenset(self.wh_words) | self.shape_words

    @classmethod
    def load(cls, folders: Sequence[Path] = (DEFAULT_LEXICON,)) -> "Lexicon":
        """Every lexicon file of each folder, later folders extending earlier ones."""
        words: dict[str, str] = {}
        groups: list[tuple[str, ...]] = []
        glossary: list[GlossEntry] = []
        wh: dict[str, str] = {}
        head: dict[str, str] = {}
        shape: set[str] = set()
        frame: set[str] = set()
        cues: list[str] = []
        multi: list[re.Pattern[str]] = []
        endings: set[str] = set()
        sentence: set[str] = set()
        units: dict[str, str] = {}
        references: dict[str, list[str]] = {}
        ordinals: dict[str, int] = {}
        digest = hashlib.sha1()
        for folder in folders:
            folder = Path(folder).expanduser()
            if not folder.is_dir():
                raise LexiconError(f"lexicon folder not found: {folder}")
            # furniture.tsv and columns.tsv belong to the corpus reader (rag/cleaning.py, rag/tables.py) and
            # sentence_words.txt to the short answer: not to the tokenizer's cache key, editing them must not
            # rebuild the keyword index
            for name in sorted(p.name for p in folder.iterdir()
                               if p.suffix in (".tsv", ".txt") and p.name not in _UNTOKENIZED_FILES):
                digest.update(f"{name}\n".encode("utf-8"))
                digest.update((folder / name).read_bytes())
            for where, cells in lexicon_rows(folder / "user_words.tsv", 2):
                words[cells[0]] = cells[1]
            for where, cells in lexicon_rows(folder / "aliases.tsv", 2, at_most=None):
                groups.append(tuple(c.lower() for c in cells))
            for where, cells in lexicon_rows(folder / "glossary.tsv", 3):
                if cells[0] not in ("name", "term"):
                    raise LexiconError(f"{where}: kind must be 'name' or 'term', not {cells[0]!r}")
                pattern = _pattern(where, cells[1])
                glossary.append(GlossEntry(cells[0], pattern, tuple(f.strip() for f in cells[2].split(",") if f.strip())))
            for where, cells in lexicon_rows(folder / "question_words.tsv", 3):
                word, slot, role = cells[0].lower(), cells[1], cells[2]
                if role not in ROLES:
                    raise LexiconError(f"{where}: role must be one of {', '.join(ROLES)}, not {role!r}")
                if role == "shape":
                    shape.add(word)
                else:
                    (wh if role == "wh" else head)[word] = "" if slot == "-" else slot
            frame.update(c[0] for _, c in lexicon_rows(folder / "frame_words.txt", 1))
            cues.extend(c[0].lower() for _, c in lexicon_rows(folder / "refusal_cues.txt", 1))
            multi.extend(_pattern(where, cells[0]) for where, cells in lexicon_rows(folder / "multi_part_cues.txt", 1))
            endings.update(c[0] for _, c in lexicon_rows(folder / "imperative_endings.txt", 1))
            sentence.update(c[0].lower() for _, c in lexicon_rows(folder / "sentence_words.txt", 1))
            for where, cells in lexicon_rows(folder / "units.tsv", 2):
                if cells[1] not in UNIT_KINDS:
                    raise LexiconError(f"{where}: kind must be one of {', '.join(UNIT_KINDS)}, not {cells[1]!r}")
                units[cells[0]] = cells[1]
            for where, cells in lexicon_rows(folder / "references.tsv", 2):
                if cells[1] not in REFERENCE_KINDS:
                    raise LexiconError(f"{where}: kind must be one of {', '.join(REFERENCE_KINDS)}, not {cells[1]!r}")
                references.setdefault(cells[1], []).append(cells[0])
            for where, cells in lexicon_rows(folder / "ordinals.tsv", 2):
                try:
                    position = int(cells[1])
                except ValueError:
                    position = 0
                if position == 0:
                    raise LexiconError(f"{where}: position must be a whole number other than 0, not {cells[1]!r}")
                ordinals[cells[0].lower()] = position
        return cls(user_words=tuple(words.items()), alias_groups=tuple(groups), glossary=tuple(glossary),
                   wh_words=wh, head_words=head, shape_words=frozenset(shape), sentence_words=frozenset(sentence), frame_words=frozenset(frame), refusal_cues=tuple(dict.fromkeys(cues)),
                   multi_part=tuple({p.pattern: p for p in multi}.values()),
                   imperative_endings=frozenset(endings), units=units,
                   references={k: tuple(dict.fromkeys(v)) for k, v in references.items()}, ordinals=ordinals,
                   fingerprint=digest.hexdigest()[:12])


def _pattern(where: str, expression: str) -> re.Pattern[str]:
    try:
        return re.compile(expression, re.IGNORECASE)
    except re.error as exc:
        raise LexiconError(f"{where}: bad regular expression {expression!r}: {exc}") from exc


def lexicon_rows(path: Path, fields: int, at_most: int | None = -1) -> Iterable[tuple[str, list[str]]]:
    """(file:line, cells) of each non-comment line with at least `fields` cells (exactly, unless
    `at_most` is None: any number; extra cells after a '#' are a note)."""
    if not path.is_file():
        return
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{path}: not UTF-8 ({exc.reason})") from exc
    for number, line in enumerate(lines, start=1):
        text = line.split("\t#", 1)[0].rstrip()
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in text.split("\t") if c.strip()]
        where = f"{path}:{number}"
        if len(cells) < fields or (at_most is not None and len(cells) > fields):
            raise LexiconError(f"{where}: expected {fields} tab-separated field(s), found {len(cells)}")
        yield where, cells
