"""0004: a workspace's default sender, for templates created without one."""

from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as apply

from ringback.storage.models import JSONField


def up(db) -> None:
    # 0001 builds tables from the current models, so a database created by this version already has it.
    if "default_sender" not in {column.name for column in db.get_columns("workspace")}:
        apply(SchemaMigrator.from_database(db).add_column("workspace", "default_sender", JSONField(null=True)))
