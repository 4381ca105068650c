"""Issue 12's hostile-request probe against the real app: `python bench/hardening_probe.py [--root DIR]`.

Starts `python app.py` (the packaged e5 embedder, a fresh store that gets the seeds, the LLM backend
pointed at a TCP server on loopback that accepts and never answers) and measures, over real HTTP:

- an oversized upload (Gradio's upload endpoint, 3 x 20 MB) and 200 MB bodies on /api/ask and
  Gradio's queue, each answered in < 2 s with a 4xx, and the app's CPU in the 5 s after;
- an oversized message (200k characters) / history (1,000 turns) / question, each < 2 s with a 4xx;
- 48 questions against the hung LLM server: how many were refused (503), and /health latency
  (p50/p95/max) while the rest are stuck;
- DNS rebinding (`Host: evil.example` + matching Origin) on /api/ask, /api/feedback, /health and
  Gradio's upload; a lone surrogate; a disallowed method.

`--root DIR` runs another checkout's app.py (e.g. /work/main for the code before the fix) with the
same probe, side by side. Writes bench/results/hardening_probe[-LABEL].json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.app_load import stop_app as stop  # noqa: E402,F401 (injection_probe imports it from here too)
from tests.loopback import HungServer, raw_request  # noqa: E402 (the same helpers the tests use)
QUESTION = "LG이노텍의 동반성장 펀드 규모는?"
TOKEN = "probe-admin-token-0123456789abcdef"
LIMIT_S = 2.0  # issue 12: every oversized request answered within this, with a 4xx
MB = 1024 * 1024
HEALTH_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_app(root: Path, tmp: Path, hung: HungServer) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(root),
            "RAG_PATHS__DATA_DIR": str(tmp / "data"),
            "RAG_PATHS__CACHE_DIR": str(ROOT / "data" / "cache"),
            "RAG_GENERATION__BACKEND": "openai",
            "RAG_GENERATION__BASE_URL": hung.url,
            "RAG_GENERATION__SERVER_MODEL": "hung",
            "RAG_GENERATION__TIMEOUT_S": "600",
            "RAG_APP__RATE_LIMIT_PER_MINUTE": "100000",
        }
    )
    if (root / "rag" / "web" / "admin.py").exists():  # the old code has no such setting and would refuse it
        env["RAG_APP__ADMIN_TOKEN"] = TOKEN
    log = open(tmp / "app.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, str(root / "app.py"), "--port", str(port), "--store", str(tmp / "store")],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    # ready, and the LLM warm-up has connected (its imports done): nothing else runs in the app now
    wait_until_ready(proc, base, tmp / "app.log", also=lambda: bool(hung.accepted))
    return proc, base


def wait_until_ready(proc: subprocess.Popen, base: str, log: Path, also: Callable[[], bool] = lambda: True,
                     limit_s: float = 600) -> None:
    """Until the app's /health says ready (and `also` holds); RuntimeError if it exits or takes too long."""
    deadline = time.monotonic() + limit_s
    with httpx.Client(timeout=10) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode}; see {log}")
            try:
                ready = client.get(base + "/health").json().get("ready")
            except (httpx.TransportError, ValueError):
                ready = False
            if ready and also():
                return
            time.sleep(0.5)
    raise RuntimeError(f"the app did not become ready in {limit_s:g} s; see {log}")


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    try:
        result = fn()
    except (httpx.TransportError, OSError) as exc:
        result = f"{type(exc).__name__}"
    return result, round(time.perf_counter() - started, 3)


def status(response: Any) -> Any:
    return response.status_code if isinstance(response, httpx.Response) else response


