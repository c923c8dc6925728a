"""The admin review email: who the lead is, what will be sent, and one link to decide."""

from __future__ import annotations

import html
from datetime import datetime

from ringback.engine.enrollment import EnrollmentState
from ringback.storage.enrollments import EnrollmentContext

PREVIEW_CHARS = 160


def _waiting(created: datetime | None, now: datetime) -> str:
    if created is None:
        return "just now"
    minutes = int((now - created).total_seconds() // 60)
    return "just now" if minutes < 1 else f"{minutes} min"


def compose(
    context: EnrollmentContext,
    state: EnrollmentState,
    link: str,
    now: datetime,
    created: datetime | None = None,
) -> tuple[str, str, str]:
    """(subject, text, html) of the review request."""
    contact = context.contact
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p) or "A new lead"
    subject = f"Review needed: {name} ({context.language}) waiting {_waiting(created, now)}"
    lines = [
        f'{name} is waiting for outreach from template "{context.template.name}".',
        f"Language: {context.language} · Time zone: {context.timezone}",
        "",
    ]
    for step in state.steps:
        preview = (step.content.subject or step.content.body) if step.content else f"({step.status.value})"
        lines.append(f"Step {step.index + 1} · {step.channel.value}: {preview[:PREVIEW_CHARS]}")
    lines += ["", f"Review and approve: {link}"]
    text = "\n".join(lines)
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines[:-1] if line)
    body += f'<p><a href="{html.escape(link)}">Review and approve</a></p>'
    return subject, text, body
