"""One webhook POST, signed per the Standard Webhooks spec, to the address the SSRF guard checked.

http.client follows no redirects (a 3xx is a failed attempt: following one would bypass the guard);
every socket operation times out; at most 1 KiB of the answer is read, for the delivery log.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from standardwebhooks.webhooks import Webhook

from ringback.clock import Clock, SystemClock
from ringback.providers.webhooks.address_guard import Resolver, Target, UnsafeUrl, resolve

TIMEOUT_SECONDS = 5.0
MAX_RESPONSE_BYTES = 1024
USER_AGENT = "ringback-webhooks/1"


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None
    duration_ms: int
    error: str | None = None
    response: str = ""  # the first KiB of the answer


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the checked address; the Host header still names the host."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to the checked address, verifying the certificate against the host name."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class WebhookSender:
    """`wall` stamps `webhook-timestamp`: receivers compare it with their real clocks (replay window), so it
    is the system clock even when business time is injected."""

    def __init__(
        self,
        allow_private: bool,
        timeout: float = TIMEOUT_SECONDS,
        wall: Clock | None = None,
        resolver: Resolver | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`tls` defaults to the system's trusted CAs with host-name checks (tests pass one trusting their CA)."""
        self._allow_private = allow_private
        self._timeout = timeout
        self._wall = wall or SystemClock()
        self._resolver = resolver or socket.getaddrinfo
        self._monotonic = monotonic
        self._tls = tls or ssl.create_default_context()

    def target(self, url: str) -> Target:
        """The checked address to send `url`'s requests to; raises UnsafeUrl (also used to validate new URLs)."""
        return resolve(url, self._allow_private, self._resolver)

    def send(self, url: str, secret: str, message_id: str, payload: str) -> SendResult:
        started = self._monotonic()
        try:
            target = self.target(url)
        except UnsafeUrl as error:
            return SendResult(False, None, 0, f"refused: {error}")
        timestamp = self._wall.now()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, timestamp, payload),
        }
        if target.scheme == "https":
            connection: http.client.HTTPConnection = _PinnedHTTPS(target, self._timeout, self._tls)
        else:
            connection = _PinnedHTTP(target, self._timeout)
        try:
            connection.request("POST", target.path, body=payload.encode(), headers=headers)
            answer = connection.getresponse()
            text = answer.read(MAX_RESPONSE_BYTES).decode("utf-8", errors="replace")
            status = answer.status
        except TimeoutError:
            return SendResult(False, None, self._elapsed(started), f"no answer within {self._timeout:g} s")
        except (OSError, http.client.HTTPException) as error:
            return SendResult(False, None, self._elapsed(started), f"connection failed: {type(error).__name__}")
        finally:
            connection.close()
        elapsed = self._elapsed(started)
        if 200 <= status < 300:
            return SendResult(True, status, elapsed, None, text)
        if 300 <= status < 400:
            return SendResult(False, status, elapsed, f"redirect answered ({status}); redirects are not followed", text)
        return SendResult(False, status, elapsed, f"the endpoint answered {status}", text)

    def _elapsed(self, started: float) -> int:
        return int((self._monotonic() - started) * 1000)
