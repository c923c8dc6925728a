"""CSRF protection for the HTML forms behind emailed capability links (the review page).

Stateless: the CSRF value is a token signed with purpose "csrf" whose subject is a digest of the link's token,
so only a page we rendered for that very link can post to it, and nothing needs storing. The Origin header (or,
without it, the Referer) is checked too when the browser sends one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from ringback.tokens import TokenExpired, TokenInvalid, TokenSigner

PURPOSE = "csrf"


def _digest(link_token: str) -> str:
    return hashlib.sha256(link_token.encode()).hexdigest()[:32]


def csrf_value(signer: TokenSigner, link_token: str) -> str:
    """The hidden form value for pages served under `link_token` (it expires with the link itself)."""
    return signer.sign(PURPOSE, _digest(link_token), None)


def csrf_ok(signer: TokenSigner, link_token: str, value: str | None, now: datetime) -> bool:
    if not value:
        return False
    try:
        return signer.verify(value, PURPOSE, now) == _digest(link_token)
    except (TokenInvalid, TokenExpired):
        return False


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased; empty for anything that is not http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(origin: str | None, referer: str | None, allowed: Iterable[str]) -> bool:
    """False only when the browser tells us the form came from elsewhere.

    Browsers send Origin on every POST; "null" (privacy settings, sandboxed frames) says nothing, so it falls
    back to the Referer, and when neither is sent the CSRF value alone decides.
    """
    allowed_origins = {origin_of(url) for url in allowed} - {""}
    claimed = origin if origin and origin.strip().lower() != "null" else referer
    if not claimed:
        return True
    return origin_of(claimed) in allowed_origins
