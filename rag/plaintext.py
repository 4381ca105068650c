"""Model output made plain text: no markup survives into an answer, whatever client shows it.

The chat page and the widget escape what they show, but the JSON API and `/v1` hand the text to
clients that may not (a Markdown renderer, an HTML page built by string concatenation). An answer
is prose with [n] markers; tags, Markdown images/links, HTML entities and control characters in
it can only come from a model that copied or invented them.

    plain_text('결과 <img/src=x onerror=alert(1)> 입니다 [1].')  # '결과 입니다 [1].'
"""

from __future__ import annotations

import html
import re
import unicodedata

# a tag-like run: "<img/src=x onerror=…>", "</b>", "<!-- … -->" (an unclosed one runs to the end)
_TAG = re.compile(r"<\s*[/!?a-zA-Z][^<>]*(?:>|$)")
# Markdown images and links keep their visible words only: "![x](javascript:…)" -> "x"
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\(((?:[^()]|\([^()]*\))*)\)")
_MD_AUTOLINK = re.compile(r"(?i)\b(?:javascript|data|vbscript):\S*")
_SPACES = re.compile(r"[ \t]+")


def plain_text(text: str) -> str:
    """`text` without markup: tags and Markdown links dropped (their words kept), entities decoded
    once and any remaining angle bracket replaced by its full-width look-alike."""
    text = html.unescape(text)  # "&lt;img …&gt;" must not become a tag in a client that decodes it
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    previous = None
    while previous != text:  # "<<b>img …>": removing one tag must not assemble another
        previous, text = text, _TAG.sub(" ", text)
    text = _MD_AUTOLINK.sub(" ", text)
    text = text.replace("<", "〈").replace(">", "〉")
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\s+([.,!?。])", r"\1", "\n".join(line for line in lines if line))
