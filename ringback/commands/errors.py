"""What commands refuse with; `ringback/http/errors.py` maps each to one answer in the error envelope."""

from __future__ import annotations


class NotFound(Exception):
    """The thing does not exist in the caller's workspace (or at all: callers must not tell these apart)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(Exception):
    """The request is valid but the resource is not in a state that allows it (409)."""


class KeyInFlight(Exception):
    """A request with this idempotency key is still being processed (409; retry shortly)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class IdempotencyMismatch(Exception):
    """The idempotency key was used before with a different request body (422)."""
