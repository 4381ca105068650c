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


# llama.cpp repacks weights into "extra buffer types" when the CPU has them; on CPUs with AMX (Intel
# Sapphire Rapids and later) its AMX matrix product crashes the process on the first batch of our e5
# GGUF (SIGSEGV in ggml_backend_amx_mul_mat, ggml-org/llama.cpp#20824, machine-dependent). llama.cpp's
# own llama-server has `--no-repack` for this; llama-cpp-python's server has no flag, so the tests start
# it with the model parameter that flag sets (use_extra_bufts = false).
NO_REPACK_SERVER = """
import runpy
import llama_cpp.llama_cpp as low
default = low.llama_model_default_params
def without_repacking():
    params = default()
    params.use_extra_bufts = False
    return params
low.llama_model_default_params = without_repacking
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


@contextlib.contextmanager
def llama_cpp_server(model: Path, log_dir: Path, *args: str, start_timeout_s: float = 120) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server for `model` (weights not repacked, see
    NO_REPACK_SERVER); yields its base URL (…/v1)."""
    port = free_port()
    log_path = log_dir / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-c", NO_REPACK_SERVER, "--model", str(model), "--host", "127.0.0.1",
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
