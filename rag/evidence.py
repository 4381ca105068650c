"""Evidence selection: the sentences that answer the question, ranked by what predicts that they do.

Candidates are the sentences of the retrieved chunks and their neighbours (the answer is often one
sentence away from the words the question repeats), and the whole paragraph of the best hit. Each gets features — lexical coverage of the
question, the same with its title and the sentence before, its neighbours' coverage, the question's
names in it, whether it holds the kind of value asked for (`rag.slots`), the retrieval score of its
chunk, how much it adds to the question, and the e5 similarity of question and sentence — and a
logistic model fitted on the calibration split (`python -m eval.fit evidence`) turns them into the
probability that the sentence holds the answer.

    evidence = select_evidence(question, hits, pipe.article, korean, max_evidence=6, ranker=model)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from rag.glossary import with_glosses
from rag.ranker import LogisticModel, default_evidence_models, default_evidence_order
from rag.sentence_windows import sentences_around
from rag.slots import asked_slot, is_command, slot_values
from rag.types import Article, Citation, Evidence, Hit
from rag.vocabulary import Lexicon

# the e5 similarity is computed for this many of the best candidates by the other features: a
# sentence costs ~25 ms to embed on 2 cores (vectors are cached, passages recur across questions).
# 2 kept the calibration top-1 (bench/dense_candidates.py: 0.870 at every depth 1-8 on KorQuAD
# articles 1-70) and the held-out extractive figures, but changed the order of the LLM's evidence
# and 2 of 12 held-out seeds LLM answers went wrong: 8 until a larger LLM check says otherwise
DENSE_CANDIDATES = 8
# "…_gap" features compare a sentence with the best of its own pool (0 for the best, negative below):
# a weight per feature cannot tell "the best match this question has" from an absolute score alone
CHEAP_FEATURES = ("lexical", "context", "neighbour", "names", "slot_has", "slot_miss", "retrieval", "rank",
                  "in_chunk", "novel", "length", "lexical_gap", "neighbour_gap", "first")
FEATURES = CHEAP_FEATURES + ("dense", "dense_gap")
# the e5 similarity of the sentence read with the one before it: Korean drops the subject, and the
# sentence before often names it. Computed only for a full model fitted with them (one batch with "dense")
CONTEXT_FEATURES = ("dense_ctx", "dense_ctx_gap")

Relevance = Callable[[str, Sequence[str]], Sequence[float]]  # (question, sentences) -> e5 cosine each


class Tokenizer(Protocol):
    """What this module needs from `rag.korean.KoreanText`."""

    def sentences(self, text: str) -> list[tuple[int, int]]: ...
    def sentences_batch(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]: ...
    def tokens(self, text: str) -> list[str]: ...
    def tokens_batch(self, texts: Sequence[str]) -> list[list[str]]: ...
    def key_terms(self, text: str) -> list[str]: ...
    def morphemes_batch(self, texts: Sequence[str]) -> list[list[tuple[str, str, int, int]]]: ...
    @property
    def lexicon(self) -> Lexicon: ...


@dataclass(frozen=True)
class Candidate:
    """A sentence that may hold the answer: its span in the article, and its surroundings."""

    hit: Hit
    start: int
    end: int
    text: str
    before: str  # the sentence before it in the article ("" at the start)
    after: str
    in_chunk: bool  # False: a neighbour of the retrieved chunk, not inside it
    preceding: str = ""  # its paragraph (line) before it


def gather_candidates(hits: Sequence[Hit], article_lookup: Callable[[str], Article | None],
                      korean: Tokenizer) -> list[Candidate]:
    """The sentences of the retrieved chunks, plus the sentence before and after each chunk, and every
    sentence of the best (first) hit's paragraph."""
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    articles = [article_lookup(hit.chunk.doc_id) for hit in hits]
    current = [a is not None and a.text[h.chunk.start:h.chunk.end] == h.chunk.text for a, h in zip(articles, hits)]
    # only the lines around each chunk are split (the same spans as the whole article's split there)
    windows = iter(sentences_around(korean, [(a.text, h.chunk.start, h.chunk.end)
                                             for a, h, ok in zip(articles, hits, current) if ok]))
    for hit, article, ok in zip(hits, articles, current):
        chunk = hit.chunk
        if ok:
            text, offset = article.text, 0
            spans = next(windows)
            inside = [i for i, (a, b) in enumerate(spans) if a >= chunk.start and b <= chunk.end]
        else:  # the chunk no longer matches its article: its own sentences only
            text, offset = chunk.text, chunk.start
            spans = korean.sentences(text)
            inside = list(range(len(spans)))
        if not inside:
            continue
        around = [i for i in (inside[0] - 1, inside[-1] + 1) if 0 <= i < len(spans)]
        if hit is hits[0]:
            # the best hit's paragraph is read whole: a passage that answers often names the asked
            # thing sentences away from the words the question repeats ("… 이 기능은 …")
            para_start = text.rfind("\n", 0, chunk.start - offset) + 1
            para_end = text.find("\n", chunk.end - offset)
            para_end = len(text) if para_end < 0 else para_end
            around += [i for i, (a, b) in enumerate(spans) if a >= para_start and b <= para_end]
        for i in sorted(set(inside) | set(around)):
            a, b = spans[i]
            if (chunk.doc_id, offset + a) in seen or len(text[a:b].strip()) < 8:
                continue
            seen.add((chunk.doc_id, offset + a))
            before = text[slice(*spans[i - 1])] if i > 0 else ""
            after = text[slice(*spans[i + 1])] if i + 1 < len(spans) else ""
            preceding = text[text.rfind("\n", 0, a) + 1:a]
            out.append(Candidate(hit, offset + a, offset + b, text[a:b], before, after, i in inside, preceding))
    return out


