"""Partition leases and the node list in PostgreSQL (cluster mode; tables made by migration 0010).

Every decision is taken in database time (`clock_timestamp()`), so the nodes' clocks never have to
agree. A lease is (owner, epoch, expires_at): a claim bumps the epoch, so a write fenced by an older
epoch is refused even if the old owner comes back (ringback/cluster/leases.py explains the protocol).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee

from ringback.storage.writer import Lease  # (partition, epoch): the writer fences units with them


@dataclass(frozen=True)
class NodeRow:
    node_id: str
    started_at: datetime
    heartbeat_age_seconds: float
    partitions: tuple[int, ...]
    lease_expires_in_seconds: float | None  # the soonest of its leases; renewals push it forward


def heartbeat(db: peewee.Database, node_id: str, secret_check: str) -> None:
    db.execute_sql(
        "INSERT INTO cluster_node (node_id, started_at, heartbeat_at, secret_check)"
        " VALUES (%s, clock_timestamp(), clock_timestamp(), %s)"
        " ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = clock_timestamp(), secret_check = EXCLUDED.secret_check",
        (node_id, secret_check),
    )


def other_secrets(db: peewee.Database, node_id: str, ttl_seconds: float) -> set[str]:
    """The secret checks of the other live nodes (a value signed with each node's secret, never the secret)."""
    cursor = db.execute_sql(
        "SELECT DISTINCT secret_check FROM cluster_node"
        " WHERE node_id <> %s AND heartbeat_at > clock_timestamp() - make_interval(secs => %s)",
        (node_id, ttl_seconds),
    )
    return {row[0] for row in cursor.fetchall()}


def live_nodes(db: peewee.Database, ttl_seconds: float) -> list[str]:
    """Nodes whose heartbeat is younger than a lease: they share the partitions."""
    cursor = db.execute_sql(
        "SELECT node_id FROM cluster_node WHERE heartbeat_at > clock_timestamp() - make_interval(secs => %s)"
        " ORDER BY node_id",
        (ttl_seconds,),
    )
    return [row[0] for row in cursor.fetchall()]


def renew(db: peewee.Database, node_id: str, held: list[Lease], ttl_seconds: float) -> set[Lease]:
    """Extend the leases still ours at the epoch we hold them; what is missing from the answer was lost."""
    if not held:
        return set()
    cursor = db.execute_sql(
        "UPDATE partition_lease SET expires_at = clock_timestamp() + make_interval(secs => %s)"
        " WHERE owner = %s AND (partition, epoch) IN (SELECT * FROM unnest(%s::smallint[], %s::bigint[]))"
        " RETURNING partition, epoch",
        (ttl_seconds, node_id, [p for p, _ in held], [e for _, e in held]),
    )
    return {(row[0], row[1]) for row in cursor.fetchall()}


def claim(
    db: peewee.Database, node_id: str, held: list[int], count: int, ttl_seconds: float
) -> list[tuple[int, int, str | None]]:
    """Take up to `count` free or expired partitions (and any our own earlier run of this node id left).

    Returns (partition, new epoch, previous owner). SKIP LOCKED: a partition whose lease row a writer
    holds (fencing a commit in flight) or another claimer is taking is simply not ours this round.
    """
    if count <= 0:
        return []
    cursor = db.execute_sql(
        "WITH free AS ("
        "  SELECT partition, owner FROM partition_lease"
        "  WHERE (owner IS NULL OR owner = %s OR expires_at < clock_timestamp())"
        "  AND NOT partition = ANY(%s::smallint[])"
        "  ORDER BY partition LIMIT %s FOR UPDATE SKIP LOCKED)"
        " UPDATE partition_lease AS l SET owner = %s, epoch = l.epoch + 1,"
        "  expires_at = clock_timestamp() + make_interval(secs => %s)"
        " FROM free WHERE l.partition = free.partition"
        " RETURNING l.partition, l.epoch, free.owner",
        (node_id, held, count, node_id, ttl_seconds),
    )
    return [(row[0], row[1], row[2]) for row in cursor.fetchall()]


def release(db: peewee.Database, node_id: str, partitions: list[int]) -> None:
    """Hand partitions back at once (rebalancing, shutdown): writes fenced by them are refused from now."""
    if partitions:
        db.execute_sql(
            "UPDATE partition_lease SET owner = NULL, expires_at = clock_timestamp()"
            " WHERE owner = %s AND partition = ANY(%s::smallint[])",
            (node_id, partitions),
        )


def leave(db: peewee.Database, node_id: str) -> None:
    db.execute_sql("DELETE FROM cluster_node WHERE node_id = %s", (node_id,))


def valid(db: peewee.Database, node_id: str, wanted: set[Lease], idle_timeout_seconds: float) -> set[Lease]:
    """The fence, run inside the writer's transaction: which of these leases we still hold, locked until COMMIT.

    FOR SHARE: another node's claim skips a lease row locked here (SKIP LOCKED) until this transaction
    ends, so nothing committed here can land after someone else took the partition over. And should this
    process stall while holding the locks (paused, swapped out), `idle_in_transaction_session_timeout`
    has the server end its transaction: the COMMIT then fails and nothing is written.
    """
    cursor = db.execute_sql(
        "SET LOCAL idle_in_transaction_session_timeout = %s;"
        " SELECT partition, epoch FROM partition_lease"
        " WHERE owner = %s AND partition = ANY(%s::smallint[]) AND expires_at > clock_timestamp()"
        " FOR SHARE",
        (int(idle_timeout_seconds * 1000), node_id, sorted({p for p, _ in wanted})),
    )
    return wanted & {(row[0], row[1]) for row in cursor.fetchall()}


def status(db: peewee.Database) -> list[NodeRow]:
    """Every registered node with its partitions (for `ringback cluster status`)."""
    nodes = db.execute_sql(
        "SELECT node_id, started_at, EXTRACT(EPOCH FROM clock_timestamp() - heartbeat_at) FROM cluster_node"
        " ORDER BY node_id"
    ).fetchall()
    leases = db.execute_sql(
        "SELECT owner, array_agg(partition ORDER BY partition),"
        " EXTRACT(EPOCH FROM min(expires_at) - clock_timestamp()) FROM partition_lease"
        " WHERE owner IS NOT NULL AND expires_at > clock_timestamp() GROUP BY owner"
    ).fetchall()
    owned = {owner: (tuple(parts), age) for owner, parts, age in leases}
    rows = []
    for node_id, started_at, age in nodes:
        parts, expires_in = owned.get(node_id, ((), None))
        rows.append(NodeRow(node_id, started_at, float(age), parts, None if expires_in is None else float(expires_in)))
    return rows


def unowned(db: peewee.Database) -> int:
    """Partitions nobody holds right now (after a crash, until the lease expires and someone claims them)."""
    return db.execute_sql(
        "SELECT count(*) FROM partition_lease WHERE owner IS NULL OR expires_at <= clock_timestamp()"
    ).fetchone()[0]
