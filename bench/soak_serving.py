"""The kill-and-edit soak with the app serving the store throughout (issue 12).

    python bench/soak_serving.py                      # 200 KLUE passages, 10 + 4 kills, 10 edits, 50 deletes, 5 adds

A real `chroma run` server on a loopback port holds the store (Chroma does not let two processes open
one store folder, so a serving app and an ingest CLI share a server, as the README's "past one
machine" says). The app is the same FastAPI app and uvicorn config as `python app.py`, started in its
own process on a free loopback port; its pipeline and every ingest process use the tests' hashing
embedder instead of e5 (the soak is about consistency, not about vectors; the real model would make
each of the ~16 ingest runs minutes long), and the per-client rate limit is raised so that one
client can ask continuously. Ingests are separate processes, SIGKILLed at random moments as in
`bench/soak.py`.

A client asks `/api/ask` (extractive) without pause from before the first ingest to 15 s after the
last, cycling through probes: the first sentence of every edited, deleted and added passage and the
sentence appended to the edited ones. Checked: no request fails (any status but 200, or no answer);
after the last ingest finishes, how long until every answer is current (no hit or citation of a
deleted article, no span that is not a chunk of the final store) and every added article is found;
and the final store equals a clean ingest of the final folder (records, chunk ids and texts).
Writes bench/results/soak_serving.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.soak import KLUE, first_sentence, kill_loop, run_killable, write_result  # noqa: E402

APPENDED = "이 기사는 수정되어 문장 하나가 덧붙었다."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_settings(chroma_port: int, data_dir: Path, app_port: int = 0):
    from rag.config import load_settings

    s = load_settings(None, env={})
    return replace(s, paths=replace(s.paths, data_dir=data_dir),
                   store=replace(s.store, host="127.0.0.1", port=chroma_port, collection="soak"),
                   app=replace(s.app, port=app_port or s.app.port, rate_limit_per_minute=1_000_000))


def fake_pipeline(settings):
    from rag.pipeline import build_pipeline
    from tests.fakes import HashingEmbedder

    return build_pipeline(settings, embedder=HashingEmbedder())


def serve(chroma_port: int, data_dir: Path, app_port: int) -> None:
    """The app process: app.py's app and uvicorn config, with the hashing embedder."""
    import uvicorn

    from rag.web.server import create_app, uvicorn_config

    settings = server_settings(chroma_port, data_dir, app_port)
    app = create_app(settings, lambda: fake_pipeline(settings), ingest_if_empty=False)
    app.state.service.start(background=True)
    uvicorn.Server(uvicorn_config(app, "127.0.0.1", app_port)).run()


def spawn(args: list[str], **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, **kw)


def run_ingest(chroma_port: int, data_dir: Path, corpus: Path, kill_after: float | None) -> bool:
    worker = [sys.executable, str(Path(__file__).resolve()), "--worker", str(chroma_port), str(data_dir), str(corpus)]
    return run_killable(worker, kill_after)


def wait_for(url: str, ready, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, timeout=2)
            if ready(r):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up in {seconds:.0f} s")


class Client(threading.Thread):
    """Asks without pause; keeps (time, status, hit and citation spans) of every answer."""

    def __init__(self, base: str, probes: list[str]) -> None:
        super().__init__(daemon=True)
        self.base, self.probes, self.log, self.errors = base, probes, [], []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=60) as http:
            n = 0
            while not self.stop.is_set():
                probe = self.probes[n % len(self.probes)]
                n += 1
                sent = time.monotonic()
                try:
                    r = http.post(f"{self.base}/api/ask", json={"question": probe, "mode": "extractive"})
                except httpx.HTTPError as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc} (at {time.strftime('%H:%M:%S')})")
                    continue
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                ok = r.status_code == 200 and "answer" in body
                if not ok:
                    self.errors.append(f"{r.status_code}: {r.text[:200]}")
                spans = [(h["source"], h["chunk_id"], h["start"], h["end"]) for h in body.get("hits", [])]
                cited = [(c["source"], c["start"], c["end"]) for c in body.get("citations", [])]
                self.log.append({"t": sent, "probe": probe, "ok": ok, "hits": spans, "cited": cited})
                if not ok:
                    self.errors[-1] += f" (at {time.strftime('%H:%M:%S')})"


