"""Graceful shutdown. SIGTERM or SIGINT: stop accepting requests, let the send in flight finish, persist, exit 0
(the real `python run.py` process, sending through a real SMTP server that holds the DATA until told).
A send stuck past the grace period is tested with recovery (tests/actors/test_recovery.py)."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import threading

import pytest
from aiosmtpd.controller import Controller

from tests.actors.conftest import lead
from tests.conftest import wait_for
from tests.e2e import conftest as e2e
from tests.e2e.conftest import HOST, free_port

start_server = e2e.start_server  # the real-process fixtures of tests/e2e, used here too
ringback = e2e.ringback

EMAIL_ONLY = {
    "name": "One email",
    "goal": "Book a demo.",
    "allowed_channels": ["email"],
    "steps": [{"channel": "email", "delay_seconds": 0}],
    "sender": {"name": "Acme", "email": "sales@acme.example"},
}


class HoldingSmtp:
    """An SMTP server (aiosmtpd) that keeps every DATA waiting until `release()`: a send in flight on demand."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self._release = threading.Event()
        self.accepted: list[bytes] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        self.holding.set()
        await asyncio.get_running_loop().run_in_executor(None, self._release.wait, 30)
        self.accepted.append(envelope.original_content or b"")
        return "250 Message accepted for delivery"

    def release(self) -> None:
        self._release.set()

    def start(self) -> HoldingSmtp:
        self.port = free_port()
        self._controller = Controller(self, hostname=HOST, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self.release()
        if self._controller is not None:
            self._controller.stop()


@pytest.fixture
def smtp():
    server = HoldingSmtp().start()
    yield server
    server.stop()


def refuses_connections(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_new_requests_lets_the_send_in_flight_finish_and_exits_0(start_server, ringback, smtp, signum):
    env = {
        "RINGBACK_SMTP_HOST": HOST,
        "RINGBACK_SMTP_PORT": str(smtp.port),
        "RINGBACK_SHUTDOWN_GRACE_SECONDS": "30",
        "RINGBACK_SECRET_KEY": "shutdown-test-secret-0123456789",
    }
    demo = ringback(["init"], env)
    live_key = ringback(["keys", "create", "--workspace", demo["workspace_id"], "--live"], env)["api_key"]
    server = start_server(env)
    status, template = server.request("POST", "/api/v1/templates", EMAIL_ONLY, live_key)
    assert status == 201, template
    status, started = server.request("POST", "/api/v1/sequences/start", lead(template["id"]), live_key)
    assert status == 202, started
    assert smtp.holding.wait(timeout=15)

    server.process.send_signal(signum)

    wait_for(lambda: refuses_connections(server.port))
    assert server.process.poll() is None  # still finishing the send it started
    smtp.release()
    assert server.process.wait(timeout=30) == 0, server.output()
    assert len(smtp.accepted) == 1
    with sqlite3.connect(server.data_dir / "ringback.db") as db:
        rows = db.execute(
            "SELECT status, provider FROM step WHERE enrollment_id = ?", (started["enrollment_id"],)
        ).fetchall()
    assert rows == [("sent", "smtp")]
