"""Cluster mode on the real PostgreSQL: real node processes sharing one database, kill -9 and SIGSTOP.

Each node is `python run.py` on its own port and data directory, all on one database with the same secret.
Leads are started through every node, as a load balancer would spread them; a request that meets a dead
node is retried on another with the same idempotency key, as a client would. The sandbox records every
send, and the timeline every `step.sent`: a step handled by two nodes would show two of them.
"""

from __future__ import annotations

import http.client
import itertools
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest

from tests.conftest import POSTGRES_URL, wait_for
from tests.e2e.conftest import numbered_lead
from tests.storage.conftest import _reset_postgres

pytestmark = pytest.mark.e2e

LEASE = 3  # seconds: the smallest allowed, so takeovers happen quickly
TEMPLATE = {
    "name": "Two quick emails",
    "goal": "Follow up with the inbound lead and book a call.",
    "allowed_channels": ["email"],
    "steps": [{"channel": "email", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 2}],
    "sender": {"name": "Acme", "email": "sales@acme.example"},
}
ENV = {
    "RINGBACK_DATABASE_URL": POSTGRES_URL,
    "RINGBACK_LEASE_SECONDS": str(LEASE),
    "RINGBACK_SECRET_KEY": "cluster-test-secret-0123456789abcdef",
    "RINGBACK_LLM_SIMULATED_LATENCY_SECONDS": "0.1",
    "RINGBACK_WRITES_PER_MINUTE": "1000000",
    "RINGBACK_READS_PER_MINUTE": "1000000",
    "RINGBACK_RECOVERY_RATE_PER_SECOND": "200",
    "RINGBACK_LOG_LEVEL": "WARNING",
}
LEADS = 240
REVIEWED_EVERY = 10  # one lead in ten waits for a human, approved through a node that does not own it


def sql(query: str, *args: object) -> list[tuple]:
    with psycopg2.connect(POSTGRES_URL) as conn, conn.cursor() as cur:
        cur.execute(query, args)
        return cur.fetchall()


def owners() -> dict[str, int]:
    """node id -> partitions it holds by an unexpired lease."""
    rows = sql("SELECT owner, count(*) FROM partition_lease WHERE expires_at > now() AND owner IS NOT NULL GROUP BY 1")
    return dict(rows)


def owner_of(enrollment_id: str) -> str | None:
    rows = sql(
        "SELECT l.owner FROM enrollment e JOIN partition_lease l ON l.partition = e.partition"
        " WHERE e.id = %s AND l.expires_at > now()",
        enrollment_id,
    )
    return rows[0][0] if rows else None


def lead(template_id: str, n: int) -> dict:
    return numbered_lead(template_id, n, REVIEWED_EVERY)


def sent_twice() -> list[tuple]:
    """Steps with more than one `step.sent` in their timeline: handled by two nodes (or twice by one)."""
    return sql(
        "SELECT enrollment_id, detail::json->>'index', count(*) FROM event WHERE kind = 'step.sent'"
        " GROUP BY 1, 2 HAVING count(*) > 1"
    )


def unfinished() -> int:
    return sql("SELECT count(*) FROM enrollment WHERE status <> 'completed'")[0][0]


@pytest.fixture
def cluster(start_server, ringback, tmp_path):
    """Start `count` nodes on a fresh database; returns (nodes, api key, template id)."""
    _reset_postgres(POSTGRES_URL)

    def start(count: int, **env: str):
        key = ringback(["init"], ENV)["api_key"]
        nodes = [
            start_server({**ENV, **env, "RINGBACK_NODE_ID": f"node-{i}"}, data_dir=tmp_path / f"node-{i}")
            for i in range(count)
        ]
        status, template = nodes[0].request("POST", "/api/v1/templates", TEMPLATE, key)
        assert status == 201, template
        return nodes, key, template["id"]

    return start


