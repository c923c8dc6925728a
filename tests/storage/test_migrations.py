"""Numbered migrations: each runs once, the version is recorded, a second run changes nothing."""

from __future__ import annotations

import pytest

from ringback.storage.db import is_sqlite, open_database, ping
from ringback.storage.migrations import SchemaTooNew, migrate
from ringback.storage.models import ALL_MODELS, SchemaVersion

PRAGMAS = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")


def test_first_run_creates_every_table_and_records_the_version(fresh_database):
    version = migrate(fresh_database)

    assert version >= 1
    assert [row.version for row in SchemaVersion.select().order_by(SchemaVersion.version)] == list(
        range(1, version + 1)
    )
    tables = set(fresh_database.get_tables())
    assert {model._meta.table_name for model in ALL_MODELS} <= tables
    assert ping(fresh_database)


def test_second_run_is_a_no_op(database):
    before = [(row.version, row.applied_at) for row in SchemaVersion.select().order_by(SchemaVersion.version)]

    assert migrate(database) == before[-1][0]
    assert migrate(database) == before[-1][0]

    after = [(row.version, row.applied_at) for row in SchemaVersion.select().order_by(SchemaVersion.version)]
    assert after == before


def test_sqlite_runs_with_wal_normal_sync_busy_timeout_and_foreign_keys(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'nested' / 'ringback.db'}")
    try:
        assert is_sqlite(db)
        values = {name: db.execute_sql(f"PRAGMA {name}").fetchone()[0] for name in PRAGMAS}
        assert values["journal_mode"] == "wal"
        assert values["foreign_keys"] == 1
        assert values["synchronous"] == 1  # NORMAL
        assert values["busy_timeout"] > 0
    finally:
        db.close()


def test_an_unknown_url_scheme_is_refused():
    with pytest.raises(ValueError, match="mysql"):
        open_database("mysql://localhost/ringback")


def test_a_database_from_before_0002_gains_the_default_sender_column(fresh_database):
    migrate(fresh_database)
    fresh_database.execute_sql("ALTER TABLE workspace DROP COLUMN default_sender")
    SchemaVersion.delete().where(SchemaVersion.version == 2).execute()

    assert migrate(fresh_database) >= 2

    assert "default_sender" in {column.name for column in fresh_database.get_columns("workspace")}


def test_a_database_migrated_by_a_newer_version_is_refused_and_left_alone(database):
    SchemaVersion.create(version=9999)

    with pytest.raises(SchemaTooNew, match=r"schema version 9999.*downgrades are refused"):
        migrate(database)

    assert max(row.version for row in SchemaVersion.select()) == 9999
