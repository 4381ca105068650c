"""Phrase answers: the noun phrase of a claim that answers a question no kind of value answers —
"고려국사" for "1395년 정도전은 정총 등과 함께 무엇을 편찬하였나?", "올리브 가지" for "…시리아 국기와
무엇을 들고 …?" — read with Kiwi's tags, chosen by a model fitted on the calibration split.

    phrase = best_phrase(question, claim, korean, model)   # "" when no candidate is likely enough

Candidates are the claim's runs of noun pieces (joined across one space), the same with the question's own
words cut off their edges or cut out of them, and quoted or bracketed text. Each gets features: how far it
is from the question's words in the claim, whether the words beside it are the ones beside the question
word ("국기와 무엇을 들고" / "국기와 올리브 가지를 들고"), its particle and the verb after it, whether it
sits at the question's last noun, how much of it the question already says, its shape (a proper noun,
Latin letters, digits, quoted) and length. A listwise logit (`python -m eval.fit phrase`,
rag/fitted/phrase.json) orders them; the best is the answer when its share of the softmax over the claim's
candidates reaches the model's threshold, chosen on the calibration split for precision. A question
whose answer is a sentence (왜, 어떻게: slot "sentence" in question_words.tsv) gets none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

from rag.evidence import Tokenizer, question_terms
from rag.ranker import LogisticModel
from rag.slots import Morpheme

# what a run of noun pieces is made of ("서밋 엔터테인먼트", "제2시민아파트"); Kiwi tags a hyphen or a
# middle dot as a symbol of its own, so "GP-슈트레케" is two runs
_NOUN_PIECES = ("NNG", "NNP", "NNB", "NR", "SN", "SL", "SH", "XPN", "XSN", "XR")
# what may part two pieces of one run: nothing, a space, a hyphen or a middle dot
_RUN_GAP = re.compile(r"^[ \-·]?$")
# text in quotes or brackets is a title or a term as written ("《고려국사》", "'연구 카메라'")
_QUOTED = re.compile(r"《([^》]{1,40})》|「([^」]{1,40})」|『([^』]{1,40})』|〈([^〉]{1,40})〉|\"([^\"]{1,40})\""
                     r"|“([^”]{1,40})”|'([^']{1,40})'|‘([^’]{1,40})’")
_CONTENT = ("NN", "SL", "SN", "SH", "VV", "VA", "NR")
_LONGEST = 40  # characters: a longer stretch is a clause, not a phrase

FEATURES = ("log_dist", "near_anchor", "anchor_left", "anchor_right", "qfrac", "all_q", "no_noun", "head_after",
            "head_before", "head_in", "gen_before", "particle_match", "obj_particle", "subj_particle",
            "topic_particle", "verb_match", "wh_verb_match", "copula", "quote", "is_run", "is_trim", "is_seg",
            "nnp", "latin", "digit", "n_morph", "log_len", "pos", "has_wh", "left_match", "right_match",
            "prev_known", "next_known")


@dataclass(frozen=True)
class Shape:
    """What a question says around its gap: its terms, its last noun, the question word's particle and
    verb, and the content words just before and after the question word."""

    known: frozenset[str]
    head: str = ""
    wh_particle: str = ""
    wh_verb: str = ""
    verbs: frozenset[str] = frozenset()
    left: str = ""
    right: str = ""
    has_wh: bool = False
    sentence: bool = False  # asks why or how: a sentence answers it


def question_shape(question: str, korean: Tokenizer) -> Shape:
    morphemes = korean.morphemes_batch([question])[0]
    lexicon = korean.lexicon
    wh_at = next((i for i, (_, form, *_) in enumerate(morphemes) if form.lower() in lexicon.wh_words), None)
    sentence = any(term_of(tag, form) in lexicon.sentence_words for tag, form, *_ in morphemes)
    wh_particle = wh_verb = right = ""
    content = [i for i, (tag, form, *_) in enumerate(morphemes)
               if tag.startswith(_CONTENT) and form.lower() not in lexicon.wh_words]
    at = wh_at if wh_at is not None else len(morphemes)
    left = next((term_of(*morphemes[i][:2]) for i in reversed(content) if i < at), "")
    if wh_at is not None:
        wh_particle = next((form for tag, form, *_ in morphemes[wh_at + 1:wh_at + 3] if tag.startswith("J")), "")
        wh_verb = next((term_of(tag, form) for tag, form, *_ in morphemes[wh_at + 1:] if tag.startswith(("VV", "VA", "XSV"))), "")
        right = next((term_of(*morphemes[i][:2]) for i in content if i > wh_at), "")
    return Shape(known=frozenset(question_terms(question, korean)), head=_head(morphemes), wh_particle=wh_particle,
                 wh_verb=wh_verb, verbs=frozenset(term_of(t, f) for t, f, *_ in morphemes if t.startswith(("VV", "VA"))),
                 left=left, right=right, has_wh=wh_at is not None, sentence=sentence)


def candidates(shape: Shape, claim: str, morphemes: Sequence[Morpheme]) -> dict[tuple[int, int], set[str]]:
    """Character spans of the claim that could be the phrase, each with how it was found."""
    found: dict[tuple[int, int], set[str]] = {}

    def add(start: int, end: int, kind: str) -> None:
        piece = claim[start:end].strip()
        if piece and len(piece) <= _LONGEST:
            start = claim.index(piece, start)
            found.setdefault((start, start + len(piece)), set()).add(kind)

    for run in _runs(morphemes, claim):
        asked = [term_of(*morphemes[i][:2]) in shape.known for i in run]
        add(morphemes[run[0]][2], morphemes[run[-1]][3], "run")
        first, last = 0, len(run)
        while first < last and asked[first]:
            first += 1
        while last > first and asked[last - 1]:
            last -= 1
        if first < last and (first, last) != (0, len(run)):
            add(morphemes[run[first]][2], morphemes[run[last - 1]][3], "trim")
        piece: list[int] = []
        for i, said in zip(run + [-1], asked + [True]):
            if said and piece:
                add(morphemes[piece[0]][2], morphemes[piece[-1]][3], "seg")
                piece = []
            elif not said:
                piece.append(i)
    for match in _QUOTED.finditer(claim):
        group = next(g for g in range(1, 9) if match.group(g) is not None)
        add(match.start(group), match.end(group), "quote")
    return found


def phrase_features(shape: Shape, claim: str, morphemes: Sequence[Morpheme],
                    found: dict[tuple[int, int], set[str]]) -> tuple[list[tuple[int, int]], dict[str, list[float]]]:
    """The candidates' spans and their feature columns (FEATURES)."""
    known = shape.known
    anchors = [(s + e) / 2 for t, f, s, e in morphemes if term_of(t, f) in known and not t.startswith(("J", "E", "S"))]
    heads = [(s, e) for _, f, s, e in morphemes if f.lower() == shape.head]  # no form is "" (no head)
    length = max(len(claim), 1)
    spans = list(found)
    columns: dict[str, list[float]] = {name: [] for name in FEATURES}
    for (start, end) in spans:
        kinds = found[(start, end)]
        nouns = [(t, f) for t, f, s, e in morphemes if s >= start and e <= end and t.startswith(_NOUN_PIECES)]
        share = sum(term_of(t, f) in known for t, f in nouns) / max(len(nouns), 1)
        distance = min((abs((start + end) / 2 - a) for a in anchors), default=length)
        after = [m for m in morphemes if m[2] >= end]
        before = [m for m in morphemes if m[3] <= start]
        following = after[0] if after else None
        particle = following[1] if following and following[0].startswith("J") else ""
        next_verb = next((term_of(t, f) for t, f, *_ in after if t.startswith(("VV", "VA"))), "")
        previous_word = next((term_of(t, f) for t, f, *_ in reversed(before) if t.startswith(_CONTENT)), "")
        next_word = next((term_of(t, f) for t, f, *_ in after if t.startswith(_CONTENT)), "")
        copula = bool(following and (following[0] == "VCP"
                                     or (following[0].startswith("J") and len(after) > 1 and after[1][0] == "VCP")))
        row = {
            "log_dist": math.log1p(distance), "near_anchor": distance < 15,
            "anchor_left": any(a < start for a in anchors), "anchor_right": any(a > end for a in anchors),
            "qfrac": share, "all_q": share == 1.0, "no_noun": not nouns,
            "head_after": any(0 <= start - he <= 1 for _, he in heads),  # "단장 윤덕용"
            "head_before": any(0 <= hs - end <= 1 for hs, _ in heads),  # "맷돌 춤"
            "head_in": any(hs >= start and he <= end for hs, he in heads),
            # "상생의 펀드": a one-syllable link and a space (a longer one, "이라는", is not read: the model was fitted so)
            "gen_before": any(0 <= hs - end <= 2 and claim[end:hs].strip() in ("의", "인", "란") for hs, _ in heads),
            "particle_match": bool(shape.wh_particle) and particle == shape.wh_particle,
            "obj_particle": particle in ("을", "를"), "subj_particle": particle in ("이", "가"),
            "topic_particle": particle in ("은", "는"),
            "verb_match": next_verb in shape.verbs,  # a question's verbs are never ""
            "wh_verb_match": bool(shape.wh_verb) and next_verb == shape.wh_verb,
            "copula": copula, "quote": "quote" in kinds, "is_run": "run" in kinds, "is_trim": "trim" in kinds,
            "is_seg": "seg" in kinds, "nnp": any(t == "NNP" for t, _ in nouns), "latin": any(t == "SL" for t, _ in nouns),
            "digit": any(ch.isdigit() for ch in claim[start:end]), "n_morph": len(nouns),
            "log_len": math.log1p(end - start), "pos": start / length, "has_wh": shape.has_wh,
            "left_match": bool(shape.left) and previous_word == shape.left,
            "right_match": bool(shape.right) and next_word == shape.right,
            "prev_known": previous_word in known, "next_known": next_word in known,
        }
        for name in FEATURES:
            columns[name].append(float(row[name]))
    return spans, columns


