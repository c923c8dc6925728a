"""Shared fixtures: a started node on a temporary SQLite file, a frozen manual clock, an API client."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import falcon.testing
import pykka
import pytest

from ringback import demo
from ringback.clock import ManualClock
from ringback.config import load_settings
from ringback.demo import bootstrap
from ringback.node import Node, Providers
from ringback.providers.llm.offline import OfflineWriter
from tests.fakes.fake_twilio import FakeTwilio
from tests.fakes.smtp_server import SmtpServer

# A Wednesday, 10:00 UTC: 12:00 in Madrid, inside every default calling window in Europe.
WEDNESDAY_MORNING = datetime(2026, 5, 6, 10, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get("RINGBACK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def services_required() -> bool:
    """In CI a missing service is a failure, never a silent skip."""
    return os.environ.get("RINGBACK_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"


def wait_for(predicate: Callable[[], object], timeout: float = 15.0, interval: float = 0.02) -> object:
    """Poll until `predicate()` is truthy; fail the test with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@contextmanager
def writer_held(node: Node) -> Iterator[None]:
    """Keep the node's group-commit writer busy (a unit that waits) until the block ends: writes queue up.

    Units already queued are committed first, so `node.writer.pending()` counts only what the block adds
    (a key's first use also queues a unit: its `last_used_at`; use the key once before holding).
    """
    node.writer.run(lambda: None)
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        entered.set()
        release.wait(30)

    held = node.writer.submit(hold)
    assert entered.wait(10), "the writer did not take the holding unit"
    try:
        yield
    finally:
        release.set()
        held.result(30)


@dataclass
class Api:
    client: falcon.testing.TestClient
    key: str
    workspace_id: str
    template_id: str

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}", **extra}

    def post(self, path: str, body: object = None, key: str | None = None, **headers: str):
        return self.client.simulate_post(path, json=body, headers=self.headers(key, **headers))

    def get(self, path: str, key: str | None = None):
        return self.client.simulate_get(path, headers=self.headers(key))

    def patch(self, path: str, body: object, key: str | None = None):
        return self.client.simulate_patch(path, json=body, headers=self.headers(key))


def seed_lead(template_id: str, **overrides: object) -> dict:
    """The announcement's Maria / Madrid lead, with top-level fields replaced as given."""
    return {**demo.seed_lead(template_id), **overrides}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(WEDNESDAY_MORNING)


@pytest.fixture
def make_node(tmp_path, clock) -> Iterator[Callable[..., Node]]:
    """Build and start nodes on a file-backed SQLite database (actor threads need a real file)."""
    nodes: list[Node] = []

    def build(providers: Providers | None = None, **settings: object) -> Node:
        values = {
            "data_dir": str(tmp_path / "data"),
            "demo": False,
            "tick_seconds": 0.01,
            "secret_key": "test-secret-0123456789abcdef",
            **settings,
        }
        node = Node(
            load_settings(env={}, **values),
            clock=clock,
            providers=providers or Providers(writer=OfflineWriter()),
        )
        nodes.append(node.start())
        return node

    yield build
    for node in nodes:
        node.stop()
    pykka.ActorRegistry.stop_all()


@pytest.fixture
def node(make_node) -> Node:
    return make_node()


@pytest.fixture
def api(node, clock) -> Api:
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    return Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    """The fake Twilio REST API on loopback, answering the real twilio SDK."""
    with FakeTwilio() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""
    with SmtpServer() as server:
        yield server
