"""Grounding: whether the retrieved passages can answer the question at all, and the model's own verdict.

    grounding = assess_grounding(question, hits, evidence, korean)
    if not grounding.answerable: ...  # refuse
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rag.citations import MARKER, year_in
from rag.evidence import Tokenizer, term_coverage, term_idf, weighted_terms
from rag.extractive import MULTI_PART
from rag.glossary import korean_names
from rag.slots import NUMERIC, asked_slot, slot_values
from rag.glossary import mostly_latin as _mostly_latin
from rag.types import Evidence, Hit


@dataclass(frozen=True)
class Grounding:
    """Whether the retrieved passages can answer the question, and why not."""

    answerable: bool
    reason: str = ""
    missing: tuple[str, ...] = ()
    coverage: float = 0.0  # best share of the question's other terms in one evidence sentence
    anchored: float = 0.0  # the same in one retrieved chunk that also holds the question's name


def assess_grounding(question: str, hits: Sequence[Hit], evidence: Sequence[Evidence], korean: Tokenizer,
                     min_coverage: float = 0.2, weak_anchor: float = 0.45, weak_score: float = 0.62) -> Grounding:
    """Combine signals; a similarity threshold alone cannot tell "not in the corpus" from "answerable".

    1. every name / year / number of the question must occur in a retrieved passage (a year must
       occur next to one of the question's names);
    2. some evidence sentence must cover part of the question's other terms (weighted by rarity);
    3. a chunk naming the question's entity must cover the rest of the question, or the calibrated
       retrieval score must be high (thresholds calibrated on eval/datasets/seeds.jsonl);
    The generator's own "not in the context" verdict is the last signal (see `is_refusal`).
    """
    if not hits or not evidence:
        return Grounding(False, "no passage retrieved")
    english = _mostly_latin(question)
    key = [t for t in dict.fromkeys(korean.key_terms(question)) if len(t) > 1 and t not in korean.lexicon.question_words]
    # "lg" of "lg이노텍" would match LG전자's article: check the whole name only
    key = [t for t in key if not any(t != other and t in other for other in key)]
    if english:
        # English words never occur in the Korean articles: numbers, and the organizations the
        # glossary knows by their Korean names, are what can be checked literally
        glossed = dict.fromkeys(t for name in korean_names(question, korean.lexicon.glossary) for t in korean.key_terms(name) if len(t) > 1)
        key = [t for t in key if t.isdigit()] + list(glossed)
        key = [t for t in key if not any(t != other and t in other for other in key)]
    texts = [f"{h.chunk.title}\n{h.chunk.text}" for h in hits]
    hit_terms = [set(t) for t in korean.tokens_batch(texts)]
    names = [t for t in key if not t.isdigit()]
    missing = []
    for term in key:
        if term.isdigit():
            # an abbreviated year ('23) is only trusted next to one of the question's names
            holders = [i for i, txt in enumerate(texts)
                       if term in txt.replace(",", "")
                       or (names and year_in(term, txt) and any(n in hit_terms[i] for n in names))]
        else:
            holders = [i for i, terms in enumerate(hit_terms) if term in terms or term in texts[i].lower()]
        if not holders:
            missing.append(term)
    if missing:
        return Grounding(False, "question names something the articles do not mention", tuple(missing))
    if not _value_near_name(question, hits, names, korean):
        # "현대자동차의 펀드 규모는?": the company is in a table row and an amount in another row
        return Grounding(False, "no passage gives the asked value next to the question's name", tuple(names))
    q_terms = weighted_terms(question, korean)
    rest = {t: w for t, w in q_terms.items() if t not in key}
    if not rest or english:
        # nothing left to measure (or no shared words across languages): the other signals decide
        return Grounding(True, coverage=1.0, anchored=1.0)
    ev_terms = [set(t) for t in korean.tokens_batch([ev.text for ev in evidence])]
    idf = term_idf(rest, ev_terms + hit_terms)
    coverage = max(term_coverage(rest, idf, t) for t in ev_terms)
    chunk_idf = term_idf(rest, hit_terms)  # not the evidence pool: its size depends on the prompt budget
    anchored = max((term_coverage(rest, chunk_idf, hit_terms[i]) for i in range(len(hits))
                    if not names or any(n in hit_terms[i] for n in names)), default=0.0)
    top = max(h.score for h in hits)
    if coverage < min_coverage:
        return Grounding(False, "no passage covers the question", coverage=round(coverage, 3))
    if anchored < weak_anchor and top < weak_score:
        # the name occurs, but never together with what is asked, and retrieval is unsure too
        return Grounding(False, "the passages that name it do not cover the question",
                         coverage=round(coverage, 3), anchored=round(anchored, 3))
    return Grounding(True, coverage=round(coverage, 3), anchored=round(anchored, 3))


def _value_near_name(question: str, hits: Sequence[Hit], names: Sequence[str], korean: Tokenizer) -> bool:
    """A question that asks for a value (an amount, a count, a date) about a name needs a sentence
    holding such a value with the name in its paragraph, the sentence before it, or the article's title.

    The name occurring somewhere and an amount somewhere else is how an unanswerable question
    about a company in a list passes every other check. True when the check does not apply (no
    name, no value asked, or a question in several parts)."""
    asked = asked_slot(korean.morphemes_batch([question])[0], korean.lexicon)
    if asked.slot not in NUMERIC or not names or MULTI_PART.search(question):
        return True
    known = set(korean.tokens(question))
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
                if any(name in scope for name in names):
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
