"""Follow-up questions made standalone: "그 회사의 펀드 규모는?" after a question about LG이노텍
becomes "LG이노텍의 펀드 규모는?", so retrieval finds the LG이노텍 article; "두 번째 사례에서 …" after
an answer listing two cases names the second case's names instead of the ordinal.

A cheap rule first (works in extractive mode and costs nothing); the answerer asks the LLM to
condense only when the rule finds nothing to carry over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from rag.antecedents import CITATION_MARK, Analyzer, antecedent, question_topic, with_particle
from rag.glossary import mostly_latin
from rag.grounding import unknown_names
from rag.types import Turn
from rag.vocabulary import Lexicon


# the particles a reference word may carry, longest first; what it carries is re-attached to what it stands for
_PARTICLES = "에서|에게|으로|에|서|의|은|는|이|가|을|를|도|와|과|로"
# a second particle stacked on the first ("거기에는", "그분과도") or one that stands alone ("그때부터"): part of the
# reference word too; any other letter glued on makes another word ("이분법", "회의록", "기업가는")
_STACKED = "에서는|에서도|으로는|에는|에도|서는|서도|로는|와는|과는|와도|과도|까지|부터|만"
# those a pronoun ending in a vowel takes ("그는", "그가"): "그은" is a verb (긋다, "선을 그은"), not "he"
_AFTER_VOWEL = "에게|의|는|가|를|도|와"


@dataclass(frozen=True)
class _References:
    referring: re.Pattern[str]  # "그 회사" / "해당 기업" / "이곳" … : replaced wholesale by the carried name
    pronoun: re.Pattern[str]  # bare pronouns that point back ("거기", "그들", "it")
    determiner: re.Pattern[str]  # a determiner before any noun ("그 펀드", "이 기사")
    # by kind ("place": "거기", "그 행사에"; "person": "그 사람은", "그는"; "time": "그때"): replaced by the
    # antecedent of that kind (rag.antecedents), the particle kept
    pointing: dict[str, re.Pattern[str]]


_COMPILED: dict[str, _References] = {}
# the pieces of a word that make it a verb or adjective ("참석한", "열린")
_VERB_PIECES = frozenset({"VV", "VA", "VX", "XSV", "XSA", "ETM", "EC", "EF", "EP"})


def _references(lexicon: Lexicon) -> _References:
    """The patterns of the lexicon's reference words (rag/lexicon/references.tsv), compiled once per lexicon."""
    found = _COMPILED.get(lexicon.fingerprint)
    if found is None:
        words = lexicon.references

        def alt(kind: str, keep=lambda w: True) -> str:
            return _alternation(w for w in words.get(kind, ()) if keep(w))

        det, noun = alt("determiner"), alt("noun")
        hangul, latin = alt("pronoun", lambda w: not w.isascii()), alt("pronoun", str.isascii)
        # a one-syllable word ("그") points at a person only with a particle on it ("그는"): bare, it is a determiner
        person = (rf"(?:{alt('person', lambda w: len(w) > 1)}|(?:{alt('person', lambda w: len(w) == 1)})"
                  rf"(?=(?:{_AFTER_VOWEL})(?![가-힣])))")
        found = _References(
            _whole_word(rf"(?:{det})\s*(?:{noun})(?:들)?"),
            re.compile(rf"(?<![가-힣])(?:{hangul})|\b(?:{latin})\b", re.IGNORECASE),
            re.compile(rf"(?<![가-힣])(?:{det})\s"),
            {"place": _whole_word(rf"{alt('place')}|(?:{det})\s*(?:{alt('event')})"),
             "person": _whole_word(person),
             "time": _whole_word(alt("time"))},
        )
        _COMPILED[lexicon.fingerprint] = found
    return found


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of `words`, longest first, the spaces inside a word optional ("두 번째" matches
    "두번째"); one that matches nothing when there are no words."""
    return "|".join(r"\s*".join(re.escape(part) for part in w.split())
                    for w in sorted(words, key=len, reverse=True)) or "(?!)"


def _whole_word(word: str) -> re.Pattern[str]:
    """A reference word standing as a word of its own, its particles (if any) in the group "particle"."""
    return re.compile(rf"(?<![가-힣])(?:{word})(?P<particle>{_STACKED}|{_PARTICLES})?(?![가-힣])")


# particles stripped from a carried name ("LG이노텍은" -> "LG이노텍")
_JOSA = re.compile(r"(?:은|는|이|가|을|를|의|에서|에게|에|와|과|도|로|으로|께서|이나|나|야|아|란|이란|까지|부터)$")


_ORDINALS: dict[str, re.Pattern[str]] = {}
# an answer's list: items separated by commas, "및" / "그리고" / "and", or one sentence or line each
_LIST_SEPARATOR = re.compile(r"\s*[,、;]\s*|\s+(?:및|그리고|and)\s+|(?<=[.!?])\s+|\n+")


def _ordinal_pattern(lexicon: Lexicon) -> re.Pattern[str]:
    """The lexicon's ordinals (rag/lexicon/ordinals.tsv) followed by the noun they pick ("두 번째 사례"),
    or an English phrase that holds it ("the second one"): "두 번째로" (secondly) picks nothing."""
    found = _ORDINALS.get(lexicon.fingerprint)
    if found is None:
        alt = _alternation(lexicon.ordinals)
        # a Korean ordinal stands before its noun; an English phrase ("the second one") holds it
        found = re.compile(rf"(?<![가-힣A-Za-z])(?:{alt})(?:(?=\s+\S)|(?<=[A-Za-z])\b)", re.IGNORECASE)
        _ORDINALS[lexicon.fingerprint] = found
    return found


def listed_items(answer: str, korean: Analyzer) -> list[list[str]]:
    """The names of each item an answer lists, in order ("A와 B의 …, C와 D의 … 사례가 소개되었습니다"
    -> [["A", "B"], ["C", "D"]]); pieces naming nothing are no items."""
    pieces = _LIST_SEPARATOR.split(CITATION_MARK.sub("", answer))
    return [names for names in (_surfaces(p, korean) for p in pieces if p.strip()) if names]


def pick_listed_item(question: str, history: Sequence[Turn], korean: Analyzer) -> str:
    """The question with its ordinal ("두 번째 사례") replaced by the names of that item of the latest
    answer's list, or "" when it picks none (no ordinal, no list of two or more, out of range)."""
    match = _ordinal_pattern(korean.lexicon).search(question)
    if match is None:
        return ""
    answer = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    items = listed_items(answer, korean)
    spaced = {"".join(w.split()): n for w, n in korean.lexicon.ordinals.items()}
    position = spaced.get("".join(match.group().lower().split()), 0)
    if len(items) < 2 or not 0 < abs(position) <= len(items):
        return ""
    item = items[position - 1 if position > 0 else position]
    return question[:match.start()] + " ".join(item) + question[match.end():]


