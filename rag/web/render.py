"""Answers and sources as HTML. Everything from articles or the model is untrusted: it is escaped here.

Escaping covers HTML *and* the Markdown / LaTeX / template syntax of the places it lands (Gradio's
chatbot renders Markdown, gr.HTML is a template), so `[x](javascript:..)`, `<img onerror=..>` and
`${..}` all arrive as plain text.
"""

from __future__ import annotations

import html
import re
from typing import Callable, Mapping, Sequence

from rag.article_dates import korean_date
from rag.sources import CitedArticle, cited_articles
from rag.types import Answer, Article, Citation

REFUSAL_TITLE = "근거를 찾지 못했습니다"
# what a refusal's code says to a reader, with the names no passage mentions (rag.types.REASONS)
REFUSAL_WHY = {
    "names_missing": "기사에 나오지 않는 말: {names}",
    "value_not_near_name": "{names} 곁에 묻는 값을 적은 기사가 없습니다",
    "names_not_cited": "답할 문장의 기사에 나오지 않는 말: {names}",
}
# an answer whose cited articles never name what the question asks about (rag.types.GroundingReport.unnamed)
# a refusal while the reader narrowed the search (기간·언론사): "no article mentions X" is only true inside it
SCOPED_REFUSAL = "선택한 검색 범위(기간·언론사·기사) 안에서만 찾았습니다. 범위를 넓히면 찾을 수도 있습니다."
UNNAMED_CAUTION = "인용한 기사에 나오지 않는 말: {names} — 다른 대상에 관한 답일 수 있습니다"
# a first question opening with a reference word ("그 회사의 …"): nothing earlier says what it stands for
DANGLING_CAUTION = "앞선 질문이 없어 ‘{word}’의 대상을 알 수 없습니다. 이름을 넣어 다시 물어 보세요."
# a follow-up is searched standalone ("그 회사의 …" -> "LG이노텍의 …"): the reader sees how, and can ask in full
SEARCHED_AS = "이렇게 찾았습니다: {question}"
_CITE = re.compile(r"\[(\d{1,3})\]")
# characters that mean something to HTML, Markdown, KaTeX or a JS/Handlebars template
_SPECIAL = set("&<>\"'`[]()*_\\#!|~${}:=+-.^@%")
# the store stopped answering (Chroma server down, store folder gone): the store's own words say what to do,
# as the HTTP API's 503 does
STORE_UNAVAILABLE = "기사 저장소를 쓸 수 없습니다: {message}"
CONTEXT_CHARS = 160  # of article text shown around a cited span on a source card


