"""KorQuAD 1.0 dev as an open-domain retrieval + QA benchmark, read at run time.

The dev file is CC BY-ND: it stays unmodified in eval/data/ and is converted in memory only.
Every paragraph becomes one Article (`korquad-{article:03d}-{paragraph:02d}`, both 1-based, title =
the Wikipedia title); every question becomes a contract Question whose gold is its own paragraph.

    articles, questions = load_korquad(KORQUAD_PATH, "71-140")   # corpus: all 964 paragraphs;
                                                                 # questions: articles 71..140 only

Open QA with answerable *and* unanswerable questions (`load_korquad_open`): the corpus leaves out
whole articles (every `WITHHELD_EVERY`-th: 5, 10, …, 140 — 14 in each half), so their questions have
no answer anywhere in it and must be refused; the questions of indexed articles must be answered.
Thresholds are chosen on articles 1–70 and reported on 71–140.

A gap in an article that is there (`load_korquad_gap`): every paragraph loses the sentence that answers
one of its questions. The article is indexed, on topic and retrieved, but no longer says what that
question asks, so it must be refused; the paragraph's other questions whose answers it still holds
must be answered. This is the near miss a user's archive produces (KLUE-MRC's unanswerable questions are
of this kind but unmarked). The cut is made in memory, on the way into a local store; the dev file
itself is never changed.

Whole articles (`load_korquad_articles`): open QA as above, but each indexed Wikipedia article is one document
(`korquad-{article:03d}`, its paragraphs joined by blank lines), as a news archive holds whole articles; a
question's gold is its article. What reads a document whole (the cited-article names check, an answer's
article, the paragraph a hit lies in) then reads what an archive gives it.

A follow-up in a conversation (`load_korquad_followup`): a question that names its article's title is
asked the way a second question in a chat is — the title and its particle left out ("임종석이 지명수배된
연도는?" -> "지명수배된 연도는?") — after another question of the same article that names it. The
corpus and store are open QA's; follow-ups about withheld articles must be refused. The same follow-ups with
the title replaced by a referring expression ("그 정치인이 …") instead: eval/korquad_ref.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from rag.config import Settings
from rag.types import Article, Turn

from eval.datasets import DatasetError, Question

KORQUAD_PATH = Path(__file__).resolve().parent / "data" / "KorQuAD_v1.0_dev.json"
WITHHELD_EVERY = 5  # article numbers divisible by this are left out of the open-QA corpus
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def parse_article_range(spec: str | None, n_articles: int) -> range:
    """'1-70' -> articles 1..70 (1-based, inclusive); '5' -> article 5; None/'' -> all."""
    if not spec:
        return range(1, n_articles + 1)
    match = _RANGE.match(spec)
    if not match:
        raise DatasetError(f"KorQuAD range {spec!r}: expected START-END with 1-based article numbers, e.g. 1-70")
    start = int(match.group(1))
    end = int(match.group(2) or start)
    if not 1 <= start <= end <= n_articles:
        raise DatasetError(f"KorQuAD range {spec!r}: must lie within 1-{n_articles}")
    return range(start, end + 1)


def korquad_store_dir(settings: Settings) -> Path:
    """The dedicated KorQuAD store: never the seeds store, so neither evaluation disturbs the other."""
    return settings.paths.data_dir / "korquad" / "store"


def korquad_open_store_dir(settings: Settings) -> Path:
    """The open-QA store: it lacks the withheld articles, so it cannot be the full KorQuAD store."""
    return settings.paths.data_dir / "korquad-open" / "store"


def korquad_articles_store_dir(settings: Settings) -> Path:
    """The open-QA store of whole articles: its documents are not the paragraph stores'."""
    return settings.paths.data_dir / "korquad-articles" / "store"


def korquad_gap_store_dir(settings: Settings) -> Path:
    """The store of the paragraphs with a gap: its texts differ from both other KorQuAD stores'."""
    return settings.paths.data_dir / "korquad-gap" / "store"


def is_withheld(article: int, every: int = WITHHELD_EVERY) -> bool:
    """Whether a (1-based) article is left out of the open-QA corpus."""
    return article % every == 0


