"""Start a sequence: the headline write, one unit of the group-commit writer per request.

Idempotency key, contact upsert, notes, sequence, enrollment, steps and the stored answer are one
transaction, so a crash leaves either all of it or none of it. Only after the commit does the
supervisor hear of the new enrollment; should the node die in between, start-up recovery resumes
every enrollment still `generating`. Many HTTP threads run this at once: nothing here waits for the
supervisor, and their transactions share commits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee

from ringback.actors.messages import Deliver
from ringback.clock import Clock
from ringback.commands.erased import ErasedCheck
from ringback.commands.errors import IdempotencyMismatch, KeyInFlight, NotFound
from ringback.engine import events as ev
from ringback.engine.errors import InvalidInput
from ringback.engine.lead import StartRequest
from ringback.engine.locale import resolve_language, resolve_timezone
from ringback.engine.model import EnrollmentStatus
from ringback.engine.template import TemplateDef
from ringback.storage import contacts, enrollments, idempotency, templates
from ringback.storage.accounts import WorkspaceInfo
from ringback.storage.writer import GroupCommitWriter, OutcomeUnknown

CONTACT_RACE_RETRIES = 3  # another node may create the same contact between our read and insert


@dataclass(frozen=True)
class Started:
    body: dict[str, Any]
    replayed: bool = False  # the key's stored answer, not a new enrollment


class KeysInFlight:
    """The idempotency keys whose start this node is still running (a second request meets 409)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: set[tuple[str, str]] = set()

    def take(self, workspace_id: str, key: str) -> bool:
        with self._lock:
            if (workspace_id, key) in self._keys:
                return False
            self._keys.add((workspace_id, key))
            return True

    def give_back(self, workspace_id: str, key: str) -> None:
        with self._lock:
            self._keys.discard((workspace_id, key))


class StartSequence:
    def __init__(
        self,
        writer: GroupCommitWriter,
        clock: Clock,
        workspace: Callable[[str], WorkspaceInfo],
        tell_supervisor: Callable[[Any], None],
        idempotency_ttl: timedelta,
        timeout_seconds: float,
        erased: ErasedCheck,
        on_started: Callable[[], None] = lambda: None,
    ) -> None:
        self._erased = erased
        self._writer = writer
        self._clock = clock
        self._workspace = workspace
        self._tell = tell_supervisor
        self._ttl = idempotency_ttl
        self._timeout = timeout_seconds
        self._on_started = on_started
        self._in_flight = KeysInFlight()

    def __call__(self, workspace_id: str, mode: str, request: StartRequest, fingerprint: str) -> Started:
        """Raises InvalidInput, NotFound, IdempotencyMismatch, KeyInFlight, or OutcomeUnknown when the
        answer did not come in time (the work may still commit; the key stays taken until it has)."""
        template = templates.get_template(workspace_id, request.template_id)
        if template is None:
            raise NotFound("template not found", "template_id")
        key = request.idempotency_key
        if key and not self._in_flight.take(workspace_id, key):
            raise KeyInFlight(key)
        future = self._submit(workspace_id, mode, request, template, fingerprint)
        if key:
            future.add_done_callback(lambda _: self._in_flight.give_back(workspace_id, key))
        try:
            outcome = future.result(self._timeout)
        except FutureTimeout:
            raise OutcomeUnknown("the start was not committed in time; retry with the same idempotency key") from None
        if isinstance(outcome, idempotency.Mismatch):
            raise IdempotencyMismatch()
        if isinstance(outcome, idempotency.Replay):
            return Started(outcome.body, replayed=True)
        return Started(outcome)

    def _submit(
        self, workspace_id: str, mode: str, request: StartRequest, template: TemplateDef, fingerprint: str
    ) -> Future[Any]:
        """The unit, retried on a contact race; the supervisor hears of the enrollment once it is durable."""
        workspace = self._workspace(workspace_id)
        done: Future[Any] = Future()

        def attempt(tries_left: int) -> None:
            now = self._clock.now()
            unit = self._writer.submit(
                lambda: _start_unit(
                    workspace_id, mode, request, template, workspace, fingerprint, now, self._ttl, self._erased
                )
            )
            unit.add_done_callback(lambda f: settle(f, tries_left))

        def settle(unit: Future[Any], tries_left: int) -> None:
            error = unit.exception()
            if isinstance(error, peewee.IntegrityError) and tries_left > 1:
                attempt(tries_left - 1)
                return
            if error is not None:
                done.set_exception(error)
                return
            outcome = unit.result()
            if isinstance(outcome, dict):
                self._on_started()
                self._tell(Deliver(outcome["enrollment_id"], ev.Started()))
            done.set_result(outcome)

        attempt(CONTACT_RACE_RETRIES)
        return done


def _start_unit(
    workspace_id: str,
    mode: str,
    request: StartRequest,
    template: TemplateDef,
    workspace: WorkspaceInfo,
    fingerprint: str,
    now: datetime,
    ttl: timedelta,
    erased: ErasedCheck,
) -> dict[str, Any] | idempotency.Replay | idempotency.Mismatch:
    key = request.idempotency_key
    if key:
        known = idempotency.lookup(workspace_id, key, fingerprint, now)
        if known is not None:
            return known
    erased.refuse(workspace_id, request.contact)
    upserted = contacts.upsert_contact(workspace_id, request.contact, now)
    profile = contacts.profile_of(upserted)
    if not any(enrollments.plan_recipient(s.channel, profile) for s in template.steps):
        raise InvalidInput(
            "contact",
            "the contact cannot be reached on any of the template's channels "
            f"({', '.join(sorted(c.value for c in template.allowed_channels))})",
            code="no_reachable_channel",
        )
    language = resolve_language(profile.language, profile.notes, profile.phones, workspace.default_language)
    zone = resolve_timezone(profile.timezone, profile.notes, profile.phones, workspace.default_timezone)
    created = enrollments.create(
        workspace_id,
        request.template_id,
        template,
        profile,
        mode,
        request.auto_approve,
        language,
        zone,
        now,
        request.metadata,
    )
    body = {
        "sequence_id": created.sequence_id,
        "enrollment_id": created.enrollment_id,
        "contact_id": upserted.contact_id,
        "contact_created": upserted.created,
        "match": upserted.match,
        "status": EnrollmentStatus.GENERATING.value,
        "review_required": not request.auto_approve,
        "language": language.code,
        "timezone": zone.zone,
        "status_url": f"/api/v1/sequences/enrollments/{created.enrollment_id}",
        "metadata": request.metadata,
    }
    if key:
        idempotency.store(workspace_id, key, fingerprint, 202, body, now, ttl)
    return body