def escape_text(text: str) -> str:
    """Untrusted text -> inert HTML: every markup-significant character becomes a numeric entity."""
    out = []
    for ch in text:
        if ch in _SPECIAL:
            out.append(f"&#{ord(ch)};")
        elif ch == "\n":
            out.append("<br>")
        elif ch == "\r" or (ord(ch) < 32 and ch != "\t"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def escape_attr(text: str) -> str:
    """Untrusted text inside a double-quoted attribute value."""
    return html.escape(text, quote=True).replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;")


def answer_html(text: str, citations: Sequence[Citation] = (), anchor_prefix: str = "src") -> str:
    """Answer text with its [n] markers turned into links to the source cards (known n only)."""
    known = {c.n for c in citations}
    parts: list[str] = []
    pos = 0
    for match in _CITE.finditer(text):
        parts.append(escape_text(text[pos : match.start()]))
        n = int(match.group(1))
        if n in known:
            parts.append(f'<a class="cite" href="#{anchor_prefix}-{n}" data-n="{n}">&#91;{n}&#93;</a>')
        else:
            parts.append(escape_text(match.group(0)))
        pos = match.end()
    parts.append(escape_text(text[pos:]))
    return "".join(parts)


def chat_message_html(answer: Answer, anchor_prefix: str = "src", scoped: bool = False) -> str:
    """The assistant's chat bubble for a finished answer: refusal state, or text + cited sources.

    Its [n] links point at `#{anchor_prefix}-{n}`: the cards `source_cards_html` renders with the same prefix.
    `scoped`: the question was asked within filters, which a refusal says. A follow-up searched in other words
    says how, above the answer or refusal (`searched_as_html`)."""
    searched = searched_as_html(answer)
    if answer.refused:
        body = f'{searched}<div class="refusal"><strong>{escape_text(REFUSAL_TITLE)}</strong>'
        if answer.text and REFUSAL_TITLE not in answer.text:
            body += f"<br>{escape_text(answer.text)}"
        body += refusal_why_html(answer) + dangling_html(answer)
        if scoped:
            body += f'<div class="refusal-scope">{escape_text(SCOPED_REFUSAL)}</div>'
        return body + "</div>"
    out = answer_html(answer.text, answer.citations, anchor_prefix)
    if answer.short:  # the asked value, read from the cited sentences (rag/short_answer.py)
        out = f'<div class="short-answer">{escape_text(answer.short)}{short_date_html(answer.short_date)}</div>' + out
    out = searched + out
    if answer.notice:
        out += f'<div class="notice">{escape_text(answer.notice)}</div>'
    if answer.grounding.unnamed:
        caution = UNNAMED_CAUTION.format(names=", ".join(answer.grounding.unnamed))
        out += f'<div class="answer-caution">{escape_text(caution)}</div>'
    out += dangling_html(answer)
    if answer.citations:
        # one item per article: its numbers, each opening its own sentence, then its title opening the card
        items = ", ".join(
            "".join(f'<a class="cite" href="#{anchor_prefix}-{n}" data-n="{n}">&#91;{n}&#93;</a>' for n in source.numbers)
            + f' <a class="cite cite-title" href="#{card_id(anchor_prefix, source)}">{escape_text(source.title or source.source)}'
            f'{_dated(source.date)}</a>'
            for source in cited_articles(answer.citations)
        )
        out += f'<div class="cite-list">출처: {items}</div>'
    return out


def searched_as_html(answer: Answer) -> str:
    """The line saying what a question was searched as, where that is not as it was typed (a follow-up made
    standalone, an English question's Korean form): "" otherwise."""
    if not answer.searched_as:
        return ""
    return f'<div class="searched-as">{escape_text(SEARCHED_AS.format(question=answer.searched_as))}</div>'


def short_date_html(iso: str) -> str:
    """" (2025년 11월 7일)" after a short answer whose day, month or year word its article's date completes
    ("7일" of "지난 7일"): in an archive of many years a reader sees which 7th (rag/article_dates.py)."""
    if not iso:
        return ""
    return f' <span class="short-date" title="{escape_attr(SHORT_DATE_TITLE)}">({escape_text(korean_date(iso))})</span>'


def card_id(anchor_prefix: str, source: CitedArticle) -> str:
    """The id of an article's card: named by its first number, as its sentences are by theirs."""
    return f"{anchor_prefix}-card-{source.numbers[0]}"


def refusal_why_html(answer: Answer) -> str:
    """Why it refused, where the reason names what to look for: the question's names no article mentions (an
    analyst knows which articles to add), or no article giving the asked value beside them."""
    why = REFUSAL_WHY.get(answer.grounding.code)
    if not why or not answer.grounding.missing:
        return ""
    return f'<div class="refusal-why">{escape_text(why.format(names=", ".join(answer.grounding.missing)))}</div>'


def dangling_html(answer: Answer) -> str:
    """The caution on a first question whose opening reference word points at nothing ("그 회사의 …" with no
    conversation before it): whatever was found, it was not found for that company."""
    word = answer.grounding.dangling
    return f'<div class="answer-caution">{escape_text(DANGLING_CAUTION.format(word=word))}</div>' if word else ""


def _dated(date: str | None) -> str:
    """" (2022-09-21)" after a cited title: the reader sees when what the answer rests on was written."""
    return f' <span class="cite-date">({escape_text(date)})</span>' if date else ""


SHORT_DATE_TITLE = "기사 작성일을 기준으로 계산한 날짜"
CURSOR = '<span class="cursor">▍</span>'  # after the tokens streamed so far
STOPPED = "중지했습니다"


def stopped_html(bubble_html: str) -> str | None:
    """The bubble of an answer the reader stopped: a status line gives way to the stop mark, a draft or streamed
    tokens keep what they showed, then the mark; None for a finished answer (nothing to change)."""
    mark = f'<span class="status stopped">{escape_text(STOPPED)}</span>'
    if 'class="status"' in bubble_html and 'class="draft"' not in bubble_html:
        return mark
    if CURSOR in bubble_html or 'class="draft"' in bubble_html:
        return bubble_html.replace(CURSOR, "") + " " + mark
    return None


def draft_html(text: str) -> str:
    """The instant extractive draft, labelled as such until the model's answer replaces it."""
    return f'<div class="draft"><span class="badge">초안</span> {escape_text(text)}</div>'


def locate_span(article_text: str, citation: Citation) -> tuple[int, int] | None:
    """The cited span in the article: its offsets when they hold the quote, else where the quote occurs."""
    start, end = citation.start, citation.end
    if 0 <= start < end <= len(article_text):
        if not citation.quote or article_text[start:end].strip() == citation.quote.strip():
            return start, end
    if citation.quote:
        found = article_text.find(citation.quote.strip())
        if found >= 0:
            return found, found + len(citation.quote.strip())
    if 0 <= start < end <= len(article_text):
        return start, end
    return None


def passages_html(article_text: str, spans: Sequence[tuple[int, int, str, str]], context: int = CONTEXT_CHARS) -> str:
    """Windows of the article around its cited spans (start, end, id, label), each span in a <mark> with that id
    (none for "") after its label ("[2]": which sentence is which, where a card has several). Spans whose windows
    would meet share one window; the others get windows of their own."""
    windows: list[list[tuple[int, int, str, str]]] = []
    for span in sorted(spans):
        # (measured from the window's furthest end: a span inside a longer one ends before it)
        if windows and span[0] - max(end for _, end, _, _ in windows[-1]) <= 2 * context:
            windows[-1].append(span)
        else:
            windows.append([span])
    return "".join(f'<div class="passage">{_window_html(article_text, group, context)}</div>' for group in windows)


def _window_html(article_text: str, spans: Sequence[tuple[int, int, str, str]], context: int) -> str:
    start, end = spans[0][0], max(span[1] for span in spans)
    left = max(0, start - context)
    right = min(len(article_text), end + context)
    # snap the window to whitespace so it does not open mid-word
    while left > 0 and not article_text[left - 1].isspace() and start - left < context + 30:
        left -= 1
    while right < len(article_text) and not article_text[right].isspace() and right - end < context + 30:
        right += 1
    out = ["…" if left > 0 else ""]
    at = left
    for span_start, span_end, mark_id, label in spans:
        attr = f' id="{escape_attr(mark_id)}"' if mark_id else ""
        if span_start < at:  # overlaps the span before, already marked: its link lands where the overlap begins
            out.append(f'<span class="span-anchor"{attr}></span>' if attr else "")
            attr, span_start = "", at
        if span_end <= span_start:
            continue
        out.append(escape_text(article_text[at:span_start]))
        out.append(f'<span class="span-num">{escape_text(label)}</span>' if label else "")
        out.append(f'<mark class="span"{attr}>{escape_text(article_text[span_start:span_end])}</mark>')
        at = span_end
    out.append(escape_text(article_text[at:right]) + ("…" if right < len(article_text) else ""))
    return "".join(out)


def source_cards_html(answer: Answer | None, get_article: Callable[[str], Article | None], anchor_prefix: str = "src") -> str:
    """One card per cited article (title, publisher, date, passages with every cited sentence highlighted),
    `id="{anchor_prefix}-card-{first n}"`; each cited sentence is `<mark id="{anchor_prefix}-{n}">`, so an [n]
    link opens its own sentence."""
    if answer is None:
        return '<div class="sources empty">질문하면 근거 기사가 여기에 표시됩니다.</div>'
    if answer.refused or not answer.citations:
        return f'<div class="sources refused">{escape_text(REFUSAL_TITLE)} — 표시할 출처가 없습니다.</div>'
    cards = []
    for source in cited_articles(answer.citations):
        article = get_article(source.source)
        spans, unplaced = [], []
        several = len(source.citations) > 1
        for citation in source.citations:
            span = locate_span(article.text, citation) if article is not None else None
            if span is None:
                unplaced.append(citation)
            else:
                spans.append((span[0], span[1], f"{anchor_prefix}-{citation.n}", f"[{citation.n}]" if several else ""))
        # a sentence not found in the article (changed since) is shown as it was quoted
        passages = passages_html(article.text, spans) if article is not None and spans else ""
        passages += "".join(f'<div class="passage"><mark class="span" id="{escape_attr(f"{anchor_prefix}-{c.n}")}">'
                            f'{escape_text(c.quote)}</mark></div>' for c in unplaced)
        title = source.title or (article.title if article else "") or source.source
        publisher = source.publisher or (article.publisher if article else None) or ""
        date = source.date or (article.date if article else None) or ""
        meta = " · ".join(escape_text(x) for x in (publisher, date, source.source) if x)
        numbers = "".join(f"&#91;{n}&#93;" for n in source.numbers)
        cards.append(
            f'<div class="source-card" id="{card_id(anchor_prefix, source)}" data-source="{escape_attr(source.source)}">'
            f'<div class="card-head"><span class="num">{numbers}</span> '
            f'<span class="title">{escape_text(title)}</span></div>'
            f'<div class="meta">{meta}</div>{passages}</div>'
        )
    return '<div class="sources">' + "".join(cards) + "</div>"


def source_groups_html(groups: Mapping[str, str], current: str) -> str:
    """The cards of every answer in the conversation, only the `current` answer's shown: a [n] clicked in an
    earlier answer brings back that answer's own cards (cite.js), not the newest answer's card [n]."""
    return "".join(
        f'<div class="source-group{"" if key == current else " earlier"}" id="sources-{escape_attr(key)}">{cards}</div>'
        for key, cards in groups.items()
    )
