"""Hypothesis over the body of every JSON endpoint: text with lone surrogates and NUL characters, deep
nesting, huge and non-finite numbers, mixed into bodies shaped like the real ones so the values reach the
validators, the actors and the storage. No answer may be a 5xx, and every error is the envelope.

Complements tests/http/test_schemathesis.py, which generates from the OpenAPI spec and so never sends what the
spec does not describe. Deterministic (derandomized) and bounded (a few hundred requests).
"""

from __future__ import annotations

import json

import falcon.testing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringback.demo import DEMO_TEMPLATE, bootstrap, seed_lead
from ringback.engine.model import EnrollmentStatus
from ringback.storage import enrollments
from tests.conftest import wait_for

NASTY_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\ud800", "x\udfffy", "\x00", "a\x00b", "", " ", "\U0001f600", "bit.ly/x", "é" * 300]),
    st.text(alphabet=st.sampled_from("a\x00\ud800\udc00 ."), max_size=10),
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([2**53, -(2**53), 10**4000, 0, -1, 4301]),
    st.floats(allow_nan=False),
)
LEAF = st.one_of(st.none(), st.booleans(), NUMBERS, NASTY_TEXT)
JSON = st.recursive(
    LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(NASTY_TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _shaped(base: dict) -> st.SearchStrategy[dict]:
    """The real body with some fields replaced (or added) by arbitrary JSON."""
    keys = st.one_of(st.sampled_from(sorted(base)), NASTY_TEXT)
    return st.dictionaries(keys, JSON, max_size=3).map(lambda changes: {**base, **changes})


def _contact_shaped(base: dict) -> st.SearchStrategy[dict]:
    keys = st.one_of(st.sampled_from([*sorted(base["contact"]), "company", "language", "timezone"]), NASTY_TEXT)
    return st.dictionaries(keys, JSON, max_size=3).map(
        lambda changes: {**base, "contact": {**base["contact"], **changes}}
    )


@pytest.fixture
def target(make_node, clock):
    node = make_node(writes_per_minute=1_000_000, reads_per_minute=1_000_000)
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    client = falcon.testing.TestClient(node.app)
    headers = {"Authorization": f"Bearer {demo.api_key}", "Content-Type": "application/json"}
    lead = {**seed_lead(demo.template_id), "auto_approve": False, "idempotency_key": None}
    started = client.simulate_post("/api/v1/sequences/start", json=lead, headers=headers).json
    enrollment_id = started["enrollment_id"]
    wait_for(lambda: enrollments.status_of(demo.workspace_id, enrollment_id) == EnrollmentStatus.PENDING_APPROVAL)
    return client, headers, demo.template_id, started["contact_id"], enrollment_id


def _endpoints(template_id: str, contact_id: str, enrollment_id: str) -> list[tuple[str, str, st.SearchStrategy]]:
    enrollment = f"/api/v1/sequences/enrollments/{enrollment_id}"
    lead = seed_lead(template_id)
    return [
        ("POST", "/api/v1/sequences/start", st.one_of(_shaped(lead), _contact_shaped(lead), JSON)),
        ("POST", "/api/v1/templates", st.one_of(_shaped(DEMO_TEMPLATE), JSON)),
        ("POST", f"/api/v1/contacts/{contact_id}/events", st.one_of(_shaped({"type": "replied", "note": "n"}), JSON)),
        ("POST", f"{enrollment}/reject", st.one_of(_shaped({"reason": "r"}), JSON)),
        ("POST", f"{enrollment}/cancel", st.one_of(_shaped({"reason": "r"}), JSON)),
        ("PATCH", f"{enrollment}/steps/0", st.one_of(_shaped({"body": "b", "subject": "s"}), JSON)),
    ]


def test_no_json_body_produces_a_server_error(target):
    client, headers, template_id, contact_id, enrollment_id = target
    endpoints = _endpoints(template_id, contact_id, enrollment_id)

    def send(method: str, path: str, text: str) -> None:
        result = client.simulate_request(method, path, body=text.encode(), headers=headers)
        assert result.status_code < 500, (method, path, text[:200], result.text)
        if result.status_code >= 400:
            assert set(result.json["error"]) == {"code", "message", "details"}

    for method, path, _ in endpoints:
        for depth in (5_000, 100):
            send(method, path, _nested(depth))

    @settings(
        max_examples=300,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.data())
    def fuzz(data: st.DataObject) -> None:
        method, path, bodies = data.draw(st.sampled_from(endpoints))
        send(method, path, json.dumps(data.draw(bodies)))  # ensure_ascii: lone surrogates go as \\ud800

    fuzz()
