"""The serving soak (bench/soak_serving.py) at a small size: a real Chroma server, the app serving it
in its own process and asked without pause, ingest processes SIGKILLed at random moments, files
edited, deleted and added: no request fails, every answer is current soon after the last ingest, and
the store equals a clean ingest of the final folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT


def test_the_app_serves_through_killed_ingests_and_sees_the_changes(tmp_path):
    if not Path(sys.executable).with_name("chroma").is_file():
        pytest.skip("the chroma command (chromadb wheel) is not installed beside this Python")
    out = tmp_path / "soak_serving.json"
    # the checks allow 10 s after the last ingest for an answer to be current and an added article to be
    # found: asking goes on 12 s, so a machine busy enough to need 5-10 s still passes (4 s flaked at load 5-7)
    done = subprocess.run(
        [sys.executable, "bench/soak_serving.py", "--passages", "6", "--kills", "1", "--kills-after", "1",
         "--edits", "1", "--deletes", "2", "--adds", "1", "--tail-s", "12", "--out", str(out)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert out.is_file(), done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert done.returncode == 0, (result.get("checks"), result.get("errors"), result.get("not_current_examples"))
    assert result["kills"] >= 1 and result["requests"] > 0 and result["failed_requests"] == 0
    assert result["docs"] == 6 - 2 + 1 and result["passed"]
