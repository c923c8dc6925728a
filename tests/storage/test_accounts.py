"""Workspaces, plans and API keys: only a SHA-256 hash of a key ever reaches the database."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from ringback.storage import accounts
from ringback.storage.db import is_sqlite
from ringback.storage.models import ALL_MODELS, ApiKey, SchemaVersion
from tests.storage.conftest import NOW


def _every_stored_value(db) -> list[str]:
    """Every column of every row of every table, as text."""
    values = []
    for model in [*ALL_MODELS, SchemaVersion]:
        cursor = db.execute_sql(f'SELECT * FROM "{model._meta.table_name}"')
        values.extend(str(value) for row in cursor.fetchall() for value in row)
    return values


def _sqlite_file_bytes(db) -> bytes:
    """The database file and its WAL/SHM companions, before and after a checkpoint."""
    path = Path(db.database)
    before = b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return before + b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


# --- workspaces and plans ------------------------------------------------------------------------------


def test_a_workspace_gets_its_plans_features(workspace):
    info = accounts.get_workspace(workspace.id)

    assert info == workspace
    assert info.plan == "standard" and info.features == frozenset({"sequences", "api_access"})
    assert info.admin_emails == ("admin@example.com",)
    assert (info.default_language, info.default_timezone, info.default_region) == ("en", "UTC", None)
    assert info.id.startswith("ws_")


def test_changing_the_plan_changes_the_features(workspace):
    accounts.set_plan(workspace.id, "starter")
    assert accounts.get_workspace(workspace.id).features == frozenset({"api_access"})

    accounts.set_plan(workspace.id, "free")
    assert accounts.get_workspace(workspace.id).features == frozenset()


def test_unknown_plans_and_workspaces_are_refused(workspace):
    with pytest.raises(ValueError, match="gold"):
        accounts.create_workspace("X", NOW, plan="gold")
    with pytest.raises(ValueError, match="gold"):
        accounts.set_plan(workspace.id, "gold")
    with pytest.raises(LookupError):
        accounts.set_plan("ws_01HV0000000000000000000000", "pro")


def test_update_workspace_changes_only_the_allowed_fields(workspace):
    accounts.update_workspace(workspace.id, default_language="es", window_start="09:00", admin_emails=["a@b.co"])

    info = accounts.get_workspace(workspace.id)
    assert (info.default_language, info.window_start, info.admin_emails) == ("es", "09:00", ("a@b.co",))
    with pytest.raises(ValueError, match="plan"):
        accounts.update_workspace(workspace.id, plan="pro")
    with pytest.raises(LookupError):
        accounts.update_workspace("ws_01HV0000000000000000000000", name="nobody")


def test_workspaces_are_listed_and_counted(workspace, other_workspace):
    assert accounts.count_workspaces() == 2
    assert {ws.id for ws in accounts.list_workspaces()} == {workspace.id, other_workspace.id}


# --- keys ----------------------------------------------------------------------------------------------


def test_the_database_never_holds_the_plain_key(database, workspace):
    key_id, plain = accounts.create_key(workspace.id, NOW, live=True)
    accounts.resolve_key(plain, NOW)  # a lookup must not write it anywhere either
    secret_part = plain[12:]  # what the stored display prefix does not show

    row = ApiKey.get_by_id(key_id)
    assert row.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert row.prefix == plain[:12]
    stored = _every_stored_value(database)
    assert not [value for value in stored if secret_part in value]
    if is_sqlite(database):
        assert secret_part.encode() not in _sqlite_file_bytes(database)


def test_keys_have_a_mode_and_scopes(workspace):
    _, test_key = accounts.create_key(workspace.id, NOW)
    _, live_key = accounts.create_key(workspace.id, NOW, live=True, scopes=frozenset({"read"}))

    assert test_key.startswith("ck_test_") and live_key.startswith("ck_live_")
    test_record = accounts.resolve_key(test_key, NOW)
    live_record = accounts.resolve_key(live_key, NOW)
    assert (test_record.mode, test_record.scopes) == ("test", frozenset({"read", "write"}))
    assert (live_record.mode, live_record.scopes) == ("live", frozenset({"read"}))
    assert test_record.workspace_id == live_record.workspace_id == workspace.id
    assert test_record.features == frozenset({"sequences", "api_access"})


@pytest.mark.parametrize("scopes", [frozenset(), frozenset({"admin"}), frozenset({"read", "delete"})])
def test_bad_scopes_are_refused(workspace, scopes):
    with pytest.raises(ValueError, match="scopes"):
        accounts.create_key(workspace.id, NOW, scopes=scopes)


def test_the_plan_is_read_at_every_lookup(workspace):
    _, plain = accounts.create_key(workspace.id, NOW)
    accounts.set_plan(workspace.id, "starter")

    assert accounts.resolve_key(plain, NOW).features == frozenset({"api_access"})


def test_unknown_and_revoked_keys_resolve_to_nothing(workspace):
    key_id, plain = accounts.create_key(workspace.id, NOW)
    never_issued = plain[:-1] + ("A" if plain[-1] != "A" else "B")

    assert accounts.resolve_key(never_issued, NOW) is None
    assert accounts.revoke_key(key_id, NOW) is True
    assert accounts.revoke_key(key_id, NOW) is False  # already revoked
    assert accounts.resolve_key(plain, NOW) is None


@pytest.mark.parametrize(
    "malformed",
    ["", "ck_", "sk_test_" + "a" * 32, "ck_prod_" + "a" * 32, "ck_test_" + "a" * 200, "Bearer ck_test_abc"],
)
def test_malformed_keys_resolve_to_nothing(workspace, malformed):
    assert accounts.resolve_key(malformed, NOW) is None


def test_the_hash_itself_is_not_a_key(workspace):
    _, plain = accounts.create_key(workspace.id, NOW)

    assert accounts.resolve_key(accounts.hash_key(plain), NOW) is None
    assert accounts.resolve_key("ck_test_" + accounts.hash_key(plain), NOW) is None


def test_last_used_at_is_stale_once_per_minute_and_touch_records_it(workspace):
    """Resolving never writes (the node queues the touch to its writer); staleness says when to."""
    key_id, plain = accounts.create_key(workspace.id, NOW)
    assert accounts.resolve_key(plain, NOW).last_used_stale is True
    assert ApiKey.get_by_id(key_id).last_used_at is None

    accounts.touch_key(key_id, NOW)
    assert ApiKey.get_by_id(key_id).last_used_at == NOW
    assert accounts.resolve_key(plain, NOW + timedelta(seconds=30)).last_used_stale is False  # within the minute

    assert accounts.resolve_key(plain, NOW + timedelta(minutes=2)).last_used_stale is True


def test_key_listing_shows_prefix_and_state_never_the_key(workspace):
    first_id, first = accounts.create_key(workspace.id, NOW)
    second_id, _ = accounts.create_key(workspace.id, NOW + timedelta(seconds=1), live=True, scopes=frozenset({"read"}))
    accounts.revoke_key(first_id, NOW + timedelta(seconds=2))

    listing = {key.key_id: key for key in accounts.list_keys(workspace.id)}
    assert set(listing) == {first_id, second_id}
    assert listing[first_id].prefix == first[:12] and listing[first_id].revoked_at == NOW + timedelta(seconds=2)
    assert (listing[second_id].mode, listing[second_id].scopes, listing[second_id].revoked_at) == ("live", "read", None)
    assert first[12:] not in repr(listing)


def test_keys_belong_to_their_workspace(workspace, other_workspace):
    accounts.create_key(workspace.id, NOW)
    _, theirs = accounts.create_key(other_workspace.id, NOW)

    assert len(accounts.list_keys(workspace.id)) == 1
    assert accounts.resolve_key(theirs, NOW).workspace_id == other_workspace.id
    assert accounts.get_workspace("ws_01HV0000000000000000000000") is None
