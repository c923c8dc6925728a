"""A webhook receiver on loopback: a small threaded http.server that keeps every request it gets.

    with WebhookReceiver() as receiver:
        receiver.answer(500, 500)            # the next two requests get 500, then 200 again
        receiver.answer(Hang(2.0))           # the next one gets no answer for 2 s (a sender timeout)
        receiver.answer(Redirect("http://127.0.0.1:1/elsewhere"))
        receiver.received                    # [Received(path, headers, body), ...]

Signatures are checked by the tests with the `standardwebhooks` verifier, as an integrator would.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: str


@dataclass(frozen=True)
class Hang:
    seconds: float


@dataclass(frozen=True)
class Redirect:
    location: str
    status: int = 302


class WebhookReceiver:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: a server context, to receive over https."""
        self.received: list[Received] = []
        self._answers: deque[int | Hang | Redirect] = deque()
        self._lock = threading.Lock()
        self._got = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                with receiver._lock:
                    answer = receiver._answers.popleft() if receiver._answers else 200
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    receiver._got.notify_all()
                if isinstance(answer, Hang):
                    time.sleep(answer.seconds)
                    return
                if isinstance(answer, Redirect):
                    self.send_response(answer.status)
                    self.send_header("Location", answer.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                reply = b"x" * 4096 if answer == 200 else b"nope"
                self.send_response(answer)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._scheme = "https" if tls else "http"
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/hooks", host: str = HOST) -> str:
        return f"{self._scheme}://{host}:{self.port}{path}"

    def answer(self, *answers: int | Hang | Redirect) -> None:
        """Queue the answers to the next requests (afterwards: 200)."""
        with self._lock:
            self._answers.extend(answers)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        """Block until at least `count` requests arrived; fail clearly otherwise."""
        with self._got:
            if not self._got.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"{len(self.received)} webhook requests arrived, expected {count}")
            return list(self.received)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
