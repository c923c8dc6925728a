"""Each named crash window, armed on purpose: the real server kills itself there, restarts, and keeps the guarantee.

`RINGBACK_FAULTS=<point>:1` makes the process SIGKILL itself the first time it passes the point
(ringback/faults.py). The test then restarts it on the same data, unarmed, and checks what DESIGN §5
promises for that window and channel: the sandbox holds the message exactly once; a live email is
re-sent with the same Message-ID (at least once, de-duplicable); an SMS is never re-sent blindly, its
step goes to `unknown`; content interrupted mid-writing is written again and sent once.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
from collections import Counter

import pytest

from tests.conftest import wait_for
from tests.fakes.fake_twilio import ACCOUNT_SID, AUTH_TOKEN
from tests.fakes.smtp_server import HOST

pytestmark = pytest.mark.e2e

SENDER = {"name": "Acme", "email": "sales@acme.example", "phone": "+14155550100"}
LEAD = {"first_name": "Maria", "emails": ["maria@example.com"], "phone_numbers": ["+34911234567"]}


def template(channel: str) -> dict:
    return {
        "name": f"One {channel}",
        "goal": "Follow up with the inbound lead and book a call.",
        "allowed_channels": [channel],
        "steps": [{"channel": channel, "delay_seconds": 0}],
        "sender": SENDER,
    }


def open_all_day(db_path) -> None:
    """SMS and calls respect the recipient's calling window; these tests must not depend on the time of day."""
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE workspace SET window_start = '00:00', window_end = '24:00'")


@pytest.fixture
def crash_once(start_server, ringback, twilio, smtp):
    """Start the server armed at `point`, start one lead on a one-step `channel` template, let it kill itself,
    restart unarmed; return (server, enrollment view). `live` picks a ck_live_ key (real SMTP / Twilio)."""

    def run(point: str, channel: str, live: bool) -> tuple[object, dict]:
        env = {
            "RINGBACK_SMTP_HOST": HOST,
            "RINGBACK_SMTP_PORT": str(smtp.port),
            "RINGBACK_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "RINGBACK_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "RINGBACK_TWILIO_API_BASE": twilio.base_url,
            "RINGBACK_SECRET_KEY": "fault-points-secret-0123456789",
            "RINGBACK_LOG_LEVEL": "WARNING",
        }
        demo = ringback(["init"], env)
        key = (
            ringback(["keys", "create", "--workspace", demo["workspace_id"], "--live"], env)["api_key"]
            if live
            else (demo["api_key"])
        )
        server = start_server({**env, "RINGBACK_FAULTS": f"{point}:1"})
        db_path = server.data_dir / "ringback.db"
        open_all_day(db_path)
        status, created = server.request("POST", "/api/v1/templates", template(channel), key)
        assert status == 201, created
        body = {"template_id": created["id"], "contact": LEAD, "auto_approve": True, "idempotency_key": "lead-1"}
        status, started = server.request("POST", "/api/v1/sequences/start", body, key)
        assert status == 202, started
        server.wait_for_self_kill()

        server = start_server(env, data_dir=server.data_dir)
        path = f"/api/v1/sequences/enrollments/{started['enrollment_id']}"

        def settled() -> dict | None:
            status, view = server.request("GET", path, None, key)
            assert status == 200, view
            return view if view["status"] in ("completed", "failed", "stopped") else None

        view = wait_for(settled, timeout=30, interval=0.05)
        replay_status, replay = server.request("POST", "/api/v1/sequences/start", body, key)
        assert (replay_status, replay) == (200, started)  # the answer given before the crash still holds
        return server, view

    return run


def timeline_kinds(view: dict) -> list[str]:
    return [entry["kind"] for entry in view["timeline"]]


def sandbox_deliveries(server) -> Counter:
    with sqlite3.connect(server.data_dir / "ringback.db") as db:
        return Counter(step_id for (step_id,) in db.execute("SELECT step_id FROM sandbox_delivery"))


@pytest.mark.parametrize("point", ["after_state_commit_before_send", "after_send_before_record"])
def test_sandbox_send_interrupted_either_side_of_the_provider_lands_exactly_once(crash_once, point):
    server, view = crash_once(point, "email", live=False)

    assert view["status"] == "completed"
    assert [s["state"] for s in view["steps"]] == ["sent"]
    assert "step.resend_after_restart" in timeline_kinds(view)
    assert list(sandbox_deliveries(server).values()) == [1]


