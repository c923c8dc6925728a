"""Erasure (DELETE /api/v1/contacts/{id}), export and the audit log, through the real app, actors and sandbox."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ringback.demo import bootstrap
from ringback.engine.model import StepStatus
from ringback.storage import enrollments, sandbox
from ringback.storage.db import sqlite_path
from ringback.storage.models import (
    Contact,
    ContactEmail,
    ContactNote,
    ContactPhone,
    Enrollment,
    ErasedAddress,
    Event,
    IdempotencyRecord,
    SandboxDelivery,
    Sequence,
    Step,
    Suppression,
)
from tests.conftest import Api, seed_lead, wait_for

NAME = "Zebulonia"
EMAIL = "Zebulonia.Quark@example.org"
PHONE = "+34917771234"
NOTE = "Keeps seven xylophones in Toledo and asked about pricing."
PERSONAL = (NAME, EMAIL.lower(), PHONE, "xylophones")
UNKNOWN_CONTACT = "/api/v1/contacts/ct_01M8H2T3EBKBRJN475K0AAC034"


def zebulonia(template_id: str, **overrides: object) -> dict:
    contact = {"first_name": NAME, "emails": [EMAIL], "phone_numbers": [PHONE], "notes": NOTE}
    return seed_lead(template_id, contact=contact, idempotency_key="zeb-1", **overrides)


def start(api: Api, body: dict) -> dict:
    result = api.post("/api/v1/sequences/start", body)
    assert result.status_code == 202, result.json
    return result.json


def first_step_sent(enrollment_id: str) -> bool:
    return enrollments.load_state(enrollment_id).steps[0].status == StepStatus.SENT


def delete(api: Api, contact_id: str, key: str | None = None):
    return api.client.simulate_delete(f"/api/v1/contacts/{contact_id}", headers=api.headers(key))


def rows_of(contact_id: str, enrollment_ids: list[str], step_ids: list[str]) -> dict[str, int]:
    """What the database still holds of one contact, table by table."""
    return {
        "contact": Contact.select().where(Contact.id == contact_id).count(),
        "emails": ContactEmail.select().where(ContactEmail.contact == contact_id).count(),
        "phones": ContactPhone.select().where(ContactPhone.contact == contact_id).count(),
        "notes": ContactNote.select().where(ContactNote.contact == contact_id).count(),
        "opt_outs": Suppression.select().where(Suppression.contact == contact_id).count(),
        "sequences": Sequence.select().where(Sequence.contact == contact_id).count(),
        "enrollments": Enrollment.select().where(Enrollment.id.in_(enrollment_ids)).count(),
        "steps": Step.select().where(Step.id.in_(step_ids)).count(),
        "events": Event.select().where(Event.enrollment.in_(enrollment_ids)).count(),
        "sandbox": SandboxDelivery.select().where(SandboxDelivery.step_id.in_(step_ids)).count(),
        "idempotency": IdempotencyRecord.select()
        .where(IdempotencyRecord.response_body.text_contains(contact_id))
        .count(),
    }


@pytest.fixture
def erased(db_api) -> tuple[Api, dict, list[str]]:
    """Zebulonia started (first step sent in the sandbox), reported bounced, then erased: (api, start, step ids)."""
    started = start(db_api, zebulonia(db_api.template_id))
    wait_for(lambda: first_step_sent(started["enrollment_id"]))
    db_api.post(f"/api/v1/contacts/{started['contact_id']}/events", {"type": "bounced"})
    step_ids = [s["id"] for s in db_api.get(started["status_url"]).json["steps"]]
    assert rows_of(started["contact_id"], [started["enrollment_id"]], step_ids)["sandbox"] == 1

    answer = delete(db_api, started["contact_id"])

    assert answer.status_code == 200
    assert answer.json["contact_id"] == started["contact_id"]
    counts = answer.json["erased"]
    assert {k: counts[k] for k in ("contacts", "emails", "phone_numbers", "notes", "enrollments", "steps")} == {
        "contacts": 1,
        "emails": 1,
        "phone_numbers": 1,
        "notes": 1,
        "enrollments": 1,
        "steps": 3,
    }
    assert counts["sandbox_deliveries"] == 1 and counts["idempotency_records"] == 1 and counts["opt_outs"] == 1
    assert counts["generated_contents"] >= 1 and counts["timeline_events"] >= 1
    return db_api, started, step_ids


def test_an_erased_contact_is_gone_from_every_view_and_every_table(erased):
    api, started, step_ids = erased

    for path in (f"/api/v1/contacts/{started['contact_id']}", started["status_url"]):
        assert api.get(path).status_code == 404
    assert api.get(f"/api/v1/contacts/{started['contact_id']}/export").status_code == 404
    assert api.get("/api/v1/review-queue").json == {"data": []}
    assert not any(d["step_id"] in step_ids for d in sandbox.deliveries())
    assert set(rows_of(started["contact_id"], [started["enrollment_id"]], step_ids).values()) == {0}
    assert ErasedAddress.select().count() == 2  # the email and the phone, as keyed hashes
    assert not [r for r in ErasedAddress.select() if any(p.lower() in r.digest for p in PERSONAL)]


def test_a_second_erasure_is_not_found_and_the_replayed_start_is_refused(erased):
    api, started, _ = erased

    again = delete(api, started["contact_id"])
    replay = api.post("/api/v1/sequences/start", zebulonia(api.template_id))

    assert again.status_code == 404 and again.json["error"]["code"] == "not_found"
    assert replay.status_code == 422 and replay.json["error"]["code"] == "suppressed"


def test_a_start_with_an_erased_email_or_phone_is_refused_and_changes_nothing(erased):
    api, _, _ = erased
    other_email = {"first_name": "Z", "emails": ["someone.else@example.org", EMAIL.upper()], "notes": "again"}
    only_phone = {"first_name": "Z", "phone_numbers": [PHONE]}

    by_email = api.post("/api/v1/sequences/start", seed_lead(api.template_id, contact=other_email, idempotency_key="a"))
    by_phone = api.post("/api/v1/sequences/start", seed_lead(api.template_id, contact=only_phone, idempotency_key="b"))

    assert by_email.status_code == 422
    assert by_email.json["error"]["code"] == "suppressed"
    assert by_email.json["error"]["details"] == {"field": "contact.emails[1]"}
    assert by_phone.status_code == 422 and by_phone.json["error"]["details"] == {"field": "contact.phone_numbers[0]"}
    assert Contact.select().count() == 0 and IdempotencyRecord.select().count() == 0

    someone_else = api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key="c"))
    assert someone_else.status_code == 202


def test_erasure_is_per_workspace(erased, clock):
    api, _, _ = erased
    other = bootstrap(clock.now(), name="Other workspace")

    result = api.post("/api/v1/sequences/start", zebulonia(other.template_id), key=other.api_key)

    assert result.status_code == 202


def test_the_sqlite_files_keep_no_erased_bytes(api, node):
    started = start(api, zebulonia(api.template_id))
    wait_for(lambda: first_step_sent(started["enrollment_id"]))
    api.post(f"/api/v1/contacts/{started['contact_id']}/events", {"type": "replied", "note": "xylophones again"})
    wait_for(lambda: enrollments.status_of(api.workspace_id, started["enrollment_id"]).value == "stopped")
    database = sqlite_path(node.settings.resolved_database_url)
    files = [database, database.with_name(database.name + "-wal")]
    before = b"".join(f.read_bytes() for f in files if f.exists())
    assert all(p.encode() in before for p in PERSONAL)  # the check below can see them

    assert delete(api, started["contact_id"]).status_code == 200

    after = b"".join(f.read_bytes() for f in files if f.exists())
    assert [p for p in PERSONAL if p.encode() in after] == []
    assert [p for p in PERSONAL if p.encode("utf-16-le") in after] == []


def test_nothing_more_is_sent_to_an_erased_contact(api, clock):
    erased = start(api, zebulonia(api.template_id))
    kept = start(api, seed_lead(api.template_id))
    for enrollment_id in (erased["enrollment_id"], kept["enrollment_id"]):
        wait_for(lambda e=enrollment_id: first_step_sent(e))
    erased_steps = [s["id"] for s in api.get(erased["status_url"]).json["steps"]]
    kept_steps = [s["id"] for s in api.get(kept["status_url"]).json["steps"]]
    assert delete(api, erased["contact_id"]).status_code == 200

    clock.advance(timedelta(hours=1))  # both sequences' second step comes due

    wait_for(lambda: {d["step_id"] for d in sandbox.deliveries()} == set(kept_steps[:2]))
    assert not {d["step_id"] for d in sandbox.deliveries()} & set(erased_steps)
    assert Step.select().where(Step.id.in_(erased_steps)).count() == 0


def test_an_erasure_right_after_the_start_leaves_nothing_behind(api):
    """The enrollment's actor is live (writing, maybe sending): whatever it was doing, nothing is kept or sent."""
    erased = start(api, zebulonia(api.template_id))
    assert delete(api, erased["contact_id"]).status_code == 200
    kept = start(api, seed_lead(api.template_id))

    wait_for(lambda: first_step_sent(kept["enrollment_id"]))

    assert [d["to"] for d in sandbox.deliveries()] == ["+34911234567"]
    assert Enrollment.select().count() == 1 and Step.select().where(Step.body.contains(NAME)).count() == 0


