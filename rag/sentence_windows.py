"""The sentences around a retrieved chunk, split from the lines around it instead of the whole article.

Evidence selection needs a chunk's sentences, the sentence before and after it, and those two's own
neighbours (their context). `KoreanText.sentences` splits every line on its own (a line break always
ends a sentence), so splitting only the whole lines around a chunk gives exactly the spans the
whole-article split gives there: a long news article is not split for one chunk of it, and the
lines of every hit of a question go to Kiwi in one call, which its worker threads split in parallel.

    spans = sentences_around(korean, [(article.text, chunk.start, chunk.end), ...])[0]
"""

from __future__ import annotations

import re
from typing import Protocol, Sequence

# sentences wanted on each side of a chunk: its neighbour, and the neighbour's own neighbour
AROUND = 2


class Splitter(Protocol):
    def sentences(self, text: str) -> list[tuple[int, int]]: ...
    def sentences_batch(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]: ...


def sentences_around(korean: Splitter, pieces: Sequence[tuple[str, int, int]]) -> list[list[tuple[int, int]]]:
    """For each (text, start, end): the spans of the sentences of `text`, in order, from the whole
    lines around [start, end) — at least AROUND sentences before the first sentence inside it and
    after the last one, where the text has them; offsets are into `text`."""
    lines_of = [_lines(text) for text, _, _ in pieces]
    windows = []
    for (_, start, end), lines in zip(pieces, lines_of):
        first = next((i for i, (a, b) in enumerate(lines) if b > start), len(lines))
        last = max(first, next((i for i in range(len(lines) - 1, -1, -1) if lines[i][0] < end), first))
        # one line more on each side: a chunk that starts a line needs the line before
        windows.append(range(max(0, first - 1), min(len(lines), last + 2)))
    wanted = list(dict.fromkeys(text[slice(*lines_of[p][i])] for p, (text, _, _) in enumerate(pieces)
                                for i in windows[p]))
    split = dict(zip(wanted, korean.sentences_batch(wanted)))
    out = []
    for (text, start, end), lines, window in zip(pieces, lines_of, windows):
        per_line = {i: split[text[slice(*lines[i])]] for i in window}
        out.append(_grow(korean, text, start, end, lines, per_line))
    return out


def _grow(korean: Splitter, text: str, start: int, end: int, lines: list[tuple[int, int]],
          per_line: dict[int, list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """The window's spans, with lines added one at a time where it holds too few sentences around."""
    while True:
        found = [(lines[i][0] + a, lines[i][0] + b) for i in sorted(per_line) for a, b in per_line[i]]
        inside = [i for i, (a, b) in enumerate(found) if a >= start and b <= end]
        if not inside:
            return found
        lo, hi = min(per_line), max(per_line)  # (a sentence inside: its line is in the window)
        grow_before = inside[0] < AROUND and lo > 0
        grow_after = len(found) - 1 - inside[-1] < AROUND and hi + 1 < len(lines)
        if not (grow_before or grow_after):
            return found
        for i in ([lo - 1] if grow_before else []) + ([hi + 1] if grow_after else []):
            per_line[i] = korean.sentences(text[slice(*lines[i])])


def _lines(text: str) -> list[tuple[int, int]]:
    """[start, end) of each line holding more than whitespace: the units `KoreanText.sentences` splits."""
    return [m.span() for m in re.finditer(r"[^\n]+", text) if m.group().strip()]
