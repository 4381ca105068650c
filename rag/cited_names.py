"""Cited names: whether the articles an answer cites name what the question asks about.

The grounding's names check reads every retrieved passage; in a big archive another passage names the
question's subject and the extractive answer may still cite an article about something else. These checks
read the cited articles themselves (rag.grounding.unnamed_in_cited), for the answerer's refusal
(`answer.refuse_unnamed`), its caution and its choice among a follow-up's rewritten forms.

    names = unnamed(question, grounding, citations, article, korean)   # () when a cited article names one
    ok = usable(searched, evidence, grounding, draft, article, korean, settings.answer.refuse_unnamed)

`draft` is the answerer's extractive answer, `(searched, evidence) -> (evidence, text, citations)`;
`article` looks an article up by its doc id.
"""

from __future__ import annotations

from typing import Callable, Sequence

from rag.evidence import Tokenizer
from rag.grounding import Grounding, as_asked, unnamed_in_cited
from rag.types import Article, Citation, Hit

Draft = Callable[[str, list], tuple[list, str, list[Citation]]]
Lookup = Callable[[str], Article | None]


def usable(searched: str, evidence: list, grounding: Grounding, draft: Draft, article: Lookup, korean: Tokenizer,
           refuse_unnamed: bool, about: Sequence[str] = (), hits: Sequence[Hit] = ()) -> bool:
    """Whether `gather`'s result answers: the grounding allows it, (with `answer.refuse_unnamed`) the articles
    its extractive answer cites name what the question asks about, and — given `about` (lower-case key terms)
    — they name one of those: in their own text, or in a passage of `hits` under the same title (an article
    stored in parts, one document each)."""
    if not grounding.answerable:
        return False
    if not (refuse_unnamed or about):
        return True
    citations = draft(searched, evidence)[2]
    if refuse_unnamed and unnamed(searched, grounding, citations, article, korean):
        return False
    if not about:
        return True
    titles = {found.title for doc_id in {c.source for c in citations}
              if (found := article(doc_id)) is not None and found.title.strip()}
    beside = [f"{h.chunk.title}\n{h.chunk.text}" for h in hits if h.chunk.title in titles]
    return not unnamed_in_cited(tuple(about), cited_texts(citations, article) + beside, korean)


def names_not_cited(searched: str, evidence: list, grounding: Grounding, draft: Draft, article: Lookup,
                    korean: Tokenizer) -> tuple[str, ...]:
    """For `gather`'s result: the question's names, when the articles its extractive answer would cite name
    none of them — what `answer.refuse_unnamed` refuses whatever the answerability model says (a refit of
    that model counts such questions as refused already). Empty when the grounding refuses anyway."""
    if not grounding.answerable:
        return ()
    return unnamed(searched, grounding, draft(searched, evidence)[2], article, korean)


def unnamed(question: str, grounding: Grounding, citations: Sequence[Citation], article: Lookup,
            korean: Tokenizer) -> tuple[str, ...]:
    """The question's names when no article the answer cites mentions any of them (a caution shown with it)."""
    return as_asked(unnamed_in_cited(grounding.names, cited_texts(citations, article), korean), question)


def cited_texts(citations: Sequence[Citation], article: Lookup) -> list[str]:
    """The title and text of each article `citations` cite (the cited sentences where one cannot be read)."""
    cited = []
    for doc_id in dict.fromkeys(c.source for c in citations):
        found = article(doc_id)
        cited.append(f"{found.title}\n{found.text}" if found is not None else
                     "\n".join(c.quote for c in citations if c.source == doc_id))
    return cited
