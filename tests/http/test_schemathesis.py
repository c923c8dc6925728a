"""schemathesis against the in-process app: generated requests for every documented operation.

Checks: no 5xx, only documented status codes, and bodies, headers and media types as documented. The run is
bounded (about a thousand requests, most of them the coverage phase's one-field-at-a-time variations; a few
seconds) and deterministic (derandomized, fixed seed, no example database). Generated ids are real ones part of
the time, so approve/reject/edit/cancel, the contact events and the start call get past their 404s and reach
the validation, the actors, the storage and the offline writer.

schemathesis's own engine runs the phases (examples, coverage, fuzzing), as its CLI would; its pytest
integration (`schemathesis.pytest.from_fixture`) does not run under pytest 9.2 (it sets `Item._nodeid`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import falcon.testing
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import Status, events

from ringback.demo import bootstrap
from ringback.engine.model import EnrollmentStatus
from ringback.node import Node, Providers
from ringback.providers.llm.offline import OfflineWriter
from ringback.storage import enrollments
from tests.conftest import wait_for

METHODS = ("get", "post", "put", "patch", "delete")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "response_headers_conformance",
)
PENDING = 6  # enrollments waiting for review, for approve, reject and cancel to decide


@dataclass(frozen=True)
class Seeded:
    """A workspace with real objects for generated requests to find."""

    node: Node
    api_key: str
    template_id: str
    contact_id: str  # has its own enrollment: a reported contact event stops only that one
    enrollment_ids: tuple[str, ...]  # one active, the others pending review
    editable_id: str  # pending, and only the step edits get it (edits do not decide, so it stays pending)


def _lead(template_id: str, n: int, auto_approve: bool) -> dict[str, Any]:
    # A number of its own too: contacts are matched by email, then by phone.
    contact = {"first_name": f"Lead {n}", "emails": [f"lead{n}@example.com"], "phone_numbers": [f"+349112345{n:02}"]}
    return {"template_id": template_id, "contact": contact, "auto_approve": auto_approve}


def _private_dns(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
    """Every generated webhook URL resolves to a private address, so the SSRF guard refuses it: nothing is
    looked up in real DNS and no webhook endpoint exists that could be called beyond loopback."""
    return [(2, 1, 6, "", ("10.0.0.1", port))]


@pytest.fixture
def seeded(make_node, clock) -> Seeded:
    # Limits high enough that generated traffic tests the API, not the rate limiter (test_openapi covers 429).
    node = make_node(
        Providers(writer=OfflineWriter(), resolver=_private_dns),
        writes_per_minute=100_000,
        reads_per_minute=100_000,
        twilio_auth_token="test-token",
    )
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    client = falcon.testing.TestClient(node.app)
    started = [
        client.simulate_post(
            "/api/v1/sequences/start",
            json=_lead(demo.template_id, n, auto_approve=n < 2),
            headers={"Authorization": f"Bearer {demo.api_key}"},
        ).json
        for n in range(3 + PENDING)
    ]
    pending = [body["enrollment_id"] for body in started[2:]]
    wait_for(
        lambda: all(enrollments.status_of(demo.workspace_id, e) == EnrollmentStatus.PENDING_APPROVAL for e in pending)
    )
    ids = tuple(body["enrollment_id"] for body in started[1:-1])
    return Seeded(node, demo.api_key, demo.template_id, started[0]["contact_id"], ids, started[-1]["enrollment_id"])


def _config(api_key: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": 20260506,
            "headers": {"Authorization": f"Bearer {api_key}"},
            "generation": {"deterministic": True, "database": "none", "max-examples": 10},
            # Only the hooks below hand out real ids (not ids seen in responses), so each operation keeps its own.
            "phases": {"stateful": {"enabled": False}, "fuzzing": {"extra-data-sources": {"responses": False}}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            # The start call and the step edits reach the most of our own code (validation, guards, actors).
            "operations": [
                {"include-operation-id": operation, "generation": {"max-examples": 30}}
                for operation in ("startSequence", "editStep")
            ],
        }
    )


def _aim_at_real_objects(schema: schemathesis.BaseSchema, seeded: Seeded) -> None:
    """Hooks that swap a generated id (or the start call's template id) for a real one, some of the time."""
    real = {
        "enrollment_id": st.sampled_from(seeded.enrollment_ids),
        "contact_id": st.just(seeded.contact_id),
        "template_id": st.just(seeded.template_id),
        "index": st.integers(0, 3),
    }
    editable = {**real, "enrollment_id": st.just(seeded.editable_id)}

    @schema.hook
    def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any] | None):
        if not path_parameters:
            return st.just(path_parameters)
        generated = {name: st.just(value) for name, value in path_parameters.items()}
        swaps = {
            name: strategy
            for name, strategy in (editable if "index" in path_parameters else real).items()
            if name in path_parameters
        }
        return st.one_of(  # all real first (what Hypothesis favours), then as generated, then one real at a time
            st.fixed_dictionaries({**generated, **swaps}),
            st.just(path_parameters),
            *(st.fixed_dictionaries({**generated, name: strategy}) for name, strategy in swaps.items()),
        )

    @schema.hook
    def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
        # The coverage phase varies one field at a time (boundaries, wrong types) without the flatmap hooks;
        # aim it at real objects too, unless the path parameter itself is the field being varied.
        if case.meta is None or case.meta.phase.name.value != "coverage" or not case.path_parameters:
            return case
        ids = {
            "enrollment_id": seeded.editable_id if "index" in case.path_parameters else seeded.enrollment_ids[0],
            "contact_id": seeded.contact_id,
            "template_id": seeded.template_id,
            "index": 1,
        }
        varied = case.meta.phase.data.parameter
        for name in case.path_parameters.keys() & ids.keys() - {varied}:
            case.path_parameters[name] = ids[name]
        return case

    @schema.hook
    def flatmap_body(context: schemathesis.HookContext, body: Any):
        if context.operation.path != "/api/v1/sequences/start" or not isinstance(body, dict):
            return st.just(body)
        return st.sampled_from([body, {**body, "template_id": seeded.template_id}])


def _describe(event: events.ScenarioFinished) -> list[str]:
    return [
        f"{event.label} [{check.name}] {check.failure_info.failure.title}\n"
        f"{check.failure_info.failure.message}\n{check.failure_info.code_sample}"
        for checks in event.recorder.checks.values()
        for check in checks
        if check.status == Status.FAILURE and check.failure_info is not None
    ]


def test_generated_requests_get_the_documented_answers(seeded):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", seeded.node.app, config=_config(seeded.api_key))
    _aim_at_real_objects(schema, seeded)
    problems: list[str] = []
    requests = 0
    tested: set[str] = set()

    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            requests += len(event.recorder.interactions)
            tested.add(event.label or "")
            problems += _describe(event)
        elif isinstance(event, events.NonFatalError):
            problems.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            problems.append(f"schemathesis failed: {event.exception!r}")

    assert not problems, "\n\n".join(problems)
    documented = {f"{m.upper()} {p}" for p, item in schema.raw_schema["paths"].items() for m in item if m in METHODS}
    assert documented - tested == {"GET /openapi.json"}  # schemathesis leaves out the document it was loaded from
    assert 200 <= requests <= 2000  # the configured bounds hold
