"""Contacts: upsert by email (any case) then phone, addresses only ever added, notes appended,
and one contact per primary email even when two writers race."""

from __future__ import annotations

import threading
from datetime import timedelta

import peewee
import pytest

from ringback.engine.lead import ContactInput
from ringback.engine.model import Channel
from ringback.storage import contacts
from ringback.storage.db import is_sqlite, write_transaction
from ringback.storage.models import Contact, database_proxy
from tests.conftest import wait_for
from tests.storage.conftest import NOW, THREAD_TIMEOUT

MARIA = ContactInput(first_name="Maria", emails=("maria@example.com",), phones=("+34911234567",))


def _upsert(workspace_id: str, lead: ContactInput, now=NOW) -> contacts.Upserted:
    with write_transaction(database_proxy.obj):
        return contacts.upsert_contact(workspace_id, lead, now)


def test_a_new_lead_creates_a_contact(workspace):
    result = _upsert(workspace.id, MARIA)

    assert (result.created, result.match) == (True, "created")
    assert result.contact_id.startswith("ct_")
    info = contacts.profile(result.contact_id)
    assert (info.first_name, info.emails, info.phones) == ("Maria", ("maria@example.com",), ("+34911234567",))


def test_the_primary_email_matches_in_any_case(workspace):
    first = _upsert(workspace.id, MARIA)

    again = _upsert(workspace.id, ContactInput(emails=("MARIA@Example.COM",)))

    assert (again.contact_id, again.created, again.match) == (first.contact_id, False, "email")
    assert contacts.profile(first.contact_id).emails == ("maria@example.com",)  # no case-twin added


def test_a_known_phone_matches_when_the_email_does_not(workspace):
    first = _upsert(workspace.id, MARIA)

    again = _upsert(workspace.id, ContactInput(emails=("m.garcia@work.example",), phones=("+34911234567",)))

    assert (again.contact_id, again.match) == (first.contact_id, "phone")
    info = contacts.profile(first.contact_id)
    assert info.emails == ("maria@example.com", "m.garcia@work.example")  # the primary stays first


def test_addresses_are_added_and_never_dropped(workspace):
    first = _upsert(workspace.id, MARIA)
    _upsert(workspace.id, ContactInput(emails=("maria@example.com", "maria@home.example"), phones=("+34600000001",)))
    _upsert(workspace.id, ContactInput(emails=("maria@example.com",)))  # fewer addresses this time

    info = contacts.profile(first.contact_id)
    assert info.emails == ("maria@example.com", "maria@home.example")
    assert info.phones == ("+34911234567", "+34600000001")


def test_a_phone_only_contact_gets_a_primary_email_later(workspace):
    first = _upsert(workspace.id, ContactInput(phones=("+34911234567",)))
    _upsert(workspace.id, ContactInput(emails=("Maria@example.com",), phones=("+34911234567",)))

    again = _upsert(workspace.id, ContactInput(emails=("maria@EXAMPLE.com",)))
    assert (again.contact_id, again.match) == (first.contact_id, "email")


def test_phone_only_contacts_do_not_collide_on_the_email_index(workspace):
    one = _upsert(workspace.id, ContactInput(phones=("+34911234567",)))
    two = _upsert(workspace.id, ContactInput(phones=("+34600000001",)))

    assert one.contact_id != two.contact_id


def test_notes_are_appended_in_order(workspace):
    first = _upsert(workspace.id, ContactInput(emails=("maria@example.com",), notes="Asked about pricing."))
    _upsert(workspace.id, ContactInput(emails=("maria@example.com",)), NOW + timedelta(minutes=1))
    _upsert(
        workspace.id, ContactInput(emails=("maria@example.com",), notes="Prefers calls."), NOW + timedelta(minutes=2)
    )

    assert contacts.profile(first.contact_id).notes == "Asked about pricing.\nPrefers calls."
    view = contacts.contact_view(workspace.id, first.contact_id)
    assert [entry["text"] for entry in view["notes_history"]] == ["Asked about pricing.", "Prefers calls."]
    assert view["notes_history"][0]["created_at"] == "2026-05-06T10:00:00Z"


def test_given_fields_update_and_missing_ones_keep_their_value(workspace):
    first = _upsert(workspace.id, ContactInput(first_name="Maria", last_name="Garcia", emails=("maria@example.com",)))
    _upsert(
        workspace.id, ContactInput(first_name="María", emails=("maria@example.com",), language="es", company="Acme")
    )

    info = contacts.profile(first.contact_id)
    assert (info.first_name, info.last_name, info.language, info.company) == ("María", "Garcia", "es", "Acme")