def final_chunks(settings) -> dict[str, tuple[str, int, int]]:
    pipe = fake_pipeline(settings)
    raw = pipe.raw_store()
    owners = [c for c, _, _ in raw.chunk_owners()]
    out = {cid: (s.chunk.doc_id, s.chunk.start, s.chunk.end) for cid, s in raw.chunks(owners).items()}
    pipe.close()
    return out


def stale(entry: dict, chunks: dict, deleted: set[str]) -> list[str]:
    """Why an answer is not current against the final store (empty when it is)."""
    why = [f"hit of deleted {d}" for d, _, _, _ in entry["hits"] if d in deleted]
    why += [f"hit {cid}[{a}:{b}] not a chunk of the final store" for _, cid, a, b in entry["hits"]
            if cid not in chunks or chunks[cid][1:] != (a, b)]
    for doc, a, b in entry["cited"]:
        if doc in deleted or not any(d == doc and s <= a and b <= e for d, s, e in chunks.values()):
            why.append(f"citation {doc}[{a}:{b}] not in the final store")
    return why


def _errors_in(log: Path, lines: int = 60) -> list[str]:
    """The app's log from its first traceback on (what a failed request left there)."""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.is_file() else []
    first = next((i for i, line in enumerate(text) if "Traceback" in line or " ERROR " in line), None)
    return [] if first is None else text[max(0, first - 3) : first + lines]


