"""schemathesis against the in-process app: generated requests for every documented operation.

Checks: no 5xx, only documented status codes, and bodies, headers and media types as documented. The run is
bounded (a few hundred requests) and deterministic (derandomized, fixed seed, no example database). Generated
ids and template ids are real ones part of the time, so approve/reject/edit/cancel and the start call get past
their 404s and reach the actors, the storage and the offline writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import falcon.testing
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ringback.demo import bootstrap
from ringback.engine.model import EnrollmentStatus
from ringback.node import Node
from ringback.storage import enrollments
from tests.conftest import seed_lead, wait_for

MAX_EXAMPLES = 12  # per operation and phase; about 400 requests in all

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20260506,
        "generation": {"deterministic": True, "database": "none", "max-examples": MAX_EXAMPLES},
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
        },
    }
)


@dataclass(frozen=True)
class Seeded:
    """A workspace with real objects for generated requests to find."""

    node: Node
    api_key: str
    template_id: str
    contact_id: str
    enrollment_ids: tuple[str, ...]  # one active (fast path), one pending review


@pytest.fixture
def seeded(make_node, clock) -> Seeded:
    # Limits high enough that generated traffic tests the API, not the rate limiter (test_openapi covers 429).
    node = make_node(writes_per_minute=100_000, reads_per_minute=100_000, twilio_auth_token="test-token")
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    client = falcon.testing.TestClient(node.app)
    headers = {"Authorization": f"Bearer {demo.api_key}"}
    started = [
        client.simulate_post(
            "/api/v1/sequences/start",
            json=seed_lead(demo.template_id, auto_approve=auto, idempotency_key=None),
            headers=headers,
        ).json
        for auto in (True, False)
    ]
    ids = tuple(body["enrollment_id"] for body in started)
    wait_for(lambda: enrollments.status_of(demo.workspace_id, ids[1]) == EnrollmentStatus.PENDING_APPROVAL)
    return Seeded(node, demo.api_key, demo.template_id, started[0]["contact_id"], ids)


@pytest.fixture
def app_schema(seeded: Seeded) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", seeded.node.app, config=CONFIG)

    @schema.hook
    def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]):
        real = {
            "enrollment_id": st.sampled_from(seeded.enrollment_ids),
            "contact_id": st.just(seeded.contact_id),
            "template_id": st.just(seeded.template_id),
            "index": st.integers(0, 3),
        }
        swaps = [
            st.fixed_dictionaries({**{k: st.just(v) for k, v in path_parameters.items()}, name: real[name]})
            for name in path_parameters
            if name in real
        ]
        return st.one_of(st.just(path_parameters), *swaps)

    @schema.hook
    def flatmap_body(context: schemathesis.HookContext, body: Any):
        if context.operation.path != "/api/v1/sequences/start" or not isinstance(body, dict):
            return st.just(body)
        return st.sampled_from([body, {**body, "template_id": seeded.template_id}])

    return schema


schema = schemathesis.pytest.from_fixture("app_schema")


@settings(deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@schema.parametrize()
def test_the_app_keeps_the_promises_of_its_document(case: schemathesis.Case, seeded: Seeded) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {seeded.api_key}"})
