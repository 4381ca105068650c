"""Date-range and publisher controls shared by the chat and the search tab, and what they mean.

    controls = FilterControls.build("chat")          # inside a gr.Blocks context
    filters = controls_filters(date_from, date_to, publishers)   # FilterError for a bad date
    blocks.load(publisher_choices_update(service), None, controls.publisher)

The publisher choice lists what the store holds (the chat page is public, and so is what it cites).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import gradio as gr

from rag.filters import make_filters
from rag.types import Filters

DATE_HINT = "YYYY-MM-DD"


@dataclass
class FilterControls:
    date_from: gr.Textbox
    date_to: gr.Textbox
    publisher: gr.Dropdown

    @classmethod
    def build(cls, prefix: str) -> "FilterControls":
        with gr.Row():
            date_from = gr.Textbox(label="시작일", placeholder=DATE_HINT, max_lines=1, elem_id=f"{prefix}-date-from", scale=1)
            date_to = gr.Textbox(label="종료일", placeholder=DATE_HINT, max_lines=1, elem_id=f"{prefix}-date-to", scale=1)
            publisher = gr.Dropdown(choices=[], value=[], multiselect=True, label="언론사", elem_id=f"{prefix}-publisher",
                                    scale=2, allow_custom_value=False)
        return cls(date_from, date_to, publisher)

    @property
    def inputs(self) -> list[Any]:
        return [self.date_from, self.date_to, self.publisher]


def controls_filters(date_from: str | None, date_to: str | None, publishers: Sequence[str] | None) -> Filters | None:
    """The controls' values as Filters (None when empty); FilterError names a bad date."""
    return make_filters(date_from, date_to, list(publishers or ())) or None


def publisher_choices(articles: Sequence[Any]) -> list[str]:
    return sorted({a.publisher for a in articles if getattr(a, "publisher", None)})


def publisher_choices_update(list_articles: Callable[[], Sequence[Any]]) -> Callable[[list[str] | None], Any]:
    """An event handler: the publisher dropdown refilled from the store, keeping what is still valid."""

    def update(chosen: list[str] | None = None) -> Any:
        choices = publisher_choices(list_articles())
        return gr.Dropdown(choices=choices, value=[c for c in (chosen or []) if c in choices])

    return update
