"""The supervisor: single entry for commands, router of every event, keeper of live enrollment actors.

It owns the map enrollment id → live actor and bounds it (`max_live`); events for enrollments
beyond the bound wait here, in order, never dropped. It re-activates passivated enrollments when
they come due, resumes open ones at start-up at a bounded rate, and restarts crashed ones.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee
import pykka

from ringback.actors.enrollment import EnrollmentActor
from ringback.actors.messages import (
    Apply,
    DecideCommand,
    Deliver,
    EnrollmentCrashed,
    Recover,
    ReleaseMe,
    StartCommand,
    Stats,
    StopContact,
    Tick,
)
from ringback.actors.runtime import Runtime
from ringback.engine import events as ev
from ringback.engine.content_guard import validate_edit
from ringback.engine.errors import InvalidInput
from ringback.engine.locale import resolve_language, resolve_timezone
from ringback.engine.model import TERMINAL_ENROLLMENT, EnrollmentStatus
from ringback.storage import contacts, enrollments, idempotency, templates
from ringback.storage.db import write_transaction
from ringback.storage.models import database_proxy

log = logging.getLogger(__name__)
MAX_RESTARTS = 3
DUE_POLL = timedelta(seconds=1)


class NotFound(Exception):
    pass


class Conflict(Exception):
    pass


@dataclass
class _Live:
    ref: pykka.ActorRef
    seq: int = 0


class Supervisor(pykka.ThreadingActor):
    def __init__(self, runtime: Runtime, max_live: int, recovery_rate: float, on_metric=None) -> None:
        super().__init__()
        self._rt = runtime
        self._max_live = max_live
        self._recovery_rate = recovery_rate
        self._live: dict[str, _Live] = {}
        self._waiting: OrderedDict[str, list[ev.Event]] = OrderedDict()
        self._backlog: deque[str] = deque()
        self._restarts: dict[str, int] = {}
        self._last_tick: datetime | None = None
        self._last_due_poll: datetime | None = None
        self._recovery_budget = 0.0
        self._metric = on_metric or (lambda name, value=1: None)

    # --- message routing ---------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        handler = {
            StartCommand: self._start,
            DecideCommand: self._decide,
            Deliver: lambda m: self._deliver(m.enrollment_id, m.event),
            StopContact: self._stop_contact,
            ReleaseMe: self._release,
            EnrollmentCrashed: self._crashed,
            Recover: self._recover,
            Tick: self._tick,
            Stats: lambda m: self.stats(),
        }.get(type(message))
        if handler is None:
            log.error("supervisor: unexpected %s", type(message).__name__)
            return None
        return handler(message)

    def stats(self) -> dict[str, int]:
        return {
            "live_enrollments": len(self._live),
            "waiting_enrollments": len(self._waiting),
            "recovery_backlog": len(self._backlog),
        }

    # --- commands (asked by HTTP threads) ----------------------------------------------------------

    def _start(self, cmd: StartCommand) -> dict[str, Any]:
        now = self._rt.clock.now()
        template = templates.get_template(cmd.workspace_id, cmd.request.template_id)
        if template is None:
            raise NotFound("template")
        workspace = self._rt.workspace(cmd.workspace_id)
        for attempt in range(3):
            try:
                with write_transaction(database_proxy.obj):
                    upserted = contacts.upsert_contact(cmd.workspace_id, cmd.request.contact, now)
                    profile = contacts.profile(upserted.contact_id)
                    if not any(enrollments.plan_recipient(s.channel, profile) for s in template.steps):
                        raise InvalidInput(
                            "contact",
                            "the contact cannot be reached on any of the template's channels "
                            f"({', '.join(sorted(c.value for c in template.allowed_channels))})",
                            code="no_reachable_channel",
                        )
                    language = resolve_language(
                        profile.language, profile.notes, profile.phones, workspace.default_language
                    )
                    zone = resolve_timezone(
                        profile.timezone, profile.notes, profile.phones, workspace.default_timezone
                    )
                    created = enrollments.create(
                        cmd.workspace_id,
                        cmd.request.template_id,
                        template,
                        profile,
                        cmd.mode,
                        cmd.request.auto_approve,
                        language,
                        zone,
                        now,
                        cmd.request.metadata,
                    )
                    body = {
                        "sequence_id": created.sequence_id,
                        "enrollment_id": created.enrollment_id,
                        "contact_id": upserted.contact_id,
                        "contact_created": upserted.created,
                        "match": upserted.match,
                        "status": EnrollmentStatus.GENERATING.value,
                        "review_required": not cmd.request.auto_approve,
                        "language": language.code,
                        "timezone": zone.zone,
                        "status_url": f"/api/v1/sequences/enrollments/{created.enrollment_id}",
                        "metadata": cmd.request.metadata,
                    }
                    if cmd.request.idempotency_key:
                        idempotency.complete(cmd.workspace_id, cmd.request.idempotency_key, 202, body)
                break
            except peewee.IntegrityError:
                # A concurrent writer (another node) created the same contact: the retry finds it.
                if attempt == 2:
                    raise
        self._metric("enrollments_started")
        self._deliver(created.enrollment_id, ev.Started())
        return body

    def _decide(self, cmd: DecideCommand) -> str:
        status = enrollments.status_of(cmd.workspace_id, cmd.enrollment_id)
        if status is None:
            raise NotFound("enrollment")
        now = self._rt.clock.now()
        if cmd.decision == "cancel":
            if status in TERMINAL_ENROLLMENT:
                raise Conflict(f"the enrollment is already {status.value}")
            self._deliver(cmd.enrollment_id, ev.Stopped(cmd.reason or "canceled"))
            return EnrollmentStatus.STOPPED.value
        if status != EnrollmentStatus.PENDING_APPROVAL:
            raise Conflict(f"the enrollment is {status.value}, not pending_approval")
        if cmd.decision == "edit":
            return self._edit(cmd)
        if not enrollments.claim_decision(cmd.enrollment_id, cmd.by, now):
            raise Conflict("the enrollment was already decided")
        if cmd.decision == "approve":
            self._deliver(cmd.enrollment_id, ev.Approved(cmd.by))
            return EnrollmentStatus.ACTIVE.value
        self._deliver(cmd.enrollment_id, ev.Rejected(cmd.by, cmd.reason))
        return EnrollmentStatus.REJECTED.value

    def _edit(self, cmd: DecideCommand) -> str:
        channels = enrollments.step_channels(cmd.enrollment_id)
        allowlist = enrollments.load_context(cmd.enrollment_id).template.link_allowlist
        checked = []
        for index, content in cmd.edits:
            if index not in channels:
                raise InvalidInput("index", f"the sequence has no step {index}")
            result = validate_edit(channels[index], content, allowlist)
            if result.problems:
                raise InvalidInput(f"steps[{index}]", "; ".join(result.problems))
            checked.append((index, result.content))
        for index, content in checked:
            self._deliver(cmd.enrollment_id, ev.StepEdited(index, content, cmd.by))
        return EnrollmentStatus.PENDING_APPROVAL.value

    # --- events ------------------------------------------------------------------------------------

    def _deliver(self, enrollment_id: str, event: ev.Event) -> None:
        live = self._live.get(enrollment_id)
        if live is None:
            if enrollment_id in self._waiting or len(self._live) >= self._max_live:
                self._waiting.setdefault(enrollment_id, []).append(event)
                return
            live = self._spawn(enrollment_id)
        live.seq += 1
        try:
            live.ref.tell(Apply(event, live.seq))
        except pykka.ActorDeadError:
            # It crashed between our last message and this one: start it again from storage.
            self._live.pop(enrollment_id, None)
            self._waiting.setdefault(enrollment_id, []).extend([ev.Recovered(), event])
            self._admit_waiting()

    def _spawn(self, enrollment_id: str) -> _Live:
        ref = EnrollmentActor.start(enrollment_id, self._rt)
        live = self._live[enrollment_id] = _Live(ref)
        self._metric("live_enrollments", len(self._live))
        return live

    def _admit_waiting(self) -> None:
        while self._waiting and len(self._live) < self._max_live:
            enrollment_id, events = self._waiting.popitem(last=False)
            for event in events:
                self._deliver(enrollment_id, event)

    def _release(self, msg: ReleaseMe) -> None:
        live = self._live.get(msg.enrollment_id)
        if live is None or live.ref.actor_urn != msg.actor_urn or live.seq != msg.last_seq:
            return  # it has newer events to handle; it will ask again
        del self._live[msg.enrollment_id]
        live.ref.stop(block=False)
        self._restarts.pop(msg.enrollment_id, None)
        self._metric("live_enrollments", len(self._live))
        self._admit_waiting()

    def _crashed(self, msg: EnrollmentCrashed) -> None:
        live = self._live.get(msg.enrollment_id)
        if live is not None and live.ref.actor_urn == msg.actor_urn:
            del self._live[msg.enrollment_id]
        self._metric("enrollment_crashes")
        count = self._restarts[msg.enrollment_id] = self._restarts.get(msg.enrollment_id, 0) + 1
        if count > MAX_RESTARTS:
            log.error("enrollment %s crashed %d times; marking it failed", msg.enrollment_id, count)
            enrollments.mark_failed(
                msg.enrollment_id, f"crashed {count} times: {msg.error[:200]}", self._rt.clock.now()
            )
            self._restarts.pop(msg.enrollment_id, None)
        else:
            self._deliver(msg.enrollment_id, ev.Recovered())
        self._admit_waiting()

    def _stop_contact(self, msg: StopContact) -> None:
        for enrollment_id in enrollments.open_ids_for_contact(msg.contact_id):
            self._deliver(enrollment_id, ev.Stopped(msg.reason))

    # --- time: recovery pacing and passivated enrollments coming due -------------------------------

    def _recover(self, _: Recover) -> None:
        self._backlog.extend(i for i in enrollments.busy_open_ids() if i not in self._live)
        log.info("recovery: %d enrollments to resume", len(self._backlog))

    def _tick(self, tick: Tick) -> None:
        elapsed = (tick.now - self._last_tick).total_seconds() if self._last_tick else 0.0
        self._last_tick = tick.now
        self._recovery_budget = min(
            self._recovery_budget + max(elapsed, 0.1) * self._recovery_rate, self._recovery_rate
        )
        while self._backlog and self._recovery_budget >= 1 and len(self._live) < self._max_live:
            self._recovery_budget -= 1
            self._deliver(self._backlog.popleft(), ev.Recovered())
        if self._last_due_poll is None or tick.now - self._last_due_poll >= DUE_POLL or not self._live:
            self._last_due_poll = tick.now
            self._activate_due(tick.now)

    def _activate_due(self, now: datetime) -> None:
        room = self._max_live - len(self._live)
        if room <= 0 or len(self._waiting) >= self._max_live:
            return
        for enrollment_id in enrollments.due_ids(now, limit=room + len(self._live)):
            if enrollment_id not in self._live and enrollment_id not in self._waiting:
                self._deliver(enrollment_id, ev.Wake())

    def on_stop(self) -> None:
        for live in list(self._live.values()):
            try:
                live.ref.stop(block=True, timeout=5)
            except (pykka.ActorDeadError, pykka.Timeout):
                pass
        self._live.clear()
