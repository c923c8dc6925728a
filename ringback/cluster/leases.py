"""The lease keeper: holds this node's fair share of the partitions, renewing it every third of a lease.

Protocol (all in database time, one short transaction per round):
1. heartbeat this node's row in `cluster_node`;
2. renew the leases held, at the epoch they were taken — a lease missing from the answer was lost
   (another node claimed it after it expired: this node was paused, partitioned or too slow);
3. fair share: the live nodes (heartbeat younger than a lease) split the partitions evenly, in
   node-id order; hold more than the share → hand the excess back at once (a node joined);
4. hold fewer → claim free or expired partitions (`FOR UPDATE SKIP LOCKED`), bumping their epoch.

Fencing: every enrollment write carries the (partition, epoch) its actor was started under, and the
group-commit writer checks them inside its transaction (`storage/leases.valid`), holding the lease rows
until COMMIT — a node that lost a partition can no longer write for it. Sends are fenced by this node's
own monotonic clock: none starts unless the last successful renewal is recent enough (`may_send`), so
a node resumed after a pause sends nothing before it has renewed and learned what it lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import peewee

from ringback.cluster.partitions import PARTITIONS, partition_of
from ringback.storage import leases
from ringback.storage.db import release as release_connection
from ringback.storage.leases import Lease

log = logging.getLogger(__name__)


class ClusterMisconfigured(RuntimeError):
    """This node cannot join: its settings disagree with the nodes already running on the database."""


def fair_share(nodes: list[str], node_id: str) -> int:
    """Partitions this node should hold when `nodes` (sorted, including this one) share them evenly."""
    if node_id not in nodes:
        return 0
    count, rank = len(nodes), nodes.index(node_id)
    return PARTITIONS // count + (1 if rank < PARTITIONS % count else 0)


class LeaseKeeper:
    def __init__(
        self,
        db: peewee.Database,
        node_id: str,
        ttl_seconds: float,
        on_gained: Callable[[frozenset[int]], None],
        on_lost: Callable[[frozenset[int]], None],
        on_metric: Callable[..., None] = lambda name, value=1, **labels: None,
        announce: Callable[[], None] = lambda: None,
        monotonic: Callable[[], float] = time.monotonic,
        secret_check: str = "",
    ) -> None:
        """`announce()` tells the other nodes to run a round now (this node joined, or handed partitions back).
        `secret_check`: a value signed with the node's secret; nodes whose values differ refuse to share a database."""
        self.node_id = node_id
        self._secret_check = secret_check
        self._db = db
        self._ttl = ttl_seconds
        self._on_gained = on_gained
        self._on_lost = on_lost
        self._metric = on_metric
        self._announce = announce
        self._monotonic = monotonic
        self._held: dict[int, int] = {}  # partition -> epoch
        self._members = 1
        self._sendable_until = 0.0  # monotonic: sends may start until then
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)

    # --- Ownership ---------------------------------------------------------------------------------

    def owns(self, enrollment_id: str) -> bool:
        return partition_of(enrollment_id) in self._held

    def partitions(self) -> frozenset[int] | None:
        with self._lock:
            return frozenset(self._held)

    def lease_of(self, enrollment_id: str) -> Lease | None:
        partition = partition_of(enrollment_id)
        epoch = self._held.get(partition)
        return None if epoch is None else (partition, epoch)

    def may_send(self, enrollment_id: str) -> bool:
        return self.owns(enrollment_id) and self._monotonic() < self._sendable_until

    def members(self) -> int:
        return self._members

    def fence(self, wanted: set[Lease]) -> set[Lease]:
        """For the group-commit writer, inside its transaction: which of these leases are still ours."""
        return leases.valid(self._db, self.node_id, wanted, idle_timeout_seconds=self._idle_timeout())

    # --- life ----------------------------------------------------------------------------------------

    def check_peers(self) -> None:
        """Before anything starts: refuse to join nodes that sign with another secret."""
        try:
            others = leases.other_secrets(self._db, self.node_id, self._ttl)
        finally:
            release_connection()
        if others - {self._secret_check}:
            raise ClusterMisconfigured(
                "another node on this database signs with a different RINGBACK_SECRET_KEY: review and unsubscribe"
                " links would fail on one of them. Give every node the same RINGBACK_SECRET_KEY."
            )

    def start(self) -> LeaseKeeper:
        """One round at once (a node owns its share before it recovers or serves), then one every ttl/3."""
        self.round()
        self._announce()
        self._thread.start()
        return self

    def poke(self) -> None:
        """Run a round now (another node joined or left, or a write was fenced)."""
        self._wake.set()

    def stop(self) -> None:
        """Hand every partition back at once and leave: the other nodes take them over on their next round."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(self._ttl)
        with self._lock:
            held, self._held = sorted(self._held), {}
        try:
            with self._db.atomic():
                leases.release(self._db, self.node_id, held)
                leases.leave(self._db, self.node_id)
            self._announce()
        except peewee.PeeweeException:
            log.warning("cluster: could not hand partitions back; they move after the lease expires", exc_info=True)
        finally:
            release_connection()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._ttl / 3)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self.round()
            except Exception:  # the database is away: keep trying; writes and sends are fenced meanwhile
                log.warning("cluster: lease round failed", exc_info=True)
                self._metric("lease_round_failures")

    # --- one round -------------------------------------------------------------------------------------

    def round(self) -> None:
        started = self._monotonic()
        previous = dict(self._held)
        try:
            with self._db.atomic():
                leases.heartbeat(self._db, self.node_id, self._secret_check)
                held = dict(leases.renew(self._db, self.node_id, list(previous.items()), self._ttl))
                nodes = leases.live_nodes(self._db, self._ttl)
                share = fair_share(nodes, self.node_id)
                excess = sorted(held)[share:]
                leases.release(self._db, self.node_id, excess)
                for partition in excess:
                    del held[partition]
                claimed = leases.claim(self._db, self.node_id, sorted(held), share - len(held), self._ttl)
                held.update((partition, epoch) for partition, epoch, _ in claimed)
        finally:
            release_connection()
        with self._lock:
            self._held = held
            self._members = max(1, len(nodes))
        self._sendable_until = started + self._ttl * 2 / 3
        self._report(previous, held, share, excess, claimed)

    def _report(
        self,
        previous: dict[int, int],
        held: dict[int, int],
        share: int,
        excess: list[int],
        claimed: list[tuple[int, int, str | None]],
    ) -> None:
        lost = frozenset(p for p, epoch in previous.items() if held.get(p) != epoch)
        gained = frozenset(p for p, epoch in held.items() if previous.get(p) != epoch)
        involuntary = lost - set(excess)
        taken_over = [p for p, _, owner in claimed if owner is not None and owner != self.node_id]
        self._metric("lease_renewals")
        self._metric("partitions_owned", len(held))
        if involuntary:
            log.warning("cluster: lost %d partitions (their leases expired and were taken)", len(involuntary))
            self._metric("lease_losses", len(involuntary))
        if excess:
            log.info("cluster: handed %d partitions back for rebalancing", len(excess))
            self._metric("partitions_handed_back", len(excess))
            self._announce()
        if len(held) < share:
            self._announce()  # short of a fair share: the others hand their excess back on their next round
        if taken_over:
            log.warning("cluster: took over %d partitions whose owner stopped renewing", len(taken_over))
            self._metric("lease_takeovers", len(taken_over))
        if lost:
            self._on_lost(lost)
        if gained:
            self._on_gained(gained)

    def _idle_timeout(self) -> float:
        """A writer transaction stalled this long while holding lease rows is ended by the server."""
        return max(1.0, self._ttl / 3)
