"""A start that names an erased person is refused: they asked to be forgotten, so never contacted again."""

from __future__ import annotations

from ringback.engine.errors import InvalidInput
from ringback.engine.lead import ContactInput
from ringback.fingerprints import AddressFingerprints
from ringback.storage import erasure


class ErasedCheck:
    def __init__(self, fingerprints: AddressFingerprints) -> None:
        self._fingerprints = fingerprints

    def refuse(self, workspace_id: str, contact: ContactInput) -> None:
        """422 `suppressed`, naming the first address that belongs to an erased contact of the workspace.

        Called inside the start's unit, so an erasure committed just before it is always seen."""
        named = [
            (f"contact.emails[{i}]", ("email", self._fingerprints.email(e))) for i, e in enumerate(contact.emails)
        ]
        named += [
            (f"contact.phone_numbers[{i}]", ("phone", self._fingerprints.phone(p)))
            for i, p in enumerate(contact.phones)
        ]
        hits = erasure.erased(workspace_id, [fingerprint for _, fingerprint in named])
        for field, fingerprint in named:
            if fingerprint in hits:
                raise InvalidInput(
                    field,
                    "this person's data was erased at their request; they must not be contacted again",
                    code="suppressed",
                )