def candidate_features(question: str, candidates: Sequence[Candidate], korean: Tokenizer) -> dict[str, list[float]]:
    """The cheap features of every candidate (all but "dense"), as columns."""
    lexicon = korean.lexicon
    asked = asked_slot(korean.morphemes_batch([question])[0], lexicon)
    q_terms = weighted_terms(question, korean)
    known = question_terms(question, korean)
    keys = [t for t in dict.fromkeys(korean.key_terms(question)) if len(t) > 1 and t not in lexicon.question_words]
    n = len(candidates)
    texts = [c.text for c in candidates]
    titles = list(dict.fromkeys(c.hit.chunk.title for c in candidates))
    analyzed = korean.tokens_batch(texts + [c.before for c in candidates] + [c.after for c in candidates] + titles)
    terms = [set(t) for t in analyzed[:n]]
    before = [set(t) for t in analyzed[n:2 * n]]
    after = [set(t) for t in analyzed[2 * n:3 * n]]
    title_terms = {title: set(t) for title, t in zip(titles, analyzed[3 * n:])}
    # the context is the title's terms and the sentence before's, each analyzed once: the sentence
    # before is a candidate too, and one title serves all of its article's sentences
    context = [title_terms[c.hit.chunk.title] | before[i] for i, c in enumerate(candidates)]
    idf = term_idf(q_terms, terms)
    morphemes = korean.morphemes_batch(texts) if asked.slot else [[] for _ in texts]
    columns: dict[str, list[float]] = {name: [] for name in CHEAP_FEATURES}
    for i, c in enumerate(candidates):
        lexical = term_coverage(q_terms, idf, terms[i])
        holds = bool(slot_values(morphemes[i], asked, known, lexicon.units)) if asked.slot else False
        novel = [t for t in terms[i] if t not in known and t not in lexicon.question_words]
        columns["lexical"].append(lexical)
        columns["context"].append(term_coverage(q_terms, idf, terms[i], context[i]) - lexical)
        columns["neighbour"].append(max(term_coverage(q_terms, idf, before[i]), term_coverage(q_terms, idf, after[i])))
        where = terms[i] | context[i]
        columns["names"].append(sum(k in where for k in keys) / len(keys) if keys else 1.0)
        columns["slot_has"].append(1.0 if holds else 0.0)
        columns["slot_miss"].append(1.0 if asked.slot and not holds else 0.0)
        columns["retrieval"].append(float(c.hit.score))
        columns["rank"].append(1.0 / max(c.hit.rank, 1))
        columns["in_chunk"].append(1.0 if c.in_chunk else 0.0)
        columns["novel"].append(math.log1p(len(novel)))
        columns["length"].append(math.log1p(len(c.text) / 40))
        # an article's first sentence names its subject (a definition, a news lede)
        columns["first"].append(0.0 if c.before else 1.0)
    best = max(columns["lexical"], default=0.0)
    columns["lexical_gap"] = [v - best for v in columns["lexical"]]
    # the answer often follows (or precedes) the sentence that repeats the question's words
    columns["neighbour_gap"] = [v - best for v in columns["neighbour"]]
    return columns


def with_dense(columns: dict[str, list[float]], dense: Sequence[float],
               dense_ctx: Sequence[float] | None = None) -> dict[str, list[float]]:
    """The columns of the re-ranked few with the e5 similarity, also as its gap to their best (and the
    same for the sentence read with the one before it, when given)."""
    top = max(dense, default=0.0)
    out = {**columns, "dense": list(dense), "dense_gap": [d - top for d in dense]}
    if dense_ctx is not None:
        best = max(dense_ctx, default=0.0)
        out |= {"dense_ctx": list(dense_ctx), "dense_ctx_gap": [d - best for d in dense_ctx]}
    return out


def in_context(candidate: Candidate) -> str:
    """The sentence as the context features read it: with the sentence before it."""
    return f"{candidate.before} {candidate.text}".strip()


