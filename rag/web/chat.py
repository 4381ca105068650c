"""The Gradio chat page: streaming answers, source cards, examples, stop, feedback, embed tab.

`build_chat_blocks(ctx)` builds the Blocks; `app.py` mounts it in the FastAPI app at "/".
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from rag.filters import FilterError
from rag.serialize import answer_to_dict
from rag.store import StoreError
from rag.question import MAX_K, QuestionError
from rag.types import Answer, Turn
from rag.web import render
from rag.web.feedback import FeedbackStore
from rag.web.filter_controls import FilterControls, controls_filters, publisher_choices_update
from rag.web.articles_tab import build_articles_tab
from rag.web.gate import AnswerGate, Busy
from rag.web.search_tab import build_search_tab
from rag.web.security import RateLimiter
from rag.web.tabs import AnsweringTabs
from rag.web.service import ChatService, NotReadyError, shown_to

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

# one question per seed article, answerable from it (the corpus the app ingests on first start)
EXAMPLE_QUESTIONS = (
    "LG이노텍의 동반성장 펀드 규모는?",
    "KT가 중소 협력사와 공동 R&D에 출연하기로 한 금액은?",
    "LGU+는 협력사 몇 곳에 납품대금을 조기 지급했나?",
    "LG전자 협력회 워크숍은 어디에서 열렸나?",
    "중기부가 상생협력 우수 기업 간담회를 연 장소는?",
)
MODE_CHOICES = [("LLM 답변 (초안 → 생성)", "llm"), ("추출 답변 (빠름)", "extractive")]
BUSY_MESSAGE = "지금 답변 요청이 많습니다. {seconds}초쯤 뒤에 다시 시도해 주세요."
ONE_AT_A_TIME = "앞 질문의 답이 끝난 뒤에 보내 주세요 (멈추려면 중지)."
# the words of Gradio's own chat-message buttons. Its Korean translation has none for copy ("Copy message"
# showed in English beside 좋아요); the page is Korean whatever the browser's language, and English is where
# Gradio falls back, so both get these words
MESSAGE_BUTTON_WORDS = {
    "chatbot.copy_message": "메시지 복사",
    "chatbot.copied_message": "복사했습니다",
    "chatbot.like": "좋아요",
    "chatbot.dislike": "싫어요",
    "chatbot.clear": "대화 지우기",
}


@dataclass
class WebContext:
    """What the page needs: the service, where feedback goes, the rate limit, the answer gate, the public URL."""

    service: ChatService
    feedback: FeedbackStore
    limiter: RateLimiter
    gate: AnswerGate
    public_url: str
    default_mode: str = "extractive"
    default_k: int = 5
    max_question_chars: int = 2000

    @property
    def concurrency(self) -> int:
        return self.gate.concurrency


def embed_snippets(public_url: str) -> tuple[str, str]:
    """(script snippet for a floating bubble, plain iframe snippet) for another site's HTML."""
    base = public_url.rstrip("/")
    script = f'<script src="{base}/widget.js" defer></script>'
    iframe = (
        f'<iframe src="{base}/widget" title="상생협력 Q&A" '
        'style="width:380px;height:560px;border:1px solid #ddd;border-radius:12px"></iframe>'
    )
    return script, iframe


def _client(request: gr.Request | None) -> str:
    if request is None or request.client is None:
        return "local"
    return request.client.host or "local"


def _history(conv: dict[str, Any]) -> list[Turn]:
    return [Turn(role=t["role"], content=t["content"]) for t in conv.get("turns", [])]


