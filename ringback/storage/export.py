"""A contact's data export (subject access request): everything ringback holds about one person."""

from __future__ import annotations

from typing import Any

from ringback.storage import audit, contacts, enrollments, sandbox
from ringback.storage.models import Step, Suppression
from ringback.storage.timestamps import iso


def contact_export(workspace_id: str, contact_id: str) -> dict[str, Any] | None:
    """The contact (every address, the notes history), its opt-outs, every enrollment with every step's
    content and status and the whole timeline, what the sandbox recorded for it, and its audit entries."""
    view = contacts.contact_view(workspace_id, contact_id)
    if view is None:
        return None
    enrollment_ids = enrollments.ids_for_contact(contact_id)
    step_ids = [s.id for s in Step.select(Step.id).where(Step.enrollment.in_(enrollment_ids)).order_by(Step.id)]
    opt_outs = Suppression.select().where(Suppression.contact == contact_id).order_by(Suppression.created_at)
    return {
        "contact": view,
        "opt_outs": [{"channel": s.channel, "reason": s.reason, "at": iso(s.created_at)} for s in opt_outs],
        "enrollments": [enrollments.enrollment_view(workspace_id, e, timeline_limit=None) for e in enrollment_ids],
        "sandbox_deliveries": [d for step_id in step_ids for d in sandbox.deliveries(step_id)],
        "audit": audit.for_contact(workspace_id, contact_id),
    }


def counts(export: dict[str, Any]) -> dict[str, int]:
    """How much an export held, for its audit entry."""
    return {
        "emails": len(export["contact"]["emails"]),
        "phone_numbers": len(export["contact"]["phone_numbers"]),
        "notes": len(export["contact"]["notes_history"]),
        "enrollments": len(export["enrollments"]),
        "steps": sum(len(e["steps"]) for e in export["enrollments"]),
        "timeline_events": sum(len(e["timeline"]) for e in export["enrollments"]),
        "opt_outs": len(export["opt_outs"]),
        "sandbox_deliveries": len(export["sandbox_deliveries"]),
    }