def doc_id_for(article: int, paragraph: int) -> str:
    """The paragraph's document id (1-based numbers)."""
    return f"korquad-{article:03d}-{paragraph:02d}"


def load_korquad(path: str | Path = KORQUAD_PATH, articles: str | None = None) -> tuple[list[Article], list[Question]]:
    """All paragraphs as Articles (the corpus never shrinks) and the questions of the selected articles."""
    return _convert(Path(path), read_squad(path), articles)


def read_squad(path: str | Path) -> list[dict]:
    """The articles of a SQuAD-format file (its "data" list), or a DatasetError saying what is wrong."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: KorQuAD dev file not found") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    data = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(data, list):
        raise DatasetError(f"{path}: not in SQuAD format (no 'data' list)")
    return data


def _convert(path: Path, data: list[dict], articles: str | None) -> tuple[list[Article], list[Question]]:
    selected = set(parse_article_range(articles, len(data)))
    corpus: list[Article] = []
    questions: list[Question] = []
    for a_no, entry in enumerate(data, start=1):
        title = str(entry.get("title", "")).replace("_", " ")
        for p_no, paragraph in enumerate(entry.get("paragraphs", []), start=1):
            doc_id = doc_id_for(a_no, p_no)
            context = paragraph["context"]
            corpus.append(
                Article(
                    doc_id=doc_id,
                    text=context,
                    title=title,
                    path=f"{path.name}#{doc_id}",
                    content_hash=hashlib.sha256(f"{title}\n{context}".encode("utf-8")).hexdigest(),
                )
            )
            if a_no not in selected:
                continue
            for qa in paragraph.get("qas", []):
                texts = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a.get("text")))
                questions.append(
                    Question(
                        id=str(qa["id"]),
                        question=qa["question"],
                        # one group: any of the annotated spans counts (dev has one per question)
                        answers=(texts,) if texts else (),
                        gold=(doc_id,),
                        type="korquad",
                    )
                )
    return corpus, questions


def load_korquad_open(path: str | Path = KORQUAD_PATH, articles: str | None = None,
                      every: int = WITHHELD_EVERY) -> tuple[list[Article], list[Question]]:
    """The corpus without the withheld articles, and the selected articles' questions: those of
    withheld articles become unanswerable (no gold, no answers, type "korquad-withheld")."""
    corpus, questions = load_korquad(path, articles)
    kept = _without_withheld(corpus, every)
    out = []
    for q in questions:
        if is_withheld(_article_number(q.gold[0]), every):
            q = Question(id=q.id, question=q.question, answers=(), gold=(), type="korquad-withheld")
        out.append(q)
    return kept, out


def load_korquad_articles(path: str | Path = KORQUAD_PATH, articles: str | None = None,
                          every: int = WITHHELD_EVERY) -> tuple[list[Article], list[Question]]:
    """`load_korquad_open` with every indexed article one document: its paragraphs in order, blank lines
    between them, and its questions' gold that document."""
    paragraphs, questions = load_korquad_open(path, articles, every)
    whole: dict[str, list[Article]] = {}
    for a in paragraphs:
        whole.setdefault(article_doc_id(_article_number(a.doc_id)), []).append(a)
    corpus = []
    for doc_id, parts in whole.items():
        text = "\n\n".join(a.text for a in parts)
        title = parts[0].title
        corpus.append(Article(doc_id=doc_id, text=text, title=title, path=f"{Path(path).name}#{doc_id}",
                              content_hash=hashlib.sha256(f"{title}\n{text}".encode("utf-8")).hexdigest()))
    out = [q if not q.gold else
           Question(id=q.id, question=q.question, answers=q.answers, gold=(article_doc_id(_article_number(q.gold[0])),),
                    type=q.type)
           for q in questions]
    return corpus, out


def article_doc_id(article: int) -> str:
    """A whole article's document id (1-based)."""
    return f"korquad-{article:03d}"


