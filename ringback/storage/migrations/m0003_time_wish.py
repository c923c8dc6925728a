"""0003: enrollment.time_wish, the lead's preferred hours for calls and texts (issue 12)."""

from playhouse.migrate import SchemaMigrator, migrate

from ringback.storage.models import JSONField


def up(db) -> None:
    # 0001 builds tables from the live models, so a fresh database already has the column.
    if "time_wish" in {column.name for column in db.get_columns("enrollment")}:
        return
    migrator = SchemaMigrator.from_database(db)
    migrate(migrator.add_column("enrollment", "time_wish", JSONField(null=True)))
