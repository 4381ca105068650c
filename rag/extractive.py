"""Extractive answers: the best supporting sentences, each cited — instant, and every fallback.

    text, citations = extractive_answer(question, evidence, korean)
"""

from __future__ import annotations

import re
from typing import Sequence

from rag.evidence import Tokenizer, question_terms, term_coverage, term_idf, to_citation, weighted_terms
from rag.config import AnswerSettings
from rag.plaintext import plain_text
from rag.slots import NUMERIC, asked_slot, asks_several, holds_a_number, slot_values
from rag.types import Citation, Evidence



def extractive_answer(question: str, evidence: Sequence[Evidence], korean: Tokenizer,
                      max_sentences: int | None = None,
                      second_share: float = AnswerSettings.second_share,
                      slot_miss_factor: float = AnswerSettings.slot_miss_factor,
                      neighbour_share: float = AnswerSettings.neighbour_share,
                      restatement_words: int = AnswerSettings.restatement_words,
                      third_share: float = AnswerSettings.third_share) -> tuple[str, tuple[Citation, ...]]:
    """The best supporting sentences, each cited: instant, and the fallback for every failure.

    A second sentence joins when the ranker gives it at least `second_share` of the first one's
    probability (setting answer.second_share). When the question asks a kind of value, a sentence
    holding none counts `slot_miss_factor` of its probability in choosing the lead (setting
    answer.slot_miss_factor) — for a number, a date or a year only if it holds a figure in digits. A lead
    that says the question back, adding at most `restatement_words` words to it (setting
    answer.restatement_words; 0: never), is completed by the sentence beside it. An answer already full (two
    sentences; three for a question in several parts) takes the lead's neighbour as well when the ranker
    gives it at least `third_share` of the lead's probability (setting answer.third_share; 0: never)."""
    if not evidence:
        return "", ()
    multi = asks_several(question, korean.lexicon)
    asked_for = max_sentences  # a caller's own limit holds for every rule below
    if max_sentences is None:
        max_sentences = 3 if multi else 2
    q_terms = weighted_terms(question, korean)
    terms = [set(t) for t in korean.tokens_batch([ev.text for ev in evidence])]
    idf = term_idf(q_terms, terms)
    asked = asked_slot(korean.morphemes_batch([question])[0], korean.lexicon)
    known = question_terms(question, korean)
    morphemes = korean.morphemes_batch([ev.text for ev in evidence]) if asked.slot else [[] for _ in evidence]
    holds = [bool(slot_values(m, asked, known, korean.lexicon.units)) for m in morphemes] if asked.slot else [True] * len(evidence)
    # evidence comes best first (the fitted ranker's order); a claim must answer the question, so a
    # sentence holding a value of the asked kind leads unless the ranker is far surer of one that
    # holds none: the ranker already weighs the asked kind among its features, and the value
    # reading misses values (a name Kiwi does not tag, "100m" for 몇 m). A number is told by its
    # shape: for a number, a date or a year, a sentence holding no figure in digits never leads
    could = [asked.slot not in NUMERIC or holds_a_number(m) for m in morphemes]
    ranked = _lead_order(evidence, holds, could, slot_miss_factor)
    best = ranked[0]
    chosen = [best]
    covered = set(terms[best]) & q_terms.keys()
    for i in ranked[1:]:
        if len(chosen) >= max_sentences:
            break
        # another sentence when the ranker is nearly as sure of it as of the first: it cannot tell the
        # two apart, and one of them holds the answer
        unsure = evidence[i].score >= second_share * evidence[best].score > 0
        # a question in several parts ("각각"): a sentence adding question terms the first one lacks,
        # or one nearly as good (the parts often share their words, "각각 얼마"): every sentence
        # holding a value of the asked kind may hold one of the parts
        new = (terms[i] & q_terms.keys()) - covered
        adds = multi and bool(new) and term_coverage(q_terms, idf, terms[i]) >= 0.3
        close = multi and (evidence[i].score >= 0.8 * evidence[best].score
                           or (asked.slot and holds[i] and evidence[i].score >= 0.7 * evidence[best].score))
        if asked.slot and not holds[i] and (asked.slot in NUMERIC or not unsure):
            # a part of the answer must answer: it holds a value of the asked kind. Numbers and dates
            # are told by their shape; a name Kiwi did not tag as one is left to the ranker
            continue
        if adds or close or unsure:
            chosen.append(i)
            covered |= terms[i] & q_terms.keys()
    def beside_lead(bar: float) -> None:
        # the best sentence next to the lead in its article with at least `bar` of the ranker's
        # probability joins (for a number, a date or a year only one holding a value of that kind)
        beside = [i for i in range(len(evidence)) if i not in chosen and _adjacent(evidence[i], evidence[best])
                  and not (asked.slot in NUMERIC and not holds[i]) and evidence[i].score >= bar]
        if beside:
            chosen.append(max(beside, key=lambda i: evidence[i].score))

    if len(chosen) < max_sentences and neighbour_share * evidence[best].score > 0:  # (neighbour_share 0: none)
        # the answer is often one sentence away from the words the question repeats ("이 기능은 …" after
        # the sentence that names it; the figure in the sentence after the one that restates the
        # question): a sentence next to the lead in its article joins at a lower bar than any other
        beside_lead(neighbour_share * evidence[best].score)
    elif asked_for is None and neighbour_share * third_share * evidence[best].score > 0:
        # the answer is full, and the ranker can hardly tell the lead's neighbour from the lead: the two
        # read as one passage, and the answer is as likely in either, so the neighbour joins as well
        beside_lead(third_share * evidence[best].score)
    said = terms[best] - known - korean.lexicon.frame_words - korean.lexicon.question_words  # what the lead adds
    if restatement_words and (asked_for is None or len(chosen) < asked_for) and len(said) <= restatement_words \
            and not (asked.slot and holds[best]) and not (asked.slot in NUMERIC and any(t[0].isdigit() for t in said)):
        # a lead that says the question back ("구청은 민원 불편을 줄이는 제도를 새로 도입했다." for "구청이
        # 민원 불편을 줄이려고 도입한 제도는?") is no answer by itself: what it announces stands beside it
        # in the article, so that sentence joins whatever the ranker gives it, past the default limit
        beside_lead(0.0)
    if multi:
        # a question in several parts names each part ("SKT와 LGU+ … 각각"): a name no chosen sentence
        # mentions gets the best sentence that does
        lowered = [ev.text.lower() for ev in evidence]
        # the name may be the subject of the whole article: its title counts for every sentence
        titled = [f"{ev.title}\n{ev.text}".lower() for ev in evidence]
        # (the names as the question writes them: the other spellings of an alias group are not parts)
        names = [t for t in korean.key_terms(question) if len(t) > 1 and not t.isdigit() and t in question.lower()]
        spellings = {name: {name} | {t for t in korean.key_terms(name) if len(t) > 1} for name in names}
        for name in names:
            if len(chosen) >= max_sentences + 1:
                break
            if any(name in lowered[i] for i in chosen):
                continue
            holders = [i for i in ranked if name in lowered[i]] or [i for i in ranked if name in titled[i]]
            if asked.slot and not any(holds[i] for i in holders):
                # a paragraph names its subject once ("SKT는 … 또한 … 350억 조기지급"): a sentence
                # naming no part is about the part its paragraph named last before it
                carried = [i for i in ranked if holds[i] and not _names_any(lowered[i], spellings)
                           and _named_last(evidence[i].preceding.lower(), spellings) == name]
                holders = carried or [i for i in ranked if name in titled[i]] or holders
            # the holder that also carries the asked kind of value (when one is asked, only such a one); one
            # already chosen (it joined by score, and its article's title names the part) is not written twice
            holder = next((i for i in holders if holds[i]), None)
            if holder is not None and holder not in chosen:
                chosen.append(holder)
    if multi:
        # "A사가 맺은 협약과 B 행사에서 체결한 협약은 각각": each part's own words not yet covered
        # by a chosen sentence pick one more sentence
        for part in _question_parts(question):
            # (a unit alone — 년 of "2018년" — says nothing of which sentence holds the part)
            uncovered = {t: w for t, w in weighted_terms(part, korean).items()
                         if t not in korean.lexicon.units and not any(t in terms[i] for i in chosen)}
            if not uncovered or len(chosen) >= max_sentences + 2:
                continue
            part_idf = term_idf(uncovered, terms)
            holder = max((i for i in ranked if i not in chosen),
                         key=lambda i: term_coverage(uncovered, part_idf, terms[i]), default=None)
            if holder is not None and term_coverage(uncovered, part_idf, terms[holder]) >= 0.5:
                chosen.append(holder)
    chosen.sort(key=lambda i: (evidence[i].doc_id, evidence[i].start))
    return written([evidence[i] for i in chosen]), tuple(to_citation(evidence[i], 1.0) for i in chosen)


