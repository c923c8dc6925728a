"""Idempotency keys: claim, complete, replay, mismatch, in flight, lease and TTL expiry."""

from __future__ import annotations

from datetime import timedelta

from ringback.storage import idempotency
from ringback.storage.idempotency import CLAIM_LEASE, Claimed, InFlight, Mismatch, Replay
from ringback.storage.models import IdempotencyRecord
from tests.storage.conftest import NOW

TTL = timedelta(hours=48)
BODY = {"enrollment_id": "enr_01HV0000000000000000000000", "status": "generating"}


def test_a_new_key_is_claimed_then_replayed_once_completed(workspace):
    assert idempotency.claim(workspace.id, "lead-1", "fp-a", NOW, TTL) == Claimed()

    idempotency.complete(workspace.id, "lead-1", 202, BODY)

    assert idempotency.claim(workspace.id, "lead-1", "fp-a", NOW + timedelta(hours=1), TTL) == Replay(202, BODY)


def test_the_same_key_with_another_body_is_a_mismatch(workspace):
    idempotency.claim(workspace.id, "lead-1", "fp-a", NOW, TTL)
    assert idempotency.claim(workspace.id, "lead-1", "fp-b", NOW, TTL) == Mismatch()

    idempotency.complete(workspace.id, "lead-1", 202, BODY)
    assert idempotency.claim(workspace.id, "lead-1", "fp-b", NOW, TTL) == Mismatch()


def test_a_claim_in_flight_blocks_until_its_lease_runs_out(workspace):
    idempotency.claim(workspace.id, "lead-1", "fp-a", NOW, TTL)

    assert (
        idempotency.claim(workspace.id, "lead-1", "fp-a", NOW + CLAIM_LEASE - timedelta(seconds=1), TTL) == InFlight()
    )
    # A claim abandoned by a crash can be taken again after the lease.
    assert idempotency.claim(workspace.id, "lead-1", "fp-a", NOW + CLAIM_LEASE, TTL) == Claimed()
    assert IdempotencyRecord.select().count() == 1


def test_a_completed_key_is_not_subject_to_the_lease(workspace):
    idempotency.claim(workspace.id, "lead-1", "fp-a", NOW, TTL)
    idempotency.complete(workspace.id, "lead-1", 202, BODY)

    assert idempotency.claim(workspace.id, "lead-1", "fp-a", NOW + CLAIM_LEASE * 10, TTL) == Replay(202, BODY)


def test_an_expired_key_can_be_used_again_for_anything(workspace):
    idempotency.claim(workspace.id, "lead-1", "fp-a", NOW, TTL)
    idempotency.complete(workspace.id, "lead-1", 202, BODY)

    assert idempotency.claim(workspace.id, "lead-1", "fp-b", NOW + TTL, TTL) == Claimed()


def test_a_released_claim_is_forgotten_but_a_completed_one_is_kept(workspace):
    idempotency.claim(workspace.id, "refused", "fp-a", NOW, TTL)
    idempotency.release(workspace.id, "refused")
    assert idempotency.claim(workspace.id, "refused", "fp-b", NOW, TTL) == Claimed()

    idempotency.claim(workspace.id, "done", "fp-a", NOW, TTL)
    idempotency.complete(workspace.id, "done", 202, BODY)
    idempotency.release(workspace.id, "done")
    assert idempotency.claim(workspace.id, "done", "fp-a", NOW, TTL) == Replay(202, BODY)


def test_purge_removes_only_expired_records(workspace):
    idempotency.claim(workspace.id, "old", "fp", NOW, TTL)
    idempotency.claim(workspace.id, "new", "fp", NOW + timedelta(hours=1), TTL)

    assert idempotency.purge_expired(NOW + TTL) == 1
    assert [row.key for row in IdempotencyRecord.select()] == ["new"]


def test_concurrent_claims_of_one_key_have_one_winner(workspace, run_concurrently):
    results = run_concurrently(*[lambda: idempotency.claim(workspace.id, "lead-1", "fp-a", NOW, TTL)] * 4)

    assert sorted(type(r).__name__ for r in results) == ["Claimed", "InFlight", "InFlight", "InFlight"]
    assert IdempotencyRecord.select().count() == 1
