"""Korean text through one Kiwi analyzer: sentence spans and normalized index terms.

Chunking, the keyword index and citation checks all go through `KoreanText`, so a query and a
passage are always tokenized the same way; nobody else imports kiwipiepy.

    korean = KoreanText()
    korean.tokens("삼성전자는 1,030억 원 규모의 Fund를")  # ['삼성전자', '1030', '억', '1030억', '원', '규모', 'fund']
    korean.sentences("첫 문장이다. 둘째 문장이다.")     # [(0, 7), (8, 16)]
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from typing import TYPE_CHECKING, Any, Collection, Iterable, Mapping, NamedTuple, Sequence

from rag.vocabulary import Lexicon

if TYPE_CHECKING:  # kiwipiepy is imported lazily: loading its model takes ~2 s
    from kiwipiepy import Kiwi

# Bump when `tokens` would give other terms for the same text: caches of tokens must be rebuilt.
TOKENIZER_VERSION = "kiwi-terms-7"
# The user dictionary ("LGU+" NNP: Kiwi splits it into LGU / + / 늘) and alias groups ("중기부" =
# "중소벤처기업부") are data: rag/lexicon/user_words.tsv and aliases.tsv, extended by the user.

# Content tags kept as index terms; verb/adjective stems become their dictionary form (stem + 다).
_NOUN_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "XR", "SH", "SN", "SL", "W_HASHTAG", "W_SERIAL"})
_PREDICATE_TAGS = frozenset({"VV", "VA"})
# Pieces of a compound noun written without spaces; runs longer than this are rare and noisy.
# A noun prefix (XPN) belongs to its compound: Kiwi reads "최우수상을 각각" as 최 / 우수 / 상 but
# "최우수상을 받은" as one noun, and both must yield "최우수상".
_COMPOUND_TAGS = frozenset({"NNG", "NNP", "XPN", "XSN", "XR", "SN", "SL", "NR", "SH"})
_MAX_COMPOUND = 4
_NAME_PIECE_TAGS = frozenset({"NNG", "NNP", "SL"})  # what a name that starts with Latin letters goes on with
_KEY_TAGS = frozenset({"NNP", "SL", "SH", "SN", "W_SERIAL"})  # names, foreign words, numbers
# Very frequent words that carry no topic: they would only inflate lexical overlap.
_STOP_TERMS = frozenset(
    {"것", "수", "등", "바", "데", "때문", "따위", "하다", "되다", "있다", "이다", "않다",
     "a", "an", "the", "of", "and", "or", "to", "in", "on", "for", "by", "is", "are", "with"}
)
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
# Runs of one script inside a mixed name ("lg이노텍" -> "lg", "이노텍") so a part also matches.
_SCRIPT_RUNS = re.compile(r"[a-z0-9]+|[가-힣]+")
_HANGUL = re.compile(r"[가-힣]")
_JOINERS = frozenset("&+-")
_LATIN = re.compile(r"[a-z0-9]")


Morpheme = tuple[str, str, int, int]  # (tag, form, start, end)


def closes_word(tag: str) -> bool:
    """A particle, an ending, the copula or a punctuation mark (not Latin letters, numbers or Hanja): what may
    follow a name inside the word it is written in ("LG이노텍입니다.", "삼성바이오로직스의")."""
    return tag.startswith(("J", "E")) or tag == "VCP" or tag.startswith("S") and tag not in ("SL", "SN", "SH")
Analysis = tuple[list[str], list[Morpheme]]  # (`tokens`, `morphemes`) of one text


class _Token(NamedTuple):
    """A Kiwi token moved to another origin (what `_terms` and `_merge_alnum` read of one)."""

    form: str
    tag: str
    start: int
    len: int


class KoreanText:
    """One Kiwi instance with a user dictionary, loaded on first use and shared read-only.

    Calls are serialized with a lock: Kiwi's batch API already uses its own worker threads,
    so concurrent callers gain nothing from running it in parallel and lose safety.
    """

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        """User words and alias groups from `lexicon` (default: the packaged rag/lexicon/)."""
        self.lexicon = lexicon if lexicon is not None else Lexicon.load()
        self._user_words = self.lexicon.user_words
        self._aliases = {name: tuple(n for n in group if n != name)
                         for group in self.lexicon.alias_groups for name in group}
        self._kiwi: Kiwi | None = None
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        """Identifies the terms this instance produces (rules + user dictionary + aliases), for token caches."""
        words = "|".join(f"{w}/{t}" for w, t in self._user_words)
        words += "||" + "|".join(f"{a}>{','.join(b)}" for a, b in sorted(self._aliases.items()))
        return f"{TOKENIZER_VERSION}:{hashlib.sha1(words.encode('utf-8')).hexdigest()[:10]}"

    def _analyzer(self) -> Kiwi:
        # called with self._lock held
        if self._kiwi is None:
            from kiwipiepy import Kiwi

            kiwi = Kiwi()
            for word, tag in self._user_words:
                kiwi.add_user_word(word, tag)
                lowered = word.lower()
                if lowered != word:
                    # queries are often typed lower-case ("lgu+"); both spellings give one term
                    kiwi.add_user_word(lowered, tag)
            self._kiwi = kiwi
        return self._kiwi

    def sentences(self, text: str) -> list[tuple[int, int]]:
        """Character spans [start, end) of the sentences of `text`, in order, whitespace stripped.

        A line break always ends a sentence: in news text a line is a paragraph, a headline or
        a caption, and Kiwi alone would glue a headline without a final period to the next line.
        """
        return self.sentences_batch([text])[0]

    def sentences_batch(self, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
        """`sentences` of many texts through one Kiwi call, so its worker threads split them in parallel.

        Each line is split on its own, so the spans of a text's line are the same whether the line
        is split alone, with the rest of its text, or with other texts.
        """
        return self._split(texts, analyze=False)[0]

    def sentences_analyzed(self, texts: Sequence[str]) -> tuple[list[list[tuple[int, int]]], dict[str, Analysis]]:
        """`sentences_batch`, and (`tokens`, `morphemes`) of each sentence read from the same Kiwi pass.

        Kiwi analyzes a line to split it: keeping that analysis saves analyzing each sentence again
        (evidence selection asks for the terms and tags of exactly these sentences next). A sentence is
        read in its line's context, so for ~3% of sentences (KLUE) a morpheme at its start differs from
        the sentence analyzed alone ("이노션은" alone: 이 / 노 / 션)."""
        return self._split(texts, analyze=True)

    def _split(self, texts: Sequence[str], analyze: bool) -> tuple[list[list[tuple[int, int]]], dict[str, Analysis]]:
        lines = [[(m.start(), m.group()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]
                 for text in texts]
        flat = [line for text_lines in lines for _, line in text_lines]
        if not flat:
            return [[] for _ in texts], {}
        with self._lock:
            kiwi = self._analyzer()
            # (the tokens come with every split: a cut before a particle is mended with their tags)
            results = iter(list(kiwi.split_into_sents(flat, return_sub_sents=False, return_tokens=True)))
        out: list[list[tuple[int, int]]] = []
        analyses: dict[str, Analysis] = {}
        for text_lines in lines:
            spans: list[tuple[int, int]] = []
            for (offset, line), sents in zip(text_lines, results):
                attached = {t.start for x in sents for t in x.tokens if t.tag.startswith(_ATTACHED_TAGS)}
                tiled = _tile(line, [(x.start, x.end) for x in sents], attached)
                spans.extend((offset + a, offset + b) for a, b in tiled)
                if analyze:
                    analyses.update(self._sentence_analyses(line, tiled, [t for x in sents for t in x.tokens]))
            out.append(spans)
        return out, analyses

    def _sentence_analyses(self, line: str, spans: list[tuple[int, int]], tokens: list[Any]) -> dict[str, Analysis]:
        """(tokens, morphemes) of each sentence span of `line` from the line's Kiwi tokens, offsets
        made relative to the sentence (as if it had been analyzed alone)."""
        out: dict[str, Analysis] = {}
        i = 0
        for a, b in spans:
            own = []
            while i < len(tokens) and tokens[i].start < b:
                if tokens[i].start >= a:
                    t = tokens[i]
                    own.append(_Token(t.form, t.tag, t.start - a, t.len))
                i += 1
            sentence = line[a:b]
            # `_analyze` reads the NFC form of a text: a sentence that is not NFC is left to it
            if sentence == unicodedata.normalize("NFC", sentence):
                out[sentence] = (_terms(own, self._aliases), _merge_alnum(own))
        return out

    def tokens(self, text: str) -> list[str]:
        """Normalized index terms of `text` (content morphemes, lower-cased, NFC)."""
        return self.tokens_batch([text])[0]

    def tokens_batch(self, texts: Sequence[str]) -> list[list[str]]:
        """`tokens` for many texts through Kiwi's batch API (one call, no per-text overhead)."""
        return [_terms(tokens, self._aliases) for tokens in self._analyze(texts)]

    def morphemes_batch(self, texts: Sequence[str]) -> list[list[tuple[str, str, int, int]]]:
        """(tag, form, start, end) of each morpheme, Latin/number runs joined ("5G", "R&D"): what
        the answer checks read shapes from (a number and its unit, a proper noun, a final ending)."""
        return [_merge_alnum(list(tokens)) for tokens in self._analyze(texts)]

    def analyze_batch(self, texts: Sequence[str]) -> list[tuple[list[str], list[tuple[str, str, int, int]]]]:
        """(`tokens`, `morphemes`) of each text from one Kiwi pass: callers that need both pay once."""
        return [(_terms(tokens, self._aliases), _merge_alnum(list(tokens))) for tokens in self._analyze(texts)]

    def _analyze(self, texts: Sequence[str]) -> list[Any]:
        """Kiwi's tokens of each text (NFC), in one batch call."""
        if not texts:
            return []
        normalized = [unicodedata.normalize("NFC", t) for t in texts]
        with self._lock:
            return list(self._analyzer().tokenize(normalized))

    def key_terms(self, text: str) -> list[str]:
        """The terms of `text` that name something (proper nouns, foreign words, numbers), as `tokens` spells them.

        Refusal and citation checks use them: a question's company or year must occur in the evidence.
        """
        normalized = unicodedata.normalize("NFC", text)
        with self._lock:
            analyzed = self._analyzer().tokenize(normalized)
        return _terms(analyzed, self._aliases, keep=_KEY_TAGS)


