"""Outbound webhooks end to end in one process: the real app, actors, outbox, dispatcher and a real receiver.

Every delivery is verified with the `standardwebhooks` verifier, as an integrator would. Retries run
on a dispatcher driven by hand against the injected clock (no sleeping through real backoff).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import falcon.testing
import pytest
from standardwebhooks.webhooks import Webhook

from ringback.actors.webhook_alert import EndpointDisabledMail
from ringback.actors.webhook_dispatcher import WebhookDispatcher
from ringback.demo import bootstrap
from ringback.engine.webhook_events import RETRY_DELAYS
from ringback.node import Node, Providers
from ringback.providers.channels.smtp import SmtpChannel
from ringback.providers.llm.offline import OfflineWriter
from ringback.providers.webhooks.sender import WebhookSender
from tests.conftest import Api, seed_lead, wait_for
from tests.fakes.smtp_server import HOST as SMTP_HOST
from tests.fakes.webhook_receiver import Hang, Received, Redirect, WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def hooks_node(make_node, smtp) -> Node:
    """A node that may call loopback receivers (RINGBACK_WEBHOOK_ALLOW_PRIVATE_URLS), mailing admins via SMTP."""
    mailer = SmtpChannel(SMTP_HOST, smtp.port, timeout_seconds=5)
    return make_node(Providers(writer=OfflineWriter(), mailer=mailer), webhook_allow_private_urls=True)


@pytest.fixture
def hooks(hooks_node, clock) -> Api:
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    return Api(falcon.testing.TestClient(hooks_node.app), demo.api_key, demo.workspace_id, demo.template_id)


def subscribe(api: Api, url: str, events: list[str] | None = None) -> dict:
    body = {"url": url, **({"events": events} if events else {})}
    response = api.post("/api/v1/webhook_endpoints", body)
    assert response.status_code == 201, response.json
    return response.json


def verified(secret: str, received: Received) -> dict:
    """The body, after the standardwebhooks verifier accepted its signature (it raises otherwise)."""
    return Webhook(secret).verify(received.body, received.headers)


def by_hand(node: Node, clock, timeout: float = 5.0) -> WebhookDispatcher:
    """Stop the node's dispatcher threads; return one the test drives with `run_once` (jitter off)."""
    node.webhooks.stop(time.monotonic() + 10)
    return WebhookDispatcher(
        clock,
        WebhookSender(allow_private=True, timeout=timeout),
        threads=1,
        retention_days=30,
        on_disabled=EndpointDisabledMail(node._providers.mailer, node.settings.smtp_from),
        jitter=lambda: 0.5,
    )


def test_every_event_of_a_lead_arrives_signed_with_its_own_id(hooks, receiver):
    endpoint = subscribe(hooks, receiver.url())
    started = hooks.post("/api/v1/sequences/start", seed_lead(hooks.template_id)).json

    received = receiver.wait_for(2)
    bodies = {b["type"]: b for b in (verified(endpoint["secret"], r) for r in received)}  # any order

    created, sent = bodies["enrollment.created"], bodies["step.sent"]
    assert created["data"]["id"] == sent["data"]["enrollment_id"] == started["enrollment_id"]
    assert created["data"]["contact_id"] == started["contact_id"]
    assert [r.headers["webhook-id"] for r in received] == [json.loads(r.body)["id"] for r in received]
    assert all(b["id"].startswith("evt_") for b in bodies.values())
    assert {b["workspace_id"] for b in bodies.values()} == {hooks.workspace_id}
    assert set(created) == {"id", "type", "created_at", "workspace_id", "data"}
    feed = hooks.get("/api/v1/events").json["data"]
    assert [e["id"] for e in feed[:2]] == [created["id"], sent["id"]]  # the feed is in commit order
    deliveries = wait_for(
        lambda: (d := hooks.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json["data"])
        and all(x["status"] == "delivered" for x in d)
        and d
    )
    assert {(d["status"], d["response_code"], d["attempts"]) for d in deliveries} == {("delivered", 200, 1)}


def test_an_endpoint_hears_only_the_types_it_subscribed_to(hooks, receiver):
    endpoint = subscribe(hooks, receiver.url(), ["contact.replied"])
    started = hooks.post("/api/v1/sequences/start", seed_lead(hooks.template_id)).json
    hooks.post(f"/api/v1/contacts/{started['contact_id']}/events", {"type": "replied"})

    (received,) = receiver.wait_for(1)

    body = verified(endpoint["secret"], received)
    assert body["type"] == "contact.replied"
    assert body["data"] == {
        "object": "contact",
        "id": started["contact_id"],
        "reason": "contact replied",
        "source": None,
    }


def test_retries_after_500s_and_a_timeout_reuse_the_webhook_id(hooks, hooks_node, receiver, clock):
    dispatcher = by_hand(hooks_node, clock, timeout=0.5)
    endpoint = subscribe(hooks, receiver.url(), ["enrollment.created"])
    receiver.answer(500, Hang(1.5), 503)
    hooks.post("/api/v1/sequences/start", seed_lead(hooks.template_id))

    for delay in (None, *RETRY_DELAYS[:3]):
        if delay is not None:
            clock.advance(delay)
        assert dispatcher.run_once() == 1
        assert dispatcher.run_once() == 0  # nothing is due before the next retry

    received = receiver.wait_for(4)
    assert len({r.headers["webhook-id"] for r in received}) == 1
    assert len({verified(endpoint["secret"], r)["id"] for r in received}) == 1
    (delivery,) = hooks.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json["data"]
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == ("delivered", 4, 200)
    assert delivery["next_retry_at"] is None


