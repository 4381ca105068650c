"""How long the web chat's next question waits after 중지 stopped an LLM answer (not a test).

    python bench/stop_latency.py                 # 4 rounds, packaged e5 + LLM, a copy of data/store
    python bench/stop_latency.py --rounds 6 --store data/store

The app is the one `python app.py` serves (real pipeline, local GGUF, generation.backend = "local"), on a
loopback port; Debian's chromium (Playwright) is the reader. Each round asks a question in LLM mode, presses
중지 while the model writes (at its first streamed sentence, or `--stop-after` seconds after the draft), asks
the next question at once, and times from the click to the stopped answer's model letting go of the local
model (its lock), to the next answer's draft and to its first model token (its first verified sentence, or its
final answer when none streams). Prints per-round times and medians.

A stopped answer that keeps computing competes with the next one for the cores and holds the model's lock,
so the next model token waits for it; run it on the code before and after a change on the same machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from rag.config import PROJECT_ROOT, apply_offline_env, load_settings

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# two of the chat page's example questions (answerable from the seeds): each gets a draft, then the model's answer
STOPPED = "LG전자 협력회 워크숍은 어디에서 열렸나?"
NEXT = "LG이노텍의 동반성장 펀드 규모는?"
BOT = '#chat [data-testid="bot"]'
# the next answer's first model token: the streaming cursor, or its finished state (no sentence streamed)
FIRST_TOKEN = ".cursor, .cite-list, .refusal, .notice"
# retrieval done: the draft shows, then (LLM mode) the status line while the model reads its prompt replaces it
DRAFTED = re.compile("초안|답변을 작성하는 중")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingLock:
    """The local model's lock, noting when it is let go: when the stopped answer's model stopped."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock, self.released = lock, []

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._lock.__exit__(*exc)
        self.released.append(time.monotonic())

    def locked(self) -> bool:
        return self._lock.locked()


def serve(store: Path) -> tuple[str, object, RecordingLock]:
    import uvicorn

    from rag.pipeline import build_pipeline
    from rag.web.server import create_app, uvicorn_config

    env = {k: v for k, v in os.environ.items() if k.startswith("RAG_")}
    settings = load_settings(env={**env, "RAG_STORE__DIR": str(store), "RAG_GENERATION__BACKEND": "local"})
    app = create_app(settings, lambda: build_pipeline(settings), ingest_if_empty=False)
    app.state.service.start(background=False)
    app.state.service.pipe.warm_up(llm=True)  # the GGUF loaded and its system prompt evaluated before timing
    generator = app.state.service.pipe.generator()
    generator._lock = lock = RecordingLock(generator._lock)  # measuring only
    port = free_port()
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, lock


def ask(page, question: str) -> None:
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")


def round_trip(page, stop_after: float, lock: RecordingLock) -> tuple[float, float, float]:
    """Seconds from 중지 to the stopped answer's model letting go of the model, to the next answer's draft, and
    to its first model token."""
    bots = page.locator(BOT).count()
    ask(page, STOPPED)
    try:
        page.locator(BOT).nth(bots).filter(has_text=DRAFTED).wait_for(timeout=300_000)
    except Exception:
        print("no draft; the bubble says:", page.locator(BOT).nth(bots).inner_text()[:200], flush=True)
        raise
    deadline = time.monotonic() + stop_after
    while time.monotonic() < deadline and page.locator(BOT).nth(bots).locator(".cursor").count() == 0:
        page.wait_for_timeout(100)
    page.click("#stop")
    t0 = time.monotonic()
    lock.released.clear()
    ask(page, NEXT)
    page.locator(BOT).nth(bots + 1).filter(has_text=DRAFTED).wait_for(timeout=600_000)
    draft = time.monotonic() - t0
    page.locator(BOT).nth(bots + 1).locator(FIRST_TOKEN).first.wait_for(timeout=600_000)
    token = time.monotonic() - t0
    freed = lock.released[0] - t0 if lock.released else float("nan")  # the first release after 중지: the stopped one
    page.wait_for_selector("#chat .generating", state="detached", timeout=600_000)  # the next round starts clean
    page.wait_for_timeout(1000)
    return freed, draft, token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--stop-after", type=float, default=8.0, help="seconds after the draft to press 중지 at latest")
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / "data" / "store", help="copied, never opened")
    args = parser.parse_args()
    apply_offline_env()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        shutil.copytree(args.store, store)  # two processes cannot open one store folder
        url, server, lock = serve(store)
        rows = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(url + "/")
            page.wait_for_selector("#question textarea", timeout=60_000)
            page.check("#mode input[value='llm']")
            for i in range(args.rounds):
                freed, draft, token = round_trip(page, args.stop_after, lock)
                rows.append((freed, draft, token))
                print(f"round {i + 1}: 중지 -> stopped model let go {freed:.2f} s, next draft {draft:.2f} s, "
                      f"next first token {token:.2f} s", flush=True)
            browser.close()
        server.should_exit = True
    print(f"code: {Path(sys.modules['rag'].__file__).parent.parent}  rounds: {len(rows)}  cores: {os.cpu_count()}")
    print(f"median 중지 -> stopped model let go: {statistics.median(r[0] for r in rows):.2f} s")
    print(f"median 중지 -> next draft:           {statistics.median(r[1] for r in rows):.2f} s")
    print(f"median 중지 -> next first token:     {statistics.median(r[2] for r in rows):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
