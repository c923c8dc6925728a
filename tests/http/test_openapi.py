"""The API answers what its OpenAPI document promises.

The main flows run through the real app (actors, storage, offline writer, sandbox) and every response is
checked against the document: the status is documented for that operation, the media type is, the required
headers are present, and a JSON body validates against the schema of that operation and status.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import falcon.testing
import jsonschema_rs
import pytest
import schemathesis

from ringback.demo import bootstrap
from ringback.engine.model import EnrollmentStatus, StepStatus
from ringback.http import routes
from ringback.http.resources.openapi import SPEC_FILE, load_spec
from ringback.storage import accounts, enrollments
from tests.conftest import seed_lead, wait_for, writer_held
from tests.fakes.webhook_receiver import WebhookReceiver

REPO = Path(__file__).resolve().parents[2]
SPEC = load_spec()
SPEC_URI = "urn:ringback:openapi"
METHODS = ("get", "post", "put", "patch", "delete")
NO_KEY = ""


def _pointer(parts: tuple[str, ...]) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _follow(node: dict[str, Any], where: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Resolve a local ``$ref`` (responses, headers); return the target and the path to it in the document."""
    while "$ref" in node:
        where = tuple(p.replace("~1", "/").replace("~0", "~") for p in node["$ref"].removeprefix("#/").split("/"))
        node = SPEC
        for part in where:
            node = node[part]
    return node, where


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$")


class Contract:
    """Checks one response against the document's entry for its operation and status."""

    def __init__(self) -> None:
        self._registry = jsonschema_rs.Registry([(SPEC_URI, SPEC)], draft=jsonschema_rs.Draft202012)
        self._templates = sorted(SPEC["paths"], key=lambda t: t.count("{"))  # literal paths win

    def template_of(self, path: str) -> str:
        for template in self._templates:
            if _template_regex(template).match(path):
                return template
        raise AssertionError(f"{path} matches no documented path")

    def validator(self, where: tuple[str, ...]) -> jsonschema_rs.Validator:
        """Validates against the schema at ``where`` in the document (its own ``$ref``s resolve there too)."""
        return jsonschema_rs.Draft202012Validator(
            {"$ref": f"{SPEC_URI}#{quote(_pointer(where), safe='/~')}"},
            registry=self._registry,
            validate_formats=True,
        )

    def check(self, method: str, path: str, result: falcon.testing.Result) -> None:
        template = self.template_of(path.partition("?")[0])
        operation = SPEC["paths"][template].get(method.lower())
        assert operation is not None, f"{method} {template} is not documented"
        status = str(result.status_code)
        label = f"{method} {template} → {status}"
        assert status in operation["responses"], f"{label} is not documented"
        response, where = _follow(
            operation["responses"][status], ("paths", template, method.lower(), "responses", status)
        )
        for name, header in response.get("headers", {}).items():
            header, _ = _follow(header, ())
            if header.get("required"):
                assert name in result.headers, f"{label} lacks the required {name} header"
        media = (result.headers.get("Content-Type") or "").split(";")[0].strip()
        content = response.get("content", {})
        assert not content or media in content, f"{label} answered {media!r}, documented {sorted(content)}"
        if media == "application/json":
            errors = [
                f"{'/'.join(map(str, error.instance_path)) or '(root)'}: {error.message}"
                for error in self.validator((*where, "content", media, "schema")).iter_errors(result.json)
            ]
            assert not errors, f"{label} breaks its schema:\n" + "\n".join(errors)


CONTRACT = Contract()


