"""From retrieved chunks to a cited answer: evidence selection, prompts, citation checks, extractive answers.

Pure functions over `rag.types` values and a `KoreanText`; no model is called here.

    evidence = select_evidence(question, hits, pipe.article, korean, max_evidence=6)
    messages = build_messages(Prompts.load(), question, evidence)
    text, citations = verify_answer(llm_text, evidence, korean, min_support=0.5, question=question)
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Protocol, Sequence

from rag.config import PROJECT_ROOT
from rag.glossary import korean_names, with_glosses
from rag.glossary import mostly_latin as _mostly_latin
from rag.types import Article, Citation, Evidence, Hit

PROMPTS_DIR = PROJECT_ROOT / "prompts"


class Tokenizer(Protocol):
    """What this module needs from `rag.korean.KoreanText`."""

    def sentences(self, text: str) -> list[tuple[int, int]]: ...
    def tokens(self, text: str) -> list[str]: ...
    def tokens_batch(self, texts: Sequence[str]) -> list[list[str]]: ...
    def key_terms(self, text: str) -> list[str]: ...


# ---------------------------------------------------------------- prompts


class PromptError(ValueError):
    """A prompt file that cannot be rendered: the message names the missing or unknown placeholder."""


def render_prompt(template: str, **values: str) -> str:
    """`str.format` that refuses a missing *or* an unused placeholder (both are typos)."""
    names = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    missing = names - values.keys()
    if missing:
        raise PromptError(f"prompt placeholder(s) without a value: {', '.join(sorted(missing))}")
    unused = values.keys() - names
    if unused:
        raise PromptError(f"value(s) for placeholder(s) the prompt does not have: {', '.join(sorted(unused))}")
    return template.format(**values)


@dataclass(frozen=True)
class Prompts:
    system: str
    answer: str
    condense: str
    refusal: str

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR) -> "Prompts":
        """Read the four prompt files; the refusal text is filled into the system prompt."""
        try:
            raw = {name: (directory / f"{name}.txt").read_text(encoding="utf-8") for name in
                   ("system", "answer", "condense", "refusal")}
        except FileNotFoundError as exc:
            raise PromptError(f"prompt file missing: {exc.filename}") from exc
        refusal = raw["refusal"].strip()
        return cls(
            system=render_prompt(raw["system"], refusal=refusal).strip(),
            answer=raw["answer"],
            condense=raw["condense"],
            refusal=refusal,
        )


def format_evidence(evidence: Sequence[Evidence]) -> str:
    """Numbered lines "[n] sentence"; an article's title follows its first sentence only, to give
    the sentences a subject without paying for the same title in every line."""
    lines = []
    titled: set[str] = set()
    for ev in evidence:
        line = f"[{ev.n}] {ev.text}"
        if ev.title and ev.doc_id not in titled:
            titled.add(ev.doc_id)
            line += f" (기사: {_short(ev.title, 30)})"
        lines.append(line)
    return "\n".join(lines)


def trim_evidence(evidence: Sequence[Evidence], max_evidence: int, max_chars: int) -> list[Evidence]:
    """The best evidence that fits the prompt budget, renumbered from 1 (input is best-first)."""
    chosen: list[Evidence] = []
    used = 0
    for ev in evidence:
        if len(chosen) >= max_evidence:
            break
        if chosen and used + len(ev.text) > max_chars:
            continue
        used += len(ev.text)
        chosen.append(replace(ev, n=len(chosen) + 1))
    return chosen


def build_messages(prompts: Prompts, question: str, evidence: Sequence[Evidence]) -> list[dict[str, str]]:
    """System rules first and always identical, so the backend can keep their KV cache."""
    user = render_prompt(prompts.answer, evidence=format_evidence(evidence), question=question.strip())
    return [{"role": "system", "content": prompts.system}, {"role": "user", "content": user.strip()}]


def build_condense_messages(prompts: Prompts, question: str, history: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    lines = [("사용자" if role == "user" else "도우미") + ": " + _short(text, 300) for role, text in history]
    user = render_prompt(prompts.condense, history="\n".join(lines), question=question.strip())
    return [{"role": "user", "content": user.strip()}]


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- evidence selection


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
    q_terms = _weighted_terms(question, korean)
    analyzed = korean.tokens_batch([c[3] for c in candidates] + [c[4] for c in candidates])
    sent_terms = [set(t) for t in analyzed[: len(candidates)]]
    context_terms = [set(t) for t in analyzed[len(candidates):]]
    idf = _idf(q_terms, sent_terms)
    scored = []
    for (hit, start, end, text, _), terms, context in zip(candidates, sent_terms, context_terms):
        overlap = _coverage(q_terms, idf, terms, context) + _shape_bonus(question, text)
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


def _weighted_terms(text: str, korean: Tokenizer) -> dict[str, float]:
    """Question terms with weights: names and numbers count double (they decide the answer).

    An English question also gets the Korean forms of its domain words (`rag.glossary`)."""
    text = with_glosses(text)
    key = set(korean.key_terms(text))
    weights: dict[str, float] = {}
    for term in korean.tokens(text):
        if term in _QUESTION_WORDS:
            continue
        if any(term != other and term in other for other in key):
            # "lg" / "유플러스" of "lg유플러스": a partial match is worth little, and the full name
            # must not count three times
            weights[term] = 0.3
        else:
            weights[term] = 2.0 if term in key else 1.0
    return weights


# what kind of answer the question wants, and the shape such an answer takes in a sentence
_ANSWER_SHAPES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = tuple(
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
_VALUE_SHAPES = _ANSWER_SHAPES[:-2]


def _shape_bonus(question: str, sentence: str) -> float:
    """Favour sentences holding the kind of value asked for (an amount for "얼마", a count for "몇 명")."""
    for asked, shape in _ANSWER_SHAPES:
        if asked.search(question):
            return 0.35 if shape.search(sentence) else 0.0
    return 0.0


def _idf(q_terms: dict[str, float], pool: Sequence[set[str]]) -> dict[str, float]:
    n = len(pool) or 1
    return {t: 1.0 + math.log((n + 1) / (1 + sum(1 for s in pool if t in s))) for t in q_terms}


def _coverage(q_terms: dict[str, float], idf: dict[str, float], terms: set[str],
              context: set[str] = frozenset()) -> float:
    """Share of the question's weighted terms found in `terms` (half credit when only in `context`)."""
    total = sum(w * idf.get(t, 1.0) for t, w in q_terms.items())
    if not total:
        return 0.0
    found = sum(w * idf.get(t, 1.0) * (1.0 if t in terms else 0.5 if t in context else 0.0)
                for t, w in q_terms.items())
    return found / total


