"""How fast `/health` answers, and how soon its counts show a change of this process (not a test).

    python bench/health_latency.py                  # 500 polls, 3 deletes, a copy of data/store
    python bench/health_latency.py --polls 2000 --changes 5

The app is the one `python app.py` serves (real pipeline, packaged e5, extractive answers) on a loopback
port, over a copy of the store. Prints the median and p95 latency of sequential `GET /health`, and, for
each of `--changes` articles deleted in this process (what the article manager's delete does), the seconds
from the delete's return until a poll every `--every` s shows one article fewer.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from rag.config import PROJECT_ROOT, apply_offline_env, load_settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=500)
    parser.add_argument("--changes", type=int, default=3)
    parser.add_argument("--every", type=float, default=0.25, help="seconds between polls after a change")
    parser.add_argument("--store", type=Path, default=PROJECT_ROOT / "data" / "store", help="copied, never opened")
    args = parser.parse_args()
    apply_offline_env()
    import uvicorn

    from rag.pipeline import build_pipeline
    from rag.web.server import create_app, uvicorn_config

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        shutil.copytree(args.store, store)  # two processes cannot open one store folder
        env = {k: v for k, v in os.environ.items() if k.startswith("RAG_")}
        settings = load_settings(env={**env, "RAG_STORE__DIR": str(store), "RAG_GENERATION__BACKEND": "extractive"})
        app = create_app(settings, lambda: build_pipeline(settings), ingest_if_empty=False)
        service = app.state.service
        service.start(background=False)
        port = free_port()
        server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/health"
        with httpx.Client(timeout=10) as http:
            for _ in range(20):  # connection and first-use costs
                http.get(url)
            took = []
            for _ in range(args.polls):
                t0 = time.perf_counter()
                assert http.get(url).status_code == 200
                took.append((time.perf_counter() - t0) * 1000)
            took.sort()
            print(f"GET /health x{args.polls}: median {statistics.median(took):.2f} ms, "
                  f"p95 {took[int(0.95 * len(took)) - 1]:.2f} ms", flush=True)
            lags = []
            doc_ids = [a.doc_id for a in service.articles()][: args.changes]
            for doc_id in doc_ids:
                before = http.get(url).json()["pipeline"]["n_docs"]
                assert service.pipe.delete_article(doc_id)
                t0 = time.monotonic()
                polls = 1
                while http.get(url).json()["pipeline"]["n_docs"] != before - 1:
                    time.sleep(args.every)
                    polls += 1
                lags.append(time.monotonic() - t0)
                print(f"deleted {doc_id}: /health showed it after {lags[-1]:.2f} s ({polls} polls)", flush=True)
        server.should_exit = True
        service.close()
    print(f"code: {Path(sys.modules['rag'].__file__).parent.parent}")
    print(f"median seconds until /health counts a delete of this process: {statistics.median(lags):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
