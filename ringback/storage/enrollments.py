"""Sequences, enrollments and steps: creation, the state the actors rebuild from, and API views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ringback.cluster.partitions import partition_of
from ringback.engine.enrollment import EnrollmentState, StepState
from ringback.engine.events import TimelineEntry
from ringback.engine.locale import LanguageChoice, TimezoneChoice
from ringback.engine.model import TERMINAL_ENROLLMENT, Channel, EnrollmentStatus, StepContent, StepStatus
from ringback.engine.template import TemplateDef
from ringback.engine.time_wish import TimeWish, latest_time_wish
from ringback.engine.webhook_events import created as created_event
from ringback.engine.webhook_events import derive
from ringback.ids import new_id
from ringback.storage import contacts, fastsql, outbox, templates
from ringback.storage.contacts import ContactProfile, profile
from ringback.storage.models import Enrollment, Event, Sequence, Step
from ringback.storage.timestamps import iso

OPEN_STATUSES = [s.value for s in EnrollmentStatus if s not in TERMINAL_ENROLLMENT]


def _in_partitions(query: Any, partitions: frozenset[int] | None) -> Any:
    """`partitions`: those a node owns in cluster mode; None on one node (SQLite), which owns them all."""
    return query if partitions is None else query.where(Enrollment.partition.in_(sorted(partitions)))


@dataclass(frozen=True)
class Created:
    sequence_id: str
    enrollment_id: str


@dataclass(frozen=True)
class EnrollmentContext:
    """The slow-changing facts an enrollment actor needs to write and send its steps."""

    enrollment_id: str
    workspace_id: str
    sequence_id: str
    template_id: str
    template: TemplateDef
    contact: ContactProfile
    language: str
    timezone: str
    mode: str
    step_ids: tuple[str, ...]


def plan_recipient(channel: Channel, contact: ContactProfile) -> str | None:
    """Recipients come from the contact record, never from generated content."""
    if channel == Channel.EMAIL:
        return contact.emails[0] if contact.emails else None
    return contact.phones[0] if contact.phones else None


def create(
    workspace_id: str,
    template_id: str,
    template: TemplateDef,
    contact: ContactProfile,
    mode: str,
    auto_approve: bool,
    language: LanguageChoice,
    zone: TimezoneChoice,
    now: datetime,
    metadata: dict[str, str] | None = None,
) -> Created:
    """Insert the sequence, the enrollment (generating) and its steps. Call inside the start transaction."""
    sequence_id, enrollment_id = new_id("seq"), new_id("enr")
    fastsql.insert(
        Sequence,
        {
            "id": sequence_id,
            "workspace": workspace_id,
            "template": template_id,
            "contact": contact.id,
            "created_at": now,
        },
    )
    fastsql.insert(
        Enrollment,
        {
            "id": enrollment_id,
            "workspace": workspace_id,
            "sequence": sequence_id,
            "contact": contact.id,
            "template": template_id,
            "status": EnrollmentStatus.GENERATING.value,
            "mode": mode,
            "auto_approve": auto_approve,
            "language": language.code,
            "language_source": language.source,
            "timezone": zone.zone,
            "timezone_candidates": list(zone.candidates or (zone.zone,)),
            "timezone_source": zone.source,
            "time_wish": wish.to_json() if (wish := latest_time_wish(contact.notes)) else None,
            "metadata": metadata or {},
            "partition": partition_of(enrollment_id),
            "created_at": now,
            "updated_at": now,
        },
    )
    rows = []
    for plan in template.steps:
        recipient = plan_recipient(plan.channel, contact)
        rows.append(
            {
                "id": new_id("stp"),
                "enrollment": enrollment_id,
                "index": plan.index,
                "channel": plan.channel.value,
                "delay_seconds": plan.delay_seconds,
                "recipient": recipient,
                "status": (StepStatus.PLANNED if recipient else StepStatus.SKIPPED).value,
                "note": None
                if recipient
                else f"contact has no {'email address' if plan.channel == Channel.EMAIL else 'phone number'}",
                "updated_at": now,
            }
        )
    fastsql.insert_many(Step, rows)
    add_events(workspace_id, enrollment_id, [TimelineEntry("enrollment.created", {"mode": mode})], now)
    outbox.record(workspace_id, [created_event(enrollment_id, sequence_id, contact.id, template_id, mode)], now)
    return Created(sequence_id, enrollment_id)


_STEP_COLUMNS = (
    "status",
    "scheduled_for",
    "attempts",
    "provider",
    "provider_id",
    "delivery_rank",
    "sent_at",
    "delivered_at",
    "last_error_code",
    "last_error",
    "note",
    "waiting_for",
)
# What the actors read back: the columns a transition writes, and those fixed at creation or by content.
_STEP_FIELDS = (
    "id",
    "index",
    "channel",
    "delay_seconds",
    "recipient",
    "subject",
    "body",
    "voicemail_body",
    *_STEP_COLUMNS,
)
_ENROLLMENT_FIELDS = (
    "id",
    "workspace",
    "sequence",
    "contact",
    "template",
    "status",
    "mode",
    "auto_approve",
    "language",
    "timezone",
    "timezone_candidates",
    "anchor_at",
    "generation_attempts",
    "admins_notified_at",
    "status_reason",
    "time_wish",
)


def _step_state(row: dict[str, Any]) -> StepState:
    body = row["body"]
    content = None
    if body is not None:
        content = StepContent(body=body, subject=row["subject"], voicemail=row["voicemail_body"])
    return StepState(
        index=row["index"],
        channel=Channel(row["channel"]),
        delay_seconds=row["delay_seconds"],
        status=StepStatus(row["status"]),
        recipient=row["recipient"],
        scheduled_for=row["scheduled_for"],
        content=content,
        attempts=row["attempts"],
        provider=row["provider"],
        provider_id=row["provider_id"],
        delivery_rank=row["delivery_rank"],
        sent_at=row["sent_at"],
        delivered_at=row["delivered_at"],
        last_error_code=row["last_error_code"],
        last_error=row["last_error"],
        note=row["note"],
        waiting_for=row["waiting_for"],
    )


def _rows(enrollment_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The enrollment row and its steps in order: two statements whose SQL is composed once (storage/fastsql)."""
    row = fastsql.select_one(Enrollment, _ENROLLMENT_FIELDS, id=enrollment_id)
    if row is None:
        raise Enrollment.DoesNotExist(enrollment_id)
    steps = sorted(fastsql.select(Step, _STEP_FIELDS, enrollment=enrollment_id), key=lambda s: s["index"])
    return row, steps