def is_followup(question: str, history: Sequence[Turn], korean: Analyzer) -> bool:
    """A question that refers back: it has a pronoun, or names nothing while a conversation is going on."""
    if not any(t.role == "user" for t in history):
        return False
    patterns = _references(korean.lexicon)
    if patterns.referring.search(question) or patterns.pronoun.search(question) \
            or any(p.search(question) for p in patterns.pointing.values()):
        return True
    named = [t for t in korean.key_terms(question) if len(t) > 1]
    # "그 펀드는 언제 증액됐어?" points back; "이 기사에서 SKT는 무엇을 했어?" is a question of its own about SKT:
    # a determiner before a noun that is no reference word points back only in a question naming no one (a
    # number is no one: "그 2023년 실적은?")
    if patterns.determiner.search(question + " "):
        return not [t for t in named if not t[0].isdigit()]
    return not named


def opening_reference(question: str, history: Sequence[Turn], korean: Analyzer) -> str:
    """The reference word a question opens with when no earlier question can say what it stands for ("그 회사"
    of "그 회사의 펀드 규모는?" asked first, "그" of "그는 누구에게 밀려 …"), its particles left out; "" when the
    question opens otherwise or follows another. A reference later in a question mostly points inside it
    ("…한 뒤 그 자리에 조성된 것은?"), so only the opening word counts. Hangul only: "There …", "That …"
    open English questions without pointing back."""
    if any(t.role == "user" for t in history):
        return ""
    text = question.lstrip(" \t\"'“‘「(")
    patterns = _references(korean.lexicon)
    first = next(iter(korean.morphemes_batch([text])[0]), None)
    if first is not None and first[0] == "NNP":
        return ""  # "이 회장은 …", "이 대통령이 …": Kiwi reads a surname before a title, which names a person
    for pattern in (patterns.referring, patterns.pronoun, *patterns.pointing.values()):
        match = pattern.match(text)
        # a word of its own, particles aside: "이곳저곳에서" (here and there) opens with no "이곳"
        if match is None or match.group().isascii() or not _WORD_END.match(text, match.end()):
            continue
        particle = match.groupdict().get("particle")
        return match.group()[:len(match.group()) - len(particle or "")]
    # "그 규모는?" asked first: a determiner before a noun that is no reference word points back only in a
    # question naming no one, as in is_followup ("이 기사에서 SKT는 …" is a question of its own)
    match = patterns.determiner.match(text + " ")
    if match is not None and not [t for t in korean.key_terms(question) if len(t) > 1 and not t[0].isdigit()]:
        following = re.match(r"\s*(\S+)", text[match.end():])
        noun = _bare(following.group(1)) if following else ""
        return f"{match.group().strip()} {noun}".strip()
    return ""