def written(sentences: Sequence[Evidence]) -> str:
    """Evidence sentences as an extractive answer shows them: "… [n]." each, in the order given. An
    answer is plain text even when a passage holds markup ("<img src=x onerror=…>" in a scraped page)."""
    return " ".join(f"{_strip_end(plain_text(ev.text))} [{ev.n}]." for ev in sentences)


def draft_lead(question: str, evidence: Sequence[Evidence], korean: Tokenizer,
               slot_miss_factor: float = AnswerSettings.slot_miss_factor) -> Evidence | None:
    """The sentence `extractive_answer` leads with (its `score` is the ranker's probability that it
    holds the answer); None without evidence."""
    if not evidence:
        return None
    asked = asked_slot(korean.morphemes_batch([question])[0], korean.lexicon)
    if not asked.slot:
        return evidence[0]
    known = question_terms(question, korean)
    morphemes = korean.morphemes_batch([ev.text for ev in evidence])
    holds = [bool(slot_values(m, asked, known, korean.lexicon.units)) for m in morphemes]
    could = [asked.slot not in NUMERIC or holds_a_number(m) for m in morphemes]
    return evidence[_lead_order(evidence, holds, could, slot_miss_factor)[0]]


def _lead_order(evidence: Sequence[Evidence], holds: list[bool], could: list[bool],
                slot_miss_factor: float) -> list[int]:
    """Evidence indices, the sentences that may lead first, each group in the ranker's order: one holding
    a value of the asked kind, or one the ranker is far surer of than of the first holder (and, for a
    number, a date or a year, that holds a figure in digits)."""
    first_holder = next((i for i in range(len(evidence)) if holds[i]), None)
    bar = evidence[first_holder].score if first_holder is not None else 0.0
    lead = [holds[i] or (could[i] and evidence[i].score * slot_miss_factor > bar) for i in range(len(evidence))]
    return sorted(range(len(evidence)), key=lambda i: (not lead[i], i))