def _state(row: dict[str, Any], steps: list[dict[str, Any]]) -> EnrollmentState:
    return EnrollmentState(
        id=row["id"],
        status=EnrollmentStatus(row["status"]),
        auto_approve=row["auto_approve"],
        sandbox=row["mode"] == "test",
        steps=tuple(_step_state(s) for s in steps),
        timezone_candidates=tuple(row["timezone_candidates"]),
        anchor_at=row["anchor_at"],
        generation_attempts=row["generation_attempts"],
        admins_notified=row["admins_notified_at"] is not None,
        status_reason=row["status_reason"],
        time_wish=TimeWish.from_json(row["time_wish"]) if row["time_wish"] else None,
    )


def _context(
    row: dict[str, Any], steps: list[dict[str, Any]], contact: ContactProfile | None = None
) -> EnrollmentContext:
    template = templates.get_template(row["workspace"], row["template"])
    if template is None:
        raise LookupError(f"enrollment {row['id']}: template {row['template']} is gone")
    return EnrollmentContext(
        enrollment_id=row["id"],
        workspace_id=row["workspace"],
        sequence_id=row["sequence"],
        template_id=row["template"],
        template=template,
        contact=contact or profile(row["contact"]),
        language=row["language"],
        timezone=row["timezone"],
        mode=row["mode"],
        step_ids=tuple(s["id"] for s in steps),
    )


def load_state(enrollment_id: str) -> EnrollmentState:
    return _state(*_rows(enrollment_id))


def load_context(enrollment_id: str) -> EnrollmentContext:
    return _context(*_rows(enrollment_id))


BATCH_LOAD = 500  # ids per IN (...): well under SQLite's bound-variable limit


def load_many(enrollment_ids: list[str]) -> dict[str, tuple[EnrollmentState, EnrollmentContext]]:
    """Many enrollments' state and context in a few queries per batch: what a due wave or recovery wakes at once.

    An id that no longer exists (erased a moment ago) is simply absent; its actor loads, and fails, by itself."""
    loaded: dict[str, tuple[EnrollmentState, EnrollmentContext]] = {}
    for start in range(0, len(enrollment_ids), BATCH_LOAD):
        chunk = enrollment_ids[start : start + BATCH_LOAD]
        columns = [getattr(Enrollment, name) for name in _ENROLLMENT_FIELDS]
        rows = list(Enrollment.select(*columns).where(Enrollment.id.in_(chunk)).dicts())
        steps: dict[str, list[dict[str, Any]]] = {}
        step_columns = [getattr(Step, name) for name in ("enrollment", *_STEP_FIELDS)]
        for step in Step.select(*step_columns).where(Step.enrollment.in_(chunk)).dicts():
            steps.setdefault(step["enrollment"], []).append(step)
        people = contacts.profiles(sorted({row["contact"] for row in rows}))
        for row in rows:
            ordered = sorted(steps.get(row["id"], []), key=lambda s: s["index"])
            loaded[row["id"]] = (_state(row, ordered), _context(row, ordered, people.get(row["contact"])))
    return loaded


