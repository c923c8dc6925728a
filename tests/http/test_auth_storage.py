"""Authentication, plans, workspace isolation and rate limits through the real app on real storage."""

from __future__ import annotations

import falcon.testing
import pytest

from ringback.demo import DEMO_TEMPLATE, bootstrap
from ringback.storage import accounts
from tests.conftest import Api, seed_lead

UNKNOWN_ID = "01HV0000000000000000000000"


@pytest.fixture
def other(api, clock) -> Api:
    """A second workspace with its own read+write key and template, behind the same app."""
    ws = accounts.create_workspace("Globex", clock.now())
    _, key = accounts.create_key(ws.id, clock.now())
    created = api.post("/api/v1/templates", DEMO_TEMPLATE, key=key)
    assert created.status_code == 201
    return Api(api.client, key, ws.id, created.json["id"])


def _key_on_plan(plan: str, clock) -> str:
    ws = accounts.create_workspace(f"On {plan}", clock.now(), plan=plan)
    return accounts.create_key(ws.id, clock.now())[1]


# --- 401: one answer for every bad key ---------------------------------------------------------------------


def test_unknown_malformed_and_revoked_keys_get_the_same_401(api, clock):
    key_id, revoked = accounts.create_key(api.workspace_id, clock.now())
    accounts.revoke_key(key_id, clock.now())
    never_issued = "ck_test_" + "Z" * 32
    malformed = ["ck_test_", "sk_live_" + "a" * 32, "ck_test_" + "a" * 40 + "!", "not a key"]

    answers = [api.get("/api/v1/templates", key=key) for key in [never_issued, revoked, *malformed]]
    answers.append(api.client.simulate_get("/api/v1/templates"))  # no Authorization header at all
    answers.append(api.client.simulate_get("/api/v1/templates", headers={"Authorization": f"Basic {api.key}"}))

    first = answers[0]
    assert first.status_code == 401
    assert first.json == {"error": {"code": "unauthorized", "message": "missing or invalid API key", "details": {}}}
    for answer in answers[1:]:
        assert (answer.status_code, answer.json) == (401, first.json)
        assert answer.headers["WWW-Authenticate"] == first.headers["WWW-Authenticate"] == "Bearer"


def test_a_revoked_key_stops_working_at_once(api, clock):
    key_id, plain = accounts.create_key(api.workspace_id, clock.now())
    assert api.get("/api/v1/templates", key=plain).status_code == 200

    accounts.revoke_key(key_id, clock.now())

    assert api.get("/api/v1/templates", key=plain).status_code == 401


# --- 403: scopes and plans ---------------------------------------------------------------------------------


def test_a_read_only_key_reads_but_may_not_write(api, clock):
    _, read_only = accounts.create_key(api.workspace_id, clock.now(), scopes=frozenset({"read"}))

    assert api.get("/api/v1/templates", key=read_only).status_code == 200
    for path, body in [("/api/v1/templates", DEMO_TEMPLATE), ("/api/v1/sequences/start", seed_lead(api.template_id))]:
        answer = api.post(path, body, key=read_only)
        assert answer.status_code == 403
        assert answer.json["error"]["code"] == "forbidden"
        assert answer.json["error"]["details"] == {"scope": "write"}


def test_a_plan_without_sequences_may_use_templates_but_not_start_sequences(api, clock):
    starter = _key_on_plan("starter", clock)

    refused = api.post("/api/v1/sequences/start", seed_lead(api.template_id), key=starter)
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden"
    assert refused.json["error"]["details"] == {"feature": "sequences"}
    assert "sequences" in refused.json["error"]["message"]
    assert api.get("/api/v1/review-queue", key=starter).json["error"]["details"] == {"feature": "sequences"}
    assert api.get("/api/v1/templates", key=starter).status_code == 200
    assert api.post("/api/v1/templates", DEMO_TEMPLATE, key=starter).status_code == 201


def test_a_plan_without_api_access_is_refused_everywhere(api, clock):
    free = _key_on_plan("free", clock)

    answer = api.get("/api/v1/templates", key=free)
    assert answer.status_code == 403
    assert answer.json["error"]["details"] == {"feature": "api_access"}


