"""Rate limits shared by several nodes on one PostgreSQL database: a key's budget holds whichever node it reaches.

Each "node" here is a limiter (or an app) with its own connection pool on the same database, as two processes
behind a load balancer would have. The window rolls by moving stored hits into the past, never by waiting.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import falcon.testing
import peewee
import pytest

from ringback.demo import bootstrap
from ringback.http.app import create_app
from ringback.http.metrics import Metrics
from ringback.http.ratelimit import Decision, RateLimiter, SharedRateLimiter, build_rate_limiter
from ringback.storage import accounts
from ringback.storage.db import close_database, open_database
from ringback.storage.migrations import migrate
from tests.conftest import POSTGRES_URL
from tests.http.test_ratelimit import KEY_A, PRINCIPALS, READS, WRITES, Items, limits, read, write
from tests.storage.conftest import _reset_postgres, age_rate_limit_hits

pytestmark = pytest.mark.postgres

WRITE = ("key_a", "write")
CONNECTIONS = 40


@pytest.fixture
def databases() -> Iterator[tuple[peewee.Database, peewee.Database]]:
    """Two connection pools on one migrated PostgreSQL database: what two nodes hold."""
    _reset_postgres(POSTGRES_URL)
    first = open_database(POSTGRES_URL, CONNECTIONS)
    migrate(first)
    second = open_database(POSTGRES_URL, CONNECTIONS)
    yield first, second
    for db in (first, second):
        close_database(db)


@pytest.fixture
def failures() -> Iterator[list[int]]:
    """Checks the database failed; every test here expects none (a fallback would hide a broken window)."""
    counted: list[int] = []
    yield counted
    assert counted == []


@pytest.fixture
def nodes(databases, failures) -> tuple[SharedRateLimiter, SharedRateLimiter]:
    return tuple(SharedRateLimiter(db, on_error=lambda: failures.append(1)) for db in databases)


def test_the_61st_write_of_a_minute_is_refused_whichever_node_it_reaches(nodes):
    admitted = [nodes[i % 2].hit(WRITE, 60) for i in range(60)]

    assert all(d.allowed for d in admitted)
    assert [d.remaining for d in admitted] == list(range(59, -1, -1))  # one count, not one per node
    for node in nodes:
        refused = node.hit(WRITE, 60)
        assert (refused.allowed, refused.limit, refused.remaining) == (False, 60, 0)
        assert 1 <= refused.reset_seconds <= 60


def test_reads_writes_and_keys_count_apart(nodes):
    first, second = nodes
    assert [first.hit(WRITE, 2).allowed for _ in range(3)] == [True, True, False]

    assert second.hit(("key_a", "read"), 2).remaining == 1
    assert second.hit(("key_b", "write"), 2).remaining == 1


def test_refused_requests_are_not_counted(databases, nodes):
    first, second = nodes
    first.hit(WRITE, 2)
    second.hit(WRITE, 2)
    assert not any(nodes[i % 2].hit(WRITE, 2).allowed for i in range(5))

    age_rate_limit_hits(databases[0], "key_a:write", 60)  # the first write leaves the window
    assert [second.hit(WRITE, 2).allowed, first.hit(WRITE, 2).allowed] == [True, False]


def test_the_window_rolls_and_reset_counts_from_the_oldest_counted_hit(databases, nodes):
    first, second = nodes
    first.hit(WRITE, 2)
    second.hit(WRITE, 2)
    age_rate_limit_hits(databases[0], "key_a:write", 61, 30)  # admitted 61 s and 30 s ago

    freed = first.hit(WRITE, 2)
    refused = second.hit(WRITE, 2)

    assert (freed.allowed, freed.remaining) == (True, 0)
    assert 1 <= freed.reset_seconds <= 30  # the 30 s old write leaves first, in at most 30 s
    assert (refused.allowed, refused.remaining) == (False, 0)
    assert 1 <= refused.reset_seconds <= 30


def test_concurrent_requests_on_two_nodes_admit_exactly_the_limit(databases, nodes):
    limit, callers = 25, 64
    barrier = threading.Barrier(callers)
    decisions: list[Decision | None] = [None] * callers

    def call(index: int) -> None:
        try:
            barrier.wait(30)
            decisions[index] = nodes[index % 2].hit(WRITE, limit)
        finally:
            databases[index % 2].close()  # this thread's connection back to its pool

    threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    admitted = [d for d in decisions if d is not None and d.allowed]
    assert None not in decisions
    assert len(admitted) == limit
    assert sorted(d.remaining for d in admitted) == list(range(limit))  # each slot handed out once


def test_a_node_purges_idle_keys_once_a_window(databases, failures):
    seconds = [0.0]
    node = SharedRateLimiter(databases[0], on_error=lambda: failures.append(1), monotonic=lambda: seconds[0])
    node.hit(("idle", "write"), 5)  # a node's first check purges (nothing yet)
    age_rate_limit_hits(databases[0], "idle:write", 61)

    node.hit(("busy", "write"), 5)
    assert stored_keys(databases[0]) == {"idle:write", "busy:write"}
    seconds[0] += 60
    node.hit(("busy", "write"), 5)
    assert stored_keys(databases[0]) == {"busy:write"}


def test_a_failing_database_fails_open_counted_on_this_node(caplog):
    _reset_postgres(POSTGRES_URL)  # an empty database: the window's function is not there yet
    db = open_database(POSTGRES_URL)
    errors: list[int] = []
    node = SharedRateLimiter(db, on_error=lambda: errors.append(1))
    try:
        with caplog.at_level(logging.WARNING, "ringback.http.ratelimit"):
            during = [node.hit(WRITE, 2) for _ in range(3)]
            migrate(db)
            after = node.hit(WRITE, 2)
    finally:
        close_database(db)

    assert [d.allowed for d in during] == [True, True, False]  # this node's own count still limits
    assert len(errors) == 3
    assert after == Decision(True, 2, 1, 60)  # the shared window again, from scratch
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # the first failure and the recovery, not one line per request
    assert "this node counts alone" in warnings[0] and "answers again" in warnings[1]


def test_an_unreachable_database_lets_requests_through():
    db = open_database("postgresql://postgres@127.0.0.1:1/ringback")  # nothing listens on port 1
    try:
        decision = SharedRateLimiter(db).hit(WRITE, 60)
    finally:
        close_database(db)
    assert decision == Decision(True, 60, 59, 60)


def test_sqlite_keeps_its_limits_in_memory(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'ringback.db'}")
    try:
        assert isinstance(build_rate_limiter(db), RateLimiter)
    finally:
        close_database(db)


def test_two_apps_on_one_database_refuse_the_third_write_with_the_429_envelope(databases, nodes):
    apps = [
        falcon.testing.TestClient(
            create_app(
                resolve_key=PRINCIPALS.get,
                routes=[("/api/v1/items", Items())],
                metrics=Metrics(),
                limiter=node,
                writes_per_minute=WRITES,
                reads_per_minute=READS,
                max_body_bytes=1024,
            )
        )
        for node in nodes
    ]

    first, second, refused = write(apps[0]), write(apps[1]), write(apps[0])

    assert (first.status_code, second.status_code) == (201, 201)
    assert limits(first)[:2] == (WRITES, 1)
    assert limits(second)[:2] == (WRITES, 0)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    reset = limits(refused)[2]
    assert 1 <= reset <= 60
    assert refused.json["error"]["details"] == {"retry_after": reset}
    assert refused.headers["Retry-After"] == str(reset)
    assert limits(refused)[:2] == (WRITES, 0)
    assert write(apps[1]).status_code == 429
    assert limits(read(apps[1], KEY_A))[:2] == (READS, READS - 1)


def test_a_postgres_node_counts_in_the_shared_window(make_node, clock):
    _reset_postgres(POSTGRES_URL)
    node = make_node(database_url=POSTGRES_URL, writes_per_minute=2)
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    key_id = accounts.resolve_key(demo.api_key, clock.now()).key_id
    client = falcon.testing.TestClient(node.app)
    other_node = SharedRateLimiter(node.db)  # one process holds one node: another limiter stands in for it

    def start() -> falcon.testing.Result:
        # An invalid body still spends a write: the limit applies before the resource reads it.
        headers = {"Authorization": f"Bearer {demo.api_key}"}
        return client.simulate_post("/api/v1/sequences/start", json={}, headers=headers)

    first = start()
    assert other_node.hit((key_id, "write"), 2).allowed
    refused = start()

    assert first.status_code == 422
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert not other_node.hit((key_id, "write"), 2).allowed


def stored_keys(db: peewee.Database) -> set[str]:
    return {key for (key,) in db.execute_sql("SELECT key FROM rate_limit_window")}