def load(enrollment_id: str) -> tuple[EnrollmentState, EnrollmentContext]:
    """Both, from one read of the rows: what an enrollment actor needs when it becomes live."""
    row, steps = _rows(enrollment_id)
    return _state(row, steps), _context(row, steps)




def save(
    previous: EnrollmentState,
    state: EnrollmentState,
    workspace_id: str,
    timeline: tuple[TimelineEntry, ...],
    now: datetime,
    next_wake_at: datetime | None,
) -> None:
    """Persist one transition: the enrollment row, the steps that changed, the timeline and the outbound
    events it makes (docs/webhooks.md). One transaction."""
    with Enrollment._meta.database.atomic():
        changes: dict[str, Any] = {
            "status": state.status.value,
            "anchor_at": state.anchor_at,
            "status_reason": state.status_reason,
            "generation_attempts": state.generation_attempts,
            "next_wake_at": next_wake_at,
            "updated_at": now,
        }
        if state.admins_notified and not previous.admins_notified:
            changes["admins_notified_at"] = now
        fastsql.update(Enrollment, changes, id=state.id)
        for old, new in zip(previous.steps, state.steps, strict=True):
            if old == new:
                continue
            step_changes: dict[str, Any] = {name: getattr(new, name) for name in _STEP_COLUMNS}
            step_changes["status"] = new.status.value
            if new.content != old.content and new.content is not None:
                step_changes.update(
                    subject=new.content.subject, body=new.content.body, voicemail_body=new.content.voicemail
                )
            fastsql.update(Step, {"updated_at": now, **step_changes}, enrollment=state.id, index=new.index)
        add_events(workspace_id, state.id, list(timeline), now)
        outbox.record(workspace_id, derive(previous, state), now)


def add_events(
    workspace_id: str, enrollment_id: str | None, entries: list[TimelineEntry], now: datetime
) -> None:
    fastsql.insert_many(
        Event,
        [
            {
                "id": new_id("evt"),
                "workspace": workspace_id,
                "enrollment": enrollment_id,
                "kind": e.kind,
                "detail": dict(e.detail),
                "created_at": now,
            }
            for e in entries
        ],
    )


def set_sequence_model(sequence_id: str, model: str) -> None:
    Sequence.update(model=model).where(Sequence.id == sequence_id, Sequence.model.is_null()).execute()


def created_at(enrollment_id: str) -> datetime:
    return Enrollment.select(Enrollment.created_at).where(Enrollment.id == enrollment_id).get().created_at


def workspace_of(enrollment_id: str) -> str | None:
    row = Enrollment.select(Enrollment.workspace).where(Enrollment.id == enrollment_id).first()
    return row.workspace_id if row else None


def status_of(workspace_id: str, enrollment_id: str) -> EnrollmentStatus | None:
    row = (
        Enrollment.select(Enrollment.status)
        .where(Enrollment.id == enrollment_id, Enrollment.workspace == workspace_id)
        .first()
    )
    return EnrollmentStatus(row.status) if row else None


def open_enrollment_ids(limit: int | None = None) -> list[str]:
    """Every enrollment that is not finished, oldest first (recovery at start-up)."""
    query = (
        Enrollment.select(Enrollment.id)
        .where(Enrollment.status.in_(OPEN_STATUSES))
        .order_by(Enrollment.created_at)
    )
    if limit:
        query = query.limit(limit)
    return [row.id for row in query]


def ids_to_resume(partitions: frozenset[int] | None = None) -> list[str]:
    """Enrollments that cannot be left passive: still generating, waiting to tell the admins, with no wake
    time, or with a send in flight (even a stopped one: its interrupted send must still be settled)."""
    sending = Step.select(Step.enrollment).where(Step.status == StepStatus.SENDING.value)
    status = Enrollment.status
    query = (
        Enrollment.select(Enrollment.id)
        .where(
            (status == EnrollmentStatus.GENERATING.value)
            | ((status == EnrollmentStatus.PENDING_APPROVAL.value) & Enrollment.admins_notified_at.is_null())
            | ((status == EnrollmentStatus.ACTIVE.value) & Enrollment.next_wake_at.is_null())
            | Enrollment.id.in_(sending)
        )
        .order_by(Enrollment.created_at)
    )
    return [row.id for row in _in_partitions(query, partitions)]