# words that only shape a question; their absence from a passage says nothing
_QUESTION_WORDS = frozenset(
    {"누구", "무엇", "무슨", "어디", "언제", "얼마", "얼마씩", "얼마짜리", "얼마나", "몇", "어떤", "어떻다", "어느", "왜", "이름", "뭐", "모두", "총",
     "각각", "가장", "받다", "하다", "되다", "what", "who", "where", "when", "which", "how", "many", "much",
     "name", "was", "did", "does", "do", "will", "its", "it", "they", "their", "s"}
)


# ---------------------------------------------------------------- citations


_MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\s*\]")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_YEAR = re.compile(r"^(19|20)(\d\d)$")


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer and the evidence numbers it cites."""

    text: str  # without the [n] markers
    cites: tuple[int, ...]


def parse_citations(text: str) -> list[int]:
    """Every cited number in order of appearance: "[1] … [2, 3]" -> [1, 2, 3]."""
    return [int(n) for m in _MARKER.finditer(text) for n in re.split(r"[,，]", m.group(1))]


def split_claims(text: str, korean: Tokenizer) -> list[Claim]:
    """Sentences of an answer with their markers; a marker opening a sentence belongs to the one before."""
    claims: list[Claim] = []
    for a, b in korean.sentences(text):
        sentence = text[a:b]
        lead = re.match(r"^(?:\s*\[\s*\d{1,3}(?:\s*[,，]\s*\d{1,3})*\s*\][.!?。]?)+", sentence)
        if lead and claims:
            prev = claims[-1]
            claims[-1] = Claim(prev.text, prev.cites + tuple(parse_citations(lead.group())))
            sentence = sentence[lead.end():]
        if not _MARKER.sub("", sentence).strip(" .!?。"):
            continue
        body = " ".join(_MARKER.sub("", sentence).split())
        body = re.sub(r"\s+([.!?,。])", r"\1", body)
        claims.append(Claim(body, tuple(parse_citations(sentence))))
    return claims


def verify_answer(
    answer_text: str,
    evidence: Sequence[Evidence],
    korean: Tokenizer,
    min_support: float,
    question: str | None = None,
    fallback: bool = True,
) -> tuple[str, tuple[Citation, ...]]:
    """Keep the claims their citations support; drop unsupported citations and uncited claims.

    A citation supports a claim when every number and name of the claim occurs in the cited
    sentence (or its article title), and at least `min_support` of the claim's terms do.
    If nothing survives and `question` is given, the extractive answer is returned instead
    (`fallback=False` returns ("", ()) so the caller can decide).
    """
    by_n = {ev.n: ev for ev in evidence}
    # an English question gets "LG Innotek" for "LG이노텍": English names cannot be checked literally
    latin_names = not (question is not None and _mostly_latin(question))
    kept: list[str] = []
    support_of: dict[int, float] = {}
    asked = set(korean.tokens(question)) if question is not None else set()
    for claim in split_claims(answer_text, korean):
        valid = [n for n in dict.fromkeys(claim.cites) if n in by_n]
        if not valid:
            continue
        if asked and not _adds_to(claim.text, asked, korean):
            continue  # "… 금액은 다음과 같습니다 [1][2]": the question said back, nothing answered
        good = [n for n in valid if claim_support(claim.text, [by_n[n]], korean, min_support, latin_names) is not None]
        if not good and len(valid) > 1:
            # facts split across several cited sentences: accept the set, keep the ones that contribute
            if claim_support(claim.text, [by_n[n] for n in valid], korean, min_support, latin_names) is not None:
                good = [n for n in valid if _contributes(claim.text, by_n[n], korean)]
        if not good:
            # the model cited a neighbour of the sentence that holds a fact ("SKT" in the sentence
            # before the amount): given sentences of the same articles may complete the support
            good = _repair_citations(claim.text, valid, evidence, korean, min_support, latin_names)
        if not good:
            continue
        for n in good:
            s = (claim_support(claim.text, [by_n[n]], korean, 0.0, latin_names)
                 or claim_support(claim.text, [by_n[m] for m in good], korean, 0.0, latin_names) or 0.0)
            support_of[n] = max(support_of.get(n, 0.0), s)
        body = claim.text.rstrip()
        end = body[-1] if body and body[-1] in ".!?。" else ""
        body = body[:-1] if end else body
        kept.append(f"{body} {''.join(f'[{n}]' for n in good)}{end or '.'}")
    if not kept:
        if question is not None and fallback:
            return extractive_answer(question, evidence, korean)
        return "", ()
    order = list(dict.fromkeys(parse_citations(" ".join(kept))))
    citations = tuple(_citation(by_n[n], support_of.get(n, 1.0)) for n in order)
    return " ".join(kept), citations


def claim_support(claim: str, cited: Sequence[Evidence], korean: Tokenizer, min_support: float,
                  latin_names: bool = True) -> float | None:
    """Lexical support of `claim` by the cited sentences, or None when a fact is missing there."""
    text = " ".join(ev.text for ev in cited)
    context = text + " " + " ".join(ev.title for ev in cited)
    # whole numbers only: "500" must not be found inside "5000", and an approximate "500여" of the
    # claim needs the same approximation in the evidence
    numbers = {m.group().replace(",", "").rstrip("."): m.end() for m in _NUMBER.finditer(context)}
    approx = {m.group().replace(",", "").rstrip(".") for m in _NUMBER.finditer(context)
              if context[m.end():m.end() + 1] == "여"}
    for m in _NUMBER.finditer(claim):
        digits = m.group().replace(",", "").rstrip(".")
        if len(digits) <= 1 or _year_in(digits, context):
            continue
        if digits not in numbers:
            return None
        if claim[m.end():m.end() + 1] == "여" and digits not in approx:
            return None
    if len(cited) > 1 and not _bound(claim, cited, korean):
        return None
    context_terms = set(korean.tokens(context))
    latin_claim = _mostly_latin(claim) and not _mostly_latin(text)
    for name in korean.key_terms(claim):
        if (latin_claim or not latin_names) and name.isascii() and not name.isdigit():
            continue  # English names ("LG Innotek") are spelled in Hangul in the evidence
        if len(name) > 1 and name not in context_terms and name not in context.lower():
            return None
    if _mostly_latin(claim) and not _mostly_latin(text):
        # an English answer over Korean evidence shares no words with it: its numbers (checked
        # above) are the only literal check left, so it must have at least one
        return 1.0 if any(len(n.replace(",", "")) > 1 for n in _NUMBER.findall(claim)) else None
    terms = [t for t in korean.tokens(claim) if t not in _QUESTION_WORDS]
    if not terms:
        return None
    evidence_terms = set(korean.tokens(text)) | context_terms
    support = sum(1 for t in terms if t in evidence_terms) / len(terms)
    return support if support >= min_support else None


# words of an answer's frame ("다음과 같습니다", "…입니다"): they answer nothing
_FRAME_WORDS = frozenset({"다음", "같다", "아래", "내용", "정리", "답변", "질문", "경우", "관련"})


def _adds_to(claim: str, asked: set[str], korean: Tokenizer) -> bool:
    """Whether the claim says something the question did not: a number, or a content word."""
    if any(len(m.group().replace(",", "")) > 1 and m.group() not in asked for m in _NUMBER.finditer(claim)):
        return True
    return any(t not in asked and t not in _FRAME_WORDS and t not in _QUESTION_WORDS for t in korean.tokens(claim))


def _bound(claim: str, cited: Sequence[Evidence], korean: Tokenizer) -> bool:
    """Each number of the claim stands in one cited sentence with the name the claim gives it.

    "SKT: 160억원 [1][2]" with SKT in [1] and "LGU+ … 160억원" in [2] has every fact somewhere in
    the citations, and is still wrong: the name nearest before a number (the one the claim
    attributes it to) must be in the sentence holding the number, or in that article's title."""
    lowered = claim.lower()
    names = [(lowered.find(t), t) for t in korean.key_terms(claim) if len(t) > 1 and not t.isdigit()]
    names = sorted((at, t) for at, t in names if at >= 0)
    for m in _NUMBER.finditer(claim):
        digits = m.group().replace(",", "").rstrip(".")
        if len(digits) <= 1 or _YEAR.match(digits):
            continue
        before = [t for at, t in names if at + len(t) <= m.start()]
        if not before:
            continue
        spellings = set(korean.key_terms(before[-1])) | {before[-1]}
        holders = [ev for ev in cited if _has_number(ev.text, digits)]
        if holders and not any(any(n in f"{ev.title}\n{ev.text}".lower() for n in spellings) for ev in holders):
            return False
    return True


