"""Fakes for the durability tests of the actors: providers that record, hold on request, and fail on
special inputs (a lead named "Boom", a recipient starting with "boom"), and a fault plan that makes
one enrollment's actor crash on chosen events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import falcon.testing
import pytest

import ringback.actors.enrollment
from ringback.demo import bootstrap
from ringback.engine.machine import transition
from ringback.engine.model import Channel, GeneratedSteps, GenerationRequest
from ringback.engine.template import parse_template
from ringback.node import Providers
from ringback.providers.channels.base import OutboundMessage, Receipt
from ringback.providers.llm.offline import OfflineWriter
from ringback.storage import accounts, enrollments, templates
from tests.conftest import Api

EMAIL_THEN_EMAIL = {
    "name": "Two emails",
    "goal": "Book a demo.",
    "allowed_channels": ["email"],
    "steps": [{"channel": "email", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 2 * 24 * 3600}],
    "sender": {"name": "Acme", "email": "sales@acme.example"},
}


class ControlledWriter:
    """The offline writer, except that a lead named "Boom" crashes it and `hold()` makes chosen calls wait."""

    name = "offline"

    def __init__(self) -> None:
        self._inner = OfflineWriter()
        self._gate = threading.Event()
        self._gate.set()
        self._held: Callable[[GenerationRequest], bool] = lambda request: True
        self.calls: list[tuple[str, tuple[int, ...]]] = []
        self._lock = threading.Lock()

    def hold(self, which: Callable[[GenerationRequest], bool] = lambda request: True) -> None:
        self._held = which
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def write(self, request: GenerationRequest) -> GeneratedSteps:
        with self._lock:
            self.calls.append((request.first_name, request.wanted))
        if request.first_name == "Boom":
            raise RuntimeError("the writer exploded")
        if self._held(request):
            self._gate.wait(timeout=30)
        return self._inner.write(request)


@dataclass
class RecordingChannel:
    """A live channel that records every send; a recipient starting with "boom" crashes it."""

    name: str = "recording"
    sent: list[OutboundMessage] = field(default_factory=list)
    entered: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.gate.set()

    def send(self, message: OutboundMessage) -> Receipt:
        self.entered.set()
        if message.to.startswith("boom"):
            raise RuntimeError("the channel exploded")
        self.gate.wait(timeout=30)
        self.sent.append(message)
        return Receipt(self.name, f"rec_{len(self.sent)}")


class FaultPlan:
    """Stands in for the state machine inside the enrollment actor and raises for one enrollment on chosen events."""

    def __init__(self) -> None:
        self._faults: dict[str, tuple[tuple[type, ...], int]] = {}
        self._lock = threading.Lock()

    def crash(self, enrollment_id: str, on: tuple[type, ...] = (object,), times: int = 1_000) -> None:
        with self._lock:
            self._faults[enrollment_id] = (on, times)

    def __call__(self, state, event, now, policy=None):
        with self._lock:
            on, times = self._faults.get(state.id, ((), 0))
            if times and isinstance(event, on):
                self._faults[state.id] = (on, times - 1)
                raise RuntimeError(f"injected fault on {type(event).__name__}")
        return transition(state, event, now, policy)


@pytest.fixture
def faults(monkeypatch) -> FaultPlan:
    plan = FaultPlan()
    monkeypatch.setattr(ringback.actors.enrollment, "transition", plan)
    return plan


@pytest.fixture
def writer() -> ControlledWriter:
    writer = ControlledWriter()
    yield writer
    writer.release()  # never leave a generator thread waiting


@pytest.fixture
def channel() -> RecordingChannel:
    channel = RecordingChannel()
    yield channel
    channel.gate.set()


@pytest.fixture
def providers(writer, channel) -> Providers:
    return Providers(writer=writer, live_channels={c: channel for c in Channel})


def api_for(node, clock, template: dict = EMAIL_THEN_EMAIL, live: bool = True) -> Api:
    """An API client with a key of its own (live: sends reach `channel`; test: the sandbox) and a template."""
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    key = accounts.create_key(demo.workspace_id, clock.now(), live=True)[1] if live else demo.api_key
    template_id = templates.create_template(demo.workspace_id, parse_template(template), clock.now())
    return Api(falcon.testing.TestClient(node.app), key, demo.workspace_id, template_id)


def lead(template_id: str, name: str = "Ana", email: str | None = None, auto_approve: bool = True, **extra) -> dict:
    return {
        "template_id": template_id,
        "contact": {"first_name": name, "emails": [email or f"{name.lower()}@example.com"], **extra},
        "auto_approve": auto_approve,
    }


def start(api: Api, **kwargs) -> str:
    """Start a sequence for `lead(**kwargs)` through the API; the enrollment id."""
    response = api.post("/api/v1/sequences/start", lead(api.template_id, **kwargs))
    assert response.status_code == 202, response.json
    return response.json["enrollment_id"]


def view(api: Api, enrollment_id: str) -> dict:
    """Read straight from storage: polling through the API would trip its rate limit."""
    return enrollments.enrollment_view(api.workspace_id, enrollment_id)