def test_suppressions_are_per_channel_and_can_be_lifted(workspace):
    contact_id = _upsert(workspace.id, MARIA).contact_id

    contacts.suppress(contact_id, (Channel.SMS, Channel.VOICE), "STOP", NOW)
    contacts.suppress(contact_id, (Channel.SMS,), "STOP again", NOW)  # idempotent
    assert contacts.suppressed_channels(contact_id) == {"sms", "voice"}

    contacts.lift_suppression(contact_id, (Channel.SMS,))
    assert contacts.suppressed_channels(contact_id) == {"voice"}


def test_a_number_is_found_across_workspaces_for_inbound_sms(workspace, other_workspace):
    ours = _upsert(workspace.id, MARIA).contact_id
    theirs = _upsert(other_workspace.id, ContactInput(phones=("+34911234567",))).contact_id

    assert sorted(contacts.contacts_by_phone("+34911234567")) == sorted(
        [(workspace.id, ours), (other_workspace.id, theirs)]
    )


# --- the unique index (workspace, lower(primary email)) ------------------------------------------------------


def _raw_contact(workspace_id: str, email: str, contact_id: str) -> None:
    Contact.create(
        id=contact_id,
        workspace=workspace_id,
        primary_email=email,
        primary_email_lower=email.lower(),
        created_at=NOW,
        updated_at=NOW,
    )


def test_the_index_refuses_a_second_primary_email_in_any_case(workspace, other_workspace):
    _raw_contact(workspace.id, "maria@example.com", "ct_01HV0000000000000000000001")
    _raw_contact(other_workspace.id, "maria@example.com", "ct_01HV0000000000000000000002")  # other workspace: fine

    with pytest.raises(peewee.IntegrityError), database_proxy.atomic():
        _raw_contact(workspace.id, "MARIA@example.com", "ct_01HV0000000000000000000003")


def _wait_until_a_writer_blocks(database) -> None:
    """On PostgreSQL, wait until some session waits on a row/transaction lock (the racing INSERT)."""
    if is_sqlite(database):
        return  # BEGIN IMMEDIATE queues the second writer behind the first; nothing to observe
    wait_for(
        lambda: database.execute_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0],
        timeout=THREAD_TIMEOUT,
    )


def test_racing_inserts_of_one_new_email_leave_one_row(database, workspace, run_concurrently):
    inserted, release = threading.Event(), threading.Event()

    def first() -> str:
        with write_transaction(database):
            _raw_contact(workspace.id, "maria@example.com", "ct_01HV0000000000000000000001")
            inserted.set()
            assert release.wait(THREAD_TIMEOUT)
        return "inserted"

    def second() -> str:
        assert inserted.wait(THREAD_TIMEOUT)
        try:
            with write_transaction(database):
                _raw_contact(workspace.id, "Maria@Example.com", "ct_01HV0000000000000000000002")
        except peewee.IntegrityError:
            return "refused"
        return "inserted"

    def referee() -> None:
        assert inserted.wait(THREAD_TIMEOUT)
        _wait_until_a_writer_blocks(database)
        release.set()

    assert run_concurrently(first, second, referee)[:2] == ["inserted", "refused"]
    assert Contact.select().where(Contact.workspace == workspace.id).count() == 1


def test_racing_upserts_of_one_new_email_make_one_contact(database, workspace, run_concurrently):
    """The loser's INSERT hits the unique index; retrying its whole transaction finds the winner's row."""
    inserted, release = threading.Event(), threading.Event()
    conflicts: list[str] = []
    lead = ContactInput(first_name="Maria", emails=("maria@example.com",), notes="Form submitted twice.")

    def first() -> contacts.Upserted:
        with write_transaction(database):
            result = contacts.upsert_contact(workspace.id, lead, NOW)
            inserted.set()
            assert release.wait(THREAD_TIMEOUT)
        return result

    def second() -> contacts.Upserted:
        assert inserted.wait(THREAD_TIMEOUT)
        for _ in range(3):
            try:
                return _upsert(workspace.id, ContactInput(emails=("MARIA@example.com",), notes="Second form."))
            except peewee.IntegrityError:
                conflicts.append("retry")
        raise AssertionError("the upsert kept conflicting")

    def referee() -> None:
        assert inserted.wait(THREAD_TIMEOUT)
        _wait_until_a_writer_blocks(database)
        release.set()

    winner, loser, _ = run_concurrently(first, second, referee)

    assert winner.created and not loser.created
    assert loser.contact_id == winner.contact_id and loser.match == "email"
    assert conflicts == ([] if is_sqlite(database) else ["retry"])
    assert Contact.select().where(Contact.workspace == workspace.id).count() == 1
    assert contacts.profile(winner.contact_id).notes == "Form submitted twice.\nSecond form."