class CheckedClient:
    """Requests through the app with an API key; every answer goes through the contract."""

    def __init__(self, client: falcon.testing.TestClient, key: str) -> None:
        self.client = client
        self.key = key

    def request(
        self, method: str, path: str, payload: object = None, key: str | None = None, **kwargs: Any
    ) -> falcon.testing.Result:
        """``payload`` goes as JSON; other keyword arguments (``body=``, ``headers=``) go to falcon as they are."""
        key = self.key if key is None else key
        headers = {**({"Authorization": f"Bearer {key}"} if key else {}), **kwargs.pop("headers", {})}
        if payload is not None:
            kwargs["json"] = payload
        result = self.client.simulate_request(method, path, headers=headers, **kwargs)
        CONTRACT.check(method, path, result)
        return result

    def get(self, path: str, **kwargs: Any) -> falcon.testing.Result:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, payload: object = None, **kwargs: Any) -> falcon.testing.Result:
        return self.request("POST", path, payload, **kwargs)

    def patch(self, path: str, payload: object = None, **kwargs: Any) -> falcon.testing.Result:
        return self.request("PATCH", path, payload, **kwargs)


@pytest.fixture
def checked(api) -> CheckedClient:
    return CheckedClient(api.client, api.key)


def _status(api, enrollment_id: str) -> EnrollmentStatus | None:
    """Read from storage: polling over HTTP would spend the read rate limit."""
    return enrollments.status_of(api.workspace_id, enrollment_id)


def _first_step_sent(status_url: str) -> bool:
    return enrollments.load_state(status_url.rsplit("/", 1)[1]).steps[0].status == StepStatus.SENT


def _code(result: falcon.testing.Result) -> str:
    return result.json["error"]["code"]