def soak(args) -> dict:
    from bench.soak import snapshot

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="soak-serving-"))
    corpus, data_dir = work / "corpus", work / "data"
    corpus.mkdir()
    passages = sorted(KLUE.glob("*.txt"))
    for path in passages[: args.passages]:
        shutil.copy(path, corpus / path.name)
    extra = passages[args.passages : args.passages + args.adds]
    chroma_port, app_port = free_port(), free_port()
    chroma = subprocess.Popen([str(Path(sys.executable).with_name("chroma")), "run", "--path", str(work / "chroma"),
                               "--host", "127.0.0.1", "--port", str(chroma_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = client = app_log = None
    try:
        wait_for(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", lambda r: r.status_code == 200)
        app_log = open(work / "app.log", "w", encoding="utf-8")  # noqa: SIM115 (closed with the app)
        app = spawn(["--app", str(chroma_port), str(data_dir), str(app_port)], stdout=app_log, stderr=app_log)
        base = f"http://127.0.0.1:{app_port}"
        wait_for(f"{base}/health", lambda r: r.status_code == 200 and r.json().get("ready") is True)

        files = sorted(corpus.glob("*.txt"))
        edited = rng.sample(files, args.edits)
        deleted_files = rng.sample([f for f in files if f not in edited], args.deletes)
        probes = [first_sentence(f) for f in edited + deleted_files + extra] + [APPENDED]
        rng.shuffle(probes)
        client = Client(base, probes)
        client.start()

        started = time.perf_counter()
        run_ingest(chroma_port, data_dir, corpus, None)  # the first ingest: its length sets the kill moments
        duration = time.perf_counter() - started
        log = [{"phase": "first", "s": round(duration, 1), "finished": True}]
        ingest = lambda moment: run_ingest(chroma_port, data_dir, corpus, moment)  # noqa: E731
        kills = kill_loop(ingest, files, rng, args.kills, duration, log, "initial")
        run_ingest(chroma_port, data_dir, corpus, None)

        for path in edited:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"\n\n{APPENDED}\n")
        for path in deleted_files:
            path.unlink()
        for path in extra:
            shutil.copy(path, corpus / path.name)
        for _ in range(args.kills_after):  # the edits are interrupted too (a run may finish first)
            moment = rng.uniform(0.05, 0.5) * duration
            finished = ingest(moment)
            log.append({"phase": "after edits", "kill_after_s": round(moment, 1), "finished": finished})
            kills += not finished
        run_ingest(chroma_port, data_dir, corpus, None)
        done = time.monotonic()
        time.sleep(args.tail_s)
        client.stop.set()
        client.join(120)

        settings = server_settings(chroma_port, data_dir)
        chunks = final_chunks(settings)
        deleted = {f.name for f in deleted_files}
        after = [e for e in client.log if e["t"] >= done]
        not_current = [(e["t"] - done, why) for e in after for why in stale(e, chunks, deleted)]
        current_from = max((t for t, _ in not_current), default=0.0)
        added = {p.name: first_sentence(corpus / p.name) for p in extra}
        found_after = {}
        for name, probe in added.items():
            seen = [e["t"] - done for e in after if e["probe"] == probe and any(h[0] == name for h in e["hits"])]
            found_after[name] = round(min(seen), 1) if seen else None

        clean = work / "clean" / "s"
        from bench.soak import pipeline as local_pipeline
        local = local_pipeline(clean, fake=True)
        local.ingest([corpus])
        local.close()
        got_pipe = fake_pipeline(settings)
        view = got_pipe._searcher.view()
        got = {"records": {d: i.content_hash for d, i in view.articles.items()},
               "chunks": {c: s.chunk.text for c, s in got_pipe.raw_store().chunks(list(chunks)).items()}}
        got_pipe.close()
        want = snapshot(clean, fake=True)
        checks = {
            "zero_failed_requests": not client.errors,
            "same_docs_and_hashes": got["records"] == want["records"],
            "same_chunk_ids_and_texts": got["chunks"] == want["chunks"],
            "current_within_10s": current_from <= 10.0,
            "added_found_within_10s": all(v is not None and v <= 10.0 for v in found_after.values()),
        }
        return {"passages": args.passages, "embedder": "fake (tests.fakes.HashingEmbedder) in the app and every ingest",
                "kills": kills, "first_ingest_s": round(duration, 1), "edited": len(edited),
                "deleted": len(deleted_files), "added": len(extra), "docs": len(got["records"]),
                "chunks": len(got["chunks"]), "requests": len(client.log), "failed_requests": len(client.errors),
                "errors": client.errors[:10], "requests_after_last_ingest": len(after),
                "answers_current_after_s": round(current_from, 1), "not_current_examples": not_current[:10],
                "added_found_after_s": found_after, "app_log_errors": _errors_in(work / "app.log"), "runs": log, "checks": checks, "passed": all(checks.values())}
    finally:
        if client is not None:
            client.stop.set()
        for proc in (app, chroma):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if app_log is not None:
            app_log.close()
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from rag.config import apply_offline_env

    apply_offline_env()
    if argv and argv[0] == "--worker":
        fake_pipeline(server_settings(int(argv[1]), Path(argv[2]))).ingest([Path(argv[3])])
        return 0
    if argv and argv[0] == "--app":
        serve(int(argv[1]), Path(argv[2]), int(argv[3]))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--passages", type=int, default=200)
    p.add_argument("--kills", type=int, default=10, help="kills of the initial ingests")
    p.add_argument("--kills-after", type=int, default=4, help="kills of the ingests after the edits")
    p.add_argument("--edits", type=int, default=10)
    p.add_argument("--deletes", type=int, default=50)
    p.add_argument("--adds", type=int, default=5)
    p.add_argument("--tail-s", type=float, default=15.0, help="asking goes on this long after the last ingest")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak_serving.json")
    args = p.parse_args(argv)
    load_before = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    result = soak(args)
    result["command"] = "python bench/soak_serving.py " + " ".join(argv)
    result["load_avg"] = f"{load_before} before, {' / '.join(f'{x:.1f}' for x in os.getloadavg())} after"
    return write_result(result, args.out)


if __name__ == "__main__":
    sys.exit(main())
