"""kill -9 between the state commit and the webhook delivery: the real server delivers after the restart.

The event and its delivery row are committed with the state change (the outbox), so the process dying
before the POST loses nothing: the next start's dispatcher finds the row and sends it, signed, with the
event's own id as `webhook-id`.
"""

from __future__ import annotations

import http.client

import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import seed_lead
from tests.fakes.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e

ENV = {
    "RINGBACK_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    "RINGBACK_SECRET_KEY": "webhook-crash-secret-0123456789",
    "RINGBACK_LOG_LEVEL": "WARNING",
}


def test_a_webhook_committed_before_a_kill_is_delivered_after_the_restart(start_server, ringback):
    demo = ringback(["init"], ENV)
    key = demo["api_key"]
    server = start_server({**ENV, "RINGBACK_FAULTS": "after_outbox_commit_before_delivery:1"})
    with WebhookReceiver() as receiver:
        subscription = {"url": receiver.url(), "events": ["enrollment.created"]}
        status, endpoint = server.request("POST", "/api/v1/webhook_endpoints", subscription, key)
        assert status == 201, endpoint
        lead = seed_lead(demo["template_id"])
        try:
            status, started = server.request("POST", "/api/v1/sequences/start", lead, key)
            assert status == 202, started
        except (OSError, http.client.HTTPException):
            # The dispatcher can reach the fault point (right after the commit) before the 202 is written.
            started = None

        server.wait_for_self_kill()
        assert receiver.received == []  # died with the delivery committed and not sent

        server = start_server(ENV, data_dir=server.data_dir)
        if started is None:  # as a client would: the same idempotency key tells what was committed
            status, started = server.request("POST", "/api/v1/sequences/start", lead, key)
            assert status == 200, started
        (received,) = receiver.wait_for(1, timeout=30)
        body = Webhook(endpoint["secret"]).verify(received.body, received.headers)
        assert body["type"] == "enrollment.created" and body["data"]["id"] == started["enrollment_id"]
        status, feed = server.request("GET", "/api/v1/events?types=enrollment.created", None, key)
        assert status == 200 and [e["id"] for e in feed["data"]] == [received.headers["webhook-id"]]
