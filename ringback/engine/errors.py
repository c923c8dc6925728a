"""Domain errors the HTTP layer turns into the error envelope."""

from __future__ import annotations


class InvalidInput(ValueError):
    """Input that breaks a rule; `field` names where (e.g. ``contact.emails[0]``)."""

    def __init__(self, field: str, message: str, code: str = "validation_error") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code