def open_timeline_entries(
    kinds: tuple[str, ...], partitions: frozenset[int] | None = None, enrollment_id: str | None = None
) -> dict[str, tuple[EnrollmentStatus, list[tuple[str, Any]]]]:
    """Per open enrollment that has any: its status and its timeline entries of these kinds, oldest first."""
    query = (
        Event.select(Event.kind, Event.detail, Enrollment.id, Enrollment.status)
        .join(Enrollment)
        .where(Event.kind.in_(kinds), Enrollment.status.in_(OPEN_STATUSES))
        .order_by(Event.created_at, Event.id)
    )
    query = _in_partitions(query, partitions)
    if enrollment_id is not None:
        query = query.where(Enrollment.id == enrollment_id)
    found: dict[str, tuple[EnrollmentStatus, list[tuple[str, Any]]]] = {}
    for row in query:
        status = EnrollmentStatus(row.enrollment.status)
        found.setdefault(row.enrollment.id, (status, []))[1].append((row.kind, row.detail))
    return found


def due_ids(now: datetime, limit: int, partitions: frozenset[int] | None = None) -> list[str]:
    """Polled every tick while a wave lasts: plain tuples, no model objects."""
    query = (
        Enrollment.select(Enrollment.id)
        .where(Enrollment.status == EnrollmentStatus.ACTIVE.value, Enrollment.next_wake_at <= now)
        .order_by(Enrollment.next_wake_at)
        .limit(limit)
    )
    return [enrollment_id for (enrollment_id,) in _in_partitions(query, partitions).tuples()]


def ids_for_contact(contact_id: str) -> list[str]:
    """Every enrollment of the contact, oldest first."""
    query = Enrollment.select(Enrollment.id).where(Enrollment.contact == contact_id)
    return [row.id for row in query.order_by(Enrollment.created_at, Enrollment.id)]


def open_ids_for_contact(contact_id: str) -> list[str]:
    query = Enrollment.select(Enrollment.id).where(
        Enrollment.contact == contact_id, Enrollment.status.in_(OPEN_STATUSES)
    )
    return [row.id for row in query]


def find_step_by_provider_id(provider_id: str) -> tuple[str, str, int] | None:
    """(workspace id, enrollment id, step index) for a provider's message or call id."""
    return _locate_step(Step.provider_id == provider_id)


def find_step(step_id: str) -> tuple[str, str, int] | None:
    """(workspace id, enrollment id, step index) for one of our step ids (as in a status callback URL).

    Asked before every send: two statements composed once (storage/fastsql) instead of a join."""
    step = fastsql.select_one(Step, ("enrollment", "index"), id=step_id)
    if step is None:
        return None
    enrollment = fastsql.select_one(Enrollment, ("workspace",), id=step["enrollment"])
    return (enrollment["workspace"], step["enrollment"], step["index"]) if enrollment else None


def _locate_step(condition: Any) -> tuple[str, str, int] | None:
    row = Step.select(Step.index, Enrollment.id, Enrollment.workspace).join(Enrollment).where(condition).first()
    if row is None:
        return None
    return row.enrollment.workspace_id, row.enrollment.id, row.index


def enrollment_view(
    workspace_id: str, enrollment_id: str, public_url: str = "", timeline_limit: int | None = 200
) -> dict[str, Any] | None:
    """The API view; `timeline_limit=None` gives the whole timeline (a contact's data export)."""
    row = (
        Enrollment.select(Enrollment, Sequence)
        .join(Sequence)
        .where(Enrollment.id == enrollment_id, Enrollment.workspace == workspace_id)
        .first()
    )
    if row is None:
        return None
    steps = Step.select().where(Step.enrollment == enrollment_id).order_by(Step.index)
    events = (
        Event.select()
        .where(Event.enrollment == enrollment_id)
        .order_by(Event.created_at, Event.id)
        .limit(timeline_limit)
    )
    status = EnrollmentStatus(row.status)
    return {
        "id": row.id,
        "enrollment_id": row.id,
        "sequence_id": row.sequence_id,
        "contact_id": row.contact_id,
        "template_id": row.template_id,
        "status": status.value,
        "status_reason": row.status_reason,
        "mode": row.mode,
        "auto_approve": row.auto_approve,
        "review": _review_state(row),
        "language": row.language,
        "language_source": row.language_source,
        "timezone": row.timezone,
        "timezone_source": row.timezone_source,
        "time_preference": row.time_wish,
        "model": row.sequence.model,
        "metadata": row.metadata,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "steps": [_step_view(s) for s in steps],
        "timeline": [
            {"at": iso(e.created_at), "kind": e.kind, **({"detail": e.detail} if e.detail else {})}
            for e in events
        ],
    }


