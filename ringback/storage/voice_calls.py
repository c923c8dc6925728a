"""The scripts of one call step, read when Twilio asks what to say (`/webhooks/twilio/voice`)."""

from __future__ import annotations

from ringback.engine.model import Channel
from ringback.engine.template import template_from_json
from ringback.engine.voice import CallScripts
from ringback.storage.models import Enrollment, Step, Template


def call_scripts(step_id: str) -> CallScripts | None:
    """Both scripts, the lead's language and the connect number; None for an unknown or unwritten step."""
    row = (
        Step.select(Step.channel, Step.body, Step.voicemail_body, Enrollment.language, Template.definition)
        .join(Enrollment)
        .join(Template)
        .where(Step.id == step_id)
        .first()
    )
    if row is None or row.channel != Channel.VOICE.value or row.body is None:
        return None
    template = template_from_json(row.enrollment.template.definition)
    return CallScripts(row.body, row.voicemail_body, row.enrollment.language, template.connect_number)
