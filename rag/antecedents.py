"""What a follow-up's reference word stands for, read from the previous question's shape.

A question is a topic and what is said of it. "LG전자 협력회 워크숍은 어디서 열렸어?" says something of
its topic, so "거기" after it is the workshop. "LG이노텍의 동반성장 펀드 규모는?" asks for an attribute
(규모) of its topic: "거기" after it is LG이노텍, never the asked slot. "중기부 장관이 간담회를 연 곳은?"
describes what it asks for: "거기" after it is that place — the answer when the answer is a bare name,
else the description itself ("중기부 장관이 간담회를 연 곳에서 …"), which is a standalone noun phrase.
Read from Kiwi's tags and rag.slots (what a question asks for), never from lists of names.

    antecedent(history, "place", korean)   # "LG이노텍" after "LG이노텍의 동반성장 펀드 규모는?"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, Sequence

from rag.korean import Morpheme, closes_word
from rag.slots import asked_slot
from rag.types import Turn
from rag.vocabulary import Lexicon


class Analyzer(Protocol):
    """What the follow-up rules read of a text (rag.korean.KoreanText satisfies it)."""

    def key_terms(self, text: str) -> list[str]: ...
    def morphemes_batch(self, texts: Sequence[str]) -> list[list[Morpheme]]: ...
    @property
    def lexicon(self) -> Lexicon: ...


# a clause inside the topic ("간담회를 연 곳"): a verb, an adjective, their endings, an object or adverbial case
_CLAUSE_TAGS = frozenset({"VV", "VA", "VX", "XSV", "XSA", "ETM", "EC", "EP", "JKO", "JKB"})
_VERB_TAGS = frozenset({"VV", "VA", "VX", "XSV", "XSA"})
# which asked slots a reference of each kind can stand for ("거기" a place or an organization, "그 사람" a person)
_KIND_SLOTS = {"place": frozenset({"place", "organization"}), "person": frozenset({"person"}),
               "organization": frozenset({"organization"})}
# a topic longer than this is a clause retold, not a name to put in place of "거기"
_MAX_TOPIC = 40
# an answer of at most this many characters that is one noun phrase ("기술보증기금입니다.") is the referent itself
_MAX_SHORT_ANSWER = 30
# an answer's citation marks (" [1]", " [2, 3]"): no part of what it names
CITATION_MARK = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


@dataclass(frozen=True)
class Topic:
    """The previous question's topic phrase as written, and how the question treats it: "event" (something
    is said of it: "…은 어디서 열렸어?"), "attribute" (one of its attributes is asked: "…의 규모는?") or
    "description" (it describes what is asked: "…를 연 곳은?"); its possessor ("LG이노텍" of "LG이노텍의 …")."""

    text: str
    shape: str
    owner: str
    slot: str  # what the question asks for (rag.slots): "place", "person", "amount", … or ""
    # the word the topic marks as its subject (이/가) or possessor (의), particle off: "KT" of "국내 IT 기업 중 KT가
    # 출연하는 금액은?" and of "삼성과 협력한 KT의 펀드 규모는?"; "" when it marks neither
    subject: str = ""


def question_topic(question: str, korean: Analyzer) -> Topic | None:
    """The topic of a question: the words before its first topic particle (은/는), else before its first
    subject particle (이/가); None when it has neither."""
    morphemes = korean.morphemes_batch([question])[0]
    # "그럼 KT는?": a conjunction or interjection before the topic is not part of it
    lead = next((i for i, m in enumerate(morphemes) if m[0] not in ("MAJ", "IC")), len(morphemes))
    morphemes = morphemes[lead:]
    cut = next((i for i, (tag, form, _, _) in enumerate(morphemes) if tag == "JX" and form in ("은", "는")), None)
    if cut is None:
        cut = next((i for i, (tag, form, _, _) in enumerate(morphemes) if tag == "JKS" and form in ("이", "가")), None)
    if not cut:
        return None
    start = morphemes[0][2]
    text = question[start:morphemes[cut][2]].strip()
    inside, after = morphemes[:cut], morphemes[cut + 1:]
    slot = asked_slot(morphemes, korean.lexicon).slot
    if any(tag in _CLAUSE_TAGS for tag, _, _, _ in inside):
        shape = "description"
    elif any(tag in _VERB_TAGS for tag, _, _, _ in after):
        shape = "event"
    else:  # nothing but a question word and the copula after it ("…규모는?", "…대표는 누구야?")
        shape = "attribute"
    owner = ""
    genitive = next((m for m in inside if m[0] == "JKG"), None)
    # the subject particle may be what ends the topic ("KT가 출연하는 …" has no 은/는)
    marked = next((m for m in morphemes[:cut + 1] if m[0] == "JKS"), genitive)
    subject = question[question.rfind(" ", 0, marked[2]) + 1:marked[2]].strip() if marked else ""
    if genitive is not None:
        owner = question[start:genitive[2]].strip()
    elif shape == "attribute":
        # "KT 상생협력 펀드 규모" -> "KT 상생협력 펀드"; a topic of one word asked of as a whole ("그럼 KT는?") is its own
        owner = text.rsplit(" ", 1)[0] if " " in text else text
    return Topic(text, shape, owner, slot, subject)


def antecedent(history: Sequence[Turn], kind: str, korean: Analyzer) -> str:
    """What a reference of `kind` ("place", "person", "time", "organization") in the next question stands for, from the
    latest user turn and the answer after it; "" when the shape of that question does not say."""
    index = next((i for i in range(len(history) - 1, -1, -1) if history[i].role == "user"), None)
    if index is None:
        return ""
    topic = question_topic(history[index].content.strip(), korean)
    if topic is None:
        return ""
    if topic.shape == "event":
        # something is said of the topic: "거기" / "그때" is that event or thing; whether it is a person or
        # a company no tag says, so "그 사람" and "그 회사" are not read as it (the names are carried instead)
        return _named(topic.text, korean) if kind in ("place", "time") else ""
    if kind in _KIND_SLOTS and topic.slot in _KIND_SLOTS[kind]:
        # the reference points at what was asked: the answer when it is a bare name, else the question's words for it
        answer = next((t.content for t in history[index + 1:] if t.role == "assistant"), "")
        return short_answer(answer, korean) or _named(topic.text, korean)
    if topic.shape == "attribute" and kind != "organization":
        return _named(topic.owner, korean)
    return ""


def short_answer(answer: str, korean: Analyzer) -> str:
    """The answer when it is one noun phrase ("기술보증기금입니다 [1]." -> "기술보증기금"), else ""."""
    text = CITATION_MARK.sub("", answer).strip()
    if not text or len(text) > _MAX_SHORT_ANSWER:
        return ""
    morphemes = korean.morphemes_batch([text])[0]
    end = next((i for i, (tag, _, _, _) in enumerate(morphemes) if closes_word(tag)), len(morphemes))
    if end == 0 or any(tag not in ("VCP", "SF") and not tag.startswith("E") for tag, _, _, _ in morphemes[end:]):
        return ""
    return text[:morphemes[end - 1][3]].strip()


def _named(text: str, korean: Analyzer) -> str:
    """`text` when it names something (a term of two characters or more) and is short enough to stand for a name."""
    if not text or len(text) > _MAX_TOPIC:
        return ""
    return text if [t for t in korean.key_terms(text) if len(t) > 1] else ""


# particles written after a name, by whether the name ends in a consonant: (after a consonant, after a vowel)
# (only those rag.conversation re-attaches: its reference words' particles)
_ALLOMORPHS = [("은", "는"), ("이", "가"), ("을", "를"), ("과", "와"), ("으로", "로")]
_BY_FORM = {form: pair for pair in _ALLOMORPHS for form in pair}
# how Latin letters and digits are read aloud ends in a consonant for these ("엘", "엠", "엔", "알"; 영 일 삼 육 칠 팔),
# in ㄹ for some of them ("엘", "알"; 일 칠 팔), which takes "로" for "으로"
_SPOKEN_CONSONANT = set("LMNRlmnr013678")
_SPOKEN_RIEUL = set("LRlr178")


def with_particle(name: str, particle: str) -> str:
    """`name` followed by `particle` in the form its last sound takes: "LG이노텍" + "는" -> "LG이노텍은",
    "SKT" + "은" -> "SKT는"; "으로" after ㄹ is "로" ("서울로")."""
    # a particle stacked on another ("과는", "으로도") takes its form from the first
    first = next((form for form in sorted(_BY_FORM, key=len, reverse=True) if particle.startswith(form)), "")
    if not first or not name:
        return name + particle
    pair, rest = _BY_FORM[first], particle[len(first):]
    last = name[-1]
    if "가" <= last <= "힣":
        final = (ord(last) - 0xAC00) % 28
        consonant, rieul = final != 0, final == 8
    elif last.isascii() and last.isalnum():
        consonant, rieul = last in _SPOKEN_CONSONANT, last in _SPOKEN_RIEUL
    else:  # a bracket, a quote: the particle as the user wrote it
        return name + particle
    if pair == ("으로", "로") and rieul:
        return name + "로" + rest
    return name + pair[0 if consonant else 1] + rest
