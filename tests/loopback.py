"""Loopback helpers shared by the web tests and bench/hardening_probe.py: a hung LLM server, and a raw
HTTP client that reads the response while still sending the body (small real ones, never mocks)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Iterator


class HungServer:
    """Accepts TCP connections and never answers: an OpenAI-compatible LLM server that froze.

    `accepted` lists the connections that reached it; `close()` drops them all (the server "dies"),
    so clients stuck on it fail at once.
    """

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        try:  # shutdown wakes the thread blocked in accept(); close alone would leave the socket listening
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def raw_request(port: int, head: bytes, chunks: Iterator[bytes], timeout_s: float = 10.0) -> tuple[int | str, float]:
    """Send `head`, then `chunks` from another thread while reading; return (status or error, seconds).

    A server that refuses a body early answers and closes while the client is still sending: an HTTP
    client library would report its failed write, not the server's answer.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    started = time.perf_counter()
    sock.sendall(head)

    def pump() -> None:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:  # the server closed the connection after refusing: that is the point
            pass

    threading.Thread(target=pump, daemon=True).start()
    data = b""
    try:
        while b"\r\n" not in data:
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    except OSError as exc:
        return type(exc).__name__, time.perf_counter() - started
    finally:
        sock.close()
    seconds = time.perf_counter() - started
    return (int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else "no response"), seconds