def test_a_failed_attempt_is_recorded_with_its_next_retry(hooks, hooks_node, receiver, clock):
    dispatcher = by_hand(hooks_node, clock, timeout=0.5)
    endpoint = subscribe(hooks, receiver.url(), ["enrollment.created"])
    receiver.answer(Hang(1.5))
    hooks.post("/api/v1/sequences/start", seed_lead(hooks.template_id))

    dispatcher.run_once()

    (delivery,) = hooks.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json["data"]
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == ("pending", 1, None)
    assert "no answer within" in delivery["error"]
    assert delivery["next_retry_at"] == "2026-05-06T10:00:05Z"
    assert isinstance(delivery["duration_ms"], int)


def test_an_endpoint_failing_for_three_days_is_disabled_and_the_admins_are_told(
    hooks, hooks_node, receiver, clock, smtp
):
    dispatcher = by_hand(hooks_node, clock)
    endpoint = subscribe(hooks, receiver.url(), ["enrollment.created"])
    receiver.answer(*[500] * (len(RETRY_DELAYS) + 1))
    hooks.post("/api/v1/sequences/start", seed_lead(hooks.template_id))

    dispatcher.run_once()
    for delay in RETRY_DELAYS:
        clock.advance(delay)
        assert dispatcher.run_once() == 1

    assert len(receiver.wait_for(len(RETRY_DELAYS) + 1)) == len(RETRY_DELAYS) + 1
    view = hooks.get(f"/api/v1/webhook_endpoints/{endpoint['id']}").json
    assert view["enabled"] is False and "three days" in view["disabled_reason"]
    (delivery,) = hooks.get(f"/api/v1/webhook_endpoints/{endpoint['id']}/deliveries").json["data"]
    assert (delivery["status"], delivery["next_retry_at"]) == ("failed", None)
    (mail,) = smtp.wait_for(1)
    assert mail.recipients == ("admin@example.com",)
    assert endpoint["id"] in mail.message.get_body(("plain",)).get_content()
    assert endpoint["secret"] not in mail.raw.decode(errors="replace")

    hooks.post("/api/v1/sequences/start", seed_lead(hooks.template_id, idempotency_key="lead-2"))
    assert dispatcher.run_once() == 0  # a disabled endpoint gets nothing (the feed has what it missed)...
    assert hooks.patch(f"/api/v1/webhook_endpoints/{endpoint['id']}", {"enabled": True}).json["enabled"] is True
    hooks.post("/api/v1/sequences/start", seed_lead(hooks.template_id, idempotency_key="lead-3"))
    assert dispatcher.run_once() == 1  # ...until it is enabled again


def test_a_redirect_is_not_followed(hooks, hooks_node, receiver, clock):
    dispatcher = by_hand(hooks_node, clock)
    with WebhookReceiver() as elsewhere:
        subscribe(hooks, receiver.url(), ["enrollment.created"])
        receiver.answer(Redirect(elsewhere.url("/stolen")))
        hooks.post("/api/v1/sequences/start", seed_lead(hooks.template_id))

        dispatcher.run_once()

        assert len(receiver.received) == 1 and elsewhere.received == []
    endpoint_id = hooks.get("/api/v1/webhook_endpoints").json["data"][0]["id"]
    (delivery,) = hooks.get(f"/api/v1/webhook_endpoints/{endpoint_id}/deliveries").json["data"]
    assert (delivery["status"], delivery["response_code"]) == ("pending", 302)
    assert "not followed" in delivery["error"]


def test_the_test_button_sends_a_signed_ping(hooks, receiver):
    endpoint = subscribe(hooks, receiver.url())

    answer = hooks.post(f"/api/v1/webhook_endpoints/{endpoint['id']}/test")

    assert answer.status_code == 200
    assert (answer.json["delivered"], answer.json["response_code"]) == (True, 200)
    (received,) = receiver.wait_for(1)
    body = verified(endpoint["secret"], received)
    assert body["type"] == "ping" and body["data"]["id"] == endpoint["id"]
    assert body["id"] == answer.json["event_id"] == received.headers["webhook-id"]


def test_a_rotated_secret_signs_what_is_sent_next(hooks, receiver):
    endpoint = subscribe(hooks, receiver.url())
    rotated = hooks.post(f"/api/v1/webhook_endpoints/{endpoint['id']}/rotate_secret").json

    hooks.post(f"/api/v1/webhook_endpoints/{endpoint['id']}/test")

    (received,) = receiver.wait_for(1)
    assert rotated["secret"] != endpoint["secret"] and rotated["secret"].startswith("whsec_")
    assert verified(rotated["secret"], received)["type"] == "ping"
    with pytest.raises(Exception, match="signature"):
        verified(endpoint["secret"], received)


def test_opt_outs_from_every_source_are_contact_opted_out_events(hooks, receiver):
    subscribe(hooks, receiver.url(), ["contact.opted_out"])
    started = hooks.post("/api/v1/sequences/start", seed_lead(hooks.template_id)).json

    hooks.post(f"/api/v1/contacts/{started['contact_id']}/events", {"type": "opted_out"})

    (received,) = receiver.wait_for(1)
    assert json.loads(received.body)["data"]["source"] == "api"
