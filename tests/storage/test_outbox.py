"""The outbox on both databases: events with their state change, the feed in commit order, claims."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from ringback.engine.webhook_events import OutboundEvent
from ringback.storage import outbox, webhook_endpoints
from ringback.storage.db import write_transaction
from ringback.storage.models import OutboxEvent, WebhookDelivery, database_proxy
from tests.storage.conftest import NOW

WRITERS = 6
EVENTS_PER_WRITER = 15


def write(workspace_id: str, *types: str, now=NOW) -> None:
    with write_transaction(database_proxy.obj):
        outbox.record(workspace_id, [OutboundEvent(t, {"n": i}) for i, t in enumerate(types)], now)


def test_events_and_their_deliveries_are_written_together(workspace, other_workspace):
    all_types, _ = webhook_endpoints.create(workspace.id, "https://a.example/in", None, "", NOW)
    only_sent, _ = webhook_endpoints.create(workspace.id, "https://b.example/in", ["step.sent"], "", NOW)
    webhook_endpoints.create(other_workspace.id, "https://c.example/in", None, "", NOW)

    write(workspace.id, "enrollment.created", "step.sent")

    rows = WebhookDelivery.select(WebhookDelivery, OutboxEvent).join(OutboxEvent)
    pending = {(d.endpoint_id, d.event.type) for d in rows}
    assert pending == {(all_types, "enrollment.created"), (all_types, "step.sent"), (only_sent, "step.sent")}


def test_a_rolled_back_change_leaves_no_event(workspace):
    webhook_endpoints.create(workspace.id, "https://a.example/in", None, "", NOW)
    with pytest.raises(RuntimeError), write_transaction(database_proxy.obj):
        outbox.record(workspace.id, [OutboundEvent("contact.replied")], NOW)
        raise RuntimeError("the state change failed")

    assert OutboxEvent.select().count() == WebhookDelivery.select().count() == 0


def test_the_feed_pages_in_order_and_is_scoped_to_the_workspace(workspace, other_workspace):
    write(workspace.id, "enrollment.created", "step.sent", "step.delivered")
    write(other_workspace.id, "enrollment.created")

    first, cursor = outbox.feed(workspace.id, 0, 2)
    second, last = outbox.feed(workspace.id, cursor, 2)
    empty, same = outbox.feed(workspace.id, last, 2)

    assert [e["type"] for e in first + second] == ["enrollment.created", "step.sent", "step.delivered"]
    assert {e["workspace_id"] for e in first + second} == {workspace.id}
    assert (empty, same) == ([], last)
    assert [e["type"] for e in outbox.feed(workspace.id, 0, 10, ("step.delivered",))[0]] == ["step.delivered"]


def test_the_feed_sees_every_event_once_while_writers_commit_concurrently(workspace, run_concurrently):
    """Readers page through the feed while writers commit: a cursor never skips an event that commits later."""
    seen: list[str] = []
    done = []

    def writer() -> None:
        for _ in range(EVENTS_PER_WRITER):
            write(workspace.id, "step.sent", "step.delivered")
        done.append(1)

    def reader() -> None:
        cursor = 0
        while True:
            finished = len(done) == WRITERS
            page, cursor = outbox.feed(workspace.id, cursor, 7)
            seen.extend(e["id"] for e in page)
            if finished and not page:
                return
            if not page:
                time.sleep(0.001)  # an integrator polls; a spinning reader would starve the writers of the GIL

    run_concurrently(reader, *([writer] * WRITERS))

    assert len(seen) == len(set(seen)) == WRITERS * EVENTS_PER_WRITER * 2
    assert set(seen) == {row.id for row in OutboxEvent.select(OutboxEvent.id)}


def test_purge_forgets_old_events_but_keeps_the_newest(workspace):
    write(workspace.id, "step.sent", "step.sent", now=NOW - timedelta(days=40))
    write(workspace.id, "step.sent", now=NOW)

    assert outbox.purge(NOW - timedelta(days=30)) == 2
    assert outbox.purge(NOW + timedelta(days=30)) == 0  # the newest stays: seq never restarts below a cursor
    assert OutboxEvent.select().count() == 1


def test_a_due_delivery_is_claimed_once_and_settled(workspace, run_concurrently):
    endpoint_id, _ = webhook_endpoints.create(workspace.id, "https://a.example/in", None, "", NOW)
    write(workspace.id, "step.sent")
    candidates = outbox.due_ids(NOW, 10)

    claims = run_concurrently(*(lambda: outbox.claim(candidates, NOW + timedelta(seconds=90)) for _ in range(4)))

    (due,) = [d for claimed in claims for d in claimed]
    assert (due.endpoint_id, due.workspace_id, due.attempts) == (endpoint_id, workspace.id, 0)
    assert outbox.due_ids(NOW, 10) == []  # leased
    failed = outbox.Attempt(NOW, False, 500, 12, "the endpoint answered 500", NOW + timedelta(seconds=5))
    assert outbox.settle(due, failed, "gave up") is False

    (view,) = outbox.deliveries_view(workspace.id, endpoint_id)
    assert (view["status"], view["attempts"], view["response_code"], view["duration_ms"]) == ("pending", 1, 500, 12)
    assert view["next_retry_at"] == "2026-05-06T10:00:05Z"
    assert webhook_endpoints.view(workspace.id, endpoint_id)["failing_since"] == "2026-05-06T10:00:00Z"
    assert outbox.deliveries_view(workspace.id, "we_other") == []


def test_deleting_an_endpoint_deletes_its_deliveries_not_the_events(workspace, other_workspace):
    endpoint_id, _ = webhook_endpoints.create(workspace.id, "https://a.example/in", None, "", NOW)
    write(workspace.id, "step.sent")

    assert not webhook_endpoints.delete(other_workspace.id, endpoint_id)
    assert webhook_endpoints.delete(workspace.id, endpoint_id)

    assert WebhookDelivery.select().count() == 0
    assert OutboxEvent.select().count() == 1
