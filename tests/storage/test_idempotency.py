"""Idempotency keys: looked up and stored inside the work's transaction; replay, mismatch, TTL expiry."""

from __future__ import annotations

from datetime import timedelta

import peewee
import pytest

from ringback.storage import idempotency
from ringback.storage.idempotency import Mismatch, Replay
from ringback.storage.models import IdempotencyRecord
from tests.storage.conftest import NOW

TTL = timedelta(hours=48)
BODY = {"enrollment_id": "enr_01HV0000000000000000000000", "status": "generating"}


def test_a_free_key_is_stored_then_replayed(workspace):
    assert idempotency.lookup(workspace.id, "lead-1", "fp-a", NOW) is None
    idempotency.store(workspace.id, "lead-1", "fp-a", 202, BODY, NOW, TTL)

    assert idempotency.lookup(workspace.id, "lead-1", "fp-a", NOW + timedelta(hours=1)) == Replay(202, BODY)


def test_a_different_body_under_the_same_key_is_a_mismatch(workspace):
    idempotency.store(workspace.id, "lead-1", "fp-a", 202, BODY, NOW, TTL)

    assert idempotency.lookup(workspace.id, "lead-1", "fp-b", NOW) == Mismatch()


def test_an_expired_key_is_free_again(workspace):
    idempotency.store(workspace.id, "lead-1", "fp-a", 202, BODY, NOW, TTL)

    assert idempotency.lookup(workspace.id, "lead-1", "fp-b", NOW + TTL) is None
    assert IdempotencyRecord.select().count() == 0


def test_a_claim_left_in_flight_by_an_older_version_frees_the_key(workspace):
    """Earlier versions claimed keys in a transaction of their own; a crash could leave one behind."""
    IdempotencyRecord.create(
        workspace=workspace.id, key="lead-1", request_hash="fp-a", state="in_flight", created_at=NOW,
        expires_at=NOW + TTL,
    )

    assert idempotency.lookup(workspace.id, "lead-1", "fp-a", NOW) is None


def test_a_key_is_stored_once_per_workspace(workspace):
    """Two nodes racing on one key: the unique index refuses the second; its retry reads the answer."""
    idempotency.store(workspace.id, "lead-1", "fp-a", 202, BODY, NOW, TTL)

    with pytest.raises(peewee.IntegrityError), IdempotencyRecord._meta.database.atomic():
        idempotency.store(workspace.id, "lead-1", "fp-a", 202, {"other": True}, NOW, TTL)
    assert idempotency.lookup(workspace.id, "lead-1", "fp-a", NOW) == Replay(202, BODY)


def test_purge_forgets_only_expired_keys(workspace):
    idempotency.store(workspace.id, "old", "fp", 202, BODY, NOW, TTL)
    idempotency.store(workspace.id, "new", "fp", 202, BODY, NOW + timedelta(hours=1), TTL)

    assert idempotency.purge_expired(NOW + TTL) == 1
    assert [r.key for r in IdempotencyRecord.select()] == ["new"]