def test_email_sent_before_the_crash_is_sent_again_with_the_same_message_id(crash_once, smtp):
    _, view = crash_once("after_send_before_record", "email", live=True)

    received = smtp.wait_for(2)
    assert view["status"] == "completed" and view["steps"][0]["state"] == "sent"
    ids = {message.message["Message-ID"] for message in received}
    assert len(received) == 2 and len(ids) == 1  # at least once, and de-duplicable by the receiver


def test_email_not_yet_sent_at_the_crash_is_sent_once(crash_once, smtp):
    _, view = crash_once("after_state_commit_before_send", "email", live=True)

    assert view["status"] == "completed" and view["steps"][0]["state"] == "sent"
    assert len(smtp.wait_for(1)) == 1
    assert len(smtp.received) == 1  # the enrollment is completed: nothing else is in flight


@pytest.mark.parametrize(
    ("point", "reached_twilio"), [("after_state_commit_before_send", 0), ("after_send_before_record", 1)]
)
def test_sms_in_flight_at_the_crash_is_never_sent_again_but_marked_unknown(crash_once, twilio, point, reached_twilio):
    _, view = crash_once(point, "sms", live=True)

    assert view["steps"][0]["state"] == "unknown"
    assert "step.unknown" in timeline_kinds(view)
    messages = [r for r in twilio.requests if r.method == "POST" and r.path.endswith("/Messages.json")]
    assert len(messages) == reached_twilio


def test_content_interrupted_mid_writing_is_written_again_and_sent_once(crash_once):
    server, view = crash_once("during_generation", "email", live=False)

    assert view["status"] == "completed" and view["steps"][0]["state"] == "sent"
    with sqlite3.connect(server.data_dir / "ringback.db") as db:
        (attempts,) = db.execute("SELECT generation_attempts FROM enrollment").fetchone()
    assert attempts == 2
    assert list(sandbox_deliveries(server).values()) == [1]


def _request_or_none(server, method: str, path: str, body: object, key: str) -> tuple[int, object] | None:
    """None when the process died under the request (the client never got an answer)."""
    try:
        return server.request(method, path, body, key)
    except (OSError, http.client.HTTPException):
        return None


@pytest.mark.parametrize("commit", [1, 2, 3, 5])
def test_killed_inside_a_group_commit_every_start_lands_once_and_is_sent_once(
    start_server, ringback, tmp_path, commit
):
    """Whichever batch dies (the key's bookkeeping, the start, a transition, the sandbox send), a client that
    retries with its idempotency key ends with one enrollment whose step is in the outbox exactly once."""
    env = {"RINGBACK_SECRET_KEY": "fault-points-secret-0123456789", "RINGBACK_LOG_LEVEL": "WARNING"}
    demo = ringback(["init"], env)
    template_file = tmp_path / "one-email.json"
    template_file.write_text(json.dumps(template("email")))
    created = ringback(["templates", "create", "--workspace", demo["workspace_id"], "--file", str(template_file)], env)
    server = start_server({**env, "RINGBACK_FAULTS": f"during_group_commit:{commit}"})
    body = {"template_id": created["template_id"], "contact": LEAD, "auto_approve": True, "idempotency_key": "k1"}

    before = _request_or_none(server, "POST", "/api/v1/sequences/start", body, demo["api_key"])
    server.wait_for_self_kill()
    server = start_server(env, data_dir=server.data_dir)
    status, answer = server.request("POST", "/api/v1/sequences/start", body, demo["api_key"])

    assert status in (200, 202), answer
    if before is not None:  # answered before the crash: that answer holds
        assert before[0] == 202 and answer == before[1]
    wait_for(lambda: _status(server, answer["enrollment_id"]) == "completed", timeout=30, interval=0.05)
    with sqlite3.connect(server.data_dir / "ringback.db") as db:
        enrollments = db.execute("SELECT count(*) FROM enrollment").fetchone()[0]
        sent = {i for (i,) in db.execute("SELECT id FROM step WHERE status = 'sent'")}
    deliveries = sandbox_deliveries(server)
    assert enrollments == 1
    assert sent and set(deliveries) == sent and set(deliveries.values()) == {1}


def _status(server, enrollment_id: str) -> str:
    """Read from the file: polling over HTTP would spend the key's read rate limit."""
    with sqlite3.connect(server.data_dir / "ringback.db") as db:
        return db.execute("SELECT status FROM enrollment WHERE id = ?", (enrollment_id,)).fetchone()[0]