def _terms(tokens: Iterable[Any], aliases: Mapping[str, tuple[str, ...]],
           keep: frozenset[str] | None = None) -> list[str]:
    out: list[str] = []
    run: list[str] = []  # written-together noun pieces: "동반" "성장" "지수" -> also "동반성장지수"
    run_end = -1
    glued = ("", "", -1)  # the last token (tag, form, end)
    name: list[str] = []  # a name with Latin letters, written together (key terms only)
    # merge before filtering by tag: a "&" between "R" and "D" must still join them
    for tag, form, start, end in _merge_alnum(list(tokens)):
        if keep is not None:
            # "SK하이닉스" is read SK / 하이닉스, "LG에너지솔루션" LG / 에너지 / 솔루션 (common nouns), "삼성SDI"
            # 삼성 / SDI, and "SK" or "LG" alone is in every such company's article: the name as written is
            # a key term too (a check then takes the whole name: rag.grounding.asked_terms). Latin letters
            # start it, with a proper noun written right before them; the nouns written after them belong
            if name and start == glued[2] and tag in _NAME_PIECE_TAGS:
                name.append(form.lower())
            else:
                _flush_name(name, out)
                name = []
                if tag == "SL":
                    before = [glued[1].lower()] if start == glued[2] and glued[0] == "NNP" else []
                    name = before + [form.lower()]
        glued = (tag, form, end)
        if keep is None:
            if tag in _COMPOUND_TAGS and run and start == run_end:
                run.append(_compound_piece(tag, form))
            else:
                _flush_compound(run, out, aliases)
                run = [_compound_piece(tag, form)] if tag in _COMPOUND_TAGS else []
            run_end = end
        elif tag not in keep:
            continue
        if tag in _PREDICATE_TAGS:
            term = form + "다"
        elif tag in _NOUN_TAGS:
            if tag == "SN":
                out.extend(_number_terms(form))
                continue
            if tag == "W_SERIAL":
                # "2014-2021", "2024.11.28", "044-204-7925": the whole, and each number in it; a date
                # written "2024. 11. 28." or ending a sentence ("2024.11.28.") is the same terms
                whole = _serial(form)
                out.append(whole)
                out.extend(p for p in re.split(r"[-./~:]", whole) if p)
                continue
            term = form.lstrip("#").lower() if tag == "W_HASHTAG" else form.lower()
        else:
            continue
        if term in _STOP_TERMS:
            continue
        out.append(term)
        out.extend(aliases.get(term, ()))
        if _HANGUL.search(term) and _LATIN.search(term):
            out.extend(_SCRIPT_RUNS.findall(term))
        elif tag == "SL" and "-" in term:  # "covid-19" also matches a query for "COVID"
            out.extend(p for p in term.split("-") if len(p) > 1)
    _flush_compound(run, out, aliases)
    _flush_name(name, out)
    return out


