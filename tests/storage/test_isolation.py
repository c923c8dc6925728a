"""Workspace isolation: every lookup that takes a workspace id ignores other workspaces' rows."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ringback.engine.lead import ContactInput
from ringback.engine.locale import LanguageChoice, TimezoneChoice
from ringback.engine.model import EnrollmentStatus
from ringback.storage import accounts, contacts, enrollments, idempotency, templates
from tests.storage.conftest import NOW

TTL = timedelta(hours=48)
MARIA = ContactInput(first_name="Maria", emails=("maria@example.com",), phones=("+34911234567",))


@pytest.fixture
def theirs(other_workspace, template_def):
    """A template, a contact, a pending enrollment, a key and an idempotency record in the other workspace."""
    template_id = templates.create_template(other_workspace.id, template_def, NOW)
    contact_id = contacts.upsert_contact(other_workspace.id, MARIA, NOW).contact_id
    enrollment_id = enrollments.create(
        other_workspace.id,
        template_id,
        template_def,
        contacts.profile(contact_id),
        "test",
        False,
        LanguageChoice("es", "explicit"),
        TimezoneChoice("Europe/Madrid", ("Europe/Madrid",), "explicit"),
        NOW,
    ).enrollment_id
    before = enrollments.load_state(enrollment_id)
    enrollments.save(before, before.evolve(status=EnrollmentStatus.PENDING_APPROVAL), other_workspace.id, (), NOW, None)
    accounts.create_key(other_workspace.id, NOW)
    idempotency.store(other_workspace.id, "lead-1", "fp-theirs", 202, {"enrollment_id": enrollment_id}, NOW, TTL)
    return {
        "workspace": other_workspace.id,
        "template": template_id,
        "contact": contact_id,
        "enrollment": enrollment_id,
    }


def test_their_template_is_not_found(workspace, theirs):
    assert templates.get_template(workspace.id, theirs["template"]) is None
    assert templates.template_view(workspace.id, theirs["template"]) is None
    assert templates.list_template_views(workspace.id) == []


def test_their_contact_is_not_found_nor_matched(workspace, theirs):
    assert contacts.contact_view(workspace.id, theirs["contact"]) is None
    assert contacts.contact_exists(workspace.id, theirs["contact"]) is False

    by_email = contacts.upsert_contact(workspace.id, ContactInput(emails=("maria@example.com",)), NOW)
    by_phone = contacts.upsert_contact(workspace.id, ContactInput(phones=("+34911234567",)), NOW)
    assert by_email.created and by_phone.created
    assert theirs["contact"] not in {by_email.contact_id, by_phone.contact_id}


def test_their_enrollment_is_not_found(workspace, theirs):
    assert enrollments.enrollment_view(workspace.id, theirs["enrollment"]) is None
    assert enrollments.status_of(workspace.id, theirs["enrollment"]) is None
    assert enrollments.review_queue(workspace.id, NOW) == []


def test_their_keys_and_idempotency_keys_are_not_ours(workspace, theirs):
    assert accounts.list_keys(workspace.id) == []
    assert idempotency.lookup(workspace.id, "lead-1", "fp-ours", NOW) is None
    idempotency.store(workspace.id, "lead-1", "fp-ours", 202, {"ours": True}, NOW, TTL)

    replay = idempotency.lookup(theirs["workspace"], "lead-1", "fp-theirs", NOW)
    assert replay == idempotency.Replay(202, {"enrollment_id": theirs["enrollment"]})


def test_the_owner_still_sees_everything(other_workspace, theirs):
    """The counter-check: the same lookups do find the rows in their own workspace."""
    assert templates.get_template(other_workspace.id, theirs["template"]) is not None
    assert contacts.contact_view(other_workspace.id, theirs["contact"])["id"] == theirs["contact"]
    assert enrollments.status_of(other_workspace.id, theirs["enrollment"]) == EnrollmentStatus.PENDING_APPROVAL
    assert len(enrollments.review_queue(other_workspace.id, NOW)) == 1
    assert len(accounts.list_keys(other_workspace.id)) == 1
