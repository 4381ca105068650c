"""The "기사 관리 (Articles)" tab: the manager page (/articles, static) in a frame of our own origin.

Gradio's front end cannot send `Authorization: Bearer`, and its file upload is admin-only, so the
manager is a small page of its own (static/articles.*) that calls /api/articles with the token the
user types into it. Without the token it can show nothing: every call is refused (401/403/404).
"""

from __future__ import annotations

import gradio as gr

FRAME = ('<iframe src="articles" title="기사 관리" id="articles-frame" '
         'style="width:100%;height:760px;border:1px solid #e5e7eb;border-radius:12px;background:#fff"></iframe>')


def build_articles_tab() -> None:
    with gr.Tab("기사 관리 (Articles)", id="articles"):
        gr.Markdown("기사를 올리고(.txt .md .html .pdf .hwp .hwpx .docx .doc .odt .rtf .jsonl .csv .tsv .xlsx .xls, .zip), 목록을 보고, 지우고, 다시 색인합니다. "
                    "관리자 토큰(설정 `app.admin_token`)이 있어야 쓸 수 있습니다. 색인은 뒤에서 진행되며 그동안에도 질문에 답합니다.")
        gr.HTML(FRAME, js_on_load=None)