def _serial(form: str) -> str:
    """A serial's one spelling: no spaces inside, no separator at its end."""
    return re.sub(r"\s+", "", form.lower()).rstrip("-./~:")


def _compound_piece(tag: str, form: str) -> str:
    return _number_terms(form)[0] if tag == "SN" and _THOUSANDS.match(form) else form.lower()


def _flush_compound(run: list[str], out: list[str], aliases: Mapping[str, tuple[str, ...]]) -> None:
    # Kiwi splits compounds ("동반성장지수" -> 동반 / 성장 / 지수); the whole run as one more term
    # lets a query that writes the compound prefer passages that do too (KorQuAD: R@1 +0.006)
    if 2 <= len(run) <= _MAX_COMPOUND:
        compound = "".join(run)
        out.append(compound)
        out.extend(aliases.get(compound, ()))


def _flush_name(name: list[str], out: list[str]) -> None:
    if len(name) >= 2:
        out.append("".join(name))


def _merge_alnum(tokens: list[Any]) -> list[tuple[str, str, int, int]]:
    """(tag, form, start, end) of each token, with written-together Latin/number runs joined: "5G", "B2B", "R&D".

    Kiwi splits them into pieces ("5" / "G") that are noise alone. It also reads the object
    particle after a symbol or Latin word as noun "르" + "ᆯ" ("3.5%를"); that "르" is dropped.
    """
    out: list[tuple[str, str, int, int]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        tag = token.tag.split("-", 1)[0]  # "VV-I" (irregular) -> "VV"
        if tag == "NNG" and token.form == "르" and i + 1 < len(tokens) and tokens[i + 1].form == "ᆯ":
            i += 2
            continue
        if tag in ("SL", "SN"):
            j, end, parts, tags = i + 1, token.start + token.len, [token.form], {tag}
            while j < len(tokens) and tokens[j].start == end:
                nxt = tokens[j]
                nxt_tag = nxt.tag.split("-", 1)[0]
                joiner = nxt_tag in ("SW", "SO") and nxt.form in _JOINERS and j + 1 < len(tokens)
                after = tokens[j + 1] if joiner else None
                # "-" joins "COVID-19" but not a range of numbers ("2014-2021"): those stay apart
                if after is not None and nxt.form == "-" and "SL" not in tags and after.tag != "SL":
                    after = None
                if after is not None and after.start == nxt.start + nxt.len and after.tag in ("SL", "SN"):
                    parts += [nxt.form, tokens[j + 1].form]
                    tags.add(tokens[j + 1].tag)
                    end = tokens[j + 1].start + tokens[j + 1].len
                    j += 2
                elif nxt_tag in ("SL", "SN"):
                    parts.append(nxt.form)
                    tags.add(nxt_tag)
                    end = nxt.start + nxt.len
                    j += 1
                else:
                    break
            if j > i + 1:
                out.extend(_final_period("SN" if tags == {"SN"} else "SL", "".join(parts), token.start, end))
                i = j
                continue
        out.extend(_final_period(tag, token.form, token.start, token.start + token.len))
        i += 1
    return out


def _final_period(tag: str, form: str, start: int, end: int) -> list[tuple[str, str, int, int]]:
    """A Latin word keeps the period that ends its sentence ("… makes batteries.", "협력사는 Nuri Soft."):
    the word and the period, apart, so that "batteries." is indexed and matched as "batteries"."""
    word = form.rstrip(".")
    if tag != "SL" or word == form or not word:
        return [(tag, form, start, end)]
    return [(tag, word, start, start + len(word)), ("SF", form[len(word):], start + len(word), end)]


def _number_terms(form: str) -> list[str]:
    """"1,030" -> ["1030"]; "1,2,3" (a list, not thousands) -> ["1", "2", "3"]; "11.28" kept."""
    if _THOUSANDS.match(form):
        return [form.replace(",", "")]
    return [part for part in form.split(",") if part]


def _tile(line: str, cuts: list[tuple[int, int]], attached: Collection[int]) -> list[tuple[int, int]]:
    """Kiwi's sentence spans of one line, stretched so together they cover every non-space character.

    Kiwi occasionally leaves a symbol or closing quote between sentences; chunks and citations
    must never lose words, so a gap joins the sentence before it. `attached`: the offsets where a
    particle, an ending or a copula begins (no sentence begins there: `_quote_cuts`).
    """
    first = len(line) - len(line.lstrip())
    last = len(line.rstrip())
    starts = sorted({max(first, min(a, last)) for a, b in cuts if b > a} | {first})
    spans = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else last
        while end > start and line[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return _quote_cuts(line, spans, attached)


# a sentence's end within a line: its final mark (and a closing quote), then a space
_SENTENCE_END = re.compile(r"[.!?…][\"”’']?(?:\s+|$)")  # ($: right before the quote, as news text runs on)
# the tags of what is written against the word before it: particles, endings, the copula, suffixes
_ATTACHED_TAGS = ("J", "E", "VCP", "XSN", "XSV", "XSA")
# a closing quote or bracket, and the mark that opens it (news text writes titles in ASCII <…> too)
_CLOSERS = {"》": "《", "〉": "〈", "」": "「", "』": "『", "”": "“", "’": "‘", ")": "(", "]": "[", ">": "<",
            '"': '"', "'": "'"}


def _quote_cuts(line: str, spans: list[tuple[int, int]], attached: Collection[int]) -> list[tuple[int, int]]:
    """Sentence spans without a cut between a closing quote or bracket and the word written against it.

    Kiwi takes the end of a quoted title for the end of a sentence ("…신제품을 공개했다. 《스마트 공장》" | "에는
    새로운 기능도 …"): a sentence does not begin with a particle, an ending or a copula written against a closing
    mark. The quoted words go with what follows them: the cut moves back to the last sentence end before
    the quote opens, else the two spans are one."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and out[-1][1] == a and a in attached and line[a - 1] in _CLOSERS:
            pa, pb = out[-1]
            opener = line.rfind(_CLOSERS[line[a - 1]], pa, pb - 1)
            ends = list(_SENTENCE_END.finditer(line, pa, opener)) if opener > pa else []
            if ends:
                out[-1] = (pa, len(line[:ends[-1].end()].rstrip()))
                out.append((ends[-1].end(), b))
            else:
                out[-1] = (pa, b)
            continue
        out.append((a, b))
    return out