# a word's end after a reference word: particles, then no more Hangul
_WORD_END = re.compile(rf"(?:{_STACKED}|{_PARTICLES})?(?![가-힣])")


def _bare(word: str) -> str:
    """A word without its punctuation, quotes and particles ("“회사”의" -> "회사")."""
    edge = _EDGE + "「」『』:;"
    word = word.strip(edge)
    return (_JOSA.sub("", word) or word).strip(edge)


def carried_names(history: Sequence[Turn], korean: Analyzer, limit: int = 4) -> list[str]:
    """Names (as written) from the latest user turn that has any, e.g. ["KT", "2018년도", "파트너스"]."""
    return next(_named_turns(history, korean, 1, limit), [])


def rewrite_followup(question: str, history: Sequence[Turn], korean: Analyzer) -> str:
    """The rule-based standalone question; unchanged when it is not a follow-up or nothing can be carried."""
    return _rewrite(question, history, korean, carried_names(history, korean))[0]


def with_earlier_subject(question: str, history: Sequence[Turn], korean: Analyzer,
                         turns: int = 2) -> tuple[str, tuple[str, ...]]:
    """For a follow-up the rule makes standalone by carrying the latest named question's names (no reference
    word it can resolve): the form that carries the names of up to `turns` named questions instead, the older
    ones' first, with the latest question's names (lower-case key terms) that its answer must be about; ("", ())
    when there is no such form.

    "대출 지원 규모는?" after "KT 파트너스 데이는 어디서 열렸어?" and "2018년 행사에는 몇 곳이 왔어?" is "2018년 대출 지원
    규모는?" by the rule (the latest names), and this "KT 파트너스 2018년 대출 지원 규모는?": the answerer tries it
    first, and takes it only from an article that names the latest names too — after a change of topic the older
    names would lead the answer back to the older article."""
    named = list(_named_turns(history, korean, turns))
    latest = _key_terms(named[0], korean) if named else ()
    if len(named) < 2 or not latest:
        # latest names with no key term read alone ("베드", what is left of "성 베드로 광장은"'s 베드로 once its last
        # letter is taken for a particle) leave nothing to hold the answer to: the older names would lead back to
        # the older article unchecked
        return "", ()
    names: list[str] = []
    for turn_names in named:
        names = _older_first(turn_names, names, korean)
    rule, ruled = _rewrite(question, history, korean, named[0])  # = rewrite_followup
    if ruled != "carried":
        # the rule resolved a reference word, or had nothing to carry and left the question to the LLM's condense
        # prompt (whose form is not to be replaced: "그 2018년 행사 규모는?" after a question naming only 2018)
        return "", ()
    form, how = _rewrite(question, history, korean, names)
    return (form, latest) if how == "carried" and form != rule else ("", ())