def _has_number(text: str, digits: str) -> bool:
    return any(m.group().replace(",", "").rstrip(".") == digits for m in _NUMBER.finditer(text))


def _repair_citations(claim: str, valid: Sequence[int], evidence: Sequence[Evidence], korean: Tokenizer,
                      min_support: float, latin_names: bool) -> list[int]:
    """The cited sentences plus the fewest same-article sentences that hold the claim's missing
    numbers and names, when together they support it; [] otherwise."""
    by_n = {ev.n: ev for ev in evidence}
    docs = {by_n[n].doc_id for n in valid}
    cited = list(valid)
    facts = [m.group().replace(",", "").rstrip(".") for m in _NUMBER.finditer(claim)]
    facts = [f for f in facts if len(f) > 1]
    if latin_names:
        facts += [t for t in korean.key_terms(claim) if len(t) > 1 and not t.isdigit()]
    for fact in facts:
        if any(fact in by_n[n].text.replace(",", "").lower() for n in cited):
            continue
        holder = next((ev.n for ev in evidence if ev.doc_id in docs and ev.n not in cited
                       and fact in ev.text.replace(",", "").lower()), None)
        if holder is not None:
            cited.append(holder)
    if len(cited) == len(valid):
        return []
    if claim_support(claim, [by_n[n] for n in cited], korean, min_support, latin_names) is None:
        return []
    return sorted(cited)


