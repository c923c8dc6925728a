"""The admin review email: who the lead is, what will be sent, and one link to decide.

The reader is a busy admin on a phone: the subject says who and how long they have waited, the body shows
the first lines of every step, and the link goes straight to the page where one tap approves.
"""

from __future__ import annotations

import html
from datetime import datetime

from ringback.engine.enrollment import EnrollmentState, StepState
from ringback.engine.model import StepStatus
from ringback.storage.enrollments import EnrollmentContext

PREVIEW_CHARS = 160
PREVIEW_LINES = 2
NOTES_CHARS = 400
LINK_LABEL = "Review and approve"

_UNITS = (("d", 86400), ("h", 3600), ("min", 60))


def human_duration(seconds: float) -> str:
    """'just now', '4 min', '3 h 20 min', '2 d 5 h': two units at most, read at a glance."""
    left = int(seconds)
    if left < 60:
        return "just now"
    parts = []
    for unit, size in _UNITS:
        if left >= size:
            parts.append(f"{left // size} {unit}")
            left %= size
        elif parts:
            break
    return " ".join(parts[:2])


def lead_name(context: EnrollmentContext) -> str:
    contact = context.contact
    return " ".join(p for p in (contact.first_name, contact.last_name) if p) or "A new lead"


def step_preview(step: StepState) -> str:
    """The first lines of a step as one short line (subject first for email)."""
    if step.status == StepStatus.SKIPPED:
        return f"(skipped: {step.note or 'no recipient'})"
    if step.content is None:
        return f"({step.status.value})"
    lines = [line.strip() for line in step.content.body.splitlines() if line.strip()][:PREVIEW_LINES]
    text = " / ".join(([step.content.subject] if step.content.subject else []) + lines)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1].rstrip() + "…"


def compose(
    context: EnrollmentContext,
    state: EnrollmentState,
    link: str,
    now: datetime,
    created: datetime | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) of the review request. The text's last line is the link (the log shows it)."""
    contact = context.contact
    name = lead_name(context)
    waiting = human_duration((now - created).total_seconds()) if created else "just now"
    subject = f"Review needed: {name} ({context.language}) waiting {waiting}"
    reach = ", ".join((*contact.emails, *contact.phones)) or "no email or phone on file"
    notes = contact.notes if len(contact.notes) <= NOTES_CHARS else "…" + contact.notes[-NOTES_CHARS:]
    about = [
        f"{name}{f' ({contact.company})' if contact.company else ''} · {reach}",
        f"Language: {context.language} · Time zone: {context.timezone}",
        f'Template: "{context.template.name}" · waiting {waiting}',
    ]
    steps = [f"Step {s.index + 1} · {s.channel.value}: {step_preview(s)}" for s in state.steps]
    text = "\n".join([*about, *([f"Notes: {notes}"] if notes else []), "", *steps, "", f"{LINK_LABEL}: {link}"])
    return subject, text, _html(about, notes, steps, link)


def _html(about: list[str], notes: str, steps: list[str], link: str) -> str:
    esc = html.escape
    button = (
        f'<p><a href="{esc(link)}" style="display:inline-block;padding:12px 20px;background:#1d6b3a;'
        f'color:#fff;text-decoration:none;border-radius:6px;font-weight:bold">{LINK_LABEL}</a></p>'
    )
    parts = [f"<p>{'<br>'.join(esc(line) for line in about)}</p>"]
    if notes:
        parts.append(f'<p style="white-space:pre-wrap;color:#444">Notes: {esc(notes)}</p>')
    parts.append("<ol>" + "".join(f"<li>{esc(line.split(' · ', 1)[1])}</li>" for line in steps) + "</ol>")
    parts.append(button)
    parts.append(f'<p style="color:#666;font-size:12px">Or open: {esc(link)}</p>')
    return "\n".join(parts)