def build_chat_blocks(ctx: WebContext) -> gr.Blocks:
    service = ctx.service

    def status_md() -> str:
        if service.error:
            return f"▲ {service.status}"
        if service.ready:
            return f"● {service.status}"
        return f"○ {service.status} (질문은 준비되면 바로 답합니다)"

    def poll_status() -> tuple[str, gr.Timer]:
        return status_md(), gr.Timer(active=not service.ready or "불러오는" in service.status)

    tabs = AnsweringTabs()  # one answer at a time per tab; a stopped answer frees its tab at once

    def _session(request: gr.Request | None) -> str:
        return getattr(request, "session_hash", None) or ""

    def respond(
        message: str, chat: list[dict], conv: dict[str, Any], mode: str, k: float, date_from: str, date_to: str,
        publishers: list[str], request: gr.Request,
    ) -> Iterator[tuple[list[dict], str, dict[str, Any], str]]:
        session = _session(request)
        token = tabs.begin(session, message, len(chat or []))
        if token is None:  # the question stays in the box for when the answer is done
            if tabs.answering(session) != message:  # the same question again is a double click: nothing to say
                gr.Warning(ONE_AT_A_TIME)
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        shown = len(chat or [])
        try:
            for update in answer_turn(message, chat, conv, mode, k, date_from, date_to, publishers, request,
                                      token.stopped):
                if isinstance(update[0], list):
                    shown = len(update[0])
                yield update
        finally:  # also when stopped: Gradio closes the generator, maybe long after (its thread runs on)
            tabs.end(session, token, shown)

    def answer_turn(
        message: str, chat: list[dict], conv: dict[str, Any], mode: str, k: float, date_from: str, date_to: str,
        publishers: list[str], request: gr.Request, stopped: threading.Event,
    ) -> Iterator[tuple[list[dict], str, dict[str, Any], str]]:
        question = (message or "").strip()
        conv = dict(conv or {"turns": [], "answers": {}})
        chat = list(chat or [])
        if not question:
            yield chat, gr.skip(), conv, ""
            return
        chat.append({"role": "user", "content": render.escape_text(question)})
        chat.append({"role": "assistant", "content": ""})
        # a question refused before it is asked stays in the box: the reader shortens it or sends it again
        if len(question) > ctx.max_question_chars:
            chat[-1]["content"] = f"질문이 너무 깁니다 ({len(question):,}자, 최대 {ctx.max_question_chars:,}자). 줄여서 다시 보내 주세요."
            yield chat, gr.skip(), conv, message
            return
        if ctx.limiter.check(_client(request)):
            chat[-1]["content"] = "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요."
            yield chat, gr.skip(), conv, message
            return
        try:
            filters = controls_filters(date_from, date_to, publishers)
        except FilterError as exc:
            chat[-1]["content"] = render.escape_text(f"검색 범위를 확인해 주세요: {exc}")
            yield chat, gr.skip(), conv, message
            return
        chat[-1]["content"] = '<span class="status">질문을 받았습니다…</span>'
        yield chat, gr.skip(), conv, ""  # the question shows at once, whatever the pipeline is doing
        # from here on the box is left alone: the reader may be typing the next question
        while not service.ready:  # the first question waits for the models instead of failing
            if stopped.is_set():
                return
            chat[-1]["content"] = f'<span class="status">{render.escape_text(service.status)}</span>'
            yield chat, gr.skip(), conv, gr.skip()
            time.sleep(0.5)
        answer: Answer | None = None
        tokens = ""
        try:
            with ctx.gate.hold():  # the same slots as the HTTP API: one limit for every answer
                events = service.stream(question, history=_history(conv), mode=mode, k=int(k), filters=filters)
                # closed on the way out: a stopped answer's model stops now, not when the generator is collected
                with contextlib.closing(events):
                    for event in events:
                        if stopped.is_set():
                            # 중지: Gradio cancelled this answer but waits for this thread's next update, which an
                            # LLM holding its sentence for verification would give only at the sentence's end;
                            # every model piece ("progress") comes here, so the model stops at its next piece
                            return
                        if event.kind == "status" and not tokens:
                            chat[-1]["content"] = f'<span class="status">{render.escape_text(event.text)}</span>'
                        elif event.kind == "draft":
                            chat[-1]["content"] = render.draft_html(event.text)
                        elif event.kind == "token":
                            tokens += event.text
                            chat[-1]["content"] = render.answer_html(tokens) + render.CURSOR
                        elif event.kind == "final" and event.answer is not None:
                            answer = event.answer
                            chat[-1]["content"] = render.chat_message_html(
                                answer, anchor_prefix=f"src-{len(chat) - 1}", scoped=filters is not None)
                        else:
                            continue
                        yield chat, gr.skip(), conv, gr.skip()
        except Busy as exc:
            chat[-1]["content"] = render.escape_text(BUSY_MESSAGE.format(seconds=exc.retry_after))
            yield chat, gr.skip(), conv, gr.skip()
            return
        except NotReadyError as exc:
            said = shown_to(str(exc), _client(request))  # paths only to this machine, as /health
            chat[-1]["content"] = f"시작하지 못해 답할 수 없습니다: {render.escape_text(said)}"  # store or models
            yield chat, gr.skip(), conv, gr.skip()
            return
        except QuestionError as exc:
            chat[-1]["content"] = render.escape_text(str(exc))
            yield chat, gr.skip(), conv, gr.skip()
            return
        except StoreError as exc:  # not a bug of ours, and it passes when the store is back: say what to do
            log.warning("answering %r: store unavailable: %s", question, exc)
            said = shown_to(str(exc), _client(request))
            chat[-1]["content"] = render.escape_text(render.STORE_UNAVAILABLE.format(message=said))
            yield chat, gr.skip(), conv, gr.skip()
            return
        # the UI boundary: the user gets a plain message, the log gets the trace
        except Exception:  # noqa: BLE001
            log.exception("answering %r failed", question)
            chat[-1]["content"] = "답변 중 오류가 발생했습니다. 잠시 후 다시 시도해 주세요."
            yield chat, gr.skip(), conv, gr.skip()
            return
        if answer is None:
            chat[-1]["content"] = render.escape_text("답변을 만들지 못했습니다.")
            yield chat, gr.skip(), conv, gr.skip()
            return
        turns = list(conv.get("turns", [])) + [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]
        key = str(len(chat) - 1)  # the answer's place in the chat: what a 👍/👎 and its [n] links refer to
        answers = dict(conv.get("answers", {}))
        answers[key] = answer_to_dict(answer)
        # every answer keeps its cards: its [n] links (anchored src-<key>-<n>) must open its own sources
        cards = dict(conv.get("cards", {}))
        cards[key] = render.source_cards_html(answer, service.article, anchor_prefix=f"src-{key}")
        conv = {"turns": turns, "answers": answers, "cards": cards}
        yield chat, render.source_groups_html(cards, key), conv, gr.skip()

    def on_like(conv: dict[str, Any], data: gr.LikeData, request: gr.Request) -> str:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        answer = (conv or {}).get("answers", {}).get(str(index))
        if answer is None:
            return "피드백을 기록할 답변이 없습니다."
        liked = data.liked is True or (isinstance(data.liked, str) and data.liked.lower() in {"like", "up"})
        ctx.feedback.record("up" if liked else "down", answer, client=_client(request))
        return "고맙습니다. 좋아요를 기록했습니다." if liked else "피드백을 기록했습니다. 더 나아지겠습니다."

    def stop_answer(chat: list[dict], request: gr.Request) -> list[dict]:
        """중지: the unfinished answer's bubble says it was stopped instead of "답변을 작성하는 중…" for ever."""
        tabs.drop(_session(request))
        chat = list(chat or [])
        if not chat or chat[-1].get("role") != "assistant":
            return chat
        content = chat[-1].get("content")
        if isinstance(content, list):  # Gradio hands messages back as [{"type": "text", "text": ...}]
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        stopped = render.stopped_html(str(content or ""))
        if stopped is not None:
            chat[-1] = {"role": "assistant", "content": stopped}
        return chat

    def clear(request: gr.Request) -> tuple[list, str, dict, str]:
        tabs.drop(_session(request), cleared=True)
        return [], render.source_cards_html(None, service.article), {"turns": [], "answers": {}}, ""

    def api_ask(question: str, mode: str = "extractive", k: int = 5, request: gr.Request = None) -> dict:  # type: ignore[assignment]
        """Ask one question; returns the same JSON as `rag ask --json` (answer, citations, hits, timings)."""
        if ctx.limiter.check(_client(request)):
            raise gr.Error("rate limit exceeded")
        if not question or not question.strip():
            raise gr.Error("question is empty")
        if mode not in ("llm", "extractive"):
            raise gr.Error("mode must be 'llm' or 'extractive'")
        question = question.strip()
        if len(question) > ctx.max_question_chars:  # as /api/ask's 400: a cut question would be answered as asked
            raise gr.Error(f"question: {len(question)} characters; at most {ctx.max_question_chars} (app.max_question_chars)")
        # as /api/ask's 1-20: 500 read 500 passages, -3 sliced 31 and "abc" was int()'s own error
        if isinstance(k, bool) or not isinstance(k, (int, float)) or k != int(k) or not 1 <= k <= MAX_K:
            raise gr.Error(f"k must be a whole number from 1 to {MAX_K}, not {k!r}")
        try:
            with ctx.gate.hold():
                return answer_to_dict(service.ask(question, mode=mode, k=int(k)))
        except Busy as exc:
            raise gr.Error(BUSY_MESSAGE.format(seconds=exc.retry_after)) from exc
        except StoreError as exc:
            raise gr.Error(render.STORE_UNAVAILABLE.format(message=shown_to(str(exc), _client(request)))) from exc

    script_snippet, iframe_snippet = embed_snippets(ctx.public_url)
    with gr.Blocks(title="상생협력 뉴스 Q&A", analytics_enabled=False) as blocks:
        conv_state = gr.State({"turns": [], "answers": {}})
        with gr.Row(elem_id="topbar"):
            gr.Markdown("## 상생협력 뉴스 Q&A\n대·중소기업 상생협력 기사에서 근거를 찾아 답합니다. 모든 답에는 출처가 붙습니다.")
            status = gr.Markdown(status_md(), elem_id="model-status")
        timer = gr.Timer(1.0, active=True)
        timer.tick(poll_status, None, [status, timer], api_visibility="private", queue=False)
        with gr.Tabs():
            with gr.Tab("채팅", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            elem_id="chat",
                            height=520,
                            show_label=False,
                            latex_delimiters=[],
                            placeholder="상생협력 기사에 대해 물어보세요.",
                            buttons=["copy"],
                        )
                        with gr.Row():
                            textbox = gr.Textbox(
                                placeholder="질문을 입력하세요 (예: LG이노텍의 동반성장 펀드 규모는?)",
                                show_label=False,
                                scale=6,
                                max_lines=4,
                                elem_id="question",
                                autofocus=True,
                            )
                            send = gr.Button("보내기", variant="primary", scale=1, elem_id="send")
                            stop = gr.Button("중지", variant="stop", scale=1, elem_id="stop")
                        gr.Markdown("**예시 질문**")
                        with gr.Row(elem_id="examples"):
                            example_buttons = [gr.Button(q, size="sm", elem_classes=["example"]) for q in EXAMPLE_QUESTIONS]
                        with gr.Row():
                            mode = gr.Radio(MODE_CHOICES, value=ctx.default_mode, label="답변 방식", elem_id="mode")
                            top_k = gr.Slider(1, 10, value=ctx.default_k, step=1, label="검색할 문단 수 (top-k)", elem_id="topk")
                        with gr.Accordion("검색 범위 (기간·언론사)", open=False, elem_id="chat-filters"):
                            chat_filters = FilterControls.build("chat")
                        with gr.Row():
                            new_chat = gr.Button("새 대화", size="sm", elem_id="new-chat")
                            feedback_note = gr.Markdown("", elem_id="feedback-note")
                    with gr.Column(scale=2):
                        gr.Markdown("### 출처")
                        sources = gr.HTML(render.source_cards_html(None, service.article), elem_id="sources", js_on_load=None)
            build_search_tab(ctx)
            build_articles_tab()
            with gr.Tab("임베드 (Embed)", id="embed"):
                gr.Markdown(
                    "다른 사이트에 이 챗봇을 넣으려면 아래 코드 한 줄을 붙여 넣으세요. 오른쪽 아래에 채팅 버튼이 생깁니다. "
                    "모든 파일은 이 서버가 직접 제공합니다 (CDN 없음, 오프라인 동작). "
                    "그 사이트의 주소(origin)가 설정 `app.allowed_origins`에 있어야 합니다."
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        gr.Code(script_snippet, language="html", label="플로팅 버튼 (script)", interactive=False, lines=2, elem_id="embed-script")
                        gr.Code(iframe_snippet, language="html", label="iframe", interactive=False, lines=3, elem_id="embed-iframe")
                        gr.Markdown(
                            "`<script>` 태그에 `data-mode=\"extractive\"`(빠른 추출 답변), `data-position=\"left\"`, "
                            "`data-open=\"true\"`를 붙일 수 있습니다. 위젯도 같은 HTTP API를 쓰며 출처 카드를 보여 줍니다. "
                            "답의 근거를 좁히려면 `data-date-from=\"2023-01-01\"`, `data-date-to`, "
                            "`data-publisher=\"언론사1,언론사2\"`, `data-source=\"2024/\"`를 붙이세요."
                        )
                    with gr.Column(scale=2):
                        gr.HTML(
                            '<iframe src="widget?mode=extractive" title="위젯 미리보기" '
                            'style="width:100%;height:480px;border:1px solid #d1d5db;border-radius:12px"></iframe>',
                            label="미리보기",
                            js_on_load=None,
                        )
                gr.Markdown("API 예시: `curl -s " + ctx.public_url.rstrip("/") + "/api/ask -H 'content-type: application/json' "
                            "-d '{\"question\": \"LG이노텍의 동반성장 펀드 규모는?\", \"mode\": \"extractive\"}'`")

        io = dict(inputs=[textbox, chatbot, conv_state, mode, top_k, *chat_filters.inputs],
                  outputs=[chatbot, sources, conv_state, textbox])
        # "multiple": Gradio's default ("once") drops a click while the button's last answer is still running,
        # and a stopped answer runs on until its thread's step ends (an LLM in its prompt: many seconds), so the
        # next question after 중지 was silently ignored; `respond` holds overlapping answers itself
        events = [
            textbox.submit(respond, **io, concurrency_limit=ctx.concurrency, concurrency_id="answer", api_visibility="private",
                           trigger_mode="multiple"),
            send.click(respond, **io, concurrency_limit=ctx.concurrency, concurrency_id="answer", api_visibility="private",
                       trigger_mode="multiple"),
        ]
        for button, question in zip(example_buttons, EXAMPLE_QUESTIONS):
            filled = button.click(lambda q=question: q, None, textbox, queue=False, api_visibility="private")
            events.append(
                filled.then(respond, **io, concurrency_limit=ctx.concurrency, concurrency_id="answer", api_visibility="private")
            )
        stop.click(stop_answer, chatbot, chatbot, cancels=events, api_visibility="private", queue=False)
        new_chat.click(clear, None, [chatbot, sources, conv_state, textbox], cancels=events, api_visibility="private", queue=False)
        # the chat's own trash button empties only the messages: the conversation a follow-up is read with, and
        # the sources, must go with them
        chatbot.clear(clear, None, [chatbot, sources, conv_state, textbox], cancels=events, api_visibility="private",
                      queue=False)
        chatbot.like(on_like, [conv_state], [feedback_note], api_visibility="private")
        gr.api(api_ask, api_name="ask", concurrency_limit=ctx.concurrency, concurrency_id="answer")
        refill = publisher_choices_update(service.articles)
        blocks.load(refill, [chat_filters.publisher], [chat_filters.publisher], api_visibility="private", queue=False)
        chat_filters.publisher.focus(refill, [chat_filters.publisher], [chat_filters.publisher],
                                     api_visibility="private", queue=False)
    # Gradio's own queue is bounded too: beyond the gate's capacity a job is refused, not parked
    blocks.queue(default_concurrency_limit=ctx.concurrency, max_size=ctx.gate.capacity)
    return blocks


def chat_i18n() -> gr.I18n:
    """Korean words for the chat's message buttons (Gradio's translations, extended: `mount_gradio_app(i18n=…)`)."""
    return gr.I18n(ko=dict(MESSAGE_BUTTON_WORDS), en=dict(MESSAGE_BUTTON_WORDS))


def chat_css() -> str:
    return (STATIC_DIR / "chat.css").read_text(encoding="utf-8")


def chat_head() -> str:
    """A click on an [n] marker scrolls to its source card and flashes it (no navigation); a message's copy
    button copies its text, not its HTML."""
    return "".join("<script>" + (STATIC_DIR / name).read_text(encoding="utf-8") + "</script>" for name in ("cite.js", "copy.js"))