def _contributes(claim: str, ev: Evidence, korean: Tokenizer) -> bool:
    return bool(set(korean.tokens(claim)) & set(korean.tokens(ev.text)))


def _year_in(digits: str, text: str) -> bool:
    """"2023" also matches the abbreviated "'23" of tables and press releases."""
    m = _YEAR.match(digits)
    return bool(m) and re.search(rf"['‘’]{m.group(2)}\b", text) is not None


def _citation(ev: Evidence, support: float) -> Citation:
    return Citation(n=ev.n, source=ev.doc_id, quote=ev.text, start=ev.start, end=ev.end, title=ev.title,
                    date=ev.date, publisher=ev.publisher, support=round(support, 3))


# ---------------------------------------------------------------- extractive answers


_MULTI_PART = re.compile(r"각각|모두 몇|두 (?:곳|가지|개|명|회사)|세 (?:곳|가지)|\band\b.*\beach\b|\bboth\b")


def extractive_answer(question: str, evidence: Sequence[Evidence], korean: Tokenizer,
                      max_sentences: int | None = None) -> tuple[str, tuple[Citation, ...]]:
    """The best supporting sentences, each cited: instant, and the fallback for every failure."""
    if not evidence:
        return "", ()
    multi = bool(_MULTI_PART.search(question))
    if max_sentences is None:
        max_sentences = 3 if multi else 2
    q_terms = _weighted_terms(question, korean)
    terms = [set(t) for t in korean.tokens_batch([ev.text for ev in evidence])]
    idf = _idf(q_terms, terms)
    # evidence.score already weighs the sentence's context (title, previous sentence) against the question
    ranked = sorted(range(len(evidence)),
                    key=lambda i: -(evidence[i].score + 0.2 * _coverage(q_terms, idf, terms[i])
                                    + 0.7 * _shape_bonus(question, evidence[i].text)))
    best = ranked[0]
    chosen = [best]
    shaped = any(asked.search(question) for asked, _ in _ANSWER_SHAPES)
    covered = set(terms[best]) & q_terms.keys()
    for i in ranked[1:]:
        if len(chosen) >= max_sentences:
            break
        new = (terms[i] & q_terms.keys()) - covered
        # another sentence only when it adds question terms the first one lacks, or, for a question
        # in several parts ("각각"), when it is nearly as good: the parts often share their words
        # ("각각 얼마"): every sentence holding a value of the asked kind may hold one of the parts
        close = multi and (evidence[i].score >= 0.8 * evidence[best].score
                           or (shaped and _shape_bonus(question, evidence[i].text) > 0
                               and evidence[i].score >= 0.7 * evidence[best].score))
        if (new and _coverage(q_terms, idf, terms[i]) >= 0.3) or close:
            chosen.append(i)
            covered |= terms[i] & q_terms.keys()
    if multi:
        # a question in several parts names each part ("SKT와 LGU+ … 각각"): a name no chosen sentence
        # mentions gets the best sentence that does
        lowered = [ev.text.lower() for ev in evidence]
        for name in (t for t in korean.key_terms(question) if len(t) > 1 and not t.isdigit()):
            if len(chosen) >= max_sentences + 1:
                break
            if any(name in lowered[i] for i in chosen):
                continue
            holders = [i for i in ranked if name in lowered[i]]
            # the holder that also carries the asked kind of value, if any
            holder = next((i for i in holders if _shape_bonus(question, evidence[i].text) > 0),
                          holders[0] if holders else None)
            if holder is not None:
                chosen.append(holder)
    if multi:
        # "A사가 맺은 협약과 B 행사에서 체결한 협약은 각각": each part's own words not yet covered
        # by a chosen sentence pick one more sentence
        for part in _question_parts(question):
            uncovered = {t: w for t, w in _weighted_terms(part, korean).items()
                         if not any(t in terms[i] for i in chosen)}
            if not uncovered or len(chosen) >= max_sentences + 2:
                continue
            part_idf = _idf(uncovered, terms)
            holder = max((i for i in ranked if i not in chosen),
                         key=lambda i: _coverage(uncovered, part_idf, terms[i]), default=None)
            if holder is not None and _coverage(uncovered, part_idf, terms[holder]) >= 0.5:
                chosen.append(holder)
    chosen.sort(key=lambda i: (evidence[i].doc_id, evidence[i].start))
    text = " ".join(f"{_strip_end(evidence[i].text)} [{evidence[i].n}]." for i in chosen)
    return text, tuple(_citation(evidence[i], 1.0) for i in chosen)