def _review_state(row: Enrollment) -> dict[str, Any]:
    if row.auto_approve:
        return {"required": False, "state": "auto_approved"}
    state = {
        EnrollmentStatus.GENERATING.value: "waiting_for_content",
        EnrollmentStatus.PENDING_APPROVAL.value: "pending",
        EnrollmentStatus.REJECTED.value: "rejected",
        EnrollmentStatus.FAILED.value: "not_reviewed",
    }.get(row.status, "approved" if row.decided_at else "not_reviewed")
    return {
        "required": True,
        "state": state,
        "decided_at": iso(row.decided_at),
        "decided_by": row.decided_by,
        "admins_notified_at": iso(row.admins_notified_at),
    }


def _step_view(row: Step) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if row.body is not None:
        key = {"email": "body", "sms": "body", "voice": "script"}[row.channel]
        content = {key: row.body}
        if row.channel == Channel.EMAIL.value:
            content["subject"] = row.subject
        if row.channel == Channel.VOICE.value:
            content["voicemail_script"] = row.voicemail_body
    return {
        "id": row.id,
        "index": row.index,
        "channel": row.channel,
        "state": row.status,
        "to": row.recipient,
        "scheduled_for": iso(row.scheduled_for),
        **content,
        "provider": row.provider,
        "provider_id": row.provider_id,
        "attempts": row.attempts,
        "sent_at": iso(row.sent_at),
        "delivered_at": iso(row.delivered_at),
        "last_error": {"code": row.last_error_code, "message": row.last_error} if row.last_error else None,
        "note": row.note,
        # A sending limit holding the step back (engine/sending_limits.py), and until when.
        "waiting_for": row.waiting_for,
        "waiting_until": iso(row.scheduled_for) if row.waiting_for else None,
    }


def review_queue(workspace_id: str, now: datetime, limit: int = 100) -> list[dict[str, Any]]:
    query = (
        Enrollment.select()
        .where(
            Enrollment.workspace == workspace_id, Enrollment.status == EnrollmentStatus.PENDING_APPROVAL.value
        )
        .order_by(Enrollment.created_at)
        .limit(limit)
    )
    return [
        {
            "enrollment_id": r.id,
            "contact_id": r.contact_id,
            "template_id": r.template_id,
            "language": r.language,
            "created_at": iso(r.created_at),
            "waiting_seconds": int((now - r.created_at).total_seconds()),
        }
        for r in query
    ]


def claim_decision(enrollment_id: str, by: str, now: datetime) -> bool:
    """Record who decided; False if someone else already did (first decision wins)."""
    return bool(
        Enrollment.update(decided_at=now, decided_by=by[:200])
        .where(
            Enrollment.id == enrollment_id,
            Enrollment.decided_at.is_null(),
            Enrollment.status == EnrollmentStatus.PENDING_APPROVAL.value,
        )
        .execute()
    )


def is_decided(enrollment_id: str) -> bool:
    return Enrollment.select().where(Enrollment.id == enrollment_id, Enrollment.decided_at.is_null(False)).exists()


def step_channels(enrollment_id: str) -> dict[int, Channel]:
    return {
        r.index: Channel(r.channel)
        for r in Step.select(Step.index, Step.channel).where(Step.enrollment == enrollment_id)
    }


def mark_failed(enrollment_id: str, reason: str, now: datetime) -> None:
    """Give up on an enrollment that keeps crashing; nothing more is sent for it."""
    with Enrollment._meta.database.atomic():
        before = load_state(enrollment_id)
        Enrollment.update(
            status=EnrollmentStatus.FAILED.value, status_reason=reason, next_wake_at=None, updated_at=now
        ).where(Enrollment.id == enrollment_id).execute()
        Step.update(status=StepStatus.CANCELED.value, note="enrollment failed", waiting_for=None, updated_at=now).where(
            Step.enrollment == enrollment_id,
            Step.status.in_([StepStatus.PLANNED.value, StepStatus.SCHEDULED.value]),
        ).execute()
        workspace = workspace_of(enrollment_id)
        add_events(workspace, enrollment_id, [TimelineEntry("enrollment.failed", {"reason": reason})], now)
        outbox.record(workspace, derive(before, load_state(enrollment_id)), now)