def raw_post(base: str, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> tuple[Any, float]:
    """POST over a raw socket (the body is sent while the response is read; see tests.loopback)."""
    port = int(base.rsplit(":", 1)[1])
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    status, seconds = raw_request(port, "\r\n".join(lines).encode(), chunks, timeout_s=LIMIT_S * 5)
    return status, round(seconds, 3)


def repeated(piece: bytes, total: int, prefix: bytes = b"") -> Iterator[bytes]:
    yield prefix
    sent = len(prefix)
    while sent < total:
        yield piece
        sent += len(piece)


def multipart(n_files: int, size: int, boundary: str = "probe-boundary") -> tuple[dict[str, str], Iterator[bytes], int]:
    """(headers, body chunks, length) of n files of `size` bytes in one multipart/form-data body."""
    head = lambda i: (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big{i}.txt\"\r\n"  # noqa: E731
                      "Content-Type: text/plain\r\n\r\n").encode()
    tail = f"--{boundary}--\r\n".encode()
    length = sum(len(head(i)) + size + 2 for i in range(n_files)) + len(tail)

    def body() -> Iterator[bytes]:
        for i in range(n_files):
            yield head(i)
            yield from repeated(b"x" * MB, size)
            yield b"\r\n"
        yield tail

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length)}
    return headers, body(), length


def row(name: str, response: Any, seconds: float, want: Callable[[Any], bool], **extra: Any) -> dict[str, Any]:
    code = status(response)
    return {"row": name, "status": code, "seconds": seconds, "pass": bool(want(code)) and seconds < LIMIT_S, **extra}


def is_4xx(code: Any) -> bool:
    return isinstance(code, int) and 400 <= code < 500


def probe_bodies(base: str, pid: int, huge: bool = True) -> list[dict[str, Any]]:
    rows = []
    for who, extra in (("anonymous", {}), ("admin token", {"Authorization": f"Bearer {TOKEN}"})):
        headers, body, _ = multipart(3, 20 * MB)
        r, s = raw_post(base, "/gradio_api/upload", {**headers, **extra}, body)
        rows.append(row(f"upload 3 x 20 MB to Gradio, {who}", r, s, is_4xx))
    json_type = {"Content-Type": "application/json"}
    for path in ("/api/ask", "/gradio_api/queue/join") if huge else ():
        for framing, headers in (("declared", {**json_type, "Content-Length": str(200 * MB)}), ("chunked", {**json_type, "Transfer-Encoding": "chunked"})):
            piece = b"a" * MB
            chunk = b"%x\r\n%s\r\n" % (len(piece), piece) if framing == "chunked" else piece
            idle_before = cpu_seconds(pid)
            time.sleep(5)
            cpu_before = cpu_seconds(pid)
            r, s = raw_post(base, path, headers, repeated(chunk, 200 * MB))
            time.sleep(5)
            busy = round(cpu_seconds(pid) - cpu_before, 2)
            idle = round(cpu_before - idle_before, 2)
            rows.append(row(f"200 MB body ({framing}) to {path}", r, s, is_4xx, app_cpu_s_5s_after=busy, app_cpu_s_5s_idle_before=idle))
    with httpx.Client(timeout=LIMIT_S * 30) as client:
        long_message = {"messages": [{"role": "assistant", "content": "가" * 200_000}, {"role": "user", "content": QUESTION}]}
        r, s = timed(lambda: client.post(base + "/v1/chat/completions", json=long_message))
        rows.append(row("/v1 earlier turn of 200k characters", r, s, is_4xx))
        long_history = {"question": QUESTION, "history": [{"role": "user", "content": "상생협력 펀드"}] * 1000}
        r, s = timed(lambda: client.post(base + "/api/ask", json=long_history))
        rows.append(row("/api/ask history of 1,000 turns", r, s, is_4xx))
        r, s = timed(lambda: client.post(base + "/api/ask", json={"question": "가" * 50_000}))
        rows.append(row("/api/ask question of 50k characters", r, s, is_4xx))
    return rows


