"""0007: sending limits (issue 16): workspace.sending_limits, step.waiting_for, and the send_log table the
caps count."""

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField, Model
from playhouse.migrate import SchemaMigrator, migrate

from ringback.storage.models import JSONField, Step, UTCDateTimeField, Workspace


class _SendLog(Model):
    """The table as 0007 creates it: a snapshot, so later changes to the live model cannot alter history."""

    workspace = ForeignKeyField(Workspace, on_delete="CASCADE")
    step = ForeignKeyField(Step, on_delete="CASCADE")
    attempt = IntegerField()
    channel = CharField(max_length=10)
    sender = CharField(max_length=320)
    recipient_domain = CharField(max_length=255, null=True)
    sandbox = BooleanField()
    sent_at = UTCDateTimeField()

    class Meta:
        table_name = "send_log"
        indexes = (
            (("step", "attempt"), True),
            (("workspace", "channel", "sender", "sent_at"), False),
            (("workspace", "recipient_domain", "sent_at"), False),
            (("sent_at",), False),
        )


def up(db) -> None:
    # 0001 builds tables from the live models, so a fresh database already has all of it.
    migrator = SchemaMigrator.from_database(db)
    if "sending_limits" not in {column.name for column in db.get_columns("workspace")}:
        migrate(migrator.add_column("workspace", "sending_limits", JSONField(null=True)))
    if "waiting_for" not in {column.name for column in db.get_columns("step")}:
        migrate(migrator.add_column("step", "waiting_for", CharField(max_length=20, null=True)))
    with db.bind_ctx([_SendLog], bind_refs=False, bind_backrefs=False):  # leave the live models alone
        db.create_tables([_SendLog], safe=True)
