"""Validation of the start-sequence request: the one place that says what a lead may look like."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ringback.engine import fields
from ringback.engine.errors import InvalidInput
from ringback.engine.fields import text
from ringback.engine.locale import canonical_timezone, is_valid_language_tag, is_valid_timezone

_TOP_FIELDS = {"template_id", "contact", "auto_approve", "idempotency_key", "metadata"}
_CONTACT_FIELDS = {
    "first_name",
    "last_name",
    "emails",
    "phone_numbers",
    "notes",
    "language",
    "timezone",
    "company",
}


@dataclass(frozen=True)
class ContactInput:
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    emails: tuple[str, ...] = ()  # normalised; the first is the primary
    phones: tuple[str, ...] = ()  # E.164
    notes: str = ""
    language: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class StartRequest:
    template_id: str
    contact: ContactInput
    auto_approve: bool = False
    idempotency_key: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


def request_fingerprint(body: Any) -> str:
    """Hash of the request body, key order ignored, to tell a replay from a different request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _list(value: Any, field_name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(field_name, f"{field_name} must be a list")
    if len(value) > fields.ADDRESSES:
        raise InvalidInput(field_name, f"{field_name} may hold at most {fields.ADDRESSES} entries")
    return value


def parse_email(value: Any, field_name: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field_name, f"{field_name} is not a valid email")
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidInput(field_name, f"{field_name} is not a valid email") from None


def parse_phone(value: Any, field_name: str, default_region: str | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field_name, f"{field_name} is not a valid phone number")
    text = value.strip()
    if not text.startswith("+") and not default_region:
        raise InvalidInput(field_name, f"{field_name} needs an international prefix such as +34 (E.164)")
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(field_name, f"{field_name} is not a valid phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(field_name, f"{field_name} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _dedupe(items: list[str], key=lambda s: s) -> tuple[str, ...]:
    seen: set[str] = set()
    out = []
    for item in items:
        if key(item) not in seen:
            seen.add(key(item))
            out.append(item)
    return tuple(out)


def parse_contact(raw: Any, default_region: str | None) -> ContactInput:
    if not isinstance(raw, dict):
        raise InvalidInput("contact", "contact is required and must be an object")
    unknown = sorted(set(raw) - _CONTACT_FIELDS)
    if unknown:
        raise InvalidInput(f"contact.{unknown[0]}", f"unknown field contact.{unknown[0]}")
    emails = [parse_email(v, f"contact.emails[{i}]") for i, v in enumerate(_list(raw.get("emails"), "contact.emails"))]
    phones = [
        parse_phone(v, f"contact.phone_numbers[{i}]", default_region)
        for i, v in enumerate(_list(raw.get("phone_numbers"), "contact.phone_numbers"))
    ]
    if not emails and not phones:
        raise InvalidInput("contact", "contact needs at least one of emails or phone_numbers")
    language = raw.get("language")
    if language is not None and (
        not isinstance(language, str) or len(language) > fields.LANGUAGE_TAG or not is_valid_language_tag(language)
    ):
        raise InvalidInput("contact.language", "contact.language must be a BCP-47 tag such as es or pt-BR")
    zone = raw.get("timezone")
    if zone is not None and (not isinstance(zone, str) or len(zone) > fields.TIMEZONE or not is_valid_timezone(zone)):
        raise InvalidInput("contact.timezone", "contact.timezone must be an IANA time zone such as Europe/Madrid")
    return ContactInput(
        first_name=text(raw.get("first_name"), "contact.first_name", fields.PERSON_NAME),
        last_name=text(raw.get("last_name"), "contact.last_name", fields.PERSON_NAME),
        company=text(raw.get("company"), "contact.company", fields.COMPANY),
        emails=_dedupe(emails, key=str.lower),
        phones=_dedupe(phones),
        notes=text(raw.get("notes"), "contact.notes", fields.NOTES),
        language=language,
        timezone=canonical_timezone(zone),
    )


def parse_start_request(body: Any, header_key: str | None, default_region: str | None) -> StartRequest:
    """Validate the body of POST /sequences/start; raise InvalidInput naming the first bad field."""
    if not isinstance(body, dict):
        raise InvalidInput("body", "the request body must be a JSON object")
    unknown = sorted(set(body) - _TOP_FIELDS)
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field {unknown[0]!r}")
    template_id = body.get("template_id")
    if not isinstance(template_id, str) or not template_id:
        raise InvalidInput("template_id", "template_id is required")
    auto = body.get("auto_approve", False)
    if not isinstance(auto, bool):
        raise InvalidInput("auto_approve", "auto_approve must be true or false")
    key = _idempotency_key(body.get("idempotency_key"), header_key)
    metadata = _metadata(body.get("metadata"))
    return StartRequest(
        template_id=template_id,
        contact=parse_contact(body.get("contact"), default_region),
        auto_approve=auto,
        idempotency_key=key,
        metadata=metadata,
    )


def _metadata(value: Any) -> dict[str, str]:
    """The caller's own references: an object of short strings (absent or null is none; false or "" is wrong)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > fields.METADATA_ENTRIES:
        raise InvalidInput("metadata", f"metadata must be an object with at most {fields.METADATA_ENTRIES} entries")
    for name, item in value.items():
        if not 1 <= len(name) <= fields.METADATA_KEY:
            raise InvalidInput(f"metadata.{name}", f"metadata names must be 1 to {fields.METADATA_KEY} characters")
        if not isinstance(item, str) or len(item) > fields.METADATA_VALUE:
            raise InvalidInput(
                f"metadata.{name}", f"metadata values must be strings of at most {fields.METADATA_VALUE} characters"
            )
    return dict(value)


def _idempotency_key(body_key: Any, header_key: str | None) -> str | None:
    """The key from the body or the header (equal when both are sent); an empty one is an error, not absent."""
    if body_key is not None and not isinstance(body_key, str):
        raise InvalidInput("idempotency_key", "idempotency_key must be a string")
    if body_key is not None and header_key is not None and body_key != header_key:
        raise InvalidInput("idempotency_key", "the Idempotency-Key header and idempotency_key differ")
    key = body_key if body_key is not None else header_key
    if key is None:
        return None
    if problem := fields.text_problem(key):
        raise InvalidInput("idempotency_key", f"idempotency_key {problem}")
    if not 1 <= len(key) <= fields.IDEMPOTENCY_KEY:
        raise InvalidInput("idempotency_key", f"idempotency_key must be 1 to {fields.IDEMPOTENCY_KEY} characters")
    return key
