"""Signed, expiring tokens for links we email out (review deep links, one-click unsubscribe).

A token carries its purpose, subject (enrollment or contact id) and expiry, signed with
HMAC-SHA256 under the server secret, so a link cannot be forged or moved to another object.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class TokenInvalid(Exception):
    """Tampered, malformed or for another purpose."""


@dataclass(frozen=True)
class TokenExpired(Exception):
    subject: str
    expired_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _unb64(text: str) -> bytes:
    """Strict: `urlsafe_b64decode` silently drops characters outside the alphabet ("!!"), so a token with
    junk in it would still verify; only the exact unpadded encoding `_b64` produces is accepted."""
    if not _B64URL.fullmatch(text):
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # non-canonical trailing bits
        raise ValueError("not canonical base64url")
    return data


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the server secret must be at least 16 bytes")
        self._secret = secret

    def sign(self, purpose: str, subject: str, expires_at: datetime | None) -> str:
        expiry = int(expires_at.timestamp()) if expires_at else 0
        payload = f"{purpose}|{subject}|{expiry}".encode()
        mac = hmac.new(self._secret, payload, hashlib.sha256).digest()[:18]
        return f"{_b64(payload)}.{_b64(mac)}"

    def verify(self, token: str, purpose: str, now: datetime) -> str:
        """Return the subject, or raise TokenInvalid / TokenExpired."""
        try:
            payload_text, mac_text = token.split(".", 1)
            payload = _unb64(payload_text)
            mac = _unb64(mac_text)
        except (ValueError, UnicodeEncodeError):
            raise TokenInvalid("malformed token") from None
        expected = hmac.new(self._secret, payload, hashlib.sha256).digest()[:18]
        if not hmac.compare_digest(mac, expected):
            raise TokenInvalid("bad signature")
        token_purpose, subject, expiry = payload.decode().split("|")  # signed by us: well-formed
        if token_purpose != purpose:
            raise TokenInvalid("wrong purpose")
        if int(expiry) and now.timestamp() >= int(expiry):
            raise TokenExpired(subject, datetime.fromtimestamp(int(expiry), UTC))
        return subject


REVIEW = "review"  # the purpose of review deep links


def review_link(signer: TokenSigner, public_url: str, enrollment_id: str, expires_at: datetime) -> str:
    """The deep link to an enrollment's review page. It grants approval, so it goes to admins, never to the log."""
    return f"{public_url}/review/{signer.sign(REVIEW, enrollment_id, expires_at)}"


def load_or_create_secret(configured: str | None, data_dir: str) -> bytes:
    """The configured secret, or one generated on first start and kept (0600) in the data dir."""
    if configured:
        return configured.encode()
    path = Path(data_dir) / "secret.key"
    if path.exists():
        return path.read_text().strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret.encode()