def test_links_in_old_messages_of_an_erased_contact_change_nothing(api, node, clock):
    started = start(api, zebulonia(api.template_id, auto_approve=False))
    wait_for(lambda: enrollments.status_of(api.workspace_id, started["enrollment_id"]).value == "pending_approval")
    unsubscribe = "/u/" + node.signer.sign("unsubscribe", started["contact_id"], None)
    review = "/review/" + node.signer.sign("review", started["enrollment_id"], clock.now() + timedelta(days=1))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert delete(api, started["contact_id"]).status_code == 200

    clicked = api.client.simulate_post(unsubscribe, body="List-Unsubscribe=One-Click", headers=form)
    reviewed = api.client.simulate_get(review)

    assert clicked.status_code == 200 and "Unsubscribed" in clicked.text
    assert reviewed.status_code == 404 and NAME not in reviewed.text
    assert Suppression.select().count() == 0 and Contact.select().count() == 0


def test_another_workspace_cannot_erase_or_export(api, clock):
    started = start(api, zebulonia(api.template_id))
    other = bootstrap(clock.now(), name="Other workspace")
    contact = f"/api/v1/contacts/{started['contact_id']}"

    assert delete(api, started["contact_id"], key=other.api_key).status_code == 404
    assert api.get(f"{contact}/export", key=other.api_key).status_code == 404
    assert api.get("/api/v1/audit", key=other.api_key).json == {"data": [], "next_cursor": None}
    assert api.get(contact).status_code == 200