def usable(question: str, candidates: Sequence[Candidate], korean: Tokenizer) -> list[Candidate]:
    """The candidates that can be evidence at all: not a command addressed to a reader ("…라고만
    답하라"), and saying something the question does not (the question's own text is never evidence)."""
    if not candidates:
        return []
    known = question_terms(question, korean) | korean.lexicon.question_words | korean.lexicon.frame_words
    morphemes = korean.morphemes_batch([c.text for c in candidates])
    terms = korean.tokens_batch([c.text for c in candidates])
    return [c for c, m, t in zip(candidates, morphemes, terms)
            if not is_command(m, korean.lexicon) and any(x not in known for x in t)]


def rank_candidates(question: str, candidates: Sequence[Candidate], korean: Tokenizer,
                    cheap: LogisticModel, full: LogisticModel | None = None,
                    relevance: Relevance | None = None,
                    order_by: tuple[LogisticModel, LogisticModel | None] | None = None) -> list[tuple[float, Candidate]]:
    """(probability, candidate), best first. The cheap model ranks everything; the full model
    (with e5 similarity) re-ranks the best DENSE_CANDIDATES when `relevance` is given.

    `order_by` (cheap, full): models that decide the order only — fitted listwise, to put one question's
    answer sentence first — while `cheap` / `full` still give each sentence its probability (pointwise
    fits: the thresholds and ratios downstream were chosen on their scale)."""
    if not candidates:
        return []
    columns = candidate_features(question, candidates, korean)
    scores = cheap.predict(columns)
    rank = order_by[0].logits(columns) if order_by else scores
    order = sorted(range(len(candidates)), key=lambda i: -rank[i])
    if full is not None and relevance is not None:
        top = order[:DENSE_CANDIDATES]
        rerank_model = order_by[1] if order_by else None  # (a file may have no full_order)
        wanted = set(full.features) | set(rerank_model.features if rerank_model else ())
        texts = [candidates[i].text for i in top]
        contexts = [in_context(candidates[i]) for i in top] if CONTEXT_FEATURES[0] in wanted else []
        dense = relevance(question, texts + contexts)  # one batch
        sub = with_dense({name: [values[i] for i in top] for name, values in columns.items()}, dense[:len(top)],
                         dense[len(top):] if contexts else None)
        reranked = dict(zip(top, full.predict(sub)))
        reorder = dict(zip(top, rerank_model.logits(sub))) if rerank_model else reranked
        # the re-ranked few stay above the rest: the full model saw more
        order = sorted(top, key=lambda i: -reorder[i]) + order[DENSE_CANDIDATES:]
        scores = [reranked.get(i, p) for i, p in enumerate(scores)]
    return [(scores[i], candidates[i]) for i in order]


def select_evidence(
    question: str,
    hits: Sequence[Hit],
    article_lookup: Callable[[str], Article | None],
    korean: Tokenizer,
    max_evidence: int,
    max_chars: int = 700,
    cheap: LogisticModel | None = None,
    full: LogisticModel | None = None,
    relevance: Relevance | None = None,
    order_by: tuple[LogisticModel, LogisticModel | None] | None = None,
) -> list[Evidence]:
    """The best evidence sentences, best first and numbered from 1, within the prompt budget;
    `Evidence.score` is the fitted probability (0..1) that the sentence holds the answer.

    The prompt carries sentences, not chunks: on 2 cores first-token time grows with prompt length.
    Offsets are into the cleaned article.
    """
    if cheap is None:
        cheap, full = default_evidence_models()
        order_by = default_evidence_order() if order_by is None else order_by
    candidates = usable(question, gather_candidates(hits, article_lookup, korean), korean)
    chosen: list[Evidence] = []
    used = 0
    said: set[str] = set()
    for score, c in rank_candidates(question, candidates, korean, cheap, full, relevance, order_by):
        if len(chosen) >= max_evidence:
            break
        same = " ".join(c.text.split())
        if same in said:  # a wire story two outlets ran, an article filed twice: its sentence is cited once
            continue
        said.add(same)
        if chosen and used + len(c.text) > max_chars:
            continue
        used += len(c.text)
        chunk = c.hit.chunk
        chosen.append(Evidence(n=len(chosen) + 1, doc_id=chunk.doc_id, text=c.text, start=c.start, end=c.end,
                               title=chunk.title, date=chunk.date, publisher=chunk.publisher, score=round(score, 4),
                               preceding=c.preceding))
    return chosen


def question_terms(question: str, korean: Tokenizer) -> set[str]:
    """The question's terms, an English question's with the Korean forms of its glossary words: a
    value they already hold ("LG전자" of "LG Electronics") is no answer to it."""
    return set(korean.tokens(with_glosses(question, korean.lexicon.glossary)))


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
