"""0006: a call step's voicemail script, next to its live-answer script, on the step and in the sandbox."""

from peewee import TextField
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as apply

from ringback.storage.models import SandboxDelivery, Step


def up(db) -> None:
    # 0001 builds tables from the current models, so a database created by this version already has them.
    migrator = SchemaMigrator.from_database(db)
    for table in (Step._meta.table_name, SandboxDelivery._meta.table_name):
        if "voicemail_body" not in {column.name for column in db.get_columns(table)}:
            apply(migrator.add_column(table, "voicemail_body", TextField(null=True)))
