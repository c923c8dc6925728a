"""Numbered migrations: each runs once, the version is recorded, a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringback.storage import migrations
from ringback.storage.db import is_sqlite, open_database, ping
from ringback.storage.migrations import SchemaTooNew, _available, latest_known, migrate
from ringback.storage.models import ALL_MODELS, AuditEntry, ErasedAddress, SchemaVersion, SendLog

PRAGMAS = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout", "secure_delete")
# Numbers are never reused but may have gaps (branches each take their own); every file present runs.
NUMBERS = sorted(int(p.name[1:5]) for p in Path(migrations.__file__).parent.glob("m[0-9][0-9][0-9][0-9]_*.py"))


def test_first_run_creates_every_table_and_records_the_version(fresh_database):
    version = migrate(fresh_database)

    assert version >= 1
    # Every migration file, once each; numbers may have gaps (parallel branches each take their own).
    assert [row.version for row in SchemaVersion.select().order_by(SchemaVersion.version)] == [
        number for number, _ in _available()
    ]
    assert version == latest_known()
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
        assert values["secure_delete"] == 1  # erased rows are zeroed in the file (docs/privacy.md)
    finally:
        db.close()


def test_an_unknown_url_scheme_is_refused():
    with pytest.raises(ValueError, match="mysql"):
        open_database("mysql://localhost/ringback")



def _varchar_widths(db) -> dict[tuple[str, str], int]:
    cursor = db.execute_sql(
        "SELECT table_name, column_name, character_maximum_length FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND data_type = 'character varying'"
    )
    return {(table, column): width for table, column, width in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_columns_are_as_wide_as_the_models_after_migrating_the_first_schema(fresh_database):
    """PostgreSQL enforces widths (SQLite ignores them): a database made by 0001 with the old, narrower reason
    columns is widened to what the models (and so engine/fields.py) say."""
    migrate(fresh_database)
    fresh_database.execute_sql('ALTER TABLE "step" ALTER COLUMN "note" TYPE varchar(300)')
    fresh_database.execute_sql('ALTER TABLE "suppression" ALTER COLUMN "reason" TYPE varchar(200)')
    SchemaVersion.delete().where(SchemaVersion.version == 2).execute()  # 0002 widens them

    migrate(fresh_database)

    actual = _varchar_widths(fresh_database)
    expected = {
        (model._meta.table_name, field.column_name): field.max_length
        for model in ALL_MODELS
        for field in model._meta.sorted_fields
        if getattr(field, "max_length", None)
    }
    assert {key: actual.get(key) for key in expected} == expected


def test_0003_adds_time_wish_to_a_database_made_before_it(database):
    database.execute_sql("ALTER TABLE enrollment DROP COLUMN time_wish")
    SchemaVersion.delete().where(SchemaVersion.version == 3).execute()

    migrate(database)

    assert "time_wish" in {column.name for column in database.get_columns("enrollment")}


def test_a_database_from_before_0004_gains_the_default_sender_column(fresh_database):
    migrate(fresh_database)
    fresh_database.execute_sql("ALTER TABLE workspace DROP COLUMN default_sender")
    SchemaVersion.delete().where(SchemaVersion.version == 4).execute()

    assert migrate(fresh_database) >= 4

    assert "default_sender" in {column.name for column in fresh_database.get_columns("workspace")}


def test_a_database_migrated_by_a_newer_version_is_refused_and_left_alone(database):
    SchemaVersion.create(version=9999)

    with pytest.raises(SchemaTooNew, match=r"schema version 9999.*downgrades are refused"):
        migrate(database)

    assert max(row.version for row in SchemaVersion.select()) == 9999


def test_0007_adds_the_sending_limit_columns_and_the_send_log_to_an_older_database(fresh_database):
    """A database migrated up to 0004 (no sending limits yet) gains them, and its data stays."""
    from playhouse.migrate import SchemaMigrator
    from playhouse.migrate import migrate as apply

    migrate(fresh_database)
    migrator = SchemaMigrator.from_database(fresh_database)
    apply(migrator.drop_column("workspace", "sending_limits"), migrator.drop_column("step", "waiting_for"))
    fresh_database.drop_tables([SendLog])
    SchemaVersion.delete().where(SchemaVersion.version == 7).execute()

    assert migrate(fresh_database) == latest_known()

    assert "sending_limits" in {c.name for c in fresh_database.get_columns("workspace")}
    assert "waiting_for" in {c.name for c in fresh_database.get_columns("step")}
    assert SendLog._meta.table_name in fresh_database.get_tables()
    indexes = {tuple(index.columns) for index in fresh_database.get_indexes(SendLog._meta.table_name)}
    assert ("workspace_id", "channel", "sender", "sent_at") in indexes


def test_0008_adds_the_erasure_tables_to_a_database_made_before_it(database):
    database.drop_tables([ErasedAddress, AuditEntry])
    SchemaVersion.delete().where(SchemaVersion.version == 8).execute()

    migrate(database)

    assert {"erased_address", "audit_entry"} <= set(database.get_tables())
    assert ErasedAddress.select().count() == 0 and AuditEntry.select().count() == 0
