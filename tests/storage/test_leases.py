"""Partition leases on the real PostgreSQL: claims, renewals, hand-backs, expiry, and the writer's fence."""

from __future__ import annotations

import threading

import pytest

from ringback.cluster.leases import LeaseKeeper
from ringback.cluster.partitions import PARTITIONS
from ringback.storage import accounts, leases
from ringback.storage.db import close_database, open_database
from ringback.storage.migrations import migrate
from ringback.storage.models import Workspace
from ringback.storage.writer import GroupCommitWriter, LeaseLost
from tests.conftest import POSTGRES_URL, wait_for
from tests.storage.conftest import NOW, _reset_postgres

pytestmark = pytest.mark.postgres
TTL = 30.0


@pytest.fixture
def db():
    _reset_postgres(POSTGRES_URL)
    database = open_database(POSTGRES_URL)
    migrate(database)
    yield database
    close_database(database)


def _claim(db, node: str, count: int, held: list[int] = (), ttl: float = TTL) -> dict[int, int]:
    with db.atomic():
        return {p: epoch for p, epoch, _ in leases.claim(db, node, list(held), count, ttl)}


def test_a_partition_is_claimed_by_one_node_and_each_claim_bumps_its_epoch(db):
    a = _claim(db, "a", PARTITIONS)
    assert sorted(a) == list(range(PARTITIONS)) and set(a.values()) == {1}
    assert _claim(db, "b", 10) == {}  # all held, none expired
    with db.atomic():
        leases.release(db, "a", [0, 1])
    b = _claim(db, "b", 10)
    assert b == {0: 2, 1: 2}
    with db.atomic():
        assert leases.renew(db, "a", list(a.items()), TTL) == {(p, 1) for p in range(2, PARTITIONS)}
        assert leases.renew(db, "b", list(b.items()), TTL) == {(0, 2), (1, 2)}


def test_an_expired_lease_is_taken_over_and_the_old_owner_can_neither_renew_nor_pass_the_fence(db):
    a = _claim(db, "a", PARTITIONS, ttl=0.2)
    assert wait_for(lambda: _claim(db, "b", 3), timeout=10) == {0: 2, 1: 2, 2: 2}  # once a's leases expired
    with db.atomic():
        assert leases.renew(db, "a", [(0, 1), (1, 1), (2, 1)], TTL) == set()
        assert leases.valid(db, "a", set(a.items()), idle_timeout_seconds=5) == set()  # taken or expired
        assert leases.valid(db, "b", {(0, 2), (1, 2), (2, 1)}, idle_timeout_seconds=5) == {(0, 2), (1, 2)}


def test_a_node_restarted_under_its_id_takes_its_partitions_back_at_once(db):
    _claim(db, "a", 5)
    again = _claim(db, "a", 5)  # a new process of node "a" holds nothing yet: its old leases are its own
    assert again == {p: 2 for p in range(5)}


def test_the_writer_runs_a_unit_only_under_a_lease_still_held(db):
    ours = _claim(db, "a", 2)
    with db.atomic():
        leases.release(db, "a", [1])
    writer = GroupCommitWriter(db, fence=lambda wanted: leases.valid(db, "a", wanted, idle_timeout_seconds=5))
    try:
        kept = writer.submit(lambda: accounts.create_workspace("kept", NOW).id, lease=(0, ours[0]))
        lost = writer.submit(lambda: accounts.create_workspace("lost", NOW).id, lease=(1, ours[1]))
        unfenced = writer.submit(lambda: accounts.create_workspace("plain", NOW).id)
        assert kept.result(10) and unfenced.result(10)
        with pytest.raises(LeaseLost):
            lost.result(10)
    finally:
        writer.close()
    assert sorted(w.name for w in Workspace.select()) == ["kept", "plain"]


def test_keepers_split_the_partitions_evenly_and_a_leaving_node_hands_its_share_back(db):
    gained: dict[str, set[int]] = {"a": set(), "b": set()}
    lock = threading.Lock()

    def keeper(node: str) -> LeaseKeeper:
        def on_gained(parts):
            with lock:
                gained[node] |= parts

        def on_lost(parts):
            with lock:
                gained[node] -= parts

        return LeaseKeeper(db, node, ttl_seconds=3, on_gained=on_gained, on_lost=on_lost)

    a = keeper("a")
    a.round()
    assert len(a.partitions()) == PARTITIONS
    b = keeper("b")
    b.round()  # a holds everything: b registers and waits for a's next round
    a.round()
    b.round()
    assert (len(a.partitions()), len(b.partitions())) == (128, 128)
    assert gained["a"] == a.partitions() and gained["b"] == b.partitions()
    b.stop()
    a.round()
    assert len(a.partitions()) == PARTITIONS
    a.stop()
