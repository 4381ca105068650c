"""One answer at a time per chat tab (rag/web/tabs.py) and how a stopped answer's bubble reads."""

from rag.web import render
from rag.web.tabs import AnsweringTabs


def test_a_tab_answers_one_question_at_a_time_and_a_late_end_frees_no_newer_claim() -> None:
    tabs = AnsweringTabs()
    first = tabs.begin("tab-a", "펀드 규모는?")
    assert first is not None and tabs.begin("tab-a", "언제부터?") is None
    assert tabs.answering("tab-a") == "펀드 규모는?"
    assert tabs.begin("tab-b", "언제부터?") is not None  # another tab is not held
    tabs.drop("tab-a")  # 중지: the first answer's thread runs on
    second = tabs.begin("tab-a", "언제부터?")
    assert second is not None
    tabs.end("tab-a", first)  # the stopped answer ends late...
    assert tabs.begin("tab-a", "세 번째") is None  # ...and the second answer still holds the tab
    tabs.end("tab-a", second)
    assert tabs.answering("tab-a") is None and tabs.begin("tab-a", "세 번째") is not None
    assert tabs.begin("", "x") is not None and tabs.begin("", "x") is not None  # no session: never held


def test_a_question_sent_with_a_chat_older_than_the_last_answer_is_held() -> None:
    """A question that waited in Gradio's queue carries the chat as it was when sent: answering from it would
    erase the answer that finished meanwhile."""
    tabs = AnsweringTabs()
    first = tabs.begin("tab-a", "펀드 규모는?", 0)
    assert first is not None
    tabs.end("tab-a", first, 2)  # the chat now shows the question and its answer
    assert tabs.begin("tab-a", "언제부터?", 0) is None  # queued before the first answer was shown
    second = tabs.begin("tab-a", "언제부터?", 2)  # sent again from the current chat
    assert second is not None
    tabs.drop("tab-a")  # 중지: the stopped answer's late end records nothing
    tabs.end("tab-a", second, 4)
    assert tabs.begin("tab-a", "세 번째", 4) is not None
    tabs.drop("tab-a", cleared=True)  # 🗑 / 새 대화: the empty chat is the current one
    assert tabs.begin("tab-a", "처음부터", 0) is not None
    assert tabs.begin("tab-b", "다른 탭", 0) is not None  # each tab remembers its own chat


def test_the_tabs_remembered_are_bounded_oldest_first() -> None:
    tabs = AnsweringTabs(remembered=2)
    for session in ("a", "b", "c"):
        tabs.end(session, tabs.begin(session, "q", 0), 2)
    assert tabs.begin("a", "q", 0) is not None  # forgotten: a closed tab never says so
    assert tabs.begin("b", "q", 0) is None and tabs.begin("c", "q", 0) is None


def test_a_stopped_bubble_says_so_and_keeps_what_had_streamed() -> None:
    assert render.stopped_html('<span class="status">질문을 받았습니다…</span>') == (
        '<span class="status stopped">중지했습니다</span>')
    streamed = render.stopped_html(render.answer_html("LG이노텍은 1,030억") + render.CURSOR)
    assert streamed is not None and streamed.startswith(render.answer_html("LG이노텍은 1,030억")) and "▍" not in streamed
    assert "중지했습니다" in streamed
    draft = render.stopped_html(render.draft_html("초안 문장"))
    assert draft is not None and "초안 문장" in draft and draft.endswith('<span class="status stopped">중지했습니다</span>')
    assert render.stopped_html("<div>끝난 답 [1]</div>") is None  # a finished answer is left alone


def test_stop_and_clear_tell_the_answer_to_stop_and_only_that_answer() -> None:
    tabs = AnsweringTabs()
    first = tabs.begin("tab", "q1")
    other = tabs.begin("other tab", "q1")
    tabs.drop("tab")  # 중지
    assert first.stopped.is_set() and not other.stopped.is_set()
    second = tabs.begin("tab", "q2", 2)
    tabs.drop("tab", cleared=True)  # 새 대화 / 🗑
    assert second.stopped.is_set()
    tabs.end("tab", first, 2)  # the first answer ends late: nothing of the tab's is freed or stopped by it
    assert not other.stopped.is_set()
