"""The kill-and-edit soak (bench/soak.py) at a small size: real ingest processes SIGKILLed at random
moments, files edited and deleted, then the store must equal a clean ingest of the final folder."""

import json
import os
import subprocess
import sys

from rag.config import PROJECT_ROOT


def test_killed_ingests_converge_to_a_clean_ingest(tmp_path):
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, "bench/soak.py", "--passages", "12", "--kills", "2", "--edits", "2", "--deletes", "3",
         "--embedder", "fake", "--out", str(out)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert done.returncode == 0, (result.get("checks"), result.get("problems"), done.stderr[-2000:])
    assert result["kills"] >= 2 and result["passed"] and result["docs"] == 9