def _rewrite(question: str, history: Sequence[Turn], korean: Analyzer, names: Sequence[str]) -> tuple[str, str]:
    """(the rule-based standalone question, how it was made: "" unchanged, "resolved" by an ordinal, a contrasted
    name or a reference word, "carried" by putting `names` in front or in place of a referring expression)."""
    question = question.strip()
    # an ordinal can only point into the conversation's last answer: it is resolved first
    picked = pick_listed_item(question, history, korean)
    if picked:
        return picked, "resolved"
    swapped = swap_contrasted(question, history, korean) if any(t.role == "user" for t in history) else ""
    if swapped:
        return swapped, "resolved"
    if not is_followup(question, history, korean):
        return question, ""
    patterns = _references(korean.lexicon)
    for kind, pattern in patterns.pointing.items():
        # "거기 참석한 …" after "LG전자 협력회 워크숍은 어디서 열렸어?": the place is the event asked about;
        # "거기 대표는?" after "LG이노텍의 펀드 규모는?": the company, not its asked 규모 (rag.antecedents)
        match = pattern.search(question)
        if match is None or _points_inside(question[:match.start()], kind, korean):
            continue
        stands_for = antecedent(history, kind, korean)
        if stands_for:
            return (question[:match.start()] + _in_place_of(match, stands_for, kind, question, korean)
                    + question[match.end():]), "resolved"
    match = patterns.referring.search(question)
    if match is not None and not _points_inside(question[:match.start()], "organization", korean):
        # "그 회사의 …" after "… 대상을 받은 회사는?": the company asked about, not the names of the question
        stands_for = antecedent(history, "organization", korean)
        if stands_for:
            return (question[:match.start()] + with_particle(stands_for, match.group("particle") or "")
                    + question[match.end():]), "resolved"
    own = {t for t in korean.key_terms(question)}
    names = [n for n in names if not (set(korean.key_terms(n)) <= own)]
    if not names:
        return question, ""
    subject = " ".join(names)
    replaced, count = patterns.referring.subn(lambda m: with_particle(subject, m.group("particle") or ""), question, count=1)
    if count:
        return replaced, "carried"
    return f"{subject} {question}", "carried"


def _points_inside(before: str, kind: str, korean: Analyzer) -> bool:
    """Whether a reference word points at what its own question says before it: a time or place after a
    clause of the question ("…포함되지 못했는데 이때 …"), a person after a name ("김희선이 … 그녀가")."""
    if not before.strip():
        return False
    if kind in ("person", "organization"):
        return any(not t[0].isdigit() for t in korean.key_terms(before) if len(t) > 1)
    return any(tag in _VERB_PIECES for tag, _, _, _ in korean.morphemes_batch([before.strip()])[0])


def _in_place_of(match: re.Match[str], stands_for: str, kind: str, question: str, korean: Analyzer) -> str:
    """What replaces a reference word: its antecedent with the particle the word carried, in the form the
    antecedent's last sound takes ("그곳은" -> "LG이노텍은"); a bare "거기" before a verb is where ("…에 참석한"),
    before a noun whose ("거기 대표는" -> "LG이노텍 대표는")."""
    particle = match.group("particle") or ""
    if kind == "time":  # "그때" after "… 워크숍은 어디서 열렸어?": at the time of that event
        return f"{stands_for} 때{particle}"
    if particle.startswith("서"):  # "거기서는" -> "…에서는"
        particle = "에" + particle
    if particle or kind != "place":
        return with_particle(stands_for, particle)
    rest = question[match.end():]
    if rest[:1] and not rest[:1].isspace():  # glued to more than a particle: the rest is kept as written
        return stands_for
    word = rest.split()[0] if rest.split() else ""
    following = korean.morphemes_batch([word])[0] if word else []
    # "참석한" is a noun made a verb (참석 + 하 + ㄴ): the word's verb pieces decide, not its first one
    before_noun = bool(following) and not any(tag in _VERB_PIECES for tag, _, _, _ in following)
    return stands_for if before_noun else stands_for + "에"