def gap_question(paragraph: dict, sentences: list[tuple[int, int]], article_text: str) -> tuple[str, tuple[int, int]] | None:
    """The question whose answer sentence a paragraph loses, and that sentence's span: of the questions
    whose answer (every annotated span) lies in one sentence and occurs nowhere else in the article once
    that sentence is cut, the one with the smallest sha1 of its id (a fixed choice that follows no
    property of the question); None when no question qualifies or the paragraph would keep no sentence."""
    context = paragraph["context"]
    if len(sentences) < 2:
        return None
    chosen: tuple[str, str, tuple[int, int]] | None = None
    for qa in paragraph.get("qas", []):
        answers = [a for a in qa.get("answers", []) if a.get("text")]
        spans = {next((s for s in sentences if s[0] <= a["answer_start"] and a["answer_start"] + len(a["text"]) <= s[1]), None)
                 for a in answers}
        if not answers or len(spans) != 1 or None in spans:
            continue
        span = spans.pop()
        rest = article_text.replace(context, context[:span[0]] + context[span[1]:], 1)
        if any(a["text"] in rest for a in answers):
            continue
        key = _id_order(qa)
        if chosen is None or key < chosen[0]:
            chosen = (key, str(qa["id"]), span)
    return (chosen[1], chosen[2]) if chosen else None


def load_korquad_gap(path: str | Path = KORQUAD_PATH, articles: str | None = None,
                     sentences: Callable[[list[str]], list[list[tuple[int, int]]]] | None = None,
                     ) -> tuple[list[Article], list[Question]]:
    """Every paragraph of all 140 articles with one question's answer sentence cut (`gap_question`);
    of the selected articles, that question must be refused (no gold, no answers, type "korquad-gap")
    and the paragraph's other questions are asked when all their annotated spans are still in it.
    `sentences` splits texts into (start, end) spans (default: the project's Kiwi splitter)."""
    if sentences is None:
        from rag.korean import KoreanText

        sentences = KoreanText().sentences_batch
    raw = read_squad(path)
    corpus, questions = _convert(Path(path), raw, articles)
    by_id = {q.id: q for q in questions}
    cut_corpus: list[Article] = []
    out: list[Question] = []
    doc_index = {a.doc_id: a for a in corpus}
    for a_no, entry in enumerate(raw, start=1):
        paragraphs = entry.get("paragraphs", [])
        article_text = "\n".join(p["context"] for p in paragraphs)
        spans = sentences([p["context"] for p in paragraphs])
        for p_no, (paragraph, split) in enumerate(zip(paragraphs, spans), start=1):
            original = doc_index[doc_id_for(a_no, p_no)]
            gap = gap_question(paragraph, split, article_text)
            if gap is None:  # nothing to cut: the paragraph and its questions as they are
                qid, text = "", original.text
                cut_corpus.append(original)
            else:
                qid, (start, end) = gap
                context = paragraph["context"]
                text = (context[:start].rstrip() + " " + context[end:].lstrip()).strip()
                cut_corpus.append(Article(doc_id=original.doc_id, text=text, title=original.title, path=original.path,
                                          content_hash=hashlib.sha256(f"{original.title}\n{text}".encode("utf-8")).hexdigest()))
            for qa in paragraph.get("qas", []):
                q = by_id.get(str(qa["id"]))
                if q is None:
                    continue
                if q.id == qid:
                    out.append(Question(id=q.id, question=q.question, answers=(), gold=(), type="korquad-gap"))
                elif all(a["text"] in text for a in qa.get("answers", []) if a.get("text")):
                    out.append(q)
    return cut_corpus, out


# the particles a title can carry where a follow-up leaves it out (grammar, not vocabulary)
_TITLE_PARTICLE = r"(?:께서|에서|에게|으로|로|은|는|이|가|을|를|의|에|와|과|도|만)?"


def title_mention(question: str, title: str) -> re.Match[str] | None:
    """The first mention of `title` in `question` as a word of its own; group 1 is the particle it carries
    ("" for none), and the match runs on over the spaces after it."""
    if not title.strip():
        return None
    pattern = r"(?<![가-힣A-Za-z0-9])" + re.escape(title) + "(" + _TITLE_PARTICLE + r")(?=[\s?,.!]|$)\s*"
    return re.search(pattern, question)


