"""0010: cluster mode — each enrollment's partition; on PostgreSQL, the partition leases and the node list."""

from peewee import SmallIntegerField
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as apply

from ringback.cluster.partitions import PARTITIONS, partition_of
from ringback.storage.db import is_sqlite
from ringback.storage.models import Enrollment

BACKFILL_BATCH = 1000


def up(db) -> None:
    table = Enrollment._meta.table_name
    # 0001 builds tables from the current models, so a database created by this version already has the column.
    if "partition" not in {column.name for column in db.get_columns(table)}:
        migrator = SchemaMigrator.from_database(db)
        apply(
            migrator.add_column(table, "partition", SmallIntegerField(default=0)),
            migrator.add_index(table, ("partition",), False),
        )
        _backfill(db)
    if not is_sqlite(db):
        _lease_tables(db)


def _backfill(db) -> None:
    ids = [row.id for row in Enrollment.select(Enrollment.id)]
    for start in range(0, len(ids), BACKFILL_BATCH):
        for enrollment_id in ids[start : start + BACKFILL_BATCH]:
            Enrollment.update(partition=partition_of(enrollment_id)).where(Enrollment.id == enrollment_id).execute()


def _lease_tables(db) -> None:
    """Database time (clock_timestamp) decides every lease: the nodes' own clocks never have to agree."""
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS cluster_node ("
        " node_id VARCHAR(200) PRIMARY KEY, started_at TIMESTAMPTZ NOT NULL, heartbeat_at TIMESTAMPTZ NOT NULL,"
        " secret_check VARCHAR(100) NOT NULL DEFAULT '')"
    )
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS partition_lease ("
        " partition SMALLINT PRIMARY KEY, owner VARCHAR(200), epoch BIGINT NOT NULL DEFAULT 0,"
        " expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity')"
    )
    db.execute_sql(
        "INSERT INTO partition_lease (partition) SELECT generate_series(0, %s) ON CONFLICT DO NOTHING",
        (PARTITIONS - 1,),
    )
