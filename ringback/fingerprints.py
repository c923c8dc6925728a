"""Keyed fingerprints of email addresses and phone numbers, for the list of erased contacts.

An erased person must be recognised if a form sends them again (never contact them again) without
their addresses being kept. A plain SHA-256 of a phone number is undone by hashing every number, so
the fingerprint is an HMAC under a key derived from the server secret, which lives outside the database.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

_PURPOSE = b"ringback/erased-addresses/v1"  # a key of its own: these digests never verify a signed link


class AddressFingerprints:
    def __init__(self, server_secret: bytes) -> None:
        self._key = hmac.new(server_secret, _PURPOSE, hashlib.sha256).digest()

    def email(self, address: str) -> str:
        """Case-insensitive, as contacts are matched (`primary_email_lower`)."""
        return self._digest("email", address.strip().lower())

    def phone(self, e164: str) -> str:
        return self._digest("phone", e164.strip())

    def of(self, emails: Iterable[str], phones: Iterable[str]) -> list[tuple[str, str]]:
        """(kind, digest) for each address."""
        return [("email", self.email(e)) for e in emails] + [("phone", self.phone(p)) for p in phones]

    def _digest(self, kind: str, normalized: str) -> str:
        return hmac.new(self._key, f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()
