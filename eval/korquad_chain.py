"""KorQuAD follow-up chains: the third question of a chat, after a question and a follow-up about one article,
or after a question about another article and one naming its own (a topic switch).

`korquad-followup` asks each follow-up after one earlier turn, so it cannot tell how the rewrite reads a
conversation of several: whether an earlier follow-up is made standalone before it is leaned on, and which of
the earlier questions a bare follow-up borrows its subject from. This set gives every follow-up two turns before
it, the second itself a follow-up, built mechanically from the unmodified dev file (in memory, as
`eval/korquad.py` does):

1. Of each selected article, the questions that name its title and have an annotated answer (the questions
   `eval.korquad.followups` starts from), in the fixed order of the sha1 of their ids (`_id_order`).
2. The first of them is turn 1, asked as written. The next one that has a follow-up form
   (`followup_question`: the title and its particle left out) is turn 2, asked in that form. Each turn's
   assistant reply is the question's first annotated answer.
3. Every later one that has a follow-up form is asked in that form as turn 3, with the history
   [turn 1 as written, its answer, turn 2 as a follow-up, its answer]:

       user:      임종석이 조사를 받은 뒤 인계된 곳은 어딘가?                 (as written)
       assistant: 서울지방경찰청 공안분실
       user:      여의도 농민 폭력 시위를 주도한 혐의로 지명수배된 연도는?    (follow-up: "임종석이" left out)
       assistant: 1989년
       asked:     검거한 장소는 경희대 내 어디인가?                           (follow-up: "임종석을" left out)

   An article gives none unless it has a turn 1, a turn 2 and at least one turn 3. The same question is in
   `korquad-followup` with turn 1 as its only turn before, so the two sets differ by the follow-up in between.

The corpus and store are open QA's (every 5th article withheld); a turn-3 question about a withheld article
has no gold and no answers (type "korquad-chain-withheld") and must be refused; the others are "korquad-chain",
gold their own paragraph. Halves as for KorQuAD: articles 1–70 calibrate, 71–140 report.

    corpus, questions = load_korquad_chain(KORQUAD_PATH, "1-70")

A topic switch (`load_korquad_switch`): the same follow-ups asked third after a question about *another*
article, so that what a chat carries from earlier turns is measured where it must not be carried:

1. Of each selected article B, its naming questions in the same order. The first is turn 2, asked as written
   (it names B); every later one that has a follow-up form is asked in that form as turn 3.
2. Turn 1 is the first naming question of article A, the nearest article before B in the dev file that has one
   (the last such article for the first), asked as written: a question about something else entirely.

       user:      밀레토스의 헤카타이오스가 기원전 6세기에 페니키아를 무엇으로 표기하였는가?   (article A)
       assistant: 포이니케
       user:      임종석이 조사를 받은 뒤 인계된 곳은 어딘가?                                 (article B, as written)
       assistant: 서울지방경찰청 공안분실
       asked:     여의도 농민 폭력 시위를 주도한 혐의로 지명수배된 연도는?                    (B, "임종석이" left out)

Turn 2 and turn 3 are `korquad-followup`'s pair with one unrelated turn in front: a chat that carries article A's
names into turn 3 answers from the wrong article or refuses. Types "korquad-switch" and "korquad-switch-withheld"
(B withheld: refused); A may be withheld or not (only its question's text is used). Halves by B's number.

    corpus, questions = load_korquad_switch(KORQUAD_PATH, "71-140")
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from rag.types import Article, Turn

from eval.datasets import Question
from eval.korquad import (KORQUAD_PATH, WITHHELD_EVERY, _id_order, doc_id_for, followup_question, is_withheld,
                          naming_questions, open_corpus, parse_article_range, read_squad)


def load_korquad_chain(path: str | Path = KORQUAD_PATH, articles: str | None = None,
                       every: int = WITHHELD_EVERY) -> tuple[list[Article], list[Question]]:
    """Open QA's corpus, and the turn-3 questions of the selected articles (module docstring), each with the
    two turns before it as its history."""
    raw = read_squad(path)
    return open_corpus(path, raw, every), list(chains(raw, articles, every))


def chains(raw: list[dict], articles: str | None = None, every: int = WITHHELD_EVERY) -> Iterator[Question]:
    """The turn-3 questions of `load_korquad_chain` of a dev file already read (`read_squad`), in its order."""
    selected = set(parse_article_range(articles, len(raw)))
    for a_no, entry in enumerate(raw, start=1):
        if a_no not in selected:
            continue
        title = str(entry.get("title", "")).replace("_", " ")
        ordered = sorted(naming_questions(entry, title), key=lambda pair: _id_order(pair[0]))
        if not ordered:
            continue
        first = ordered[0][0]
        # a question without a follow-up form cannot be asked as turn 2 or 3; it is skipped, not asked as written
        later = [(qa, p_no, text) for qa, p_no in ordered[1:]
                 if (text := followup_question(qa["question"], title)) is not None]
        if len(later) < 2:
            continue
        second, _, second_text = later[0]
        history = (Turn("user", first["question"]), Turn("assistant", _first_answer(first)),
                   Turn("user", second_text), Turn("assistant", _first_answer(second)))
        withheld = is_withheld(a_no, every)
        for qa, p_no, text in later[1:]:
            yield _asked_third(qa, text, history, "korquad-chain", None if withheld else doc_id_for(a_no, p_no))


def load_korquad_switch(path: str | Path = KORQUAD_PATH, articles: str | None = None,
                        every: int = WITHHELD_EVERY) -> tuple[list[Article], list[Question]]:
    """Open QA's corpus, and the turn-3 questions of a topic switch (module docstring), each with its two turns
    before it: one about the nearest earlier article, one naming its own."""
    raw = read_squad(path)
    return open_corpus(path, raw, every), list(switches(raw, articles, every))


def switches(raw: list[dict], articles: str | None = None, every: int = WITHHELD_EVERY) -> Iterator[Question]:
    """The turn-3 questions of `load_korquad_switch` of a dev file already read (`read_squad`), in its order."""
    selected = set(parse_article_range(articles, len(raw)))
    firsts: dict[int, dict] = {}  # every article's first naming question, whichever half it is in
    ordered_by_article: dict[int, list[tuple[dict, int]]] = {}
    for a_no, entry in enumerate(raw, start=1):
        title = str(entry.get("title", "")).replace("_", " ")
        ordered = sorted(naming_questions(entry, title), key=lambda pair: _id_order(pair[0]))
        if ordered:
            firsts[a_no] = ordered[0][0]
            ordered_by_article[a_no] = ordered
    numbers = sorted(firsts)
    for a_no, entry in enumerate(raw, start=1):
        if a_no not in selected or a_no not in ordered_by_article or len(numbers) < 2:
            continue
        title = str(entry.get("title", "")).replace("_", " ")
        ordered = ordered_by_article[a_no]
        before = [n for n in numbers if n < a_no]
        other = firsts[before[-1] if before else numbers[-1]]
        history = (Turn("user", other["question"]), Turn("assistant", _first_answer(other)),
                   Turn("user", ordered[0][0]["question"]), Turn("assistant", _first_answer(ordered[0][0])))
        withheld = is_withheld(a_no, every)
        for qa, p_no in ordered[1:]:
            text = followup_question(qa["question"], title)
            if text is None:
                continue
            yield _asked_third(qa, text, history, "korquad-switch", None if withheld else doc_id_for(a_no, p_no))


def _asked_third(qa: dict, text: str, history: tuple[Turn, ...], kind: str, gold: str | None) -> Question:
    """The dev file's question `qa` asked as `text` after `history`: of type `kind` with its answers and `gold`
    paragraph, or, its article withheld (`gold` None), of type `kind`-withheld with neither (it must be refused)."""
    if gold is None:
        return Question(id=str(qa["id"]), question=text, answers=(), gold=(), type=f"{kind}-withheld", history=history)
    texts = tuple(dict.fromkeys(a["text"] for a in qa["answers"] if a.get("text")))
    return Question(id=str(qa["id"]), question=text, answers=(texts,), gold=(gold,), type=kind, history=history)


def _first_answer(qa: dict) -> str:
    return next(a["text"] for a in qa["answers"] if a.get("text"))
