"""Evidence selection: the sentences of the retrieved chunks that best match the question.

    evidence = select_evidence(question, hits, pipe.article, korean, max_evidence=6)
"""

from __future__ import annotations

import math
import re
from typing import Callable, Protocol, Sequence

from rag.glossary import with_glosses
from rag.types import Article, Citation, Evidence, Hit
from rag.vocabulary import Lexicon


class Tokenizer(Protocol):
    """What this module needs from `rag.korean.KoreanText`."""

    def sentences(self, text: str) -> list[tuple[int, int]]: ...
    def tokens(self, text: str) -> list[str]: ...
    def tokens_batch(self, texts: Sequence[str]) -> list[list[str]]: ...
    def key_terms(self, text: str) -> list[str]: ...
    @property
    def lexicon(self) -> Lexicon: ...


def select_evidence(
    question: str,
    hits: Sequence[Hit],
    article_lookup: Callable[[str], Article | None],
    korean: Tokenizer,
    max_evidence: int,
    max_chars: int = 700,
) -> list[Evidence]:
    """The sentences of the retrieved chunks that best match the question, numbered from 1.

    The prompt carries sentences, not chunks: on 2 cores first-token time grows with prompt length.
    Offsets are into the cleaned article (`Chunk.start` + the sentence's place in the chunk).
    """
    candidates: list[tuple[Hit, int, int, str, str]] = []  # hit, start, end, text, context
    seen: set[tuple[str, int, int]] = set()
    for hit in hits:
        chunk = hit.chunk
        article = article_lookup(chunk.doc_id)
        # the chunk is an exact span of the article; fall back to the chunk text if they disagree
        base = article.text if article is not None and article.text[chunk.start:chunk.end] == chunk.text else None
        previous = ""
        for a, b in korean.sentences(chunk.text):
            start, end = chunk.start + a, chunk.start + b
            text = base[start:end] if base is not None else chunk.text[a:b]
            key = (chunk.doc_id, start, end)
            # "행사에는 … 83명이 함께했다" names its event in the sentence before: that counts, at half weight
            context = f"{chunk.title}\n{previous}"
            previous = text
            if key in seen or len(text.strip()) < 8:
                continue
            seen.add(key)
            candidates.append((hit, start, end, text, context))
    if not candidates:
        return []
    q_terms = weighted_terms(question, korean)
    analyzed = korean.tokens_batch([c[3] for c in candidates] + [c[4] for c in candidates])
    sent_terms = [set(t) for t in analyzed[: len(candidates)]]
    context_terms = [set(t) for t in analyzed[len(candidates):]]
    idf = term_idf(q_terms, sent_terms)
    scored = []
    for (hit, start, end, text, _), terms, context in zip(candidates, sent_terms, context_terms):
        overlap = term_coverage(q_terms, idf, terms, context) + shape_bonus(question, text)
        # lexical overlap decides; the retrieval score breaks ties and carries cross-lingual questions
        scored.append((0.7 * overlap + 0.3 * hit.score, hit, start, end, text))
    scored.sort(key=lambda s: -s[0])
    chosen: list[Evidence] = []
    used = 0
    for score, hit, start, end, text in scored:  # noqa: B007
        if len(chosen) >= max_evidence:
            break
        if chosen and used + len(text) > max_chars:
            continue
        used += len(text)
        chunk = hit.chunk
        chosen.append(Evidence(n=len(chosen) + 1, doc_id=chunk.doc_id, text=text, start=start, end=end,
                               title=chunk.title, date=chunk.date, publisher=chunk.publisher,
                               score=round(score, 4)))
    return chosen


def weighted_terms(text: str, korean: Tokenizer) -> dict[str, float]:
    """Question terms with weights: names and numbers count double (they decide the answer).

    An English question also gets the Korean forms of its domain words (`rag.glossary`)."""
    text = with_glosses(text, korean.lexicon.glossary)
    key = set(korean.key_terms(text))
    shaping = korean.lexicon.question_words
    weights: dict[str, float] = {}
    for term in korean.tokens(text):
        if term in shaping:
            continue
        if any(term != other and term in other for other in key):
            # "lg" / "유플러스" of "lg유플러스": a partial match is worth little, and the full name
            # must not count three times
            weights[term] = 0.3
        else:
            weights[term] = 2.0 if term in key else 1.0
    return weights


# what kind of answer the question wants, and the shape such an answer takes in a sentence
ANSWER_SHAPES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (re.compile(q, re.IGNORECASE), re.compile(a, re.IGNORECASE)) for q, a in (
        (r"몇\s*%|비율|성장률|증가율|percent", r"\d(?:[\d.]*)\s*%"),
        (r"몇\s*명|인원|how many (?:people|persons|representatives|employees|attendees)|attend",
         r"\d[\d,]*\s*(?:여\s*)?명"),
        (r"몇\s*(?:개|건|회|곳|년|팀|차례|번)|how many", r"\d[\d,]*\s*(?:여\s*)?(?:개|건|회|곳|년|팀|차례|번)"),
        (r"얼마|규모|금액|액수|총액|출연금|사업비|how much|how large|budget|amount|fund",
         r"\d[\d,.]*\s*(?:조|억|만|천)|\d[\d,]*\s*원"),
        (r"언제|며칠|날짜|when|what date", r"\d+\s*월\s*\d+\s*일|\d+일"),
        # a person is asked for: a name (a word of its own) followed by a title
        (r"누가|누구|\bwho\b",
         r"(?<![가-힣])[가-힣]{3}\s+(?:최고경영자|대표|사장|회장|부회장|장관|본부장|부문장|원장|센터장|의원|이사장|위원장)"),
        # a company: a registered company name (a bare name has no shape to recognise)
        (r"(?:회사|기업|업체|곳)(?:은|는|이|가)?\s*\??$|which compan", r"㈜|\(주\)"),
    )
)
# the shapes that are values (not names): a question asking for one needs a sentence holding one
VALUE_SHAPES = ANSWER_SHAPES[:-2]


def shape_bonus(question: str, sentence: str) -> float:
    """Favour sentences holding the kind of value asked for (an amount for "얼마", a count for "몇 명")."""
    for asked, shape in ANSWER_SHAPES:
        if asked.search(question):
            return 0.35 if shape.search(sentence) else 0.0
    return 0.0


def term_idf(q_terms: dict[str, float], pool: Sequence[set[str]]) -> dict[str, float]:
    n = len(pool) or 1
    return {t: 1.0 + math.log((n + 1) / (1 + sum(1 for s in pool if t in s))) for t in q_terms}


def term_coverage(q_terms: dict[str, float], idf: dict[str, float], terms: set[str],
              context: set[str] = frozenset()) -> float:
    """Share of the question's weighted terms found in `terms` (half credit when only in `context`)."""
    total = sum(w * idf.get(t, 1.0) for t, w in q_terms.items())
    if not total:
        return 0.0
    found = sum(w * idf.get(t, 1.0) * (1.0 if t in terms else 0.5 if t in context else 0.0)
                for t, w in q_terms.items())
    return found / total


def to_citation(ev: Evidence, support: float) -> Citation:
    return Citation(n=ev.n, source=ev.doc_id, quote=ev.text, start=ev.start, end=ev.end, title=ev.title,
                    date=ev.date, publisher=ev.publisher, support=round(support, 3))
