"""What waitress does before the app runs, made to follow ringback's rules.

waitress answers some requests itself — a body over `max_request_body_size` (413), a bad chunk size (400),
an unsupported `Transfer-Encoding` (501), headers too large (431) — in plain text. `EnvelopeErrorTask`
writes them in the API's JSON error envelope instead, with an `X-Request-Id` like every other answer.

waitress also only closes connections that are idle, so a client that trickles one header line every few
seconds holds its connection (and a slot of `connection_limit`) forever. `GuardedChannel` closes a
connection whose request has not fully arrived within the channel timeout.
"""

from __future__ import annotations

import json
import time
import uuid

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from ringback.http.errors import envelope


class EnvelopeErrorTask(ErrorTask):
    """waitress's own error answers, as `{"error": {"code", "message", "details"}}`."""

    def execute(self) -> None:
        error = self.request.error
        # A 500 here means the app raised past falcon's handlers; its text is never shown.
        message = "internal server error" if error.code >= 500 and error.code != 501 else error.body
        body = json.dumps(envelope(error.code, message)).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend(
            [("Content-Type", "application/json"), ("X-Request-Id", uuid.uuid4().hex)]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class GuardedChannel(HTTPChannel):
    """An HTTP connection whose request (headers and body) must arrive within `adj.channel_timeout`."""

    error_task_class = EnvelopeErrorTask
    request_started_at: float | None = None

    def received(self, data: bytes) -> bool:
        if self.request is None:  # the first bytes of a new request
            self.request_started_at = time.time()
        result = super().received(data)
        if self.request is None:  # complete (handed to a worker) or nothing pending
            self.request_started_at = None
        return result

    def readable(self) -> bool:
        # The event loop asks every channel this about once a second (its select/poll timeout), so it is
        # where a slow sender is noticed; closing works as waitress's own idle timeout does.
        started = self.request_started_at
        if started is not None and time.time() - started > self.adj.channel_timeout:
            self.will_close = True
        return super().readable()