# --- the document itself ------------------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1():
    assert SPEC["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(SPEC).validate()


def test_docs_openapi_yaml_is_the_packaged_document():
    packaged = REPO / "ringback" / "http" / SPEC_FILE
    assert (REPO / "docs" / "openapi.yaml").read_text(encoding="utf-8") == packaged.read_text(encoding="utf-8")


def test_every_example_matches_its_schema():
    checked = 0
    for template, item in SPEC["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            media_types = [(("requestBody",), operation.get("requestBody", {}))]
            media_types += [(("responses", status), r) for status, r in operation["responses"].items()]
            for where, owner in media_types:
                owner, at = _follow(owner, ("paths", template, method, *where))
                for media, entry in owner.get("content", {}).items():
                    examples = [e["value"] for e in entry.get("examples", {}).values()]
                    examples += [entry["example"]] if "example" in entry and media == "application/json" else []
                    validator = CONTRACT.validator((*at, "content", media, "schema"))
                    for example in examples:
                        errors = [e.message for e in validator.iter_errors(example)]
                        assert not errors, f"example of {method.upper()} {template} {where}: {errors}"
                        checked += 1
    assert checked >= 10


def test_every_route_is_documented_and_every_documented_operation_is_routed(node):
    routed = set()
    for template, resource, *suffix in routes.table(node.route_deps):
        for method in METHODS:
            if hasattr(resource, f"on_{method}" + (f"_{suffix[0]}" if suffix else "")):
                routed.add((method.upper(), template))
    documented = {(m.upper(), t) for t, item in SPEC["paths"].items() for m in METHODS if m in item}
    assert routed - documented == set(), "routed but not documented"
    assert documented - routed == set(), "documented but not routed"


def test_the_document_is_served_as_json_without_a_key(node):
    client = CheckedClient(falcon.testing.TestClient(node.app), NO_KEY)

    served = client.get("/openapi.json")

    assert served.status_code == 200
    assert served.json == json.loads(json.dumps({**SPEC, "servers": [{"url": node.settings.resolved_public_url}]}))


# --- flows ------------------------------------------------------------------------------------------------------


def test_fast_path_start_replay_status_contact_and_cancel(api, checked):
    lead = seed_lead(api.template_id)
    started = checked.post("/api/v1/sequences/start", lead)
    assert started.status_code == 202
    body = started.json

    replay = checked.post("/api/v1/sequences/start", lead)
    assert replay.status_code == 200 and replay.json == body
    mismatch = checked.post("/api/v1/sequences/start", {**lead, "auto_approve": False})
    assert mismatch.status_code == 422 and _code(mismatch) == "idempotency_mismatch"
    by_header = seed_lead(api.template_id, idempotency_key=None)
    first = checked.post("/api/v1/sequences/start", by_header, headers={"Idempotency-Key": "k2"})
    second = checked.post("/api/v1/sequences/start", by_header, headers={"Idempotency-Key": "k2"})
    assert (first.status_code, second.status_code) == (202, 200) and first.json == second.json

    wait_for(lambda: _first_step_sent(body["status_url"]))
    view = checked.get(body["status_url"]).json
    assert view["steps"][0]["state"] == "sent" and view["review"] == {"required": False, "state": "auto_approved"}

    contact = checked.get(f"/api/v1/contacts/{body['contact_id']}")
    assert contact.status_code == 200 and contact.json["phone_numbers"] == ["+34911234567"]

    canceled = checked.post(f"{body['status_url']}/cancel", {"reason": "booked by phone"})
    assert canceled.status_code == 200 and canceled.json["status"] == "stopped"
    wait_for(lambda: _status(api, body["enrollment_id"]) == EnrollmentStatus.STOPPED)
    assert checked.get(body["status_url"]).json["status"] == "stopped"
    again = checked.post(f"{body['status_url']}/cancel")
    assert again.status_code == 409 and _code(again) == "conflict"


def test_in_flight_key_is_a_conflict(api, checked, node):
    lead = seed_lead(api.template_id)
    api.get("/api/v1/templates")  # the key's first use queues its last_used_at write
    with writer_held(node):
        first = threading.Thread(target=api.post, args=("/api/v1/sequences/start", lead))
        first.start()
        wait_for(lambda: node.writer.pending() == 1)

        response = checked.post("/api/v1/sequences/start", lead)

    first.join()
    assert response.status_code == 409 and _code(response) == "conflict"


def test_unknown_outcome_is_a_503_with_retry_after(make_node, clock):
    node = make_node(write_timeout_seconds=0.05)
    demo = bootstrap(clock.now())
    client = CheckedClient(falcon.testing.TestClient(node.app), demo.api_key)
    with writer_held(node):
        response = client.post("/api/v1/sequences/start", seed_lead(demo.template_id))

    assert response.status_code == 503 and _code(response) == "outcome_unknown"
    assert int(response.headers["Retry-After"]) > 0


def test_review_queue_edit_approve_and_reject(api, checked):
    pending = []
    for key in ("review-1", "review-2"):
        started = checked.post(
            "/api/v1/sequences/start", seed_lead(api.template_id, auto_approve=False, idempotency_key=key)
        )
        assert started.status_code == 202 and started.json["review_required"] is True
        pending.append(started.json["status_url"])
    for url in pending:
        wait_for(lambda u=url: _status(api, u.rsplit("/", 1)[1]) == EnrollmentStatus.PENDING_APPROVAL)

    queue = checked.get("/api/v1/review-queue")
    assert {item["enrollment_id"] for item in queue.json["data"]} == {u.rsplit("/", 1)[1] for u in pending}
    assert checked.get(pending[0]).json["review"]["state"] == "pending"

    edit = {"subject": "Maria, sus precios", "body": "Hola, Maria: le escribo por los precios."}
    edited = checked.patch(f"{pending[0]}/steps/1", edit)
    assert edited.status_code == 200 and edited.json["status"] == "pending_approval"
    no_step = checked.patch(f"{pending[0]}/steps/9", edit)
    assert no_step.status_code == 422 and no_step.json["error"]["details"]["field"] == "index"
    unknown_field = checked.patch(f"{pending[0]}/steps/1", {"text": "hola"})
    assert unknown_field.status_code == 422

    assert checked.post(f"{pending[0]}/approve").json["status"] == "active"
    late = checked.post(f"{pending[0]}/reject")
    assert late.status_code == 409 and _code(late) == "conflict"
    long_reason = checked.post(f"{pending[1]}/reject", {"reason": "x" * 501})
    assert long_reason.status_code == 422
    assert checked.post(f"{pending[1]}/reject", {"reason": "existing customer"}).json["status"] == "rejected"

    wait_for(lambda: _status(api, pending[1].rsplit("/", 1)[1]) == EnrollmentStatus.REJECTED)
    assert checked.get(pending[1]).json["review"]["state"] == "rejected"
    wait_for(lambda: _first_step_sent(pending[0]))
    assert checked.get(pending[0]).json["review"]["state"] == "approved"
    assert checked.get("/api/v1/review-queue").json == {"data": []}


def test_templates_create_list_show_and_refuse(checked):
    template = {
        "name": "SMS nudge",
        "goal": "Book a call.",
        "allowed_channels": ["sms", "email"],
        "steps": [{"channel": "sms", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 3600}],
        "sender": {"name": "Acme", "email": "sales@example.com", "phone": "+14155550100"},
        "connect_number": "+14155550199",
    }
    created = checked.post("/api/v1/templates", template)
    assert created.status_code == 201 and created.headers["Location"] == f"/api/v1/templates/{created.json['id']}"
    assert checked.get(created.headers["Location"]).json == created.json
    assert created.json in checked.get("/api/v1/templates").json["data"]

    unknown = checked.post("/api/v1/templates", {**template, "colour": "red"})
    assert unknown.status_code == 422 and unknown.json["error"]["details"]["field"] == "colour"
    late_first = checked.post("/api/v1/templates", {**template, "steps": [{"channel": "sms", "delay_seconds": 5}]})
    assert late_first.json["error"]["details"]["field"] == "steps[0].delay_seconds"
    assert checked.get("/api/v1/templates/tpl_01M8H2T3EBKBRJN475K0AAC033").status_code == 404
    assert checked.get("/api/v1/templates/nonsense").status_code == 404


def test_workspace_settings_show_change_and_refuse(checked):
    shown = checked.get("/api/v1/workspace")
    changed = checked.patch(
        "/api/v1/workspace",
        {
            "admin_emails": ["ops@example.com"],
            "default_region": "FR",
            "calling_window": {"start": "09:00", "end": "19:00"},
            "default_sender": {"name": "Acme", "email": "hello@example.com"},
        },
    )

    assert shown.status_code == 200 and changed.status_code == 200
    assert changed.json["calling_window"] == {"start": "09:00", "end": "19:00", "days": "mon-sun"}
    assert checked.patch("/api/v1/workspace", {"default_timezone": "Nowhere/City"}).status_code == 422
    assert checked.patch("/api/v1/workspace", {}).status_code == 422


def test_contact_events_stop_the_contact_and_suppress(api, checked):
    started = checked.post("/api/v1/sequences/start", seed_lead(api.template_id, auto_approve=False)).json
    contact = f"/api/v1/contacts/{started['contact_id']}"

    reported = checked.post(f"{contact}/events", {"type": "opted_out", "note": "asked by phone"})

    assert reported.status_code == 202
    assert reported.json["stopping_enrollments"] == [started["enrollment_id"]]
    assert reported.json["suppressed_channels"] == ["email", "sms", "voice"]
    for kind in ("unsure", ["replied"], {}):
        assert checked.post(f"{contact}/events", {"type": kind}).status_code == 422
    assert checked.post("/api/v1/contacts/ct_01M8H2T3EBKBRJN475K0AAC034/events", {"type": "replied"}).status_code == 404
    wait_for(lambda: _status(api, started["enrollment_id"]) == EnrollmentStatus.STOPPED)
    assert checked.get(contact).json["suppressed_channels"] == ["email", "sms", "voice"]


def test_erasure_export_and_audit(api, checked, clock):
    started = checked.post("/api/v1/sequences/start", seed_lead(api.template_id)).json
    wait_for(lambda: _first_step_sent(started["status_url"]))
    contact = f"/api/v1/contacts/{started['contact_id']}"

    assert checked.get(f"{contact}/export").status_code == 200
    clock.advance(timedelta(seconds=1))
    assert checked.request("DELETE", contact).status_code == 200
    assert checked.request("DELETE", contact).status_code == 404
    assert checked.get(f"{contact}/export").status_code == 404
    refused = checked.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key="again"))
    assert refused.status_code == 422 and _code(refused) == "suppressed"
    page = checked.get("/api/v1/audit?limit=1")
    assert page.status_code == 200 and page.json["next_cursor"]
    assert checked.get(f"/api/v1/audit?cursor={page.json['next_cursor']}").json["next_cursor"] is None
    assert checked.get("/api/v1/audit?limit=0").status_code == 422


