"""KorQuAD follow-ups that refer to their article: "그 정치인이 지명수배된 연도는?", not "지명수배된 연도는?".

`korquad-followup` asks a question naming its article's title with the title left out. Korean users as
often keep a referring expression in its place (그 정치인이 / 그 영화는), and that is what this set asks:
the same questions, the same turn before them, the same corpus, store and withheld articles, with the
title *replaced* instead of left out. The expression is built mechanically from KorQuAD, before any run:

1. The defining sentence: the first sentence (Kiwi's split, `rag.korean`) of the article's first paragraph.
2. Its head noun: the sentence ends in the copula 이다 (its last VCP morpheme is followed only by endings
   and final punctuation: "…정치인이다.", "…사람이었다."), and the morpheme directly before that copula is a
   common noun (NNG) of at least two syllables and not a grammatical noun (`_GRAMMATICAL`).
3. The sentence names the title: each of its words (its "(…)" disambiguator dropped) occurs in it, compared
   on letters and digits only ("티베트 고원" names 티베트고원; "알렉산더 메이그스 헤이그 2세" names 알렉산더 헤이그).
4. The follow-up: the title's first mention as a word of its own (`eval.korquad.title_mention`) becomes
   "그 " + the noun, with the title's particle kept and re-formed for the noun's last sound (이/가, 은/는,
   을/를, 과/와, 으로/로; others as they were): "임종석이 지명수배된 연도는?" -> "그 정치인이 지명수배된 연도는?".

Steps 2 and 3 are why most articles are skipped: KorQuAD's paragraphs are excerpts of an article, so its
first paragraph is seldom the lead ("그의 아버지인 정지룡은 …" opens 정성공; "… 영화라는 기록을 세우는 …"
opens 전지현). A noun that is not the title's would make the follow-up refer to something else. An
article without a head noun gives no follow-ups here; `FollowupRefSkips` says which and how many.

    corpus, questions, skipped = load_korquad_followup_ref(KORQUAD_PATH, "1-70")
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from rag.antecedents import with_particle
from rag.korean import KoreanText, Morpheme
from rag.types import Article

from eval.datasets import Question
from eval.korquad import KORQUAD_PATH, WITHHELD_EVERY, followups, open_corpus, read_squad, title_mention

# A noun that ends a sentence as "…경우이다" says when, not what the title is: grammar, not a kind of thing.
# The one-syllable bound nouns (것, 수, 등, 곳, 바, 데) are left out by the length rule and Kiwi reads 때문 as a
# bound noun (NNB), so this list stays this short.
_GRAMMATICAL = frozenset({"경우"})
# what may follow the copula when it ends the sentence: pre-final and final endings, final punctuation, a
# closing bracket or quote
_AFTER_COPULA = frozenset({"EP", "EF", "SF", "SE", "SSC"})
_DISAMBIGUATOR = re.compile(r"\s*\([^()]*\)\s*$")
_LETTERS = re.compile(r"[^0-9A-Za-z가-힣]")


@dataclass(frozen=True)
class FollowupRefSkips:
    """The selected articles with follow-ups but no head noun, and how many follow-ups they would have given."""

    articles: tuple[str, ...]
    questions: int


def head_noun(sentence: str, morphemes: Sequence[Morpheme], title: str) -> str | None:
    """The common noun a defining sentence says the title is ("대한민국의 정치인이다." -> "정치인"), or None."""
    copulas = [i for i, m in enumerate(morphemes) if m[0] == "VCP"]
    if not copulas or copulas[-1] == 0:
        return None
    last = copulas[-1]
    if any(m[0] not in _AFTER_COPULA for m in morphemes[last + 1:]):
        return None  # the copula is inside the sentence ("선배인 이정재의 …"): not what it says the title is
    tag, noun = morphemes[last - 1][:2]
    if tag != "NNG" or len(noun) < 2 or noun in _GRAMMATICAL:
        return None
    words = [w for w in (_LETTERS.sub("", x) for x in _DISAMBIGUATOR.sub("", title).split()) if w]
    letters = _LETTERS.sub("", sentence)
    if not words or any(w not in letters for w in words):
        return None  # a sentence about something else ("미국 텔레비전 시스템 위원회는 … 단체이다." opens NTSC)
    return noun


def referring_question(question: str, title: str, noun: str) -> str | None:
    """`question` with its first mention of `title` replaced by "그 " + `noun` (particle re-formed), or None
    when the title is not there as a word of its own."""
    mention = title_mention(question, title)
    if mention is None:
        return None
    particle = mention.group(1)
    return question[:mention.start()] + "그 " + with_particle(noun, particle) + question[mention.end(1):]


def load_korquad_followup_ref(path: str | Path = KORQUAD_PATH, articles: str | None = None,
                              every: int = WITHHELD_EVERY,
                              analyze: Callable[[list[str]], list[tuple[str, list[Morpheme]]]] | None = None,
                              ) -> tuple[list[Article], list[Question], FollowupRefSkips]:
    """`load_korquad_followup`'s corpus and questions, each follow-up's title replaced by "그 " + its article's
    head noun (`head_noun`); types "korquad-followup-ref" and "korquad-followup-ref-withheld". The follow-ups of
    articles without one are left out and counted. `analyze` gives each text's first sentence and its
    morphemes (default: the project's Kiwi)."""
    raw = read_squad(path)  # read and parsed once: the corpus, the follow-ups and their articles' first paragraphs
    corpus, found = open_corpus(path, raw, every), list(followups(raw, articles, every))
    titles = {f.article: f.title for f in found}
    numbers = sorted(titles)
    analyze = analyze or _first_sentences
    firsts = analyze([raw[n - 1]["paragraphs"][0]["context"] for n in numbers])
    nouns = {n: head_noun(sentence, morphemes, titles[n]) for n, (sentence, morphemes) in zip(numbers, firsts)}
    out: list[Question] = []
    skipped = 0
    for f in found:
        q = f.question
        text = referring_question(f.qa["question"], f.title, nouns[f.article]) if nouns[f.article] else None
        if text is None:
            skipped += 1
            continue
        out.append(Question(id=q.id, question=text, answers=q.answers, gold=q.gold,
                            type=q.type.replace("korquad-followup", "korquad-followup-ref", 1), history=q.history))
    without = tuple(titles[n] for n in numbers if nouns[n] is None)
    return corpus, out, FollowupRefSkips(articles=without, questions=skipped)


def _first_sentences(texts: list[str]) -> list[tuple[str, list[Morpheme]]]:
    """Each text's first sentence and its morphemes, through the project's Kiwi: one pass that splits and analyzes
    (a sentence its pass did not analyze, one not in NFC, is analyzed alone). The morphemes are read in their
    line's context, not of the sentence alone: on the dev file both give the same head nouns (the same set, by its
    sha1), the split costing one Kiwi pass instead of two."""
    korean = KoreanText()
    spans, analyses = korean.sentences_analyzed(texts)
    sentences = [text[s[0][0]:s[0][1]] if s else "" for text, s in zip(texts, spans)]
    alone = [s for s in dict.fromkeys(sentences) if s not in analyses]
    analyses.update(zip(alone, ((None, m) for m in korean.morphemes_batch(alone))))
    return [(s, analyses[s][1]) for s in sentences]