@pytest.mark.parametrize("contact_id", ["ct_01M8H2T3EBKBRJN475K0AAC034", "nonsense", "tpl_01M8H2T3EBKBRJN475K0AAC034"])
def test_unknown_contacts_are_not_found(api, contact_id):
    assert delete(api, contact_id).status_code == 404
    assert api.get(f"/api/v1/contacts/{contact_id}/export").status_code == 404
    assert api.get("/api/v1/audit").json["data"] == []


def test_a_read_only_key_cannot_erase(api, clock):
    from ringback.storage import accounts

    started = start(api, zebulonia(api.template_id))
    _, read_only = accounts.create_key(api.workspace_id, clock.now(), scopes=frozenset({"read"}))

    assert delete(api, started["contact_id"], key=read_only).status_code == 403
    assert api.get(f"/api/v1/contacts/{started['contact_id']}").status_code == 200


# --- export -----------------------------------------------------------------------------------------------------


def test_the_export_holds_the_notes_history_every_enrollment_and_step(api, clock):
    first = start(api, zebulonia(api.template_id))
    clock.advance(timedelta(minutes=5))
    again = {"emails": [EMAIL], "notes": "Called back: prefers email."}
    second = start(api, seed_lead(api.template_id, contact=again, idempotency_key="zeb-2", auto_approve=False))
    wait_for(lambda: first_step_sent(first["enrollment_id"]))
    wait_for(lambda: enrollments.status_of(api.workspace_id, second["enrollment_id"]).value == "pending_approval")
    api.post(f"/api/v1/contacts/{first['contact_id']}/events", {"type": "bounced"})

    result = api.get(f"/api/v1/contacts/{first['contact_id']}/export")

    assert result.status_code == 200
    data = result.json
    assert data["contact"]["first_name"] == NAME and data["contact"]["phone_numbers"] == [PHONE]
    assert [n["text"] for n in data["contact"]["notes_history"]] == [NOTE, "Called back: prefers email."]
    assert [e["enrollment_id"] for e in data["enrollments"]] == [first["enrollment_id"], second["enrollment_id"]]
    for enrollment in data["enrollments"]:
        assert [s["index"] for s in enrollment["steps"]] == [0, 1, 2]
        assert all(s["state"] for s in enrollment["steps"]) and enrollment["timeline"]
    assert all("body" in s or "script" in s for s in data["enrollments"][1]["steps"])  # written, awaiting review
    assert data["enrollments"][0]["steps"][0]["state"] == "sent"
    assert [d["step_id"] for d in data["sandbox_deliveries"]] == [data["enrollments"][0]["steps"][0]["id"]]
    assert [o["channel"] for o in data["opt_outs"]] == ["email"]
    assert data["audit"] == []  # earlier erasures and exports of this contact; this one is recorded after