def test_operations_endpoints(checked):
    for path in ("/healthz", "/readyz", "/metrics"):
        assert checked.get(path, key=NO_KEY).status_code == 200


# --- errors -----------------------------------------------------------------------------------------------------


def test_start_refusals(api, checked, clock):
    start = "/api/v1/sequences/start"
    lead = seed_lead(api.template_id, idempotency_key=None)

    bad_email = checked.post(start, {**lead, "contact": {**lead["contact"], "emails": ["maria@"]}})
    assert bad_email.status_code == 422 and bad_email.json["error"]["details"] == {"field": "contact.emails[0]"}
    typo = checked.post(start, {**lead, "auto_aprove": True})
    assert typo.status_code == 422 and typo.json["error"]["details"] == {"field": "auto_aprove"}
    assert checked.post(start, {**lead, "template_id": "tpl_01M8H2T3EBKBRJN475K0AAC033"}).status_code == 404

    voice_only = checked.post(
        "/api/v1/templates",
        {
            "name": "Call only",
            "goal": "Call.",
            "allowed_channels": ["voice"],
            "steps": [{"channel": "voice"}],
            "sender": {"name": "Acme", "phone": "+14155550100"},
        },
    ).json["id"]
    no_phone = {**lead, "template_id": voice_only, "contact": {"emails": ["maria@example.com"]}}
    unreachable = checked.post(start, no_phone)
    assert unreachable.status_code == 422 and _code(unreachable) == "no_reachable_channel"

    _, live_key = accounts.create_key(api.workspace_id, clock.now(), live=True)
    not_configured = checked.post(start, lead, key=live_key)
    assert not_configured.status_code == 422 and _code(not_configured) == "channel_not_configured"

    malformed = checked.post(start, body="{", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and _code(malformed) == "bad_request"
    assert _code(checked.post(start)) == "bad_request"  # no body at all
    not_json = checked.post(start, body="template_id=x", headers={"Content-Type": "text/plain"})
    assert not_json.status_code == 415 and _code(not_json) == "unsupported_media_type"
    huge = checked.post(start, {**lead, "contact": {**lead["contact"], "notes": "x" * 70_000}})
    assert huge.status_code == 413 and _code(huge) == "payload_too_large"


def test_auth_refusals(api, checked, clock):
    assert _code(checked.get("/api/v1/templates", key=NO_KEY)) == "unauthorized"
    assert _code(checked.get("/api/v1/templates", key="ck_test_" + "0" * 32)) == "unauthorized"

    _, read_only = accounts.create_key(api.workspace_id, clock.now(), scopes=frozenset({"read"}))
    refused = checked.post("/api/v1/templates", {"name": "x"}, key=read_only)
    assert refused.status_code == 403 and refused.json["error"]["details"] == {"scope": "write"}

    starter = accounts.create_workspace("Starter", clock.now(), plan="starter")
    _, starter_key = accounts.create_key(starter.id, clock.now())
    no_feature = checked.get("/api/v1/review-queue", key=starter_key)
    assert no_feature.status_code == 403 and no_feature.json["error"]["details"] == {"feature": "sequences"}


def test_not_found_for_other_workspaces_and_malformed_ids(api, checked, clock):
    started = checked.post("/api/v1/sequences/start", seed_lead(api.template_id)).json
    other = bootstrap(clock.now(), name="Other")

    for path in (started["status_url"], f"/api/v1/contacts/{started['contact_id']}"):
        assert _code(checked.get(path, key=other.api_key)) == "not_found"
    for path in ("/api/v1/sequences/enrollments/enr_nope", "/api/v1/contacts/ct_nope"):
        assert checked.get(path).status_code == 404
    assert checked.post("/api/v1/sequences/enrollments/enr_nope/approve").status_code == 404
    for index in ("one", "²"):
        assert checked.patch(f"{started['status_url']}/steps/{index}", {"body": "x"}).status_code == 404


def test_rate_limited(make_node, clock):
    node = make_node(writes_per_minute=1, reads_per_minute=1)
    demo = bootstrap(clock.now())
    client = CheckedClient(falcon.testing.TestClient(node.app), demo.api_key)

    assert client.get("/api/v1/templates").status_code == 200
    limited = client.get("/api/v1/templates")

    assert limited.status_code == 429 and _code(limited) == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1


def test_webhooks_refuse_unsigned_callbacks(checked):
    form = {"headers": {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "forged"}}
    step = "step=stp_01M8H2T3EBKBRJN475K0AAC037"
    for path in (f"/webhooks/twilio/status?{step}", f"/webhooks/twilio/voice?{step}", "/webhooks/twilio/sms"):
        refused = checked.post(path, key=NO_KEY, body="MessageStatus=delivered&Body=STOP", **form)
        assert refused.status_code == 403 and _code(refused) == "forbidden"


def test_unsubscribe_pages(api, checked, node):
    contact_id = checked.post("/api/v1/sequences/start", seed_lead(api.template_id)).json["contact_id"]
    token = node.signer.sign("unsubscribe", contact_id, None)
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    assert checked.get("/u/not-a-token", key=NO_KEY).status_code == 403
    assert checked.get(f"/u/{token}", key=NO_KEY).status_code == 200
    assert checked.post(f"/u/{token}", key=NO_KEY, body="nothing=here", headers=form).status_code == 400
    done = checked.post(f"/u/{token}", key=NO_KEY, body="List-Unsubscribe=One-Click", headers=form)
    assert done.status_code == 200
    assert checked.get(f"/api/v1/contacts/{contact_id}").json["suppressed_channels"] == ["email"]


def test_webhook_endpoints_and_the_event_feed(make_node, clock):
    node = make_node(webhook_allow_private_urls=True)
    demo = bootstrap(clock.now())
    client = CheckedClient(falcon.testing.TestClient(node.app), demo.api_key)
    with WebhookReceiver() as receiver:
        assert client.post("/api/v1/webhook_endpoints", {"url": "ftp://x"}).status_code == 422
        created = client.post("/api/v1/webhook_endpoints", {"url": receiver.url(), "events": ["enrollment.created"]})
        assert created.status_code == 201
        path = created.headers["Location"]
        assert client.get("/api/v1/webhook_endpoints").json["data"][0]["id"] == created.json["id"]
        assert client.patch(path, {"description": "CRM"}).json["description"] == "CRM"
        assert client.post(path + "/rotate_secret").status_code == 200
        assert client.post(path + "/test").json["delivered"] is True
        client.post("/api/v1/sequences/start", seed_lead(demo.template_id))
        wait_for(lambda: client.get(path + "/deliveries").json["data"])
        feed = client.get("/api/v1/events?limit=1&types=enrollment.created")
        assert feed.status_code == 200 and feed.json["data"][0]["type"] == "enrollment.created"
        assert client.get("/api/v1/events?limit=0").status_code == 422
        assert client.request("DELETE", path).status_code == 204
        assert client.get(path).status_code == 404
