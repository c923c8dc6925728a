"""Field checks shared by every validator, so each rule reads the same and errors name the field."""

from __future__ import annotations

from typing import Any

from ringback.engine.errors import InvalidInput


def text(value: Any, field: str, limit: int, required: bool = False) -> str:
    """A stripped string of at most `limit` characters; None counts as empty."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(field, f"{field} must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, f"{field} is required")
    if len(value) > limit:
        raise InvalidInput(field, f"{field} must be at most {limit} characters")
    return value
