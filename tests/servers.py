"""Real servers that tests start on loopback (a free port, a log in the test's folder, stopped after)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# llama.cpp repacks weights into "extra buffer types" when the CPU has them; on CPUs with AMX its AMX
# matrix product crashes the process on the first batch of our e5 GGUF (ggml-org/llama.cpp#20824).
# llama-cpp-python's server has no flag for it: it is started inside the same loading parameters the
# app's own generator uses (rag.generation, setting generation.repack = "auto").
SERVER_LAUNCHER = """
import runpy
from rag.generation import llama_model_params, repack_weights
with llama_model_params(repack=repack_weights("auto")):
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


@contextlib.contextmanager
def llama_cpp_server(model: Path, log_dir: Path, *args: str, start_timeout_s: float = 120) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server for `model` (weights repacked as the app's
    generator would, see SERVER_LAUNCHER); yields its base URL (…/v1)."""
    port = free_port()
    log_path = log_dir / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER_LAUNCHER, "--model", str(model), "--host", "127.0.0.1",
             "--port", str(port), *args],
            stdout=log, stderr=subprocess.STDOUT, cwd=log_dir,
        )
        try:
            base = f"http://127.0.0.1:{port}/v1"
            deadline = time.monotonic() + start_timeout_s
            while True:
                try:
                    if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama_cpp.server did not start: " + log_path.read_text()[-500:])
                time.sleep(0.5)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
