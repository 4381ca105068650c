"""The web app over a real pipeline (Chroma in a temp folder, Kiwi BM25, extractive answers, the
hashing embedder): shared by the tests of filters, the search view and the article manager."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

from rag.config import PROJECT_ROOT, Settings, load_settings
from tests.fakes import HashingEmbedder

SEEDS = PROJECT_ROOT / "seeds"
TOKEN = "archive-admin-token-0123456789"


def real_settings(tmp: Path, **app: object) -> Settings:
    s = load_settings(None, env={})
    app_defaults = {"rate_limit_per_minute": 10_000, "allowed_hosts": ("testserver",)}
    app_defaults.update(app)
    return replace(
        s,
        paths=replace(s.paths, data_dir=tmp, cache_dir=tmp / "cache", corpus=(SEEDS,)),
        store=replace(s.store, dir=tmp / "store", refresh_s=0.0, ingest_wait_s=2.0),
        uploads=replace(s.uploads, dir=tmp / "uploads"),
        generation=replace(s.generation, backend="extractive"),
        app=replace(s.app, **app_defaults),
    )


def real_pipeline(settings: Settings, korean: object, corpus: Sequence[Path] = (SEEDS,)):
    from rag.pipeline import build_pipeline

    pipe = build_pipeline(settings, embedder=HashingEmbedder(), korean=korean)
    if corpus:
        pipe.ingest(list(corpus))
    return pipe


def real_app(settings: Settings, pipe):
    from rag.web.server import create_app

    app = create_app(settings, lambda: pipe, ingest_if_empty=False)
    app.state.service.start(background=False)
    return app