def test_three_nodes_lose_nothing_send_nothing_twice_and_take_over_a_killed_node(cluster):
    nodes, key, template_id = cluster(3)
    wait_for(lambda: len(owners()) == 3 and sum(owners().values()) == 256, timeout=4 * LEASE)
    alive = list(nodes)
    answers: dict[int, dict] = {}

    def start(n: int) -> None:
        for node in itertools.islice(itertools.cycle(alive), n % 3, n % 3 + 6):
            try:
                status, body = node.request("POST", "/api/v1/sequences/start", lead(template_id, n), key)
            except (OSError, http.client.HTTPException):
                continue  # that node is dead: the next one, with the same key
            assert status in (200, 202), body
            answers.setdefault(n, body)
            assert answers[n]["enrollment_id"] == body["enrollment_id"]
            return
        raise AssertionError(f"lead {n} was not accepted by any node")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(start, range(LEADS // 2)))
        victim = nodes[0]
        victim.kill()  # while the first half is still being written and sent
        killed_at = time.monotonic()
        alive.remove(victim)
        list(pool.map(start, range(LEADS // 2, LEADS)))

    # The dead node's partitions move to the survivors once its lease expires (plus a round).
    wait_for(lambda: set(owners()) == {"node-1", "node-2"} and sum(owners().values()) == 256, timeout=LEASE + 10)
    takeover_seconds = time.monotonic() - killed_at

    # An approval sent to a node that does not own the enrollment applies (the owner hears of it by NOTIFY).
    reviewed = [answers[n]["enrollment_id"] for n in range(0, LEADS, REVIEWED_EVERY)]
    wait_for(lambda: all(_status(alive[0], key, e) == "pending_approval" for e in reviewed), timeout=60)
    for enrollment_id in reviewed:
        owner = owner_of(enrollment_id)
        other = next(node for node in alive if node.env["RINGBACK_NODE_ID"] != owner)
        status, body = other.request("POST", f"/api/v1/sequences/enrollments/{enrollment_id}/approve", None, key)
        assert status == 200, body

    wait_for(lambda: unfinished() == 0, timeout=120, interval=0.5)
    assert sent_twice() == []
    assert sql("SELECT count(*) FROM sandbox_delivery")[0][0] == 2 * LEADS
    assert sql("SELECT count(*) FROM enrollment")[0][0] == LEADS
    # Replays through any node answer the original ids.
    for n, node in zip(range(0, LEADS, 7), itertools.cycle(alive), strict=False):
        status, body = node.request("POST", "/api/v1/sequences/start", lead(template_id, n), key)
        assert (status, body["enrollment_id"]) == (200, answers[n]["enrollment_id"])
    assert (
        _counter(alive[0], "ringback_lease_takeovers_total") + _counter(alive[1], "ringback_lease_takeovers_total") > 0
    )
    print(f"takeover after kill -9: {takeover_seconds:.1f} s (lease {LEASE} s)")


def _status(node, key: str, enrollment_id: str) -> str:
    status, body = node.request("GET", f"/api/v1/sequences/enrollments/{enrollment_id}", None, key)
    assert status == 200, body
    return body["status"]


def test_a_node_paused_past_its_lease_writes_and_sends_nothing_for_the_partitions_it_lost(
    cluster, start_server, tmp_path
):
    # One node alone holds everything; its LLM is slow, so generation is in flight when it is frozen.
    (paused,), key, template_id = cluster(1, RINGBACK_LLM_SIMULATED_LATENCY_SECONDS="2")
    accepted = [
        paused.request("POST", "/api/v1/sequences/start", lead(template_id, n * 10 + 1), key) for n in range(12)
    ]
    assert {status for status, _ in accepted} == {202}
    paused.process.send_signal(signal.SIGSTOP)
    try:
        # Another node takes every partition over once the frozen node's leases expire, and finishes the work.
        survivor = start_server({**ENV, "RINGBACK_NODE_ID": "node-survivor"}, data_dir=tmp_path / "survivor")
        wait_for(lambda: owners() == {"node-survivor": 256}, timeout=LEASE + 10)
        wait_for(lambda: unfinished() == 0, timeout=60, interval=0.5)
        before = _snapshot()
    finally:
        paused.process.send_signal(signal.SIGCONT)
    # Thawed, the old node's generators finish and its actors try to save; its lease round learns the loss.
    wait_for(lambda: _counter(paused, "ringback_lease_losses_total") >= 1, timeout=4 * LEASE)
    time.sleep(LEASE)  # room for anything the thawed node still had queued to (try to) happen
    assert _snapshot() == before
    assert sent_twice() == []
    assert (
        _counter(paused, "ringback_fenced_writes_total") + _counter(paused, "ringback_deliveries_not_owned_total") >= 1
    )
    assert survivor.request("GET", "/healthz")[0] == 200


def _snapshot() -> tuple:
    """Everything an enrollment's owner writes: its row, its steps, its timeline, what the sandbox sent."""
    return (
        sql("SELECT id, status, updated_at FROM enrollment ORDER BY id"),
        sql("SELECT id, status, attempts, updated_at FROM step ORDER BY id"),
        sql("SELECT count(*) FROM event"),
        sql("SELECT count(*) FROM sandbox_delivery"),
    )


def _counter(node, name: str) -> float:
    with urllib.request.urlopen(node.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.split("{")[0].split(" ")[0] == name)


def test_cluster_status_lists_the_nodes_and_their_partitions(cluster, ringback, start_server):
    nodes, _, _ = cluster(2)
    wait_for(lambda: len(owners()) == 2 and sum(owners().values()) == 256, timeout=4 * LEASE)
    status = ringback(["cluster", "status"], ENV)
    assert sorted((n["node_id"], n["partitions"]) for n in status["nodes"]) == [("node-0", 128), ("node-1", 128)]
    assert status["unowned_partitions"] == 0
    # A node with another secret would mint links the others reject: it refuses to join.
    with pytest.raises(AssertionError, match="same RINGBACK_SECRET_KEY"):
        start_server({**ENV, "RINGBACK_NODE_ID": "node-9", "RINGBACK_SECRET_KEY": "another-secret-0123456789abcdef"})
    nodes[1].stop()  # SIGTERM hands its partitions back at once: the other node takes them on its next round
    wait_for(lambda: owners() == {"node-0": 256}, timeout=2 * LEASE)
    assert [n["node_id"] for n in ringback(["cluster", "status"], ENV)["nodes"]] == ["node-0"]


def test_a_second_node_on_one_sqlite_file_refuses_to_start(start_server, tmp_path):
    first = start_server({"RINGBACK_SECRET_KEY": ENV["RINGBACK_SECRET_KEY"]}, data_dir=tmp_path / "shared")
    with pytest.raises(AssertionError, match="SQLite runs exactly one node"):
        start_server({"RINGBACK_SECRET_KEY": ENV["RINGBACK_SECRET_KEY"]}, data_dir=tmp_path / "shared")
    assert first.request("GET", "/healthz")[0] == 200


def test_the_61st_write_of_a_key_within_a_minute_is_refused_whichever_node_it_reaches(cluster):
    nodes, key, template_id = cluster(2, RINGBACK_WRITES_PER_MINUTE="60")
    # Creating the template was this key's first write; 59 starts spread over both nodes fill the minute.
    answers = [
        nodes[n % 2].request("POST", "/api/v1/sequences/start", lead(template_id, n + 1), key) for n in range(59)
    ]
    assert [status for status, _ in answers] == [202] * 59
    for node in nodes:
        status, body = node.request("POST", "/api/v1/sequences/start", lead(template_id, 1000), key)
        assert status == 429 and body["error"]["code"] == "rate_limited", body
    assert sql("SELECT count(*) FROM enrollment")[0][0] == 59
