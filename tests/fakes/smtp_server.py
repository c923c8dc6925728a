"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives and fails on request.

    with SmtpServer() as server:            # or the `smtp_server` fixture in the tests
        server.fail("bounce@example.com", 550, stage="rcpt")
        ...send to server.port...
        message = server.wait_for(1)[0].message   # email.message.EmailMessage

AUTH is offered when `users` is given (also on a plain connection: `auth_require_tls=False`),
STARTTLS when `tls_context` is given, and implicit TLS when `ssl_context` is given.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"
Stage = Literal["rcpt", "data"]


@dataclass(frozen=True)
class Received:
    envelope_from: str
    recipients: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    login: str | None  # the AUTH user, if the client logged in
    tls: bool  # the message travelled over TLS (STARTTLS or implicit)


@dataclass(frozen=True)
class _Failure:
    code: int
    text: str


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self._owner = owner

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        failure = self._owner._failure_for(address, "rcpt")
        if failure:
            return f"{failure.code} {failure.text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        for address in envelope.rcpt_tos:
            failure = self._owner._failure_for(address, "data")
            if failure:
                return f"{failure.code} {failure.text}"
        raw = envelope.original_content or b""
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        message = email.message_from_bytes(raw, policy=email.policy.default)
        tls = server.transport.get_extra_info("ssl_object") is not None
        self._owner._store(Received(envelope.mail_from, tuple(envelope.rcpt_tos), message, raw, login, tls))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(
        self,
        users: dict[str, str] | None = None,
        tls_context: ssl.SSLContext | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.port = 0
        self.received: list[Received] = []
        self._users = users
        self._tls_context = tls_context
        self._ssl_context = ssl_context
        self._failures: dict[tuple[str, Stage], _Failure] = {}
        self._lock = threading.Condition()
        self._controller: Controller | None = None

    def fail(self, recipient: str, code: int, text: str = "", stage: Stage = "rcpt") -> None:
        """Answer every RCPT (or DATA) for `recipient` with `code` until `clear_failures()`."""
        default = "Requested action aborted: try again later" if code < 500 else "Mailbox unavailable"
        with self._lock:
            self._failures[(recipient.lower(), stage)] = _Failure(code, text or default)

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The first `count` received messages, waiting up to `timeout` seconds for them."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"expected {count} messages, got {len(self.received)}")
            return self.received[:count]

    def start(self) -> SmtpServer:
        # aiosmtpd probes its own port after binding, so it needs a concrete port, not 0.
        for _attempt in range(5):
            self.port = _free_port()
            controller = Controller(_Handler(self), hostname=HOST, port=self.port, **self._smtp_options())
            try:
                controller.start()
            except OSError:  # someone took the port in between; pick another
                continue
            self._controller = controller
            return self
        raise RuntimeError("no free port for the SMTP server")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _smtp_options(self) -> dict:
        options: dict = {"ssl_context": self._ssl_context, "tls_context": self._tls_context}
        if self._users is not None:
            options.update(authenticator=self._authenticate, auth_require_tls=False)
        return options

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self._users is not None
            and self._users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def _failure_for(self, address: str, stage: Stage) -> _Failure | None:
        with self._lock:
            return self._failures.get((address.lower(), stage))

    def _store(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)
            self._lock.notify_all()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
