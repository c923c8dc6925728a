"""What every enrollment actor needs from the rest of the node, wired once in `node.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pykka

from ringback.actors.pool import Pool
from ringback.clock import Clock
from ringback.cluster.ownership import Ownership, SoleOwner
from ringback.engine.enrollment import EnrollmentState
from ringback.engine.events import TimelineEntry
from ringback.engine.machine import Policy
from ringback.storage.accounts import WorkspaceInfo
from ringback.storage.writer import GroupCommitWriter
from ringback.tokens import TokenSigner


@dataclass
class Runtime:
    clock: Clock
    writer: GroupCommitWriter
    generators: Pool
    dispatchers: Pool
    notifiers: Pool
    signer: TokenSigner
    public_url: str
    passivate_after_seconds: float
    review_token_ttl_days: int
    max_attempts: int
    workspace: Callable[[str], WorkspaceInfo]
    policy: Callable[[str], Policy]
    observe: Callable[[EnrollmentState, tuple[TimelineEntry, ...]], None] = lambda state, timeline: None  # metrics
    purge_retained: Callable[[datetime], object] = lambda now: None  # retention, on the hourly housekeeping
    ownership: Ownership = field(default_factory=SoleOwner)  # cluster mode: the partition leases held
    supervisor: pykka.ActorRef | None = None
    clock_ref: pykka.ActorRef | None = None
