"""Who "김 지사" is: the sentence of an article that names in full a person its answer calls by
surname and title.

Korean news names a person in full once ("김관용 경북지사는 …") and by surname and title after
("김 지사는 …", "박 전 대표는", "김씨는"). An answer to "누가" / "…의 이름은?" quoting the short form
does not say who, and the sentence that does is often paragraphs away. Read from Kiwi's tags (a
one-syllable proper noun before a title noun; a longer proper noun with that first syllable and the
same title after it), never from a list of surnames or titles.

    evidence, text, citations = with_introductions(question, evidence, text, citations, pipe.article, korean)
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from rag.evidence import Tokenizer, to_citation
from rag.extractive import written
from rag.slots import Morpheme, asked_slot
from rag.types import Article, Citation, Evidence

# the slots answered by a person's name ("누가", "…의 이름은?"): an organization or a place is not
# called by surname and title
PERSON_SLOTS = frozenset({"person", "name"})
# a full name: the surname's syllable and one to three more (Korean names are two to four syllables)
_MAX_NAME = 4
# how far after the full name its title may stand: "김관용 경북 지사", "박은주 전 대표"
_TITLE_REACH = 4
# the characters either side of the sentence read for the introduction: a news article is a few thousand,
# and a document of thousands of lines (a PDF report) is not analyzed whole for one answer
REACH = 20_000


def short_names(morphemes: Sequence[Morpheme]) -> list[tuple[str, str]]:
    """(surname, title) of each person a sentence calls by surname and title: a one-syllable Hangul
    proper noun starting a word, then (past a determiner such as 전) a noun — "김 지사", "박 전 대표", "김씨"."""
    out = []
    for i, (tag, form, start, _) in enumerate(morphemes):
        if tag != "NNP" or len(form) != 1 or not "가" <= form <= "힣":
            continue
        if i and morphemes[i - 1][3] == start:  # glued to the word before: part of it, not a surname
            continue
        j = i + 1
        if j < len(morphemes) and morphemes[j][0] == "MM":
            j += 1
        if j < len(morphemes) and morphemes[j][0] in ("NNG", "NNB"):
            out.append((form, morphemes[j][1]))
    return list(dict.fromkeys(out))


def full_names(morphemes: Sequence[Morpheme], surname: str, title: str) -> list[str]:
    """The full names of a sentence that start with `surname` and are followed by `title` within a few
    morphemes ("김관용 경북지사" for 김 / 지사)."""
    out = []
    for i, (tag, form, _, _) in enumerate(morphemes):
        hangul = all("가" <= c <= "힣" for c in form)
        if tag == "NNP" and hangul and 2 <= len(form) <= _MAX_NAME and form[0] == surname:
            if any(f.endswith(title) for _, f, _, _ in morphemes[i + 1:i + 1 + _TITLE_REACH]):
                out.append(form)
    return out


def introduction(article: str, surname: str, title: str, korean: Tokenizer,
                 near: tuple[int, int] | None = None) -> tuple[int, int, str] | None:
    """(start, end, name) of the first sentence of `article` (within `REACH` characters of the span
    `near`, when given) naming in full the one person it calls `surname` `title`; None when it never does,
    or names two such people (which one is meant is unknown)."""
    pattern = re.compile(rf"(?<![가-힣]){re.escape(surname)}[가-힣]{{1,{_MAX_NAME - 1}}}")
    low, high = (max(0, near[0] - REACH), near[1] + REACH) if near else (0, len(article))
    lines = []
    for m in re.finditer(r"[^\n]+", article[low:high]):
        if pattern.search(m.group()):
            lines.append((low + m.start(), m.group()))
    if not lines:
        return None
    split = korean.sentences_batch([line for _, line in lines])
    spans = [(offset + a, offset + b) for (offset, _), found in zip(lines, split) for a, b in found]
    spans = [(a, b) for a, b in spans if pattern.search(article[a:b])]
    morphemes = korean.morphemes_batch([article[a:b] for a, b in spans])
    first: dict[str, tuple[int, int]] = {}
    for span, m in zip(spans, morphemes):
        for name in full_names(m, surname, title):
            first.setdefault(name, span)
    if len(first) != 1:
        return None
    (name, (a, b)), = first.items()
    return a, b, name


def with_introductions(question: str, evidence: Sequence[Evidence], text: str, citations: Sequence[Citation],
                       article_lookup: Callable[[str], Article | None],
                       korean: Tokenizer) -> tuple[list[Evidence], str, tuple[Citation, ...]]:
    """An extractive answer to a question asking for a person, with the sentence that names in full each
    person its sentences call by surname and title only (added to the evidence, cited, in article order).
    A name the question itself uses ("김 회장의 … 반대한 사람은?") is not the one asked for."""
    evidence = list(evidence)
    asked = korean.morphemes_batch([question])[0] if citations else []
    if asked_slot(asked, korean.lexicon).slot not in PERSON_SLOTS:
        return evidence, text, tuple(citations)
    by_n = {ev.n: ev for ev in evidence}
    chosen = [by_n[c.n] for c in citations if c.n in by_n]
    asked_about = set(short_names(asked))
    added: list[Evidence] = []
    for ev, morphemes in zip(chosen, korean.morphemes_batch([ev.text for ev in chosen])):
        names = [pair for pair in short_names(morphemes) if pair not in asked_about]
        article = article_lookup(ev.doc_id) if names else None
        if article is None:
            continue
        for surname, title in names:
            found = introduction(article.text, surname, title, korean, near=(ev.start, ev.end))
            if found is None:
                continue
            a, b, name = found
            if name in text or name in question or any(x.doc_id == ev.doc_id and x.text == article.text[a:b]
                                                       for x in chosen + added):
                continue
            # already a candidate the ranker passed over (or the same words again: a headline repeated
            # as the first line): cited as it is numbered
            known = next((x for x in evidence
                          if x.doc_id == ev.doc_id and (x.start == a or x.text == article.text[a:b])), None)
            if known is not None:
                added.append(known)
                continue
            n = len(evidence) + sum(x.n > len(evidence) for x in added) + 1
            added.append(Evidence(n=n, doc_id=ev.doc_id, text=article.text[a:b], start=a, end=b, title=ev.title,
                                  date=ev.date, publisher=ev.publisher, score=0.0,
                                  preceding=article.text[article.text.rfind("\n", 0, a) + 1:a]))
    if not added:
        return evidence, text, tuple(citations)
    sentences = sorted(chosen + added, key=lambda ev: (ev.doc_id, ev.start))
    new = [ev for ev in added if ev.n > len(evidence)]
    return evidence + new, written(sentences), tuple(to_citation(ev, 1.0) for ev in sentences)