def swap_contrasted(question: str, history: Sequence[Turn], korean: Analyzer) -> str:
    """"그럼 LG이노텍은?" after "KT가 공동 R&D에 출연하는 금액은?": the previous question asked of the new name
    ("LG이노텍이 공동 R&D에 출연하는 금액은?"), or "" when the question is more than a name and its particle.

    The name takes the place of the previous question's subject (rag.antecedents.question_topic), else of its
    first name of the name's own sort (a number for a number); the previous question is the latest whole one
    ("그럼 SKT는?" after "그럼 LG는?" asks what that asked)."""
    name = contrasted_name(question, korean)
    if not name:
        return ""
    previous, names = "", []
    for turn in reversed(history):
        if turn.role == "user":
            names = _surfaces(turn.content, korean)
            if names and not contrasted_name(turn.content, korean):
                previous = turn.content.strip()
                break
    numeric = name[0].isdigit()
    names = [n for n in names if n[0].isdigit() == numeric]
    if not previous or not names or name in previous:
        return ""
    topic = question_topic(previous, korean)
    replaced = topic.subject if topic is not None and topic.subject in names else names[0]
    # at the start of a word: the subject "KT" of "SKT와 겨루는 KT의 …" is not the end of "SKT"
    at = re.search(rf"(?<!\w){re.escape(replaced)}", previous)
    if at is None:
        return ""
    after = previous[at.end():]
    particle = next((p for p in sorted(_PARTICLES.split("|"), key=len, reverse=True) if after.startswith(p)), "")
    return previous[:at.start()] + with_particle(name, particle) + after[len(particle):]


def contrasted_name(question: str, korean: Analyzer) -> str:
    """The name of a question that is only a name and its particle ("그럼 LG이노텍은?" -> "LG이노텍"), else ""."""
    morphemes = korean.morphemes_batch([question.strip()])[0]
    # past a conjunction or interjection ("그럼", "그러면") and before the question mark: nouns, then 은/는/도
    core = [m for m in morphemes if m[0] not in ("MAJ", "IC", "SF")]
    nouns = [m for m in core if m[0] in ("NNP", "NNG", "NNB", "NR", "SL", "SN", "SH", "XSN")]
    tail = core[len(nouns):]
    if not nouns or core[:len(nouns)] != nouns or not tail or tail[-1][0] != "JX" or tail[-1][1] not in ("은", "는", "도") \
            or any(m[0] not in ("JKB", "JX") for m in tail):
        return ""
    name = question.strip()[nouns[0][2]:nouns[-1][3]].strip()
    # a name, not an attribute asked anew ("명나라식 이름은?", "2012년 영업손실 액은?"): one word, the whole of it
    # a name ("LG에너지솔루션") or made of name pieces only ("LG", "2019년")
    whole = " " not in name and (name.lower() in korean.key_terms(name)
                                 or all(m[0] in ("NNP", "SL", "SN", "SH", "NNB", "NR") for m in nouns))
    return name if whole and [t for t in korean.key_terms(name) if len(t) > 1] else ""


def with_carried_names(question: str, history: Sequence[Turn], korean: Analyzer,
                       turns: int = 2) -> list[tuple[str, tuple[str, ...]]]:
    """`question` with the names of the conversation's earlier questions in front — first those of the latest
    question that names anything, then those of the one before it as well, and so on, up to `turns` questions
    (fewer when they add nothing) — each form with the names its answer must still be about (the latest
    question's, as lower-case key terms; none for a form carrying the latest question's names only); [] when
    there are none to add. A name an older question wrote in full is carried once, in that form
    (`_older_first`); no older question's names are carried when the latest question's give no key term.

    Korean drops the subject a conversation has established ("공동 R&D에는 매년 얼마씩 내?" after a
    question about KT): the answerer tries these forms, in order, when the question alone finds no answer. A
    chat's second follow-up can name a year or a place and still leave out the subject its first question
    named ("KT 파트너스 데이는 어디서 열렸어?", "2018년 행사에는 몇 곳이 왔어?", "대출 지원 규모는?"): an older
    question's names are added to the latest one's, never put in their place, and a form with them answers only
    from an article that names the latest question's names too — after a change of topic ("삼성의 …?", then
    "LG이노텍의 …?") the older names must not lead the answer back to the older article."""
    own = set(korean.key_terms(question))
    forms: list[tuple[str, tuple[str, ...]]] = []
    names: list[str] = []
    latest: tuple[str, ...] = ()
    for place, turn_names in enumerate(_named_turns(history, korean, turns)):
        if place == 0:
            latest = _key_terms(turn_names, korean)
        elif not latest:
            break  # no older names where the answer cannot be held to the latest ones (as in with_earlier_subject)
        added = _older_first([n for n in turn_names if not (set(korean.key_terms(n)) <= own)], names, korean)
        if added != names:
            names = added
            forms.append((f"{' '.join(names)} {question.strip()}", latest if place else ()))
    return forms


