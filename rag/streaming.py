"""Verified streaming: the model's answer reaches a client one checked sentence at a time.

A sentence is final once the next one has begun (its citation markers may still follow it: "…입니다.
[1]"), or when the model stops. Each final sentence is made plain text and checked like any claim
(`rag.citations.check_claim`); only the ones that pass are emitted, so what a client has shown is
always a prefix of the final verified answer. With `restatement_share`, a claim that says the question
back without its cited sentence's value is shown as that sentence (`rag.claimvalue`). With the extractive
`draft`, a supported claim is also dropped when it disagrees with it (`rag.agreement`): the model filled
in another sentence's value.

    stream = VerifiedStream(evidence, korean, min_support, asking(question, korean), draft=draft_text,
                            restatement_share=1.0)
    for piece in generator.stream(...):
        for text in stream.feed(piece):
            yield Event("token", text)
    for text in stream.finish():
        yield Event("token", text)
    stream.text, stream.citations        # the verified answer ("" when nothing passed)
"""

from __future__ import annotations

from typing import Sequence

from rag.agreement import agrees_with_draft
from rag.citations import MARKER, Asking, check_claim, cite, split_claims
from rag.claimvalue import claim_with_value
from rag.evidence import Tokenizer
from rag.plaintext import plain_text
from rag.prompts import without_title_notes
from rag.types import Citation, Evidence

# a piece holding one of these may complete a sentence (or its markers): only then is the text re-split
_BOUNDARY = frozenset(".!?。\n]")


class VerifiedStream:
    def __init__(self, evidence: Sequence[Evidence], korean: Tokenizer, min_support: float, question: Asking,
                 draft: str = "", restatement_share: float | None = None) -> None:
        self._evidence = list(evidence)
        self._by_n = {ev.n: ev for ev in evidence}
        self._korean = korean
        self._min_support = min_support
        self._question = question
        self._draft = draft
        self._restatement_share = restatement_share  # None: claims are shown as the model wrote them
        self._raw = ""
        self._done = 0  # claims of the raw text already judged
        self.kept: list[str] = []
        self._support: dict[int, float] = {}

    @property
    def raw(self) -> str:
        """Everything the model wrote (for its refusal verdict), never shown as it is."""
        return self._raw

    @property
    def text(self) -> str:
        return " ".join(self.kept)

    @property
    def citations(self) -> tuple[Citation, ...]:
        return cite(self.kept, self._by_n, self._support)

    def feed(self, piece: str) -> list[str]:
        """The verified text pieces that `piece` completes (with their separating spaces)."""
        self._raw += piece
        if not _BOUNDARY.intersection(piece):
            return []
        claims = split_claims(plain_text(without_title_notes(self._raw)), self._korean)
        return self._judge(claims[:-1])  # the last one may still grow or receive its markers

    def finish(self) -> list[str]:
        return self._judge(split_claims(plain_text(without_title_notes(self._raw)), self._korean))

    def _judge(self, claims: list) -> list[str]:
        out = []
        for claim in claims[self._done:]:
            checked = check_claim(claim, self._evidence, self._korean, self._min_support, self._question)
            if checked is None:
                continue
            text, support = checked
            if self._restatement_share is not None:
                text = claim_with_value(text, [self._by_n[n] for n in support], self._question, self._korean,
                                        self._restatement_share)
            if _words(text) in {_words(k) for k in self.kept}:
                # two claims cut from one sentence, or the small model saying one sentence twice with other
                # markers ("… [2]. … [1][2]."): the claim is shown once
                continue
            if self._draft and not agrees_with_draft(text, self._draft, self._question, self._korean):
                continue  # supported, but the value of another sentence than the ranker's answer
            for n, value in support.items():
                self._support[n] = max(self._support.get(n, 0.0), value)
            out.append(text if not self.kept else " " + text)
            self.kept.append(text)
        self._done = max(self._done, len(claims))
        return out


def _words(claim: str) -> str:
    """A claim's words, its citation markers and spacing aside."""
    return " ".join(MARKER.sub(" ", claim).split()).rstrip(" .!?。")
