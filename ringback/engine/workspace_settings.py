"""What a workspace admin may change about a workspace, and the rules each value must follow.

One parser for the API (``PATCH /api/v1/workspace``) and the CLI (``ringback workspaces update``), so both
accept and refuse exactly the same input, naming the field that is wrong.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ringback.engine.calling_window import CallingWindow
from ringback.engine.errors import InvalidInput
from ringback.engine.locale import SUPPORTED_LANGUAGES, canonical_timezone
from ringback.engine.sending_limits import parse_limits
from ringback.engine.template import parse_sender

MAX_ADMIN_EMAILS = 20
_WINDOW_FIELDS = ("start", "end", "days")


def parse_changes(body: Any) -> dict[str, Any]:
    """The storage columns a settings change sets, validated; unknown or empty input is an InvalidInput."""
    if not isinstance(body, dict):
        raise InvalidInput("body", "the body must be a JSON object of settings")
    unknown = sorted(set(body) - set(SETTINGS))
    if unknown:
        raise InvalidInput(unknown[0], f"unknown setting {unknown[0]!r}; one of {', '.join(SETTINGS)}")
    if not body:
        raise InvalidInput("body", f"name at least one setting to change: {', '.join(SETTINGS)}")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        changes.update(_PARSERS[name](value))
    return changes


def _admin_emails(value: Any) -> dict[str, Any]:
    if not isinstance(value, list) or len(value) > MAX_ADMIN_EMAILS:
        raise InvalidInput("admin_emails", f"admin_emails must be a list of at most {MAX_ADMIN_EMAILS} addresses")
    emails: list[str] = []
    for i, raw in enumerate(value):
        try:
            email = validate_email(raw, check_deliverability=False).normalized
        except (EmailNotValidError, TypeError):
            raise InvalidInput(f"admin_emails[{i}]", f"admin_emails[{i}] is not a valid email address") from None
        if email.lower() not in {e.lower() for e in emails}:
            emails.append(email)
    return {"admin_emails": emails}


def _default_language(value: Any) -> dict[str, Any]:
    language = value.strip().lower() if isinstance(value, str) else ""
    if language not in SUPPORTED_LANGUAGES:
        raise InvalidInput(
            "default_language", f"default_language must be one of {', '.join(sorted(SUPPORTED_LANGUAGES))}"
        )
    return {"default_language": language}


def _default_timezone(value: Any) -> dict[str, Any]:
    zone = canonical_timezone(value) if isinstance(value, str) else None
    if zone is None:
        raise InvalidInput("default_timezone", "default_timezone must be an IANA time zone such as Europe/Madrid")
    return {"default_timezone": zone}


def _default_region(value: Any) -> dict[str, Any]:
    """The country national-format numbers (``06 12 34 56 78``) are read in; null accepts only +E.164."""
    if value is None:
        return {"default_region": None}
    region = value.strip().upper() if isinstance(value, str) else ""
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput("default_region", "default_region must be a two-letter country code such as FR, or null")
    return {"default_region": region}


def _calling_window(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not {"start", "end"} <= set(value) or set(value) - set(_WINDOW_FIELDS):
        raise InvalidInput(
            "calling_window", 'calling_window must be {"start": "08:00", "end": "21:00"} (optional "days")'
        )
    window = {"start": value["start"], "end": value["end"], "days": value.get("days", "mon-sun")}
    if not all(isinstance(v, str) for v in window.values()):
        raise InvalidInput("calling_window", "calling_window start, end and days must be strings")
    try:
        CallingWindow.parse(**window)
    except ValueError as error:
        raise InvalidInput("calling_window", str(error)) from None
    return {f"window_{k}": v.strip() for k, v in window.items()}


def _default_sender(value: Any) -> dict[str, Any]:
    """Who templates created without a ``sender`` speak as; null removes it."""
    if value is None:
        return {"default_sender": None}
    try:
        sender = parse_sender(value)
    except InvalidInput as error:
        raise InvalidInput("default_" + error.field, error.message.replace("sender", "default_sender", 1)) from None
    return {"default_sender": {k: v for k, v in dataclasses.asdict(sender).items() if v not in (None, "")}}


def _sending_limits(value: Any) -> dict[str, Any]:
    """Caps per channel and sender, and the per-domain email throttle; null removes every limit."""
    return {"sending_limits": None if value is None else parse_limits(value).to_json()}


_PARSERS = {
    "admin_emails": _admin_emails,
    "default_language": _default_language,
    "default_timezone": _default_timezone,
    "default_region": _default_region,
    "calling_window": _calling_window,
    "default_sender": _default_sender,
    "sending_limits": _sending_limits,
}
SETTINGS = tuple(_PARSERS)


def with_default_sender(template_body: Any, default_sender: dict[str, str] | None) -> Any:
    """A template body without a sender speaks as the workspace's default sender, when it has one."""
    if isinstance(template_body, dict) and "sender" not in template_body and default_sender:
        return {**template_body, "sender": default_sender}
    return template_body
