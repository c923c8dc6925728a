"""Housekeeping on the supervisor's tick: expired idempotency keys are forgotten, live ones kept."""

from __future__ import annotations

from datetime import timedelta

from ringback.storage.models import IdempotencyRecord
from tests.conftest import seed_lead, wait_for


def stored_keys() -> set[str]:
    return {row.key for row in IdempotencyRecord.select(IdempotencyRecord.key)}


def test_expired_idempotency_keys_are_purged_and_fresh_ones_kept(api, clock):
    assert api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key="old")).status_code == 202
    clock.advance(timedelta(hours=47))
    assert api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key="new")).status_code == 202
    assert stored_keys() == {"old", "new"}

    clock.advance(timedelta(hours=2))  # "old" is 49 hours old: past the 48-hour default; "new" is 2 hours old

    wait_for(lambda: stored_keys() == {"new"})
    replay = api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key="new"))
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed")) == (200, "true")
