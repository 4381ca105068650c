"""The Hangul words a name written in Latin letters may be ("Choi Jin-kyun" -> 최진균, "Shopping" -> 쇼핑):
the Hangul is romanized letter by letter (the Revised Romanization of Korean), both spellings are
reduced to a coarse key that forgets what romanizations disagree on (Park / Bak, Lee / I, Choi / Choe,
Shin / Sin, -eo- / -u-), and the keys must be equal, or nearly for a long one.

    SoundIndex(vocabulary).lookup(latin_names("When did Choi Jin-kyun hold his first event?"))  # ["최진균", …]

An English question names Korean people, places and companies in Latin letters, which no Korean
passage writes: the keyword index is searched with their Hangul spellings too (rag/search.py). The
match is loose (a short key can be a common word, "Viva" and 피파), so it adds search terms and never
decides that a name is in the corpus: refusal still asks for the name as written (rag/grounding.py).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

# the Revised Romanization of each jamo of a syllable (initial, medial, final), letter by letter:
# no sound changes across syllables, which the key below mostly forgets anyway
_INITIALS = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h")
_MEDIALS = ("a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi",
            "yu", "eu", "ui", "i")
_FINALS = ("", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t",
           "ng", "t", "t", "k", "t", "p", "t")
_HANGUL_RUN = re.compile(r"[가-힣]+")
# (pattern, replacement), in order: what English spellings of Korean and RR write differently
_KEY_RULES = tuple((re.compile(p), r) for p, r in (
    (r"[^a-z]", ""),
    (r"sh", "s"), (r"ch", "j"), (r"ph", "p"), (r"c", "k"), (r"q", "k"), (r"x", "ks"), (r"z", "j"),
    (r"f", "p"), (r"v", "b"),
    (r"(?<=a)r(?=[^aeiouwy]|$)", ""),  # "Park" is 박: "ar" before a consonant is an English spelling of ㅏ
    (r"ee", "i"), (r"oo", "u"), (r"ou", "u"), (r"eo", "o"), (r"eu", "u"), (r"ae", "e"), (r"ai", "e"),
    (r"oi", "oe"), (r"wo", "o"), (r"wi", "i"), (r"ui", "i"), (r"y(?=[aeiou])", ""),
    (r"g", "k"), (r"d", "t"), (r"b", "p"), (r"r", "l"), (r"j", "t"),
    (r"(.)\1", r"\1"),  # kk, ll, pp: doubled letters are one sound in either spelling
))


def romanized(hangul: str) -> str:
    """The Revised Romanization of Hangul syllables, letter by letter (other characters kept)."""
    out = []
    for ch in hangul:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out.append(_INITIALS[code // 588] + _MEDIALS[code % 588 // 28] + _FINALS[code % 28])
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=50_000)
def sound_key(latin: str) -> str:
    """A coarse key of a Latin spelling: letters only, with the distinctions romanizations of Korean
    disagree on merged (g/k, d/t, b/p, r/l, j/ch, eo/u/o, ae/e, ee/i, oo/u, doubled letters)."""
    key = latin.lower()
    for pattern, replacement in _KEY_RULES:
        key = pattern.sub(replacement, key)
    return key


def _allowed(key: str) -> int:
    """Edits tolerated between a name's key and a word's: one in four for a key of 7+ letters, none
    for a shorter one (short keys collide with common words: "Japan" and 갑판)."""
    return len(key) // 4 if len(key) >= 7 else 0


# what one question may look up: a pasted English paragraph is no list of names, and each lookup scans
# the vocabulary
MAX_GROUPS = 8
MAX_RUN_WORDS = 4
MAX_KEY = 24


# capitalized Latin words, several in a row one name ("Park Jun-beom", "Lotte Home Shopping")
_CAPITALIZED_RUN = re.compile(r"(?<![\w'’])[A-Z][A-Za-z-]*(?:\s+[A-Z][A-Za-z-]*)*")


def latin_names(question: str, sentence: bool = True) -> list[list[str]]:
    """The names an English question writes in Latin letters, for looking up their Hangul spelling:
    each run of capitalized words, then its words ([["Park Jun-beom", "Park", "Jun-beom"], ["Urbino"]]).
    A sentence's first word is left out (capitalized as the first word; `sentence=False` for a search
    query, "Choi Jin-kyun"), and all-capital words (Korean news writes "KT", "CEO" as they are)."""
    start = len(question) - len(question.lstrip())
    out: list[list[str]] = []
    for m in _CAPITALIZED_RUN.finditer(question):
        words = m.group().split()
        if sentence and m.start() == start:
            words = words[1:]
        words = [w for w in words if not w.isupper()][:MAX_RUN_WORDS]  # a longer run is a title-cased sentence
        if words:
            out.append(([" ".join(words)] if len(words) > 1 else []) + words)
    return out


class SoundIndex:
    """The Hangul words of a vocabulary by their sound key, to find the words a Latin name may be:
    `matches("Choi Jin-kyun")` -> ["최진균", …]. Built once per vocabulary (0.4 s for the 44,700 terms of
    the KLUE index, 2 cores)."""

    def __init__(self, words: Iterable[str]) -> None:
        by_length: dict[int, list[tuple[str, str]]] = {}
        for word in words:
            if _HANGUL_RUN.fullmatch(word):
                key = sound_key(romanized(word))
                by_length.setdefault(len(key), []).append((key, word))
        # per key length: the keys as a matrix of letter codes (one row a word), for the edit distance
        # of a name to all of them at once (every syllable romanizes to a vowel at least: no empty key)
        self._by_length = {n: (np.frombuffer("".join(k for k, _ in rows).encode("latin-1"), dtype=np.uint8)
                               .reshape(len(rows), n), [w for _, w in rows])
                           for n, rows in by_length.items()}
        self._by_key: dict[str, list[str]] = {}  # for a short key, which must match exactly
        for rows in by_length.values():
            for key, word in rows:
                self._by_key.setdefault(key, []).append(word)

    def matches(self, name: str, limit: int = 3) -> list[str]:
        """Up to `limit` words that sound like `name`, closest first."""
        key = sound_key(name)
        if not 3 <= len(key) <= MAX_KEY:
            return []
        allowed = _allowed(key)
        if not allowed:
            # a short key: exactly, and never a one-syllable word ("Park" alone is no 박: it would be any 박;
            # a key of 7+ letters, which tolerates edits, is longer than any one syllable's)
            return sorted(w for w in self._by_key.get(key, ()) if len(w) > 1)[:limit]
        found: list[tuple[int, str]] = []
        for length in range(len(key) - allowed, len(key) + allowed + 1):
            if length in self._by_length:
                codes, words = self._by_length[length]
                distances = _distances(key, codes)
                found += [(int(distances[i]), words[i]) for i in np.flatnonzero(distances <= allowed)]
        return [w for _, w in sorted(found)[:limit]]

    def lookup(self, names: Iterable[Sequence[str]], limit: int = 3) -> list[str]:
        """The words of each name group (a run of words, then each word, as `latin_names` gives them): a
        run that sounds like some word is that word, its single words are only tried when it is not.
        At most MAX_GROUPS groups are read, each name once."""
        out: list[str] = []
        tried: set[str] = set()
        for group in list(names)[:MAX_GROUPS]:
            for i, name in enumerate(group):
                if name in tried:
                    continue
                tried.add(name)
                found = self.matches(name, limit)
                out.extend(found)
                if found and i == 0:
                    break
        return list(dict.fromkeys(out))


def _distances(key: str, codes: np.ndarray) -> np.ndarray:
    """The Levenshtein distance of `key` to each row of `codes` (keys of one length as letter codes)."""
    n, width = codes.shape
    previous = np.tile(np.arange(width + 1), (n, 1))
    for i, letter in enumerate(key.encode("latin-1"), start=1):
        current = np.empty_like(previous)
        current[:, 0] = i
        differs = codes != letter
        for j in range(1, width + 1):
            current[:, j] = np.minimum(np.minimum(previous[:, j], current[:, j - 1]) + 1,
                                       previous[:, j - 1] + differs[:, j - 1])
        previous = current
    return previous[:, width]
