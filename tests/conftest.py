from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT, apply_offline_env

apply_offline_env()

SEEDS_DIR = PROJECT_ROOT / "seeds"


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS_DIR
