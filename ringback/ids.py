"""Public identifiers: a short type prefix plus a ULID, e.g. ``tpl_01HV...``.

ULIDs sort by creation time, which keeps indexes append-mostly and listings naturally ordered.
"""

from __future__ import annotations

import re

from ulid import ULID

PREFIXES = ("ws", "key", "tpl", "ct", "seq", "enr", "stp", "evt", "we", "aud")
_ID_RE = re.compile(r"^(?P<prefix>[a-z]+)_[0-9A-HJKMNP-TV-Z]{26}$")


def new_id(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    return f"{prefix}_{ULID()}"


def looks_like(identifier: str, prefix: str) -> bool:
    """Cheap shape check so malformed ids get a 404 without touching the database."""
    match = _ID_RE.match(identifier or "")
    return bool(match) and match.group("prefix") == prefix
