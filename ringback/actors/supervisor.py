"""The supervisor: router of every event, keeper of live enrollment actors.

Commands (`ringback/commands/`) commit their own transactions on the callers' threads and then tell
the supervisor which enrollment has news (`Deliver`, `StopContact`); the supervisor runs no
transaction of theirs, so starts and decisions never queue behind it.

It owns the map enrollment id → live actor and bounds it (`max_live`); events for enrollments
beyond the bound wait here, in order, never dropped. It re-activates passivated enrollments when
they come due and resumes open ones at start-up, both at a bounded rate so a restart after an
outage does not stampede the providers, and it restarts crashed ones from storage.

No event is lost to an actor's death: pykka drops whatever a dead actor still had in its inbox, so
the supervisor keeps every event it told a live actor until the actor confirms it (`ReleaseMe`),
and hands the unconfirmed ones to the restarted actor.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pykka

from ringback.actors.enrollment import EnrollmentActor
from ringback.actors.messages import (
    Apply,
    Deliver,
    EnrollmentCrashed,
    Fenced,
    ForgetEnrollments,
    PartitionsLost,
    Reconcile,
    Recover,
    ReleaseMe,
    Stats,
    StopContact,
    Tick,
)
from ringback.actors.pacing import Pacer
from ringback.actors.runtime import Runtime
from ringback.actors.unapplied import RECOVERY_KINDS, unapplied
from ringback.cluster.ownership import Ownership, SoleOwner
from ringback.cluster.partitions import partition_of
from ringback.engine import events as ev
from ringback.engine.enrollment import EnrollmentState
from ringback.storage import enrollments, idempotency, send_log
from ringback.storage.db import release as release_connection

log = logging.getLogger(__name__)
Preloaded = tuple[EnrollmentState, enrollments.EnrollmentContext]
MAX_RESTARTS = 3  # restarts in a row (without a clean release in between) before the enrollment is failed
DUE_POLL_SECONDS = 1.0
STOP_LIVE_SECONDS = 10.0
HOUSEKEEPING_SECONDS = 3600.0  # business time between purges of expired idempotency keys
RESCAN_SECONDS = 30.0  # cluster mode: real time between recovery scans (the fallback to a lost NOTIFY)
# Asked (start-up, shutdown's drain): an exception goes back to the caller. Everything else is told,
# and must not kill us.
_ASKED = (Stats,)
# A restarted actor begins with `Recovered`, which re-does what these would (generate, reconcile sends).
_REPLACED_BY_RECOVERY = (ev.Started, ev.Recovered)


@dataclass
class _Live:
    ref: pykka.ActorRef
    seq: int = 0
    unconfirmed: list[tuple[int, ev.Event]] = field(default_factory=list)  # told, not yet confirmed


class Supervisor(pykka.ThreadingActor):
    def __init__(
        self,
        runtime: Runtime,
        max_live: int,
        recovery_rate: float,
        on_metric: Callable[..., None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        due_poll_seconds: float = DUE_POLL_SECONDS,
        ownership: Ownership | None = None,
    ) -> None:
        """`ownership`: which enrollments are this node's (cluster mode); by default all of them."""
        super().__init__()
        self._rt = runtime
        self._max_live = max_live
        self._ownership = ownership or SoleOwner()
        self._recovery_rate = recovery_rate
        self._last_rescan = monotonic()
        self._pacer = Pacer(recovery_rate, monotonic)
        self._monotonic = monotonic
        self._due_poll_seconds = due_poll_seconds
        self._live: dict[str, _Live] = {}
        self._waiting: OrderedDict[str, list[ev.Event]] = OrderedDict()
        self._backlog: deque[str] = deque()
        self._restarts: dict[str, int] = {}
        self._last_poll: tuple[float, datetime] | None = None  # (monotonic, business time) of the last due poll
        self._more_due = False
        self._last_housekeeping: datetime | None = None
        self._erased: set[str] = set()  # erased enrollments: a late provider result for one is dropped
        self._metric = on_metric or (lambda name, value=1, **labels: None)
        self._handlers: dict[type, Callable[[Any], Any]] = {
            Stats: lambda m: self.stats(),
            Deliver: self._route,
            StopContact: self._stop_contact,
            ForgetEnrollments: self._forget,
            ReleaseMe: self._release,
            EnrollmentCrashed: self._crashed,
            Recover: self._recover,
            Reconcile: self._reconcile,
            PartitionsLost: self._partitions_lost,
            Fenced: self._fenced,
            Tick: self._tick,
        }

    # --- message routing ---------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        handler = self._handlers.get(type(message))
        if handler is None:
            log.error("supervisor: unexpected %s", type(message).__name__)
            return None
        try:
            if isinstance(message, _ASKED):
                return handler(message)
            handler(message)
        except Exception:
            if isinstance(message, _ASKED):
                raise
            # Nobody waits for a told message; one bad enrollment (or a locked database) must not stop routing.
            log.exception(
                "supervisor: %s for enrollment %s failed",
                type(message).__name__,
                getattr(message, "enrollment_id", "-"),
            )
            self._metric("supervisor_errors")
        finally:
            release_connection()  # a long-lived thread too: it must not keep a pooled connection between messages
        return None

    def stats(self) -> dict[str, int]:
        return {
            "live_enrollments": len(self._live),
            "waiting_enrollments": len(self._waiting),
            "recovery_backlog": len(self._backlog),
        }

    def _gauges(self) -> None:
        for name, value in self.stats().items():
            self._metric(name, value)

    # --- events ------------------------------------------------------------------------------------

    def _route(self, msg: Deliver) -> None:
        if msg.lease is not None and msg.lease != self._ownership.lease_of(msg.enrollment_id):
            self._metric("deliveries_not_owned")  # asked under a lease since lost: the owner asked again
            return
        self._deliver(msg.enrollment_id, msg.event)

    def _deliver(self, enrollment_id: str, event: ev.Event, preloaded: Preloaded | None = None) -> None:
        """`preloaded`: the enrollment's rows, read in a batch, for the actor spawned here (if one is)."""
        if enrollment_id in self._erased:
            return
        if not self._ownership.owns(enrollment_id):
            # Another node's (cluster mode): it resumes the enrollment from storage; nothing here may touch it.
            self._metric("deliveries_not_owned")
            return
        live = self._live.get(enrollment_id)
        if live is None:
            if enrollment_id in self._waiting or len(self._live) >= self._max_live:
                self._waiting.setdefault(enrollment_id, []).append(event)
                return
            live = self._spawn(enrollment_id, preloaded)
        live.seq += 1
        live.unconfirmed.append((live.seq, event))
        try:
            live.ref.tell(Apply(event, live.seq))
        except pykka.ActorDeadError:
            self._restart(enrollment_id, "the actor stopped")

    def _spawn(self, enrollment_id: str, preloaded: Preloaded | None = None) -> _Live:
        live = self._live[enrollment_id] = _Live(EnrollmentActor.start(enrollment_id, self._rt, preloaded))
        self._metric("live_enrollments", len(self._live))
        return live

    def _admit_waiting(self) -> None:
        while self._waiting and len(self._live) < self._max_live:
            enrollment_id, events = self._waiting.popitem(last=False)
            for event in events:
                self._deliver(enrollment_id, event)
        self._gauges()

    def _release(self, msg: ReleaseMe) -> None:
        live = self._live.get(msg.enrollment_id)
        if live is None or live.ref.actor_urn != msg.actor_urn:
            return
        live.unconfirmed = [(seq, event) for seq, event in live.unconfirmed if seq > msg.last_seq]
        if live.seq != msg.last_seq:
            return  # it has newer events to handle; it will ask again
        del self._live[msg.enrollment_id]
        live.ref.stop(block=False)
        self._restarts.pop(msg.enrollment_id, None)
        self._admit_waiting()

    def _crashed(self, msg: EnrollmentCrashed) -> None:
        live = self._live.get(msg.enrollment_id)
        if live is not None and live.ref.actor_urn == msg.actor_urn:
            if enrollments.workspace_of(msg.enrollment_id) is None:  # erased under it: nothing to rebuild
                self._forget(ForgetEnrollments((msg.enrollment_id,)))
            else:
                self._restart(msg.enrollment_id, msg.error)
        # else: its death was already noticed when an event could not be told, and it was restarted then

    def _restart(self, enrollment_id: str, error: str) -> None:
        """Rebuild a dead enrollment actor from storage; hand it every event the dead one had not confirmed.

        `Recovered` goes first so the state left behind is reconciled (a send in flight, content
        being written) before the replayed facts; the machine ignores facts it has already applied.
        """
        dead = self._live.pop(enrollment_id)
        self._metric("enrollment_crashes")
        count = self._restarts[enrollment_id] = self._restarts.get(enrollment_id, 0) + 1
        replay = [event for _, event in dead.unconfirmed if not isinstance(event, _REPLACED_BY_RECOVERY)]
        if count > MAX_RESTARTS:
            del self._restarts[enrollment_id]
            log.error(
                "enrollment %s crashed %d times in a row; marking it failed (%d unhandled events dropped): %s",
                enrollment_id,
                count,
                len(replay),
                error,
            )
            self._metric("enrollments_failed_by_crashes")
            # The error stays in the log: status_reason is shown to API callers, never an exception's repr.
            reason = f"internal error: processing failed {count} times in a row (see the server log)"
            now = self._rt.clock.now()
            lease = self._ownership.lease_of(enrollment_id)
            self._rt.writer.run(lambda: enrollments.mark_failed(enrollment_id, reason, now), lease=lease)
        else:
            log.warning("enrollment %s: restart %d of %d from storage", enrollment_id, count, MAX_RESTARTS)
            for event in (ev.Recovered(), *replay):
                self._deliver(enrollment_id, event)
        self._admit_waiting()

    def _stop_contact(self, msg: StopContact) -> None:
        if msg.opt_out:
            self._metric("opt_outs", source=msg.opt_out)
        for enrollment_id in enrollments.open_ids_for_contact(msg.contact_id):
            if self._ownership.owns(enrollment_id):
                self._deliver(enrollment_id, ev.Stopped(msg.reason))

    def _forget(self, msg: ForgetEnrollments) -> None:
        """Erased (their rows are gone): stop their actors without a last event, drop what waits for them."""
        self._erased.update(msg.enrollment_ids)
        for enrollment_id in msg.enrollment_ids:
            self._waiting.pop(enrollment_id, None)
            self._restarts.pop(enrollment_id, None)
            live = self._live.pop(enrollment_id, None)
            if live is not None:
                live.ref.stop(block=False)
        self._backlog = deque(i for i in self._backlog if i not in self._erased)
        self._admit_waiting()

    # --- time: recovery pacing and passivated enrollments coming due -------------------------------

    def _recover(self, msg: Recover) -> None:
        partitions = msg.partitions if msg.partitions is not None else self._ownership.partitions()
        busy = set(self._backlog) | set(self._live) | set(self._waiting)
        found = [i for i in enrollments.ids_to_resume(partitions) if i not in busy]
        self._backlog.extend(found)
        if found or msg.partitions is not None:
            log.info("recovery: %d enrollments to resume", len(found))
        self._metric("recovered_enrollments", len(found))
        # Edits, decisions and cancels answered to a caller but lost to the crash (DESIGN §5).
        self._redeliver_unapplied(enrollments.open_timeline_entries(RECOVERY_KINDS, partitions))
        self._gauges()

    def _reconcile(self, msg: Reconcile) -> None:
        """Commands another node accepted for one of ours, told by enrollment id only (the event was too large)."""
        self._redeliver_unapplied(enrollments.open_timeline_entries(RECOVERY_KINDS, enrollment_id=msg.enrollment_id))

    def _redeliver_unapplied(self, found: dict[str, tuple[Any, list[tuple[str, Any]]]]) -> None:
        for enrollment_id, (status, entries) in found.items():
            for event in unapplied(status, entries):
                log.warning("recovery: re-delivering %s for enrollment %s", type(event).__name__, enrollment_id)
                self._deliver(enrollment_id, event)

    def _partitions_lost(self, msg: PartitionsLost) -> None:
        """Their new owner resumes them from storage; our actors' writes for them would be refused anyway."""
        mine = msg.partitions.__contains__
        dropped = [i for i in [*self._live, *self._waiting, *self._backlog] if mine(partition_of(i))]
        for enrollment_id in dropped:
            self._waiting.pop(enrollment_id, None)
            self._restarts.pop(enrollment_id, None)
            live = self._live.pop(enrollment_id, None)
            if live is not None:
                live.ref.stop(block=False)
        self._backlog = deque(i for i in self._backlog if not mine(partition_of(i)))
        self._admit_waiting()

    def _fenced(self, msg: Fenced) -> None:
        """A write or send was refused for want of the lease: stop the actor; resume it if the lease turns out ours."""
        self._metric("fenced_writes")
        live = self._live.pop(msg.enrollment_id, None)
        if live is not None:
            live.ref.stop(block=False)
        if self._ownership.owns(msg.enrollment_id) and msg.enrollment_id not in self._backlog:
            self._backlog.append(msg.enrollment_id)  # resumed by `_tick` with a fresh lease, if still ours then
        self._admit_waiting()

    def _tick(self, tick: Tick) -> None:
        # Cluster mode: the nodes share the pacing, so N nodes resume no faster than one would.
        self._pacer.set_rate(self._recovery_rate / self._ownership.members())
        resuming = []
        while self._backlog and len(self._live) + len(resuming) < self._max_live and self._pacer.take():
            enrollment_id = self._backlog.popleft()
            if self._ownership.owns(enrollment_id):
                resuming.append(enrollment_id)
        self._wake(resuming, ev.Recovered())
        self._rescan()
        if self._backlog:
            self._gauges()
        if self._poll_due_now(tick.now):
            self._activate_due(tick.now)
        self._housekeeping(tick.now)

    def _rescan(self) -> None:
        """Cluster mode: a periodic recovery scan of our partitions, should a NOTIFY have been lost."""
        if self._ownership.partitions() is None or self._monotonic() - self._last_rescan < RESCAN_SECONDS:
            return
        self._last_rescan = self._monotonic()
        self._recover(Recover())

    def _housekeeping(self, now: datetime) -> None:
        """Forget expired idempotency keys (hourly, in business time): the table would otherwise only grow."""
        last = self._last_housekeeping
        if last is not None and (now - last).total_seconds() < HOUSEKEEPING_SECONDS:
            return
        self._last_housekeeping = now
        self._rt.purge_retained(now)
        if idempotency.any_expired(now):  # a read first: an idle node commits nothing for it
            purged = self._rt.writer.run(lambda: idempotency.purge_expired(now))
            log.info("housekeeping: %d expired idempotency keys forgotten", purged)
        # Sends no sending-limit window can count any more.
        self._rt.writer.run(lambda: send_log.purge_older_than(now - send_log.KEEP))

    def _poll_due_now(self, now: datetime) -> bool:
        """Poll storage every `due_poll_seconds` (real or business time), and on every tick while the last
        poll found more due enrollments than it could wake."""
        if self._more_due or self._last_poll is None:
            return True
        real, business = self._last_poll
        interval = self._due_poll_seconds
        return self._monotonic() - real >= interval or (now - business).total_seconds() >= interval

    def _activate_due(self, now: datetime) -> None:
        self._last_poll = (self._monotonic(), now)
        room = min(self._max_live - len(self._live), self._pacer.available())
        # A wave at the bound frees a few places per tick; reading up to max_live due ids for each few made the
        # poll cost O(live) per woken enrollment. Wait for a chunk of room (a twentieth of the bound) instead.
        chunk = max(1, min(self._max_live // 20, int(self._pacer.rate)))
        if room < chunk or self._waiting:
            self._more_due = True  # no room now: try again on the next tick
            return
        waking: list[str] = []
        for enrollment_id in enrollments.due_ids(now, room + len(self._live), self._ownership.partitions()):
            if len(waking) == room:
                break
            if enrollment_id not in self._live and self._pacer.take():
                waking.append(enrollment_id)
        self._wake(waking, ev.Wake())
        self._more_due = len(waking) == room

    def _wake(self, enrollment_ids: list[str], event: ev.Event) -> None:
        """Deliver `event` to each, their rows read in one batch (a few queries, not a few per enrollment)."""
        if not enrollment_ids:
            return
        preloaded = enrollments.load_many([i for i in enrollment_ids if i not in self._live])
        for enrollment_id in enrollment_ids:
            self._deliver(enrollment_id, event, preloaded.get(enrollment_id))

    def on_stop(self) -> None:
        """Stop the live enrollment actors; each first handles the events it already holds (and persists them)."""
        stopping = [live.ref.stop(block=False) for live in self._live.values()]
        deadline = time.monotonic() + STOP_LIVE_SECONDS
        for future in stopping:
            with contextlib.suppress(pykka.Timeout):
                future.get(timeout=max(deadline - time.monotonic(), 0.01))
        self._live.clear()
