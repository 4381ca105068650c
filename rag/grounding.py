"""Grounding: whether the retrieved passages can answer the question at all, and the model's own verdict.

    grounding = assess_grounding(question, hits, evidence, korean, model)   # model: fitted, rag/fitted/refusal.json
    if not grounding.answerable: ...  # refuse (grounding.reason says why)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from rag.citations import MARKER, year_in
from rag.evidence import Tokenizer, question_terms, term_coverage, term_idf, weighted_terms
from rag.glossary import korean_names
from rag.slots import NUMERIC, asked_slot, asks_several, slot_values
from rag.glossary import mostly_latin as _mostly_latin
from rag.ranker import LogisticModel, default_refusal_model
from rag.types import REASONS, Evidence, Hit
from rag.vocabulary import GlossEntry, Lexicon


# the signals a fitted model (python -m eval.fit refusal) weighs into "can these passages answer it?"
SIGNALS = ("missing", "has_names", "together", "value_near", "coverage", "anchored", "whole", "best", "slot_missing",
           "top", "dense", "agree")


@dataclass(frozen=True)
class Grounding:
    """Whether the retrieved passages can answer the question, why not, and the signals behind it."""

    answerable: bool
    code: str = ""  # why not, of rag.types.REASONS
    missing: tuple[str, ...] = ()
    coverage: float = 0.0  # best share of the question's other terms in one evidence sentence
    anchored: float = 0.0  # the same in one retrieved chunk that also holds the question's name
    probability: float = 0.0  # the fitted model's P(answerable)
    signals: dict[str, float] = field(default_factory=dict)
    names: tuple[str, ...] = ()  # the question's names (numbers aside) as the checks read them

    @property
    def reason(self) -> str:
        return REASONS.get(self.code, "")


def assess_grounding(question: str, hits: Sequence[Hit], evidence: Sequence[Evidence], korean: Tokenizer,
                     model: LogisticModel | None = None) -> Grounding:
    """Combine signals; a similarity threshold alone cannot tell "not in the corpus" from "answerable".

    Two rules refuse outright, whatever the passages' strength (a strong passage about something
    else must not overrule them): the question names something (a proper noun, number or year) no
    passage mentions, or asks a value about a name and no passage gives such a value next to it.
    Otherwise a logistic model fitted on KorQuAD's withheld articles (calibration half) weighs the
    rest: how well the best sentence answers, whether it holds the asked kind of value, how much of
    the question it covers, retrieval strength and agreement. The generator's own "not in the
    context" verdict is the last signal (see `is_refusal`).
    """
    if not hits or not evidence:
        return _refused("no_passage")
    if not any(c.isalpha() for c in question):
        # "[1] [2]", "12": numbers and signs ask nothing (the search box still finds them)
        return _refused("no_words")
    if _mostly_latin(question) and not any(h.keyword for h in hits) and not asks(question, korean):
        # "hello", "asdf": a Latin-script text that asks nothing, none of whose words (their glossary
        # forms, the Hangul names they may sound as) any passage holds: the passages the multilingual
        # embedding found for it are about nothing it said
        return _refused("no_word_found")
    signals, missing, names = grounding_signals(question, hits, evidence, korean)
    model = model or default_refusal_model()
    probability = model.predict({k: [v] for k, v in signals.items()})[0]
    facts = dict(coverage=round(signals["coverage"], 3), anchored=round(signals["anchored"], 3),
                 probability=round(probability, 4), signals=signals, names=tuple(names))
    # a missing number, or every name missing, refuses; one name of several may be a misspelling
    # or a common noun Kiwi tags as a name ("북한이 금강산을 …"): the model weighs that
    if any(t.isdigit() for t in missing) or (names and all(n in missing for n in names)):
        return _refused("names_missing", tuple(missing), **facts)
    if not signals["value_near"]:
        # "현대자동차의 펀드 규모는?": the company is in a table row and an amount in another row
        return _refused("value_not_near_name", tuple(names), **facts)
    if probability < model.threshold and not _mostly_latin(question):
        # (fitted on Korean questions: an untranslated English one is judged by the rules above alone)
        return _refused("not_answered", **facts)
    return Grounding(True, **facts)


def _refused(code: str, missing: tuple[str, ...] = (), **facts: Any) -> Grounding:
    return Grounding(False, code, missing, **facts)


def asks(question: str, korean: Tokenizer) -> bool:
    """Whether the text is put as a question or a request: a question mark, or a word of the lexicon's
    question_words.tsv (any role: "who", "how", "tell", "describe", 누구, …)."""
    return "?" in question or not korean.lexicon.question_words.isdisjoint(korean.tokens_batch([question])[0])


def asked_terms(question: str, korean: Tokenizer) -> list[str]:
    """The names and numbers a Korean question is about, as the checks read them: Kiwi's key terms of two
    characters or more, question words aside, each only whole ("lg" of "lg이노텍" would match LG전자's article)."""
    key = [t for t in dict.fromkeys(korean.key_terms(question)) if len(t) > 1 and t not in korean.lexicon.question_words]
    return [t for t in key if not any(t != other and t in other for other in key)]


def grounding_signals(question: str, hits: Sequence[Hit], evidence: Sequence[Evidence],
                      korean: Tokenizer) -> tuple[dict[str, float], list[str], list[str]]:
    """(signals, the question's names and numbers no passage mentions, the question's names)."""
    english = _mostly_latin(question)
    key = asked_terms(question, korean)
    texts = [f"{h.chunk.title}\n{h.chunk.text}" for h in hits]
    hit_terms = [set(t) for t in korean.tokens_batch(texts)]
    if not english and any(_LATIN_HEAD.match(t) for t in key):
        key = _latin_group_names(key, korean.morphemes_batch([question])[0], hit_terms)
    if english:
        # English words never occur in the Korean articles: numbers, the organizations the glossary
        # knows by their Korean names, and any other name (as written) are what can be checked
        # literally — a name neither the glossary nor the passages know is not in the corpus
        glossary = korean.lexicon.glossary
        glossed = dict.fromkeys(t for name in korean_names(question, glossary) for t in korean.key_terms(name) if len(t) > 1)
        key = [t for t in key if t.isdigit()] + list(glossed) + unknown_names(question, glossary, korean.lexicon,
                                                                     sentence=asks(question, korean))
        key = [t for t in key if not any(t != other and t in other for other in key)]
    # writers space compounds and transliterated names differently ("조지콜먼" / "조지 콜먼")
    unspaced = ["".join(txt.lower().split()) for txt in texts]
    names = [t for t in key if not t.isdigit()]
    missing = []
    for term in key:
        if term.isdigit():
            # an abbreviated year ('23) is only trusted next to one of the question's names
            holders = [i for i, txt in enumerate(texts)
                       if term in txt.replace(",", "")
                       or (names and year_in(term, txt) and any(n in hit_terms[i] for n in names))]
        else:
            holders = [i for i, terms in enumerate(hit_terms) if _mentions(term, texts[i].lower(), unspaced[i], terms)]
        if not holders:
            missing.append(term)
    q_terms = weighted_terms(question, korean)
    rest = {t: w for t, w in q_terms.items() if t not in key}
    coverage = anchored = 1.0  # nothing left to measure (or no shared words across languages)
    if rest and not english:
        ev_terms = [set(t) for t in korean.tokens_batch([ev.text for ev in evidence])]
        idf = term_idf(rest, ev_terms + hit_terms)
        coverage = max(term_coverage(rest, idf, t) for t in ev_terms)
        chunk_idf = term_idf(rest, hit_terms)  # not the evidence pool: its size depends on the prompt budget
        anchored = max((term_coverage(rest, chunk_idf, hit_terms[i]) for i in range(len(hits))
                        if not names or any(n in hit_terms[i] for n in names)), default=0.0)
    # the question's names in one passage (answerable questions were written from one), and the
    # share of all its words one passage holds
    together = max((sum(t in hit_terms[i] or t in texts[i].lower() for t in key) / len(key)
                    for i in range(len(hits))), default=0.0) if key else 1.0
    whole_idf = term_idf(q_terms, hit_terms)
    whole = max((term_coverage(q_terms, whole_idf, terms) for terms in hit_terms), default=0.0)
    asked = asked_slot(korean.morphemes_batch([question])[0], korean.lexicon)
    known = question_terms(question, korean)
    top = evidence[:3]
    found = any(slot_values(m, asked, known, korean.lexicon.units)
                for m in korean.morphemes_batch([ev.text for ev in top])) if asked.slot else True
    signals = {
        "missing": len(missing) / len(key) if key else 0.0,
        "has_names": 1.0 if key else 0.0,
        "together": together,
        "value_near": 1.0 if _value_near_name(question, hits, names, korean) else 0.0,
        "coverage": coverage,
        "anchored": anchored,
        "whole": whole,
        "best": float(evidence[0].score),
        "slot_missing": 0.0 if found else 1.0,
        "top": max(h.score for h in hits),
        "dense": max((h.dense or 0.0) for h in hits),
        "agree": 1.0 if evidence[0].doc_id == hits[0].chunk.doc_id else 0.0,
    }
    return signals, missing, names


# Latin letters written against Hangul: the head of a name ("lg" of "lg에너지솔루션")
_LATIN_HEAD = re.compile(r"([a-z][a-z0-9&]*)(?=[가-힣])")


def _latin_group_names(key: list[str], morphemes: Sequence[tuple[str, str, int, int]],
                       hit_terms: Sequence[set[str]]) -> list[str]:
    """A name of Latin letters and the common nouns written after them ("lg에너지솔루션", Kiwi's LG / 에너지 / 솔루션)
    is checked whole where the passages write those letters before another name ("lg이노텍": "LG" is a group's,
    and "LG" alone would find another company's article); elsewhere its letters alone are the name, as Kiwi
    reads it ("KBS드라마" is KBS's drama, and a passage about it may write "KBS 2TV 드라마"). One letter alone
    ("k" of "K뱅크") is no name. A name Kiwi reads whole or as letters and a proper noun ("SK하이닉스") is kept."""
    # the letters of the question that Kiwi reads before a common noun written against them
    split = {form.lower() for (tag, form, _, end), (nxt, _, start, _) in zip(morphemes, morphemes[1:])
             if tag == "SL" and nxt == "NNG" and start == end}
    out: list[str] = []
    for term in key:
        head = _LATIN_HEAD.match(term)
        if head and head.group(1) in split:
            letters = head.group(1)
            group = any(other != term and (m := _LATIN_HEAD.match(other)) and m.group(1) == letters
                        for terms in hit_terms for other in terms)
            if not group:
                term = letters
        if len(term) > 1 and term not in out:
            out.append(term)
    return out


def _mentions(name: str, low: str, unspaced: str, terms: set[str]) -> bool:
    """Whether a text (lower case, the same unspaced, its terms) mentions a name as the names check reads it."""
    return name in terms or name in low or (len(name) >= 3 and name in unspaced) or _near_spelling(name, terms)


def unnamed_in_cited(names: Sequence[str], cited: Sequence[str], korean: Tokenizer) -> tuple[str, ...]:
    """The question's names when none of them occurs in any of the `cited` texts (each an article's title and
    text), else (). The names check refuses a question none of whose names any *retrieved passage* mentions; in
    a big archive another passage names them and the answer can come from an article about something else
    ("SK하이닉스가 … 지급한 납품대금은?" answered with LG유플러스's figure). With answer.refuse_unnamed (default) such an
    answer is refused, else it carries the names as a caution (bench/results/refuse_unnamed_2026-12-06.md)."""
    if not names or not cited:
        return ()
    lows = [text.lower() for text in cited]
    unspaced = ["".join(low.split()) for low in lows]
    if any(n in low or (len(n) >= 3 and n in flat) for n in names for low, flat in zip(lows, unspaced)):
        return ()  # (the common case, without analysing whole articles)
    terms = [set(t) for t in korean.tokens_batch(list(cited))]
    if any(_mentions(n, low, flat, t) for n in names for low, flat, t in zip(lows, unspaced, terms)):
        return ()
    return tuple(names)


def as_asked(names: Sequence[str], question: str) -> tuple[str, ...]:
    """The names as the question writes them, for a reader ("LG이노텍", not the checks' "lg이노텍"); an alias the
    question does not write ("엘지이노텍") is left out when one it writes is there (else all are kept as read)."""
    low = question.lower()
    if len(low) != len(question):  # a letter whose lower case is longer ("İ"): offsets would not line up
        return tuple(names)
    written = [question[low.index(n):low.index(n) + len(n)] for n in names if n in low]
    return tuple(dict.fromkeys(written)) if written else tuple(names)


_PARTICLE_END = ("이", "가", "은", "는", "을", "를", "의", "와", "과", "도")


def _near_spelling(name: str, terms: set[str]) -> bool:
    """A passage term one edit (or one swap) away from a name of 3+ characters, or the name without a
    particle Kiwi left on it ("방시혁이"): questions misspell names ("아쓰오카" for "마쓰오카")."""
    if len(name) < 3:
        return False
    if name.endswith(_PARTICLE_END) and name[:-1] in terms:
        return True
    return any(abs(len(t) - len(name)) <= 1 and _within_one_edit(name, t) for t in terms if len(t) >= 3)


def _within_one_edit(a: str, b: str) -> bool:
    """Optimal-string-alignment distance ≤ 1 (a substitution, insertion, deletion or adjacent swap)."""
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i in range(len(short)) if short[i] != long_[i]), len(short))
    return short[i:] == long_[i + 1:]