def _key_terms(names: Sequence[str], korean: Analyzer) -> tuple[str, ...]:
    """The lower-case key terms of `names` longer than one letter: what an answer about them must name."""
    return tuple(t for n in names for t in korean.key_terms(n) if len(t) > 1)


def _older_first(older: Sequence[str], names: Sequence[str], korean: Analyzer) -> list[str]:
    """`older` names in front of `names`, each name once: an older one `names` holds already is left out
    ("2018년도" beside "2018년", "LG" beside "LG이노텍"), and one of `names` an older one holds gives way to it
    ("헤이그" after "알렉산더 헤이그": "알렉산더 헤이그 1950년", never "알렉산더 헤이그 1950년 헤이그")."""
    # (one question's names are told apart by `_surfaces` already)
    added = [n for n in older if not any(_holds(held, n, korean) for held in names)]
    return added + [n for n in names if not any(_holds(a, n, korean) for a in added)]


def _holds(name: str, other: str, korean: Analyzer) -> bool:
    """Whether `name` names `other` already: each of `other`'s key terms is one of `name`'s or a word of it."""
    terms = set(korean.key_terms(other))
    return name == other or bool(terms) and terms <= set(korean.key_terms(name)) | set(name.lower().split())


def _named_turns(history: Sequence[Turn], korean: Analyzer, turns: int, limit: int = 4) -> Iterator[list[str]]:
    """The names (as written, at most `limit` each) of the latest `turns` user turns that name anything, latest
    first."""
    found = 0
    for turn in reversed(history):
        if found >= turns:
            return
        if turn.role == "user":
            names = _surfaces(turn.content, korean)
            if names:
                found += 1
                yield names[:limit]


def _surfaces(text: str, korean: Analyzer) -> list[str]:
    """The words of `text` that hold a name or number, particles stripped, in order, no repeats; a name Kiwi
    reads across a space ("샤시 타루르의") is one surface ("샤시 타루르")."""
    terms = [t for t in korean.key_terms(text) if len(t) > 1]
    if mostly_latin(text):
        # Kiwi reads every English word as a foreign word, a key term ("when", "did", "fund"), so a turn "When did
        # it start the fund?" named four things and the next follow-up carried them: an English turn names what
        # it capitalizes past its first word, question words aside (as the refusal reads it), and its numbers
        capitalized = set(unknown_names(text, (), korean.lexicon))
        terms = [t for t in terms if not t.isascii() or t.isdigit() or all(w in capitalized for w in t.split())]
    spaced = sorted({t for t in terms if " " in t}, key=len, reverse=True)
    words = [word.strip(_EDGE) for word in text.split()]
    out: list[str] = []
    at = 0
    while at < len(words):
        core, taken = words[at], 1
        for term in spaced:
            width = len(term.split())
            joined = " ".join(words[at:at + width])
            if joined.lower().startswith(term):
                core, taken = joined, width
                break
        at += taken
        if taken > 1 or any(term in core.lower() for term in terms):
            core = _JOSA.sub("", core) if len(core) > 2 else core
            if core and core not in out:
                out.append(core)
    return out


_EDGE = "?!.,\"'“”‘’()[]"