def probe_hung_llm(base: str, hung: HungServer, n: int = 48, samples: int = 60) -> dict[str, Any]:
    codes: list[Any] = []

    def ask() -> None:
        try:
            codes.append(httpx.post(base + "/api/ask", json={"question": QUESTION, "mode": "llm"}, timeout=900).status_code)
        except httpx.TransportError as exc:
            codes.append(type(exc).__name__)

    warm_up = len(hung.accepted)
    threads = [threading.Thread(target=ask, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    time.sleep(3)  # let every request arrive and the admitted ones reach the hung server
    latencies, health_codes = [], []
    with httpx.Client(timeout=HEALTH_TIMEOUT_S) as client:
        for _ in range(samples):
            r, s = timed(lambda: client.get(base + "/health"))
            latencies.append(s)
            health_codes.append(status(r))
            if health_codes.count("ReadTimeout") >= 5:  # the old code: no point waiting out every sample
                break
            time.sleep(0.05)
    latencies.sort()
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
    return {
        "row": f"{n} questions against a hung LLM server",
        "requests": n,
        "reached_llm_server": len(hung.accepted) - warm_up,
        "answered_so_far": dict(sorted({str(c): codes.count(c) for c in set(codes)}.items())),
        "health_samples": samples,
        "health_status": sorted(set(map(str, health_codes))),
        "health_p50_s": round(statistics.median(latencies), 3),
        "health_p95_s": round(p95, 3),
        "health_max_s": round(latencies[-1], 3),
        "pass": p95 < 0.2 and all(c == 200 for c in health_codes),
    }


def probe_rebinding(base: str, port: int) -> list[dict[str, Any]]:
    evil = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    rows = []
    with httpx.Client(timeout=10) as client:
        requests: list[tuple[str, Callable[[], httpx.Response]]] = [
            ("/api/ask", lambda: client.post(base + "/api/ask", json={"question": QUESTION, "mode": "extractive"}, headers=evil)),
            ("/api/feedback", lambda: client.post(base + "/api/feedback", json={"vote": "up", "answer": {"question": "q"}}, headers=evil)),
            ("/health", lambda: client.get(base + "/health", headers=evil)),
            ("/gradio_api/upload", lambda: client.post(base + "/gradio_api/upload", files=[("files", ("a.txt", b"x" * 1000, "text/plain"))], headers=evil)),
        ]
        for path, send in requests:
            r, s = timed(send)
            code = status(r)
            rows.append({"row": f"Host: evil.example on {path}", "status": code, "seconds": s, "pass": code in (403, 421)})
        json_type = {"content-type": "application/json"}
        surrogate_vote = '{"vote": "up", "answer": {"question": "LG이노텍 \\ud800 펀드", "answer": "a"}}'.encode()
        r, s = timed(lambda: client.post(base + "/api/feedback", content=surrogate_vote, headers=json_type))
        rows.append(row("lone surrogate in /api/feedback", r, s, lambda c: c == 400))
        surrogate_message = '{"messages": [{"role": "user", "content": "LG이노텍 \\ud800 펀드 규모는?"}]}'.encode()
        r, s = timed(lambda: client.post(base + "/v1/chat/completions", content=surrogate_message, headers=json_type))
        rows.append(row("lone surrogate in /v1/chat/completions", r, s, lambda c: c == 400))
        r, s = timed(lambda: client.delete(base + "/api/ask"))
        body = r.json() if isinstance(r, httpx.Response) and r.headers.get("content-type", "").startswith("application/json") else {}
        rows.append(row("DELETE /api/ask", r, s, lambda c: c == 405 and "error" in body))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose app.py is probed (default: this one)")
    parser.add_argument("--label", default="", help="suffix of the result file")
    parser.add_argument("--skip-huge", action="store_true", help="skip the 200 MB bodies (the old code burns a core for minutes)")
    args = parser.parse_args()
    hung = HungServer()
    load_at_start = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="hardening-probe-") as tmp_name:
        tmp = Path(tmp_name)
        proc, base = start_app(args.root.resolve(), tmp, hung)
        port = int(base.rsplit(":", 1)[1])
        try:
            rows = probe_rebinding(base, port)
            rows += probe_bodies(base, proc.pid, huge=not args.skip_huge)
            rows.append(probe_hung_llm(base, hung))
        finally:
            stop(proc)
            hung.close()
    result = {
        "root": str(args.root.resolve()),
        "load_average_1m_at_start": load_at_start,
        "rows": rows,
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
        "command": " ".join(["python bench/hardening_probe.py", *sys.argv[1:]]),
    }
    out = ROOT / "bench" / "results" / f"hardening_probe{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{'row':<48} {'status':>10} {'seconds':>8}  pass")
    for r in rows:
        shown = r.get("status", r.get("answered_so_far"))
        secs = r.get("seconds", r.get("health_p95_s"))
        print(f"{r['row']:<48} {str(shown):>10} {secs!s:>8}  {'yes' if r['pass'] else 'NO'}")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
