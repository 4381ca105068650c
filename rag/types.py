"""The shared vocabulary of the pipeline: plain frozen dataclasses, no imports of ours.

Offsets (`start`, `end`) are always character offsets into `Article.text`, the *cleaned* article,
so the UI can highlight a chunk or a cited span without re-running the cleaner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Article:
    """One cleaned article. `doc_id` is the eval gold label; seeds sit at the corpus root, so theirs
    is their file name."""

    doc_id: str  # the file's path relative to the corpus folder ("2024/a.txt"), or the JSONL id
    text: str
    title: str = ""
    date: str | None = None  # ISO 8601 (YYYY-MM-DD)
    publisher: str | None = None
    author: str | None = None  # when the page names one (HTML byline, JSON-LD, JSONL "author")
    path: str = ""
    content_hash: str = ""  # sha256 of the raw file bytes + cleaner version: decides re-ingest


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    title: str = ""
    date: str | None = None
    publisher: str | None = None
    n_tokens: int = 0  # in the embedding model's own tokenizer


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. `score` is calibrated to [0, 1]; `dense` / `keyword` are the raw parts."""

    chunk: Chunk
    score: float
    dense: float | None = None
    keyword: float | None = None
    rank: int = 0


@dataclass(frozen=True)
class Evidence:
    """A numbered sentence (or short span) handed to the generator; [n] in answers refers to `n`."""

    n: int
    doc_id: str
    text: str
    start: int
    end: int
    title: str = ""
    date: str | None = None
    publisher: str | None = None
    score: float = 0.0
    # its paragraph's text before it: a news paragraph names its subject once and drops it after
    # ("SKT는 … 제공한다. 또한 … 350억 조기지급 …"), so the sentence alone does not say whose it is
    preceding: str = ""


@dataclass(frozen=True)
class Citation:
    """A verified [n]: the exact supporting span (offsets into the cleaned article)."""

    n: int
    source: str
    quote: str
    start: int
    end: int
    title: str = ""
    date: str | None = None
    publisher: str | None = None
    support: float = 1.0


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation."""

    role: Literal["user", "assistant"]
    content: str


# why a question is refused: a stable code, what a program matches on (an answer's grounding.code), and the
# reason a person reads (rag/grounding.py decides; the generator's own verdict is rag/answering.py's)
REASONS = {
    "no_passage": "no passage retrieved",
    "no_words": "the question has no words",
    "no_word_found": "no word of the question occurs in the articles",
    "names_missing": "question names something the articles do not mention",
    "value_not_near_name": "no passage gives the asked value next to the question's name",
    "not_answered": "the passages do not answer the question",
    "llm_refused": "the LLM found no answer in the passages",
    "names_not_cited": "no article the answer would cite names what the question asks about",
}


# why an answer carries a notice (Answer.notice_code): the LLM's answer could not be shown as written. The words a
# reader sees are Answer.notice; a client that shows its own words, or counts fallbacks, reads the code
NOTICES = {
    "llm_not_configured": "LLM mode was asked for and no LLM is configured: the extractive answer is shown",
    "llm_unavailable": "the LLM cannot be loaded or reached: the extractive answer is shown",
    "llm_failed": "the LLM failed before writing anything verified: the extractive answer is shown",
    "llm_cut": "the LLM's answer broke off: what was verified before is shown",
    "llm_found_nothing": "the LLM found no answer in passages that surely hold one: the best sentences are shown",
    "llm_unverified": "nothing the LLM wrote is supported by the passages: the extractive answer is shown",
}

# what a reader is told when the LLM's answer is not shown as written, by code (NOTICES); a failure's reason
# follows after a colon
NOTICE_WORDS = {
    "llm_not_configured": "LLM이 설정되지 않아 추출식 답변을 보여 드립니다.",
    "llm_unavailable": "LLM을 사용할 수 없어 추출식 답변을 보여 드립니다",
    "llm_failed": "LLM 답변 실패, 추출식 답변을 보여 드립니다",
    "llm_cut": "LLM 답변이 중간에 끊겼습니다",
    "llm_found_nothing": "LLM이 근거에서 답을 찾지 못해 가장 관련 있는 문장을 보여 드립니다.",
    "llm_unverified": "LLM 답변을 근거로 확인할 수 없어 추출식 답변을 보여 드립니다.",
}


def notice_words(code: str, detail: str = "") -> str:
    """The words of a notice code, with the failure's reason ("" for no notice)."""
    if not code:
        return ""
    return f"{NOTICE_WORDS[code]}: {detail}" if detail else NOTICE_WORDS[code]