def _question_parts(question: str) -> list[str]:
    """The parts of "X와 Y는 각각 …" / "X and Y": split at a conjunction after a Hangul noun."""
    parts = re.split(r"(?<=[가-힣])(?:과|와)\s+|\s+and\s+", question)
    return [p for p in parts if len(p.strip()) > 1] if len(parts) > 1 else []


def _strip_end(sentence: str) -> str:
    return sentence.strip().rstrip(".。")


# ---------------------------------------------------------------- refusal


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
    key = [t for t in dict.fromkeys(korean.key_terms(question)) if len(t) > 1 and t not in _QUESTION_WORDS]
    # "lg" of "lg이노텍" would match LG전자's article: check the whole name only
    key = [t for t in key if not any(t != other and t in other for other in key)]
    if english:
        # English words never occur in the Korean articles: numbers, and the organizations the
        # glossary knows by their Korean names, are what can be checked literally
        glossed = dict.fromkeys(t for name in korean_names(question) for t in korean.key_terms(name) if len(t) > 1)
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
                       or (names and _year_in(term, txt) and any(n in hit_terms[i] for n in names))]
        else:
            holders = [i for i, terms in enumerate(hit_terms) if term in terms or term in texts[i].lower()]
        if not holders:
            missing.append(term)
    if missing:
        return Grounding(False, "question names something the articles do not mention", tuple(missing))
    if not _value_near_name(question, hits, names, korean):
        # "현대자동차의 펀드 규모는?": the company is in a table row and an amount in another row
        return Grounding(False, "no passage gives the asked value next to the question's name", tuple(names))
    q_terms = _weighted_terms(question, korean)
    rest = {t: w for t, w in q_terms.items() if t not in key}
    if not rest or english:
        # nothing left to measure (or no shared words across languages): the other signals decide
        return Grounding(True, coverage=1.0, anchored=1.0)
    ev_terms = [set(t) for t in korean.tokens_batch([ev.text for ev in evidence])]
    idf = _idf(rest, ev_terms + hit_terms)
    coverage = max(_coverage(rest, idf, t) for t in ev_terms)
    chunk_idf = _idf(rest, hit_terms)  # not the evidence pool: its size depends on the prompt budget
    anchored = max((_coverage(rest, chunk_idf, hit_terms[i]) for i in range(len(hits))
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
    shape = next((shape for asked, shape in _VALUE_SHAPES if asked.search(question)), None)
    if shape is None or not names or _MULTI_PART.search(question):
        return True
    for hit in hits:
        chunk = hit.chunk
        previous = ""
        for a, b in korean.sentences(chunk.text):
            sentence = chunk.text[a:b]
            if shape.search(sentence):
                paragraph = chunk.text[chunk.text.rfind("\n", 0, a) + 1:b]
                scope = f"{chunk.title}\n{previous}\n{paragraph}".lower()
                if any(name in scope for name in names):
                    return True
            previous = sentence
    return False


_REFUSAL_CUES = ("찾을 수 없", "답을 찾을 수", "알 수 없", "정보가 없", "언급되어 있지 않", "나와 있지 않",
                 "not in the context", "cannot find", "can't find", "no information", "does not say",
                 "not mentioned", "do not mention", "don't mention")


def is_refusal(text: str, refusal: str) -> bool:
    """The generator's own verdict that the evidence lacks the answer."""
    compact = " ".join(text.split())
    if not compact:
        return False
    if refusal and refusal.rstrip(".") in compact:
        return True
    lowered = compact.lower()
    return any(cue in lowered for cue in _REFUSAL_CUES) and not _MARKER.search(compact)


