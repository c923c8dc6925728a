"""A small stand-in for Cohere's v2 chat API on 127.0.0.1, for driving the real `cohere` SDK in tests.

It answers `POST /v2/chat` with the shape the SDK parses (`id`, `finish_reason`, `message.content[].text`,
`usage`), records every request (headers and JSON body), and can be scripted per call: a valid answer built
from the request, an answer composed by a stand-in model, raw text, an HTTP error with a Cohere-like
body, or a hang past the client's timeout.

    with FakeCohere() as fake:
        fake.script(error(500), valid())          # first call fails, second succeeds
        writer = CohereWriter("key", base_url=fake.url, ...)
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_WANTED_STEP = re.compile(r"^- step (\d+) \((email|sms|voice)\):", re.MULTILINE)
_ERROR_MESSAGES = {
    400: "invalid request: messages must not be empty",
    401: "invalid api token",
    404: "model not found, make sure the correct model ID was used",
    429: "You are using a Trial key, which is limited to 10 API calls / minute.",
    500: "internal server error, this has been reported to our developers",
    503: "service unavailable",
}


@dataclass(frozen=True)
class Behaviour:
    """What the fake does with one request. Build them with valid(), text(), error() and hang()."""

    status: int = 200
    text: str | None = None  # None: build valid steps from the request
    hang_seconds: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()
    finish_reason: str = "COMPLETE"
    compose: Callable[[dict[str, Any]], str] | None = None  # builds the model's text from the request body


def valid() -> Behaviour:
    return Behaviour()


def text(raw: str, finish_reason: str = "COMPLETE") -> Behaviour:
    """Answer 200 with `raw` as the model's text (invalid JSON, wrong shape, ...)."""
    return Behaviour(text=raw, finish_reason=finish_reason)


def composed(answer: Callable[[dict[str, Any]], str]) -> Behaviour:
    """Answer 200 with the text `answer` builds from the request body: a stand-in model that reads the prompt."""
    return Behaviour(compose=answer)


def error(status: int, retry_after: str | None = None) -> Behaviour:
    headers = (("Retry-After", retry_after),) if retry_after is not None else ()
    return Behaviour(status=status, headers=headers)


def hang(seconds: float) -> Behaviour:
    """Say nothing for `seconds` (or until the fake stops), then answer validly: longer than a client timeout."""
    return Behaviour(hang_seconds=seconds)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]


@dataclass
class _State:
    default: Behaviour = field(default_factory=valid)
    queue: deque[Behaviour] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)
    received: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.received = threading.Condition(self.lock)


class FakeCohere:
    def __init__(self) -> None:
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-cohere", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeCohere:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.released.set()  # wake hanging handlers so shutdown is prompt
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeCohere:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next calls, in order; after them the default applies."""
        with self._state.lock:
            self._state.queue.extend(behaviours)

    def set_default(self, behaviour: Behaviour) -> None:
        with self._state.lock:
            self._state.default = behaviour

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until `count` requests arrived (they are recorded before the answer is sent)."""
        with self._state.received:
            self._state.received.wait_for(lambda: len(self._state.requests) >= count, timeout=timeout)
            return list(self._state.requests)


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            with state.received:
                state.requests.append(
                    RecordedRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                behaviour = state.queue.popleft() if state.queue else state.default
                state.received.notify_all()
            if self.path != "/v2/chat":
                self._send(404, {"message": f"no route for {self.path}"})
                return
            if behaviour.hang_seconds and state.released.wait(behaviour.hang_seconds):
                return  # the fake is stopping; the client has long given up
            if behaviour.status != 200:
                message = _ERROR_MESSAGES.get(behaviour.status, "error")
                self._send(behaviour.status, {"id": str(uuid.uuid4()), "message": message}, behaviour.headers)
                return
            if behaviour.compose is not None:
                answer = behaviour.compose(body)
            elif behaviour.text is not None:
                answer = behaviour.text
            else:
                answer = json.dumps(_valid_steps(body))
            self._send(200, _chat_response(answer, behaviour.finish_reason))

        def _send(self, status: int, payload: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and went away

    return Handler


def _valid_steps(body: dict[str, Any]) -> dict[str, Any]:
    """Steps for every "- step N (channel):" line of the user message, as a well-behaved model would."""
    user = next((m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"), "")
    if isinstance(user, list):  # content given as a list of parts
        user = " ".join(part.get("text", "") for part in user)
    steps = []
    for index, channel in _WANTED_STEP.findall(user):
        subject = f"Subject for step {index}" if channel == "email" else None
        voicemail = f"Generated voicemail for step {index}." if channel == "voice" else None
        steps.append(
            {
                "index": int(index),
                "subject": subject,
                "body": f"Generated {channel} body for step {index}.",
                "voicemail": voicemail,
            }
        )
    return {"steps": steps}


def _chat_response(answer: str, finish_reason: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "finish_reason": finish_reason,
        "message": {"role": "assistant", "content": [{"type": "text", "text": answer}]},
        "usage": {
            "billed_units": {"input_tokens": 250, "output_tokens": 120},
            "tokens": {"input_tokens": 900, "output_tokens": 122},
        },
    }
