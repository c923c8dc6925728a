"""Workspaces and API keys. Only a SHA-256 hash of a key is ever stored."""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ringback.engine.sending_limits import SendingLimits
from ringback.ids import new_id
from ringback.storage import fastsql
from ringback.storage.models import ApiKey, Workspace

PLANS = {
    "free": frozenset(),
    "starter": frozenset({"api_access"}),
    "standard": frozenset({"sequences", "api_access"}),
    "pro": frozenset({"sequences", "api_access"}),
}
KEY_PATTERN_PREFIXES = ("ck_live_", "ck_test_")
_ALPHABET = string.ascii_letters + string.digits
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class WorkspaceInfo:
    id: str
    name: str
    plan: str
    features: frozenset[str]
    admin_emails: tuple[str, ...]
    window_start: str
    window_end: str
    window_days: str
    default_language: str
    default_timezone: str
    default_region: str | None
    default_sender: dict[str, str] | None
    sending_limits: dict[str, Any] | None = None  # as stored; SendingLimits.from_json reads it

    def settings_view(self) -> dict:
        """The workspace as `GET /api/v1/workspace` and `ringback workspaces update --json` show it."""
        return {
            "id": self.id,
            "name": self.name,
            "plan": self.plan,
            "features": sorted(self.features),
            "admin_emails": list(self.admin_emails),
            "default_language": self.default_language,
            "default_timezone": self.default_timezone,
            "default_region": self.default_region,
            "calling_window": {"start": self.window_start, "end": self.window_end, "days": self.window_days},
            "default_sender": self.default_sender,
            "sending_limits": SendingLimits.from_json(self.sending_limits).to_json(),
        }


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    workspace_id: str
    mode: str
    scopes: frozenset[str]
    features: frozenset[str]
    last_used_stale: bool = False  # `last_used_at` is older than its resolution: the caller records the use



@dataclass(frozen=True)
class KeyListing:
    key_id: str
    prefix: str
    mode: str
    scopes: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def _info(row: Workspace) -> WorkspaceInfo:
    return WorkspaceInfo(
        id=row.id,
        name=row.name,
        plan=row.plan,
        features=frozenset(row.features),
        admin_emails=tuple(row.admin_emails),
        window_start=row.window_start,
        window_end=row.window_end,
        window_days=row.window_days,
        default_language=row.default_language,
        default_timezone=row.default_timezone,
        default_region=row.default_region,
        default_sender=row.default_sender,
        sending_limits=row.sending_limits,
    )


def create_workspace(
    name: str,
    now: datetime,
    plan: str = "standard",
    admin_emails: tuple[str, ...] = (),
    default_language: str = "en",
    default_timezone: str = "UTC",
    default_region: str | None = None,
) -> WorkspaceInfo:
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; one of {sorted(PLANS)}")
    row = Workspace.create(
        id=new_id("ws"),
        name=name,
        plan=plan,
        features=sorted(PLANS[plan]),
        admin_emails=list(admin_emails),
        default_language=default_language,
        default_timezone=default_timezone,
        default_region=default_region,
        created_at=now,
    )
    return _info(row)


def get_workspace(workspace_id: str) -> WorkspaceInfo | None:
    row = Workspace.get_or_none(Workspace.id == workspace_id)
    return _info(row) if row else None


def list_workspaces() -> list[WorkspaceInfo]:
    return [_info(row) for row in Workspace.select().order_by(Workspace.created_at)]


def count_workspaces() -> int:
    return Workspace.select().count()


def set_plan(workspace_id: str, plan: str) -> None:
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; one of {sorted(PLANS)}")
    updated = (
        Workspace.update(plan=plan, features=sorted(PLANS[plan]))
        .where(Workspace.id == workspace_id)
        .execute()
    )
    if not updated:
        raise LookupError(f"no workspace {workspace_id}")


def update_workspace(workspace_id: str, **fields: object) -> None:
    allowed = {
        "admin_emails",
        "window_start",
        "window_end",
        "window_days",
        "default_language",
        "default_timezone",
        "default_region",
        "default_sender",
        "sending_limits",
        "name",
    }
    bad = set(fields) - allowed
    if bad:
        raise ValueError(f"cannot update {sorted(bad)}")
    if not Workspace.update(**fields).where(Workspace.id == workspace_id).execute():
        raise LookupError(f"no workspace {workspace_id}")


def create_key(
    workspace_id: str,
    now: datetime,
    live: bool = False,
    scopes: frozenset[str] = frozenset({"read", "write"}),
    name: str = "",
) -> tuple[str, str]:
    """Create a key; return (key id, plain key). The plain key is not kept anywhere."""
    bad = set(scopes) - {"read", "write"}
    if bad or not scopes:
        raise ValueError("scopes must be read and/or write")
    plain = ("ck_live_" if live else "ck_test_") + "".join(secrets.choice(_ALPHABET) for _ in range(32))
    key_id = new_id("key")
    ApiKey.create(
        id=key_id,
        workspace=workspace_id,
        prefix=plain[:12],
        key_hash=hash_key(plain),
        mode="live" if live else "test",
        scopes=",".join(sorted(scopes)),
        name=name,
        created_at=now,
    )
    return key_id, plain


def resolve_key(plain: str, now: datetime) -> KeyRecord | None:
    """The key's record, or None when unknown or revoked (callers must not tell these apart)."""
    if not plain.startswith(KEY_PATTERN_PREFIXES) or len(plain) > 100:
        return None
    # Every request passes here: statements composed once (storage/fastsql), the key hash is unique.
    row = fastsql.select_one(ApiKey, _KEY_FIELDS, key_hash=hash_key(plain))
    if row is None or row["revoked_at"] is not None:
        return None
    workspace = fastsql.select_one(Workspace, ("features",), id=row["workspace"])
    if workspace is None:
        return None
    last_used = row["last_used_at"]
    return KeyRecord(
        key_id=row["id"],
        workspace_id=row["workspace"],
        mode=row["mode"],
        scopes=frozenset(row["scopes"].split(",")),
        features=frozenset(workspace["features"]),
        last_used_stale=last_used is None or now - last_used > _LAST_USED_RESOLUTION,
    )


_KEY_FIELDS = ("id", "workspace", "mode", "scopes", "revoked_at", "last_used_at")


def touch_key(key_id: str, now: datetime) -> None:
    """Record that the key was used (bounded to one write per key and resolution period by the caller)."""
    ApiKey.update(last_used_at=now).where(ApiKey.id == key_id).execute()


def list_keys(workspace_id: str) -> list[KeyListing]:
    query = ApiKey.select().where(ApiKey.workspace == workspace_id).order_by(ApiKey.created_at)
    return [
        KeyListing(r.id, r.prefix, r.mode, r.scopes, r.created_at, r.last_used_at, r.revoked_at)
        for r in query
    ]


def revoke_key(key_id: str, now: datetime) -> bool:
    return bool(
        ApiKey.update(revoked_at=now).where(ApiKey.id == key_id, ApiKey.revoked_at.is_null()).execute()
    )
