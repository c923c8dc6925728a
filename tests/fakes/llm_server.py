"""The shared part of our fake LLM servers on 127.0.0.1 (fake_cohere, fake_openai), for driving the real SDKs
in tests: scripted behaviours, recorded requests (headers and JSON body), a threaded HTTP server and a
well-behaved stand-in model. A subclass names its chat route and shapes an answer and an error the way its
real API does; it may serve GET routes too.

    with FakeCohere() as fake:
        fake.script(error(500), valid())          # first call fails, second succeeds
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_WANTED_STEP = re.compile(r"^- step (\d+) \((email|sms|voice)\):", re.MULTILINE)
ERROR_MESSAGES = {
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
    finish_reason: str | None = None  # None: the API's own word for a complete answer
    compose: Callable[[dict[str, Any]], str] | None = None  # builds the model's text from the request body


def valid() -> Behaviour:
    return Behaviour()


def text(raw: str, finish_reason: str | None = None) -> Behaviour:
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


class FakeLlmServer:
    """Subclasses set `chat_path` and implement `answer` and `error_body`; `get_routes` is optional."""

    chat_path = ""
    url_suffix = ""  # what the SDK's base URL adds to the server's root

    def __init__(self) -> None:
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=type(self).__name__,
            daemon=True,
        )

    # --- what a subclass says about its API --------------------------------------------------------

    def answer(self, text: str, finish_reason: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """The 200 body carrying the model's `text`."""
        raise NotImplementedError

    def error_body(self, status: int) -> dict[str, Any]:
        raise NotImplementedError

    def get_routes(self) -> dict[str, dict[str, Any]]:
        """GET path → JSON body."""
        return {}

    # --- lifecycle and scripting ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.url_suffix}"

    def start(self) -> FakeLlmServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._state.released.set()  # wake hanging handlers so shutdown is prompt
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
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


def _handler(fake: FakeLlmServer) -> type[BaseHTTPRequestHandler]:
    state = fake._state

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def do_GET(self) -> None:
            self._record({})
            routes = fake.get_routes()
            if self.path in routes:
                self._send(200, routes[self.path])
            else:
                self._send(404, {"message": f"no route for {self.path}"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"_unparsed": raw.decode("utf-8", "replace")}
            behaviour = self._record(body)
            if self.path != fake.chat_path:
                self._send(404, {"message": f"no route for {self.path}"})
                return
            if behaviour.hang_seconds and state.released.wait(behaviour.hang_seconds):
                return  # the fake is stopping; the client has long given up
            if behaviour.status != 200:
                self._send(behaviour.status, fake.error_body(behaviour.status), behaviour.headers)
                return
            if behaviour.compose is not None:
                answer = behaviour.compose(body)
            elif behaviour.text is not None:
                answer = behaviour.text
            else:
                answer = json.dumps(_valid_steps(body))
            self._send(200, fake.answer(answer, behaviour.finish_reason, body))

        def _record(self, body: dict[str, Any]) -> Behaviour:
            """Record the request and take the behaviour for it (GETs take none from the script)."""
            with state.received:
                state.requests.append(
                    RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                behaviour = state.queue.popleft() if state.queue and self.command == "POST" else state.default
                state.received.notify_all()
            return behaviour

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
