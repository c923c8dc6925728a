"""Outreach templates: validation of what a customer submits, and the parsed, immutable form."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ringback.engine import fields
from ringback.engine.calling_window import ALL_DAYS
from ringback.engine.errors import InvalidInput
from ringback.engine.fields import text
from ringback.engine.model import Channel, StepPlan
from ringback.engine.sending_limits import parse_weekdays, weekdays_text

MAX_STEPS = 10
MAX_DELAY_SECONDS = 60 * 24 * 3600  # 60 days
_FIELDS = {
    "name",
    "goal",
    "tone",
    "allowed_channels",
    "steps",
    "sender",
    "connect_number",
    "link_allowlist",
    "description",
    "value_proposition",
    "call_to_action",
    "facts",
    "sms_max_segments",
    "allowed_weekdays",
}
_SENDER_FIELDS = {"name", "company", "title", "email", "phone", "messaging_service_sid"}
MAX_FACTS = 10
MAX_FACT_CHARS = 300
DEFAULT_SMS_MAX_SEGMENTS = 2
_HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class Sender:
    name: str
    company: str = ""  # the sender's own company: who the lead hears from
    title: str = ""
    email: str | None = None
    phone: str | None = None  # E.164 From number
    messaging_service_sid: str | None = None


@dataclass(frozen=True)
class TemplateDef:
    name: str
    goal: str
    tone: str
    allowed_channels: frozenset[Channel]
    steps: tuple[StepPlan, ...]
    sender: Sender
    connect_number: str | None = None
    link_allowlist: tuple[str, ...] = ()
    description: str = ""
    value_proposition: str = ""  # what the writer may say the product does for the lead
    call_to_action: str = ""  # what the lead is asked to do
    facts: tuple[str, ...] = ()  # the only product facts a writer may state
    sms_max_segments: int = DEFAULT_SMS_MAX_SEGMENTS
    allowed_weekdays: frozenset[int] = ALL_DAYS  # ISO weekdays on which steps go out, in the recipient's zone

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "goal": self.goal,
            "tone": self.tone,
            "allowed_channels": sorted(c.value for c in self.allowed_channels),
            "steps": [{"channel": s.channel.value, "delay_seconds": s.delay_seconds} for s in self.steps],
            "sender": {
                k: v
                for k, v in {
                    "name": self.sender.name,
                    "company": self.sender.company,
                    "title": self.sender.title,
                    "email": self.sender.email,
                    "phone": self.sender.phone,
                    "messaging_service_sid": self.sender.messaging_service_sid,
                }.items()
                if v
            },
            "connect_number": self.connect_number,
            "link_allowlist": list(self.link_allowlist),
            "value_proposition": self.value_proposition,
            "call_to_action": self.call_to_action,
            "facts": list(self.facts),
            "sms_max_segments": self.sms_max_segments,
            "allowed_weekdays": weekdays_text(self.allowed_weekdays),
        }


def _e164(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, f"{field} must be a phone number in E.164 form")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, f"{field} must be a phone number in E.164 form, e.g. +14155550100") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(field, f"{field} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_template(data: Any) -> TemplateDef:
    """Validate a template body; raise InvalidInput naming the first bad field."""
    if not isinstance(data, dict):
        raise InvalidInput("body", "the template must be a JSON object")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field {unknown[0]!r}")
    name = text(data.get("name"), "name", fields.TEMPLATE_NAME, required=True)
    goal = text(data.get("goal"), "goal", fields.TEMPLATE_GOAL, required=True)
    tone = text(data.get("tone"), "tone", fields.TEMPLATE_TONE, required=False) or "friendly and professional"
    description = text(data.get("description"), "description", fields.TEMPLATE_DESCRIPTION, required=False)

    channels_raw = data.get("allowed_channels")
    if not isinstance(channels_raw, list) or not channels_raw:
        raise InvalidInput("allowed_channels", "allowed_channels must be a non-empty list of email, sms, voice")
    allowed: set[Channel] = set()
    for i, raw in enumerate(channels_raw):
        try:
            allowed.add(Channel(raw))
        except ValueError:
            raise InvalidInput(f"allowed_channels[{i}]", f"unknown channel {raw!r}; use email, sms or voice") from None

    steps_raw = data.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise InvalidInput("steps", "steps must be a non-empty list")
    if len(steps_raw) > MAX_STEPS:
        raise InvalidInput("steps", f"a template has at most {MAX_STEPS} steps")
    steps = []
    for i, raw in enumerate(steps_raw):
        field = f"steps[{i}]"
        if not isinstance(raw, dict) or set(raw) - {"channel", "delay_seconds"}:
            raise InvalidInput(field, f"{field} must be an object with channel and delay_seconds")
        try:
            channel = Channel(raw.get("channel"))
        except ValueError:
            raise InvalidInput(f"{field}.channel", f"unknown channel {raw.get('channel')!r}") from None
        if channel not in allowed:
            raise InvalidInput(f"{field}.channel", f"channel {channel.value!r} is not in allowed_channels")
        delay = raw.get("delay_seconds", 0)
        if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY_SECONDS:
            raise InvalidInput(
                f"{field}.delay_seconds", f"delay_seconds must be an integer from 0 to {MAX_DELAY_SECONDS}"
            )
        if i == 0 and delay != 0:
            raise InvalidInput(f"{field}.delay_seconds", "the first step goes out at once: its delay_seconds must be 0")
        steps.append(StepPlan(index=i, channel=channel, delay_seconds=delay))

    sender = _parse_sender(data.get("sender"), {s.channel for s in steps})
    connect = data.get("connect_number")
    connect_number = _e164(connect, "connect_number") if connect not in (None, "") else None
    allowlist = _parse_allowlist(data.get("link_allowlist", []))
    segments = data.get("sms_max_segments", DEFAULT_SMS_MAX_SEGMENTS)
    if not isinstance(segments, int) or isinstance(segments, bool) or not 1 <= segments <= 10:
        raise InvalidInput("sms_max_segments", "sms_max_segments must be an integer from 1 to 10")
    return TemplateDef(
        name=name,
        goal=goal,
        tone=tone,
        allowed_channels=frozenset(allowed),
        steps=tuple(steps),
        sender=sender,
        connect_number=connect_number,
        link_allowlist=allowlist,
        description=description,
        value_proposition=text(data.get("value_proposition"), "value_proposition", 500, required=False),
        call_to_action=text(data.get("call_to_action"), "call_to_action", 300, required=False),
        facts=_parse_facts(data.get("facts", [])),
        sms_max_segments=segments,
        allowed_weekdays=parse_weekdays(data.get("allowed_weekdays", "mon-sun")),
    )


def _parse_facts(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_FACTS:
        raise InvalidInput("facts", f"facts must be a list of at most {MAX_FACTS} short sentences")
    return tuple(text(fact, f"facts[{i}]", MAX_FACT_CHARS, required=True) for i, fact in enumerate(raw))


def _parse_sender(raw: Any, used: set[Channel]) -> Sender:
    if not isinstance(raw, dict):
        raise InvalidInput("sender", "sender must be an object with name and email and/or phone")
    unknown = sorted(set(raw) - _SENDER_FIELDS)
    if unknown:
        raise InvalidInput(f"sender.{unknown[0]}", f"unknown field {unknown[0]!r}")
    name = text(raw.get("name"), "sender.name", fields.SENDER_NAME, required=True)
    company = text(raw.get("company"), "sender.company", fields.SENDER_NAME, required=False)
    title = text(raw.get("title"), "sender.title", fields.SENDER_NAME, required=False)
    email = raw.get("email") or None
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except (EmailNotValidError, TypeError):
            raise InvalidInput("sender.email", "sender.email is not a valid email address") from None
    phone = _e164(raw["phone"], "sender.phone") if raw.get("phone") else None
    service = raw.get("messaging_service_sid") or None
    if service is not None and not (isinstance(service, str) and re.fullmatch(r"MG[0-9a-fA-F]{32}", service)):
        raise InvalidInput("sender.messaging_service_sid", "messaging_service_sid must look like MG followed by 32 hex")
    if Channel.EMAIL in used and not email:
        raise InvalidInput("sender.email", "a template with email steps needs sender.email")
    if Channel.VOICE in used and not phone:
        raise InvalidInput("sender.phone", "a template with voice steps needs sender.phone")
    if Channel.SMS in used and not (phone or service):
        raise InvalidInput(
            "sender.phone", "a template with SMS steps needs sender.phone or sender.messaging_service_sid"
        )
    return Sender(name=name, company=company, title=title, email=email, phone=phone, messaging_service_sid=service)


def parse_sender(raw: Any) -> Sender:
    """A sender on its own (a workspace's default): the template's rules, without any channel's requirements."""
    return _parse_sender(raw, set())


def _parse_allowlist(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or len(raw) > 50:
        raise InvalidInput("link_allowlist", "link_allowlist must be a list of at most 50 host names")
    hosts = []
    for i, host in enumerate(raw):
        if not isinstance(host, str) or not _HOST_RE.match(host.strip().lower()):
            raise InvalidInput(f"link_allowlist[{i}]", "each entry must be a host name such as example.com")
        hosts.append(host.strip().lower())
    return tuple(hosts)


def template_from_json(data: Mapping[str, Any]) -> TemplateDef:
    """Rebuild a stored (already validated) template."""
    return parse_template({k: v for k, v in data.items() if v is not None})
