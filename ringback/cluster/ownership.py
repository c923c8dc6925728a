"""Which enrollments this node may act for: the interface the supervisor, actors and dispatchers ask.

One node (SQLite, or cluster mode switched off) owns every partition; in cluster mode the
`LeaseKeeper` answers from the leases it holds.
"""

from __future__ import annotations

from typing import Protocol

from ringback.storage.leases import Lease


class Ownership(Protocol):
    def owns(self, enrollment_id: str) -> bool:
        """This node holds the enrollment's partition (events for it are handled here)."""

    def partitions(self) -> frozenset[int] | None:
        """The partitions held, to filter due waves and recovery; None: all of them."""

    def lease_of(self, enrollment_id: str) -> Lease | None:
        """The (partition, epoch) to fence this enrollment's writes with; None: nothing to fence."""

    def may_send(self, enrollment_id: str) -> bool:
        """The lease is held and, by this node's own clock, far enough from expiring to start a send."""

    def members(self) -> int:
        """Live nodes sharing the work (pacing is divided among them)."""


class SoleOwner:
    """One node: everything is ours, nothing is fenced."""

    def owns(self, enrollment_id: str) -> bool:
        return True

    def partitions(self) -> frozenset[int] | None:
        return None

    def lease_of(self, enrollment_id: str) -> Lease | None:
        return None

    def may_send(self, enrollment_id: str) -> bool:
        return True

    def members(self) -> int:
        return 1
