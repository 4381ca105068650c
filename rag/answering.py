"""Question → standalone question (→ its Korean form) → retrieval → ranked evidence → refusal or
(extractive draft, verified LLM sentences) → Answer.

    answerer = Answerer(settings, KoreanText(), retrieve=pipe.search, article=pipe.article,
                        generator=lambda: load_generator(settings.generation, settings.paths.cache_dir),
                        embedder=lambda: pipe.embedder)
    for event in answerer.stream("LG이노텍의 동반성장 펀드 규모는?"):
        ...  # status, draft (extractive, instant), token (one verified sentence each)…, final (Answer)

Every retrieval of the answer layer goes through the one `retrieve(question, k)` callable.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable, Iterator, Sequence

from rag.article_dates import short_answer_date
from rag import cited_names
from rag.config import Settings
from rag.conversation import (is_followup, opening_reference, rewrite_followup, with_carried_names,
                               with_earlier_subject)
from rag.generation import GenerationError, Generator, GeneratorUnreachableError, complete
from rag.memo import MemoKorean
from rag.numbering import StreamNumbering, renumber
from rag.question import check_question
from rag.citations import asking
from rag.evidence import select_evidence
from rag.extractive import draft_lead, extractive_answer
from rag.referents import with_introductions
from rag.grounding import Grounding, assess_grounding, is_refusal
from rag.glossary import mostly_latin
from rag.prompts import Prompts, build_condense_messages, build_messages, trim_evidence
from rag.ranker import LogisticModel, fitted_model, for_embedding, load_models, order_models, phrase_model
from rag.short_answer import answer_claims as _claims, short_answer
from rag.relevance import SentenceRelevance
from rag.retrieval import merge_hits
from rag.streaming import VerifiedStream
from rag.translation import in_korean
from rag.types import Answer, Article, Citation, Event, Evidence, Filters, GroundingReport, Hit, Turn
from rag.types import notice_words as _notice
from rag.written_names import as_written as _as_written

_STOP = ("[근거]", "[질문]", "\n\n\n")
_LLM_MODES = {"llm", "local", "openai"}


class Answerer:
    """Answers questions over whatever `retrieve` returns; the generator is built on first LLM use."""

    def __init__(
        self,
        settings: Settings,
        korean: object,
        retrieve: Callable[..., list[Hit]],  # (question, k, filters=None)
        article: Callable[[str], Article | None],
        generator: Callable[[], Generator] | None = None,
        prompts: Prompts | None = None,
        embedder: Callable[[], object] | None = None,
    ) -> None:
        """`embedder` (a factory: the search model, loaded lazily) adds the e5 question/sentence
        similarity to evidence ranking; without it the cheap ranker alone decides."""
        self.settings = settings
        self.korean = MemoKorean(korean)
        models = load_models(settings.answer.evidence_model)
        self._rankers = models["cheap"], models["full"]
        self._order_by = order_models(models)
        self._fitted_refusal = load_models(settings.answer.refusal_model)["answerable"]
        if settings.answer.refusal_min_probability > 0:
            self._fitted_refusal = replace(self._fitted_refusal, threshold=settings.answer.refusal_min_probability)
        self._phrases = (phrase_model(settings.answer.phrase_model, settings.answer.phrase_min_share)
                         if settings.answer.phrase_answers else None)
        self._values = (fitted_model(settings.answer.value_model, "value", settings.answer.value_min_share)
                        if settings.answer.value_answers else None)
        self._refusal: LogisticModel | None = None  # chosen on first use, when the embedder is known
        self._embedder = embedder
        self._relevance = SentenceRelevance(embedder) if embedder is not None else None
        self._retrieve = retrieve
        self._article = article
        self._generator_factory = generator
        self.prompts = prompts or Prompts.load(settings.answer.prompts)

    # --- public --------------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[Turn] = (), mode: str | None = None, k: int | None = None,
            filters: Filters | None = None) -> Answer:
        """The final answer of `stream`."""
        final = None
        for event in self.stream(question, history, mode, k, filters=filters):
            if event.kind == "final":
                final = event.answer
        assert final is not None  # stream always ends with a final event
        return final

    def stream(self, question: str, history: Sequence[Turn] = (), mode: str | None = None,
               k: int | None = None, filters: Filters | None = None) -> Iterator[Event]:
        """status → draft (extractive) → token / progress… → final. Raises ValueError for an empty/huge question.

        Closing the stream (`.close()`) stops the model at its next piece."""
        question = check_question(question, self.settings.app.max_question_chars)
        mode = self._mode(mode)
        budget = self.settings.answer
        # work per question is bounded: the last few turns, each cut to a few hundred characters
        # (they only name what a follow-up refers to), never the whole conversation
        history = tuple(Turn(t.role, t.content[:budget.max_turn_chars])
                        for t in tuple(history)[-2 * budget.history_turns:]) if budget.history_turns else ()
        return self._run(question, history, mode, k or self.settings.retrieval.k, filters)

    def warm_up(self) -> None:
        """Load the LLM and evaluate the fixed system prompt once, so the first question is fast."""
        if self._generator_factory is None:
            return
        generator = self._generator_factory()
        messages = [{"role": "system", "content": self.prompts.system}, {"role": "user", "content": "안녕"}]
        prime = getattr(generator, "prime", None)
        if prime is not None:
            prime(messages)  # kept aside too: a condense or translate prompt does not cost it again
        else:
            complete(generator, messages, max_tokens=1)

    # --- steps ---------------------------------------------------------------------------------

    def _mode(self, mode: str | None) -> str:
        chosen = mode or self.settings.generation.backend
        if chosen in _LLM_MODES:
            return "llm"
        if chosen == "extractive":
            return "extractive"
        raise ValueError(f"unknown answer mode {chosen!r}: use 'llm' or 'extractive'")

    def _run(self, question: str, history: tuple[Turn, ...], mode: str, k: int,
             filters: Filters | None = None) -> Iterator[Event]:
        t0 = time.perf_counter()
        ms = lambda: round((time.perf_counter() - t0) * 1000, 1)  # noqa: E731
        generator: Generator | None = None
        notice_code, failure = "", ""  # why LLM mode answers without the LLM (rag.types.NOTICES), and its reason
        if mode == "llm":
            generator, notice_code, failure = self._generator()
        yield Event("status", "질문을 이해하는 중…" if history else "관련 기사를 찾는 중…")
        standalone = self._standalone(question, history, generator)
        if history:
            yield Event("status", "관련 기사를 찾는 중…")
        korean = self.korean
        budget = self.settings.answer
        # the articles are Korean: a question in another language is searched and checked in both
        searched = self._in_korean(standalone, generator)
        hits, evidence, grounding = self.gather(standalone, k, searched, filters)
        earlier, about = (with_earlier_subject(question, history, korean, budget.carried_turns)
                          if history and searched == standalone else ("", ()))
        tried: set[tuple[str, tuple[str, ...]]] = set()  # (form, about) already gathered and judged: the same form is not searched twice
        if earlier:
            tried.add((earlier, about))
            # a second follow-up naming nothing leans on the conversation's subject, which the latest question
            # (naming a year, a place) may have left out: the form carrying the older names too is preferred
            # where it answers from an article about the latest names
            found = self.gather(earlier, k, earlier, filters)
            if self._usable(earlier, found[1], found[2], about, found[0]):
                standalone = searched = earlier
                hits, evidence, grounding = found
        if not grounding.answerable and searched != standalone and self.settings.answer.foreign_as_written:
            # the small model's translation garbles names and words ("commercial 5G" -> "전자전기 서비스"):
            # where its Korean form finds no answer, the question is judged as written, the route without
            # an LLM (multilingual search, the glossary's names), which refuses a name no passage knows
            found = self.gather(standalone, k, standalone, filters)
            if found[2].answerable:
                searched = standalone
                hits, evidence, grounding = found
        if history and not grounding.missing and not self._usable(searched, evidence, grounding):
            # Korean drops the subject the conversation established: try again with it. Not when the
            # question names something no passage mentions ("그럼 삼성전기의 펀드 규모는?" after LG이노텍):
            # the earlier subject would answer about another company
            for carried, about in with_carried_names(standalone, history, korean, budget.carried_turns):
                if (carried, about) in tried:
                    # the earlier subject's form, already found not to answer above ("매출은?" after KT, then
                    # LG이노텍: both add KT's names to LG이노텍's, and must be about LG이노텍)
                    continue
                found = self.gather(carried, k, carried, filters)
                if self._usable(carried, found[1], found[2], about, found[0]):
                    standalone = searched = carried
                    hits, evidence, grounding = found
                    break
        timings = {"retrieval": ms()}

        judged = replace(self._grounding_report(grounding, searched),
                         dangling=opening_reference(question, history, korean))
        unnamed_by_cited: dict[tuple, tuple[str, ...]] = {}  # the draft's articles are checked once

        def unnamed(citations: Sequence[Citation]) -> tuple[str, ...]:
            key = tuple((c.source, c.quote) for c in citations)
            if key not in unnamed_by_cited:
                unnamed_by_cited[key] = self._unnamed(searched, grounding, citations)
            return unnamed_by_cited[key]

        def final(text: str, citations: tuple = (), refused: bool = False, used: str = "extractive",
                  code: str = "", note_code: str = notice_code, detail: str = failure) -> Event:
            # every surface reads these numbers: 1, 2, 3 in the order the text cites them (not the evidence's)
            text, citations = renumber(text, citations)
            claims = () if refused else tuple(_claims(text, citations, evidence, used))
            report = (replace(judged, code=code or judged.code) if refused else
                      replace(judged, code="", missing=(), unnamed=unnamed(citations)))
            # the checks compare lower case; a reader sees the names as the question wrote them ("LG이노텍")
            report = replace(report, missing=_as_written(report.missing, korean, searched, question),
                             unnamed=_as_written(report.unnamed, korean, searched, question))
            short = short_answer(searched, claims, korean, self._phrases, self._values) if claims else ""
            timings.setdefault("first_token", ms())
            timings["total"] = ms()
            return Event("final", text, Answer(question=question, text=text, refused=refused,
                                               citations=tuple(citations), hits=tuple(hits), mode=used,
                                               standalone_question=standalone, searched_question=searched,
                                               timings=dict(timings), notice=_notice(note_code, detail),
                                               notice_code=note_code,
                                               short=short, short_date=short_answer_date(short, citations, claims),
                                               claims=claims, grounding=report))

        if not grounding.answerable:
            yield final(self.prompts.refusal, refused=True, used=mode if generator else "extractive")
            return
        evidence, draft, draft_citations = self._draft(searched, evidence)
        if budget.refuse_unnamed:
            # decided on the articles the extractive answer cites, before the model is called (as every
            # refusal is): none of them names what the question asks about
            names = unnamed(draft_citations)
            if names:
                judged = replace(judged, missing=names)
                yield final(self.prompts.refusal, refused=True, used=mode if generator else "extractive",
                            code="names_not_cited")
                return
        yield Event("draft", renumber(draft, draft_citations)[0])
        if generator is None:
            timings["first_token"] = ms()
            yield final(draft, draft_citations)
            return

        yield Event("status", "답변을 작성하는 중…")
        prompt_evidence = self.prompt_evidence(searched, evidence, draft_citations)
        # nothing reaches a client unchecked: each sentence of the model is emitted once verified
        # …and, with answer.llm_agrees_with_draft on, agrees with the sentences the ranker chose (not with
        # the lead's context neighbour: the model taking the value of the sentence beside the answer is
        # the very miss the check is for)
        # — where the ranker is sure of the draft's lead (answer.llm_agreement_min_probability): where it is
        # not, the model's verified claim is as likely to be the right one
        lead = draft_lead(searched, evidence, korean, budget.slot_miss_factor) if budget.llm_agrees_with_draft else None
        held = lead is not None and lead.score >= budget.llm_agreement_min_probability
        chosen = extractive_answer(searched, evidence, korean, second_share=budget.second_share,
                                   slot_miss_factor=budget.slot_miss_factor, neighbour_share=0.0,
                                   restatement_words=0)[0] if held else ""
        # (with answer.llm_claim_keeps_value, a claim that says the question back without its cited
        # sentence's value is shown as that sentence: rag/claimvalue.py)
        # the streamed sentences carry the numbers of the final answer (a bracket citing no evidence left as written)
        numbering = StreamNumbering(ev.n for ev in prompt_evidence)
        verified = VerifiedStream(prompt_evidence, korean, budget.min_support, asking(standalone, korean),
                                  draft=chosen,
                                  restatement_share=budget.llm_restatement_share if budget.llm_claim_keeps_value else None)
        try:
            for piece in generator.stream(build_messages(self.prompts, standalone, prompt_evidence),
                                          self.settings.generation.max_tokens, _STOP):
                timings.setdefault("first_token", ms())  # the model's first token (prompt evaluated)
                shown = verified.feed(piece)
                for text in shown:
                    timings.setdefault("first_verified", ms())
                    yield Event("token", numbering.feed(text))
                if not shown:
                    # a one-sentence answer shows nothing until the model stops: without this, a client
                    # that left could stop the model only after the whole answer was written
                    yield Event("progress")
        except GenerationError as exc:
            if verified.kept:  # what was shown stays true; the rest was lost with the backend
                yield final(verified.text, verified.citations, used="llm", note_code="llm_cut", detail=str(exc))
            else:  # a server nobody answers at is unavailable (as a model that cannot load); else it failed
                code = "llm_unavailable" if isinstance(exc, GeneratorUnreachableError) else "llm_failed"
                yield final(draft, draft_citations, note_code=code, detail=str(exc))
            return
        for text in verified.finish():
            timings.setdefault("first_verified", ms())
            yield Event("token", numbering.feed(text))
        # the model's verdict is one signal: it refuses and no sentence covers the question -> refuse;
        # one sentence covers it all -> the extractive answer
        if not verified.kept and is_refusal(verified.raw.strip(), self.prompts.refusal, korean.lexicon.refusal_cues):
            # overruled only when the passages answer it all but surely (fitted: see rag/fitted/refusal.json)
            if grounding.probability < self._answerability().meta.get("strong", 1.0):
                yield final(self.prompts.refusal, refused=True, used="llm", code="llm_refused")
            else:
                yield final(draft, draft_citations, note_code="llm_found_nothing")
            return
        if not verified.kept:
            # the passages passed every refusal check and the model did not refuse: what it wrote is
            # unsupported, only a weak sign that the answer is missing (KorQuAD 1-70: 65 % of the withheld
            # questions the model is asked, 45 % of the answerable; refusing on it under the `strong` bar lost
            # 11 of 100 right KLUE odd answers — bench/results/llm_probes_2026-12-07.md)
            yield final(draft, draft_citations, note_code="llm_unverified")
            return
        yield final(verified.text, verified.citations, used="llm")

    def prompt_evidence(self, question: str, evidence: Sequence[Evidence], draft_citations: Sequence[Citation],
                        max_chars: int | None = None) -> list[Evidence]:
        """The evidence the LLM reads, within the prompt budget (default: answer.llm_evidence_chars),
        renumbered from 1."""
        budget = self.settings.answer
        # the sentences the extractive answer chose go first: a small model leans on [1], and those
        # sentences were ranked with the answer's expected shape (an amount, a count, a name)
        # (the draft cites in article order: its single best sentence leads)
        _, best = extractive_answer(question, evidence, self.korean, max_sentences=1,
                                   second_share=budget.second_share, slot_miss_factor=budget.slot_miss_factor)
        drafted = [(c.source, c.start) for c in tuple(best) + tuple(draft_citations)]
        rank = {key: i for i, key in reversed(list(enumerate(drafted)))}
        ordered = sorted(evidence, key=lambda ev: rank.get((ev.doc_id, ev.start), len(rank)))
        return trim_evidence(ordered, budget.max_evidence, max_chars or budget.llm_evidence_chars)

    def gather(self, question: str, k: int, in_korean: str | None = None,
               filters: Filters | None = None) -> tuple[list[Hit], list, Grounding]:
        """Retrieval (with the question's Korean form too, when it has one), a wide pool of evidence
        sentences (the extractive answer and the refusal checks use it all; its best part goes to
        the LLM) and the verdict on whether they can answer — judged on the Korean form."""
        budget = self.settings.answer
        in_korean = in_korean or question
        hits = list(self._search(question, k, filters))
        if in_korean != question:
            hits = merge_hits(hits, self._search(in_korean, k, filters), k)
        evidence = select_evidence(in_korean, hits, self._article, self.korean, 2 * budget.max_evidence,
                                   4 * budget.max_evidence_chars, *self._rankers, self._relevance, self._order_by)
        return hits, evidence, assess_grounding(in_korean, hits, evidence, self.korean, self._answerability())

    def _grounding_report(self, grounding: Grounding, searched: str) -> GroundingReport:
        """What an answer reports of the grounding: the model's probability and the bar it was held to (none
        for a question in Latin script, which the rules alone judge), and why it refuses when it does."""
        if not grounding.signals:  # refused before anything was weighed: nothing retrieved, no words
            return GroundingReport(code=grounding.code)
        threshold = None if mostly_latin(searched) else round(self._answerability().threshold, 4)
        return GroundingReport(round(grounding.probability, 4), threshold, grounding.code, tuple(grounding.missing))

    def _draft(self, searched: str, evidence: list) -> tuple[list, str, list[Citation]]:
        """The extractive answer: (the evidence, with any sentence introducing a person it cites; its text;
        its citations)."""
        budget = self.settings.answer
        draft, citations = extractive_answer(searched, evidence, self.korean, second_share=budget.second_share,
                                             slot_miss_factor=budget.slot_miss_factor,
                                             neighbour_share=budget.neighbour_share,
                                             restatement_words=budget.restatement_words,
                                             third_share=budget.third_share)
        if budget.introduce_people:
            # "김 지사는 …" does not say who: the sentence naming 김관용 경북지사 joins the answer
            evidence, draft, citations = with_introductions(searched, evidence, draft, citations, self._article,
                                                            self.korean)
        return evidence, draft, citations

    def _usable(self, searched: str, evidence: list, grounding: Grounding, about: Sequence[str] = (),
                hits: Sequence[Hit] = ()) -> bool:
        """rag.cited_names.usable: whether `gather`'s result answers, its cited articles naming what is asked."""
        return cited_names.usable(searched, evidence, grounding, self._draft, self._article, self.korean,
                                  self.settings.answer.refuse_unnamed, about, hits)

    def names_not_cited(self, searched: str, evidence: list, grounding: Grounding) -> tuple[str, ...]:
        """rag.cited_names.names_not_cited: the question's names, when the articles its answer would cite name none."""
        return cited_names.names_not_cited(searched, evidence, grounding, self._draft, self._article, self.korean)

    def _unnamed(self, question: str, grounding: Grounding, citations: Sequence[Citation]) -> tuple[str, ...]:
        """rag.cited_names.unnamed: the question's names when no article the answer cites mentions any of them."""
        return cited_names.unnamed(question, grounding, citations, self._article, self.korean)

    def _answerability(self) -> LogisticModel:
        """The fitted answerability model, when the running embedder is the one it was fitted with
        (rag.ranker.for_embedding: else only the hard refusal rules and the model's own verdict refuse)."""
        if self._refusal is None:
            running = getattr(self._embedder(), "name", None) if self._embedder is not None else None
            self._refusal = for_embedding(self._fitted_refusal, running)
        return self._refusal

    def _search(self, question: str, k: int, filters: Filters | None) -> list[Hit]:
        # a retrieve callable without a filters parameter (tests, old callers) is called without one
        return self._retrieve(question, k, filters) if filters else self._retrieve(question, k)

    def _in_korean(self, question: str, generator: Generator | None) -> str:
        """The Korean form of a question in another language (one LLM call), else the question."""
        return in_korean(question, generator, self.prompts, self.settings.answer.transliterate_names)

    def _generator(self) -> tuple[Generator | None, str, str]:
        """(the generator, or None with the notice code and the reason it cannot be used)."""
        if self._generator_factory is None:
            return None, "llm_not_configured", ""
        try:
            return self._generator_factory(), "", ""
        except GenerationError as exc:
            return None, "llm_unavailable", str(exc)

    def _standalone(self, question: str, history: tuple[Turn, ...], generator: Generator | None) -> str:
        """Rule-based rewrite first; the LLM condenses only what the rule cannot resolve."""
        if not history:
            return question
        rewritten = rewrite_followup(question, history, self.korean)
        if rewritten != question or generator is None or not is_followup(question, history, self.korean):
            return rewritten
        messages = build_condense_messages(self.prompts, question, [(t.role, t.content) for t in history])
        try:
            condensed = complete(generator, messages, max_tokens=64, stop=("\n",)).strip()
        except GenerationError:
            return rewritten
        return condensed if 0 < len(condensed) <= 300 else rewritten