def _adjacent(a: Evidence, b: Evidence) -> bool:
    """Two sentences of one article with nothing but spacing between them."""
    return a.doc_id == b.doc_id and (0 <= a.start - b.end <= 2 or 0 <= b.start - a.end <= 2)


def _names_any(text: str, spellings: dict[str, set[str]]) -> bool:
    return any(s in text for group in spellings.values() for s in group)


def _named_last(text: str, spellings: dict[str, set[str]]) -> str:
    """The part whose name (any spelling) ends last in `text`, "" when none does; of two ending at
    the same place the longer one ("SKT는" names SKT, not KT)."""
    where = {name: max((text.rfind(s) + len(s), len(s)) if s in text else (-1, 0) for s in group)
             for name, group in spellings.items()}
    name, at = max(where.items(), key=lambda kv: kv[1], default=("", (-1, 0)))
    return name if at[0] >= 0 else ""


def _question_parts(question: str) -> list[str]:
    """The parts of "X와 Y는 각각 …" / "X and Y": split at a conjunction after a Hangul noun."""
    parts = re.split(r"(?<=[가-힣])(?:과|와)\s+|\s+and\s+", question)
    return [p for p in parts if len(p.strip()) > 1] if len(parts) > 1 else []


def _strip_end(sentence: str) -> str:
    return sentence.strip().rstrip(".。")