# --- audit ------------------------------------------------------------------------------------------------------


def test_the_audit_log_lists_exports_and_erasures_newest_first_without_personal_data(api, clock):
    started = start(api, zebulonia(api.template_id))
    api.get(f"/api/v1/contacts/{started['contact_id']}/export")
    clock.advance(timedelta(minutes=1))
    erased = delete(api, started["contact_id"]).json

    log = api.get("/api/v1/audit").json

    assert [e["action"] for e in log["data"]] == ["contact.erased", "contact.exported"]
    newest = log["data"][0]
    assert newest["contact_id"] == started["contact_id"] and newest["counts"] == erased["erased"]
    assert newest["key_id"].startswith("key_") and newest["at"] == "2026-05-06T10:01:00Z"
    assert log["data"][1]["counts"]["notes"] == 1 and log["next_cursor"] is None
    text = json.dumps(log)
    assert [p for p in PERSONAL if p.lower() in text.lower()] == []


def test_the_audit_log_is_paginated(api, clock):
    started = start(api, zebulonia(api.template_id))
    for _ in range(3):
        api.get(f"/api/v1/contacts/{started['contact_id']}/export")
        clock.advance(timedelta(seconds=1))

    first = api.get("/api/v1/audit?limit=2").json
    second = api.get(f"/api/v1/audit?limit=2&cursor={first['next_cursor']}").json

    assert len(first["data"]) == 2 and first["next_cursor"] == first["data"][1]["id"]
    assert len(second["data"]) == 1 and second["next_cursor"] is None
    times = [e["at"] for e in first["data"] + second["data"]]
    assert times == sorted(times, reverse=True) and len(set(times)) == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"), ("limit=" + "9" * 5000, "limit"),
     ("cursor=aud_01M8H2T3EBKBRJN475K0AAC034", "cursor"), ("cursor=a&cursor=b", "cursor"), ("page=2", "page")],
)  # fmt: skip
def test_bad_audit_queries_are_refused(api, query, field):
    result = api.get(f"/api/v1/audit?{query}")

    assert result.status_code == 422
    assert result.json["error"]["details"] == {"field": field}


def test_another_workspaces_cursor_is_refused(api, clock):
    started = start(api, zebulonia(api.template_id))
    api.get(f"/api/v1/contacts/{started['contact_id']}/export")
    cursor = api.get("/api/v1/audit").json["data"][0]["id"]
    other = bootstrap(clock.now(), name="Other workspace")

    result = api.get(f"/api/v1/audit?cursor={cursor}", key=other.api_key)

    assert result.status_code == 422