def test_a_plan_change_applies_to_the_next_request(api):
    accounts.set_plan(api.workspace_id, "starter")
    assert api.post("/api/v1/sequences/start", seed_lead(api.template_id)).status_code == 403

    accounts.set_plan(api.workspace_id, "pro")
    assert api.post("/api/v1/sequences/start", seed_lead(api.template_id)).status_code == 202


# --- 404: another workspace's resources do not exist for us ------------------------------------------------


def test_another_workspaces_template_is_a_404(api, other):
    mine = api.get(f"/api/v1/templates/tpl_{UNKNOWN_ID}")
    theirs = api.get(f"/api/v1/templates/{other.template_id}")

    assert (theirs.status_code, theirs.json) == (404, mine.json)
    assert mine.json["error"]["code"] == "not_found"
    assert other.template_id not in {t["id"] for t in api.get("/api/v1/templates").json["data"]}
    assert other.get(f"/api/v1/templates/{other.template_id}").status_code == 200


def test_another_workspaces_template_cannot_be_started(api, other):
    answer = api.post("/api/v1/sequences/start", seed_lead(other.template_id))

    assert answer.status_code == 404
    assert answer.json["error"]["details"] == {"field": "template_id"}


def test_another_workspaces_contact_and_enrollment_are_404s(api, other):
    started = other.post("/api/v1/sequences/start", seed_lead(other.template_id, auto_approve=False))
    assert started.status_code == 202
    contact_id, enrollment_id = started.json["contact_id"], started.json["enrollment_id"]
    enrollment = f"/api/v1/sequences/enrollments/{enrollment_id}"

    contact = api.get(f"/api/v1/contacts/{contact_id}")
    assert (contact.status_code, contact.json) == (404, api.get(f"/api/v1/contacts/ct_{UNKNOWN_ID}").json)
    status = api.get(enrollment)
    assert (status.status_code, status.json) == (404, api.get(f"/api/v1/sequences/enrollments/enr_{UNKNOWN_ID}").json)
    for action in ("approve", "reject", "cancel"):
        assert api.post(f"{enrollment}/{action}").status_code == 404

    assert other.get(f"/api/v1/contacts/{contact_id}").status_code == 200
    assert other.get(enrollment).json["status"] in {"generating", "pending_approval"}


def test_the_same_lead_in_two_workspaces_makes_two_contacts(api, other):
    ours = api.post("/api/v1/sequences/start", seed_lead(api.template_id))
    theirs = other.post("/api/v1/sequences/start", seed_lead(other.template_id))

    assert ours.json["contact_created"] and theirs.json["contact_created"]
    assert ours.json["contact_id"] != theirs.json["contact_id"]


# --- 429: the rate limiter through the real app ------------------------------------------------------------


def test_writes_over_the_limit_get_429_with_rate_limit_headers(make_node, clock):
    node = make_node(writes_per_minute=2)
    demo = bootstrap(clock.now())
    api = Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)

    first, second, third = (api.post("/api/v1/templates", DEMO_TEMPLATE) for _ in range(3))

    assert [first.status_code, second.status_code] == [201, 201]
    assert [r.headers["X-RateLimit-Limit"] for r in (first, second, third)] == ["2", "2", "2"]
    assert [r.headers["X-RateLimit-Remaining"] for r in (first, second, third)] == ["1", "0", "0"]
    assert third.status_code == 429
    assert third.json["error"]["code"] == "rate_limited"
    retry_after = int(third.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert third.json["error"]["details"] == {"retry_after": retry_after}
    assert third.headers["X-RateLimit-Reset"] == third.headers["Retry-After"]

    reads = api.get("/api/v1/templates")  # reads have their own budget
    assert reads.status_code == 200 and reads.headers["X-RateLimit-Limit"] == "120"
    _, second_key = accounts.create_key(demo.workspace_id, clock.now())  # and so does every key
    assert api.post("/api/v1/templates", DEMO_TEMPLATE, key=second_key).status_code == 201


def test_requests_refused_for_the_plan_spend_no_budget(make_node, clock):
    node = make_node(writes_per_minute=1)
    demo = bootstrap(clock.now())
    api = Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)
    accounts.set_plan(demo.workspace_id, "starter")

    for _ in range(3):
        assert api.post("/api/v1/sequences/start", seed_lead(demo.template_id)).status_code == 403

    assert api.post("/api/v1/templates", DEMO_TEMPLATE).status_code == 201
    assert api.post("/api/v1/templates", DEMO_TEMPLATE).status_code == 429