_CAPITALIZED = re.compile(r"(?<![\w'’])[A-Z][A-Za-z0-9&+-]*")


def unknown_names(question: str, glossary: Sequence[GlossEntry], lexicon: Lexicon, sentence: bool = True) -> list[str]:
    """Capitalized words of an English question that no glossary entry covers, in lower case: the
    names it is about ("Hanwha" of "How large is Hanwha's fund?"), question words aside, and its first
    word when it is a `sentence` (a question or a request capitalizes it); in a keyword query ("Hanwha
    fund") the first word is a name like the others."""
    covered = [m.span() for entry in glossary for m in entry.pattern.finditer(question)]
    out = []
    for m in _CAPITALIZED.finditer(question):
        word = m.group().lower()
        first = m.start() == len(question) - len(question.lstrip())
        if (first and sentence) or word in lexicon.question_words:
            continue
        if not any(a <= m.start() < b for a, b in covered) and len(word) > 1:
            out.append(word)
    return list(dict.fromkeys(out))


def _value_near_name(question: str, hits: Sequence[Hit], names: Sequence[str], korean: Tokenizer) -> bool:
    """A question that asks for a value (an amount, a count, a date) about a name needs a sentence
    holding such a value with the name in its paragraph, the sentence before it, or the article's title.

    The name occurring somewhere and an amount somewhere else is how an unanswerable question
    about a company in a list passes every other check. True when the check does not apply (no
    name, no value asked, or a question in several parts)."""
    asked = asked_slot(korean.morphemes_batch([question])[0], korean.lexicon)
    if asked.slot not in NUMERIC or not names or asks_several(question, korean.lexicon):
        return True
    known = question_terms(question, korean)
    for hit in hits:
        chunk = hit.chunk
        spans = korean.sentences(chunk.text)
        morphemes = korean.morphemes_batch([chunk.text[a:b] for a, b in spans])
        previous = ""
        for (a, b), m in zip(spans, morphemes):
            sentence = chunk.text[a:b]
            if slot_values(m, asked, known, korean.lexicon.units):
                paragraph = chunk.text[chunk.text.rfind("\n", 0, a) + 1:b]
                scope = f"{chunk.title}\n{previous}\n{paragraph}".lower()
                # (spaced as the names check reads it: "BJ 주노" gives the value of "BJ주노")
                unspaced = "".join(scope.split())
                if any(name in scope or (len(name) >= 3 and name in unspaced) for name in names):
                    return True
            previous = sentence
    return False


def is_refusal(text: str, refusal: str, cues: Sequence[str] = ()) -> bool:
    """The generator's own verdict that the evidence lacks the answer."""
    compact = " ".join(text.split())
    if not compact:
        return False
    if refusal and refusal.rstrip(".") in compact:
        return True
    lowered = compact.lower()
    # phrases of "not in the context" (rag/lexicon/refusal_cues.txt); a cited sentence is an answer
    return any(cue in lowered for cue in cues) and not MARKER.search(compact)
