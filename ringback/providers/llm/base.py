"""The contract every content writer fulfils."""

from __future__ import annotations

from typing import Protocol

from ringback.engine.model import GeneratedSteps, GenerationRequest


class WriterError(Exception):
    """The writer could not produce usable content (timeout, API error, invalid output)."""


class Writer(Protocol):
    name: str

    def write(self, request: GenerationRequest) -> GeneratedSteps:
        """Return content for every index in `request.wanted`, or raise WriterError."""
        ...
