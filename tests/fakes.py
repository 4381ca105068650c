"""Small deterministic fakes that satisfy the same protocols as the real parts (never MagicMock)."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Sequence

import numpy as np


class HashingEmbedder:
    """Character-bigram hashing embedder: texts sharing bigrams get similar vectors.

    Good enough to exercise the store, fusion and pipeline logic without loading a model.
    """

    name = "test-hashing-bigram"
    dimension = 64
    max_tokens = 512

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            compact = "".join(text.split())
            for a, b in zip(compact, compact[1:]):
                digest = hashlib.sha1((a + b).encode("utf-8")).digest()
                out[row, digest[0] % self.dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def count_tokens(self, text: str) -> int:
        return len(text)


class ScriptedGenerator:
    """A generator that replays scripted answers piece by piece and records every prompt it was given.

    `fail_after` raises GenerationError after that many pieces (a backend dying mid-stream).
    """

    name = "scripted"

    def __init__(self, *answers: str, fail_after: int | None = None) -> None:
        self.answers = list(answers)
        self.prompts: list[list[dict[str, str]]] = []
        self.fail_after = fail_after

    def stream(self, messages, max_tokens: int, stop=()):
        from rag.generation import GenerationError

        self.prompts.append([dict(m) for m in messages])
        text = self.answers.pop(0) if self.answers else ""
        pieces = [text[i:i + 4] for i in range(0, len(text), 4)]
        for i, piece in enumerate(pieces):
            if self.fail_after is not None and i >= self.fail_after:
                raise GenerationError("scripted backend died")
            yield piece


class WatchedLock:
    """A real lock that says when a thread is about to wait for it (put in place of a part's `_lock`)."""

    def __init__(self) -> None:
        self._lock, self.contended = threading.Lock(), threading.Event()

    def __enter__(self) -> None:
        if self._lock.locked():
            self.contended.set()
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def acquire(self, blocking: bool = True) -> bool:
        return self._lock.acquire(blocking)

    def release(self) -> None:
        self._lock.release()


class SilentServer:
    """A real loopback socket that accepts connections and never answers (a hung server).

        with SilentServer() as port:
            ...  # a client pointed at 127.0.0.1:port must time out
    """

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                self._held.append(self._listener.accept()[0])  # keep it open, say nothing
            except TimeoutError:
                continue

    def __enter__(self) -> int:
        self._thread.start()
        return self._listener.getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self._held:
            conn.close()
        self._listener.close()


class ScriptedOpenAIServer:
    """A real loopback HTTP server speaking the OpenAI chat API: it streams the scripted pieces (or
    answers an error status with a plain-text body) and records each request's headers and JSON body.

        with ScriptedOpenAIServer(["1,030", "억 원"]) as server:
            complete(OpenAICompatibleGenerator(server.base_url, "small"), messages, 8)
        server.requests[0]["body"]["model"]  # "small"

    The stream is sent chunked (HTTP/1.1) and ends as `ending` says: "done" (a last chunk with
    finish_reason "stop", then [DONE]), "closed" (the body ends cleanly after the pieces, with neither:
    a server that stopped mid-answer and closed politely) or "dropped" (the connection is cut after the
    pieces, without the terminating chunk: a server killed mid-answer). `pieces` may be a function of
    the request's JSON body (an answer that cites the prompt's evidence numbers).
    """

    def __init__(self, pieces: Sequence[str] | Callable[[dict], Sequence[str]] = (), status: int = 200,
                 error_body: str = "", ending: str = "done") -> None:
        assert ending in ("done", "closed", "dropped")
        self.requests: list[dict] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # chunked bodies: a cut one is told from a finished one

            def send_chunk(self, data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.close_connection = True
                if status != 200:
                    payload = error_body.encode("utf-8")
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()

                def event(delta: dict, finish: str | None) -> bytes:
                    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                    return f"data: {json.dumps(chunk)}\n\n".encode("utf-8")

                for piece in pieces(body) if callable(pieces) else pieces:
                    self.send_chunk(event({"content": piece}, None))
                if ending == "dropped":
                    self.connection.shutdown(socket.SHUT_RDWR)  # no terminating chunk
                    return
                if ending == "done":
                    self.send_chunk(event({}, "stop"))
                    self.send_chunk(b"data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, *args: object) -> None:
                pass  # keep pytest's output clean

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> "ScriptedOpenAIServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