def followup_question(question: str, title: str) -> str | None:
    """`question` without its first mention of `title` as a word of its own (with the particle it
    carries): how a chat's second question leaves out the subject the first one named. None when the
    title is not there as a word (inside "블루스곡" it is not) or too little question is left."""
    mention = title_mention(question, title)
    if mention is None:
        return None
    rest = (question[:mention.start()] + question[mention.end():]).strip()
    if len(re.sub(r"[?？!.\s]", "", rest)) < 4:
        return None
    return rest


class Followup(NamedTuple):
    """One follow-up of `followups`: its article's number and title, the dev file's question it comes from, and
    the contract question asked."""

    article: int
    title: str
    qa: dict
    question: Question


def load_korquad_followup(path: str | Path = KORQUAD_PATH, articles: str | None = None,
                          every: int = WITHHELD_EVERY) -> tuple[list[Article], list[Question]]:
    """Open QA's corpus, and of the selected articles every question that names its article's title,
    asked as a follow-up (`followup_question`) after one other such question of the article — the one
    with the smallest sha1 of its id — and that question's annotated answer as the assistant's turn.
    Articles with fewer than two such questions give none. Type "korquad-followup"; of a withheld
    article, "korquad-followup-withheld" with no gold and no answers (it must be refused)."""
    raw = read_squad(path)
    return open_corpus(path, raw, every), [f.question for f in followups(raw, articles, every)]


def open_corpus(path: str | Path, raw: list[dict], every: int = WITHHELD_EVERY) -> list[Article]:
    """Open QA's corpus of a dev file already read (`read_squad`): the paragraphs of the articles not withheld."""
    return _without_withheld(_convert(Path(path), raw, None)[0], every)


def followups(raw: list[dict], articles: str | None = None, every: int = WITHHELD_EVERY) -> Iterator[Followup]:
    """The follow-ups of `load_korquad_followup` of a dev file already read (`read_squad`), in its order, with
    where each comes from: a set built on them (eval/korquad_ref.py) reads and parses the file once."""
    selected = set(parse_article_range(articles, len(raw)))
    for a_no, entry in enumerate(raw, start=1):
        if a_no not in selected:
            continue
        title = str(entry.get("title", "")).replace("_", " ")
        naming = naming_questions(entry, title)
        if len(naming) < 2:
            continue
        withheld = is_withheld(a_no, every)
        for qa, p_no in naming:
            text = followup_question(qa["question"], title)
            if text is None:
                continue
            first = min((other for other, _ in naming if other["id"] != qa["id"]), key=_id_order)
            history = (Turn("user", first["question"]),
                       Turn("assistant", next(a["text"] for a in first["answers"] if a.get("text"))))
            if withheld:
                question = Question(id=str(qa["id"]), question=text, answers=(), gold=(),
                                    type="korquad-followup-withheld", history=history)
            else:
                texts = tuple(dict.fromkeys(a["text"] for a in qa["answers"] if a.get("text")))
                question = Question(id=str(qa["id"]), question=text, answers=(texts,),
                                    gold=(doc_id_for(a_no, p_no),), type="korquad-followup", history=history)
            yield Followup(a_no, title, qa, question)


def naming_questions(entry: dict, title: str) -> list[tuple[dict, int]]:
    """An article's questions that name its title (`title`, "_" read as a space) and have an annotated answer,
    each with its 1-based paragraph number, in the dev file's order: what the follow-up sets start from."""
    return [(qa, p_no) for p_no, paragraph in enumerate(entry.get("paragraphs", []), start=1)
            for qa in paragraph.get("qas", []) if title and title in qa["question"]
            and any(a.get("text") for a in qa.get("answers", []))]


def _id_order(qa: dict) -> str:
    """The sha1 of a question's id: the fixed order in which a set picks among a paragraph's or an
    article's questions, following no property of the question."""
    return hashlib.sha1(str(qa["id"]).encode("utf-8")).hexdigest()


def _without_withheld(corpus: list[Article], every: int) -> list[Article]:
    """The paragraphs of the articles open QA indexes."""
    return [a for a in corpus if not is_withheld(_article_number(a.doc_id), every)]


def _article_number(doc_id: str) -> int:
    return int(doc_id.split("-")[1])