@dataclass(frozen=True)
class GroundingReport:
    """Why an answer was given or refused: the refusal model's probability that the retrieved passages answer
    the question and the bar it was held to (answer.refusal_min_probability, else the model file's own);
    for a refusal, its code (REASONS) and the question's names and numbers that no passage mentions; for an
    answer, the question's names when none of the articles it cites mentions them (`unnamed`)."""

    probability: float | None = None  # None: nothing was judged (nothing retrieved, a text with no words)
    threshold: float | None = None  # None: the model's bar did not apply (a question in Latin script)
    code: str = ""
    missing: tuple[str, ...] = ()
    # an answer's caution: the question's names, when none of them occurs in any article the answer cites (some
    # other passage named them, or it would have been refused): the answer may be about something else
    unnamed: tuple[str, ...] = ()
    # the reference word the question opens with when no earlier question says what it stands for ("그 회사" of
    # "그 회사의 펀드 규모는?" asked first, rag.conversation.opening_reference): the answer may be about anything
    dangling: str = ""

    @property
    def reason(self) -> str:
        return REASONS.get(self.code, "")


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    mode: str = "extractive"
    standalone_question: str = ""
    searched_question: str = ""  # the Korean form searched and checked (a translated English question)
    timings: dict[str, float] = field(default_factory=dict)  # ms: retrieval, first_token, total
    notice: str = ""  # for a reader: why the LLM's answer is not shown as written ("LLM을 사용할 수 없어 …")
    notice_code: str = ""  # the same as a code of NOTICES ("" with no notice)
    short: str = ""  # the asked value in the cited claims ("1,030억 원"), see rag/short_answer.py
    # the date a short answer's day, month or year word means in its article ("7일" of "지난 7일" in an article of
    # 2025-11-09: "2025-11-07"; "지난해": "2024"), ISO; "" when it is none or already whole (rag/article_dates.py)
    short_date: str = ""
    claims: tuple[str, ...] = ()  # the claims `short` is read from, best first (not serialized)
    grounding: GroundingReport = GroundingReport()

    @property
    def searched_as(self) -> str:
        """The question as it was searched, where that is not as it was asked: a follow-up made standalone
        ("그 회사의 펀드 규모는?" searched as "LG이노텍의 펀드 규모는?"), an English question's Korean form; ""
        when it was searched as asked. A reader sees what the conversation was taken to mean, and can ask again
        in full when that is wrong."""
        searched = self.searched_question or self.standalone_question
        return searched if searched and " ".join(searched.split()) != " ".join(self.question.split()) else ""


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: a draft, a token, a status line, or the final answer.

    `progress` (no text) says the model wrote a piece that is held until its sentence is verified: it
    hands control back between pieces, so a consumer whose client left can close the stream, and the
    model with it, before the sentence is done. Consumers that show text ignore it.
    """

    kind: Literal["status", "draft", "token", "progress", "final"]
    text: str = ""
    answer: Answer | None = None


@dataclass(frozen=True)
class IngestReport:
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()  # of `unchanged`, those read from another file than before (a moved folder)
    skipped: tuple[tuple[str, str], ...] = ()  # (file, reason) of files that could not be read
    kept: tuple[str, ...] = ()  # stored articles kept as they were because their file could not be read now
    chunks_embedded: int = 0  # chunks written (new or changed articles)
    vectors_reused: int = 0  # of those, chunks that kept the vector stored for the same passage (not embedded again)
    tokens_model: int = 0  # embedded text, in the embedding model's tokens
    tokens_tiktoken: int = 0  # the same text in cl100k_base tokens (what an OpenAI-style budget sees)
    seconds: float = 0.0


@dataclass(frozen=True)
class Filters:
    """A restriction applied inside retrieval (both retrievers), never by dropping hits afterwards.

    Dates are ISO `YYYY-MM-DD`, both ends inclusive; an article without a date passes no date
    filter. `publisher` and `source` match any listed value; a source is a doc id ("2024/a.txt")
    or a folder of them ("2024/").
    """

    date_from: str | None = None
    date_to: str | None = None
    publisher: tuple[str, ...] = ()
    source: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.date_from or self.date_to or self.publisher or self.source)


@dataclass(frozen=True)
class ArticleInfo:
    """What the store records about an ingested article (the list the article manager shows)."""

    doc_id: str
    title: str = ""
    date: str | None = None
    publisher: str | None = None
    source: str = ""  # the file it was read from
    chunks: int = 0
    ingested_at: str = ""  # ISO 8601 UTC
    content_hash: str = ""
    author: str | None = None  # when the page names one (HTML byline, JSON-LD, JSONL "author")