def best_phrase(question: str, claim: str, korean: Tokenizer, model: LogisticModel) -> str:
    """The claim's phrase that answers the question, "" when the question asks why or how, or when the
    model's best candidate has less than its threshold of the softmax over the candidates."""
    shape = question_shape(question, korean)
    if shape.sentence:
        return ""
    scored = score_candidates(shape, claim, korean.morphemes_batch([claim])[0], model)
    if not scored:
        return ""
    share, (start, end) = scored[0]
    return claim[start:end].strip() if share >= model.threshold else ""


def score_candidates(shape: Shape, claim: str, morphemes: Sequence[Morpheme],
                     model: LogisticModel) -> list[tuple[float, tuple[int, int]]]:
    """(softmax share, span) of every candidate, best first."""
    spans, columns = phrase_features(shape, claim, morphemes, candidates(shape, claim, morphemes))
    if not spans:
        return []
    return sorted(zip(softmax(model.logits(columns)), spans), key=lambda t: (-t[0], t[1]))


def softmax(logits: Sequence[float]) -> list[float]:
    """Each logit's share of the softmax over all of them."""
    top = max(logits)
    weights = [math.exp(z - top) for z in logits]
    total = sum(weights)
    return [w / total for w in weights]


def _runs(morphemes: Sequence[Morpheme], claim: str) -> list[list[int]]:
    """Indices of maximal runs of noun pieces; a bound noun does not start one."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, (tag, _, start, _) in enumerate(morphemes):
        if tag.startswith(_NOUN_PIECES) and not (tag == "NNB" and not current):
            if current and not _RUN_GAP.match(claim[morphemes[current[-1]][3]:start]):
                runs.append(current)
                current = []
            current.append(i)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def _head(morphemes: Sequence[Morpheme]) -> str:
    """The question's last noun, past its particles and endings ("…경제지는?" -> 경제지). Unlike
    rag.slots' head word, a bound noun or a pronoun ("것", "무엇") is none: the model was fitted so."""
    for tag, form, _, _ in reversed(morphemes):
        if tag in ("NNG", "NNP", "SL", "NR", "SH"):
            return form.lower()
        if tag.startswith(("J", "E", "XS")) or tag in ("VCP", "SF", "SP", "SS", "SSO", "SSC", "SW", "SE"):
            continue
        return ""
    return ""


def term_of(tag: str, form: str) -> str:
    """A morpheme as the question's terms spell it (a verb or adjective stem with "다")."""
    return form.lower() + "다" if tag.startswith(("VV", "VA")) else form.lower()
