"""Field limits and the checks every validator shares, so each rule reads the same and errors name the field.

The limits are the one source for both sides of a write: validation (engine/lead.py, engine/template.py,
the HTTP resources) refuses longer input, and the storage schema (storage/models.py) sizes its columns from
the same names. A value the API accepts therefore always fits its column, on SQLite (which does not check
lengths) as on PostgreSQL (which does). Lengths are in characters.
"""

from __future__ import annotations

from typing import Any

from ringback.engine.errors import InvalidInput

# A contact, as the start call gives it.
PERSON_NAME = 100  # first_name, last_name
COMPANY = 200
NOTES = 4000  # per start call; notes accumulate on the contact as separate entries
EMAIL = 320  # RFC 3696 erratum 1690: 64 + 1 + 255
LANGUAGE_TAG = 35
TIMEZONE = 64
ADDRESSES = 10  # emails, phone_numbers: entries each
IDEMPOTENCY_KEY = 255
METADATA_ENTRIES = 20
METADATA_KEY = 64
METADATA_VALUE = 500

# Free text a caller attaches to a decision or an event; it ends up in a stored reason (below).
DECISION_REASON = 500  # reject and cancel
EVENT_NOTE = 200  # contact events: kept as "<what happened>: <note>"
# Why an enrollment or a step is where it is: enrollment.status_reason, step.note, suppression.reason. It
# holds a decision reason as given, or an event's label and note, or a message of ours (clipped to fit).
REASON = 500

# A template.
TEMPLATE_NAME = 200
TEMPLATE_GOAL = 2000
TEMPLATE_TONE = 200
TEMPLATE_DESCRIPTION = 1000
SENDER_NAME = 100

# A webhook endpoint.
WEBHOOK_URL = 2048
WEBHOOK_DESCRIPTION = 500

_ELLIPSIS = "…"


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored or processed, or None.

    Lone surrogates cannot be encoded as UTF-8 (for the database, the log, the SMTP server) and PostgreSQL
    cannot store NUL characters; neither has a meaning in any field, so both are refused wherever text comes in.
    """
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # the only str that UTF-8 cannot encode holds a lone surrogate
        return "contains an unpaired surrogate (not valid Unicode)"
    return None


def clip(value: str, limit: int) -> str:
    """Our own text (a composed reason) cut to fit its column, the cut marked with an ellipsis."""
    return value if len(value) <= limit else value[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def text(value: Any, field: str, limit: int, required: bool = False) -> str:
    """A stripped string of at most `limit` characters; None counts as empty."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(field, f"{field} must be a string")
    if problem := text_problem(value):
        raise InvalidInput(field, f"{field} {problem}")
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, f"{field} is required")
    if len(value) > limit:
        raise InvalidInput(field, f"{field} must be at most {limit} characters")
    return value
