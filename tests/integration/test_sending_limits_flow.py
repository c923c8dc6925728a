"""Sending limits through the real node (supervisor, enrollment actors, clock, sandbox channel) with a manual
clock: over a simulated day the caps hold, the excess waits and goes out in the next window, the domain
throttle spaces emails, and a template's weekdays move a Saturday step to Monday in the recipient's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ringback.storage.models import SandboxDelivery
from tests.conftest import WEDNESDAY_MORNING, wait_for

EMAIL_TEMPLATE = {
    "name": "One email",
    "goal": "Answer the lead's question by email.",
    "allowed_channels": ["email"],
    "steps": [{"channel": "email", "delay_seconds": 0}],
    "sender": {"name": "Dana", "email": "hello@example.com"},
}


@pytest.fixture
def node(make_node):
    """The test polls enrollment views many times per simulated hour: lift the read rate limit."""
    return make_node(reads_per_minute=1_000_000, writes_per_minute=1_000)


def start_leads(api, template_id: str, count: int, domain: str = "example.com", **contact) -> list[str]:
    ids = []
    for i in range(count):
        body = {
            "template_id": template_id,
            "auto_approve": True,
            "contact": {"first_name": f"Lead{i}", "emails": [f"lead{i}@{domain}"], **contact},
        }
        answer = api.post("/api/v1/sequences/start", body)
        assert answer.status_code == 202, answer.json
        ids.append(answer.json["enrollment_id"])
    return ids


def first_steps(api, enrollment_ids: list[str]) -> list[dict]:
    return [api.get(f"/api/v1/sequences/enrollments/{e}").json["steps"][0] for e in enrollment_ids]


def settle(api, clock, enrollment_ids: list[str], sent: int) -> list[dict]:
    """Wait until `sent` first steps went out and every other one waits for a limit in the future (one whose
    time has come is about to be woken); return the steps."""
    now = clock.now()

    def settled():
        steps = first_steps(api, enrollment_ids)
        done = [s for s in steps if s["state"] == "sent"]
        waiting = [
            s for s in steps
            if s["state"] == "scheduled" and s["waiting_for"] and datetime.fromisoformat(s["waiting_until"]) > now
        ]
        return len(done) == sent and len(done) + len(waiting) == len(steps) and steps

    return wait_for(settled)


def email_template(api, **changes) -> str:
    answer = api.post("/api/v1/templates", {**EMAIL_TEMPLATE, **changes})
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def test_hourly_and_daily_caps_hold_over_a_simulated_day(api, clock):
    limits = {"email": {"daily": 5, "hourly": 2}}
    assert api.patch("/api/v1/workspace", {"sending_limits": limits}).status_code == 200
    enrollments = start_leads(api, email_template(api), 7)

    steps = settle(api, clock, enrollments, sent=2)  # 10:00: the hourly cap
    waiting = [s for s in steps if s["state"] == "scheduled"]
    assert {(s["waiting_for"], s["waiting_until"]) for s in waiting} == {("hourly_cap", "2026-05-06T11:00:00Z")}
    assert all(s["note"].startswith("waiting for the hourly cap until") for s in waiting)

    clock.advance(timedelta(hours=1))  # 11:00: two more
    settle(api, clock, enrollments, sent=4)
    clock.advance(timedelta(hours=1))  # 12:00: one more, then the daily cap
    steps = settle(api, clock, enrollments, sent=5)
    assert {(s["waiting_for"], s["waiting_until"]) for s in steps if s["state"] == "scheduled"} == {
        ("daily_cap", "2026-05-07T00:00:00Z")
    }
    for _ in range(11):  # the rest of the day: nothing more goes out
        clock.advance(timedelta(hours=1))
        settle(api, clock, enrollments, sent=5)

    clock.advance(timedelta(hours=1))  # Thursday 00:00: the next window
    steps = settle(api, clock, enrollments, sent=7)
    assert SandboxDelivery.select().count() == 7  # each exactly once
    sent_days = sorted(s["sent_at"][:10] for s in steps)
    assert sent_days == ["2026-05-06"] * 5 + ["2026-05-07"] * 2
    assert all(s["attempts"] == 1 and s["waiting_for"] is None for s in steps)


def test_the_domain_throttle_spaces_emails_to_one_domain(api, clock):
    api.patch("/api/v1/workspace", {"sending_limits": {"email_domain_per_minute": 2}})
    template_id = email_template(api)
    to_one_domain = start_leads(api, template_id, 5, domain="bigcorp.example")
    elsewhere = start_leads(api, template_id, 1, domain="other.example")

    steps = settle(api, clock, to_one_domain, sent=2)
    assert {s["waiting_until"] for s in steps if s["waiting_for"]} == {"2026-05-06T10:01:00Z"}
    assert {s["waiting_for"] for s in steps if s["waiting_for"]} == {"domain_throttle"}
    settle(api, clock, elsewhere, sent=1)  # another domain is not held back

    clock.advance(timedelta(minutes=1))
    settle(api, clock, to_one_domain, sent=4)
    clock.advance(timedelta(minutes=1))
    steps = settle(api, clock, to_one_domain, sent=5)
    assert sorted(s["sent_at"][11:16] for s in steps) == ["10:00", "10:00", "10:01", "10:01", "10:02"]


def test_a_weekday_rule_moves_a_saturday_step_to_monday_in_the_recipients_zone(api, clock):
    template_id = email_template(api, allowed_weekdays="mon-fri")
    clock.advance(datetime(2026, 5, 9, 10, 0, tzinfo=UTC) - WEDNESDAY_MORNING)  # Saturday 10:00 UTC

    [enrollment] = start_leads(api, template_id, 1, notes="Located in Madrid.")

    [step] = settle(api, clock, [enrollment], sent=0)
    assert (step["waiting_for"], step["waiting_until"]) == ("weekday", "2026-05-10T22:00:00Z")  # Monday 00:00 Madrid
    assert api.get(f"/api/v1/sequences/enrollments/{enrollment}").json["timezone"] == "Europe/Madrid"

    clock.advance(timedelta(hours=35))  # Sunday 21:00 UTC: still Sunday in Madrid
    settle(api, clock, [enrollment], sent=0)
    clock.advance(timedelta(hours=1))
    [step] = settle(api, clock, [enrollment], sent=1)
    assert step["sent_at"] == "2026-05-10T22:00:00Z"
