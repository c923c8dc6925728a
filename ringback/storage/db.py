"""Database selection and connection setup; the only place that knows SQLite from PostgreSQL.

File databases use a bounded connection pool: threads borrow a connection for a unit of work and
give it back (`release`), so a node holds at most `max_connections` of them however many enrollment
actors come and go. A connection still checked out by a thread that has died is taken back when the
pool runs dry, so one forgotten `release` cannot exhaust it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect
from playhouse.pool import MaxConnectionsExceeded, PooledDatabase, PooledPostgresqlDatabase, PooledSqliteDatabase

from ringback.storage.models import database_proxy

SQLITE_PRAGMAS = {
    "secure_delete": 1,  # deleted rows are zeroed, not left in free pages (erasure, docs/privacy.md)
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 10000,
    "foreign_keys": 1,
    "cache_size": -16000,
}
DEFAULT_CONNECTIONS = 24
POOL_WAIT_SECONDS = 30  # a thread waits this long for a free connection before its work fails


class _ReclaimingPool:
    """Mixin for peewee's pools: remembers which thread holds each connection, reclaims dead threads' ones."""

    def _connect(self):  # peewee calls this under the pool lock
        try:
            conn = super()._connect()
        except MaxConnectionsExceeded:
            if not self._reclaim_dead():
                raise
            conn = super()._connect()
        self._owners[self.conn_key(conn)] = threading.current_thread()
        return conn

    def _reclaim_dead(self) -> int:
        dead = [key for key, owner in self._owners.items() if not owner.is_alive() and key in self._in_use]
        for key in dead:
            self._close_raw(self._in_use.pop(key).connection)
            del self._owners[key]
        return len(dead)

    def _close(self, conn, close_conn=False):
        self._owners.pop(self.conn_key(conn), None)
        super()._close(conn, close_conn)


class BoundedSqliteDatabase(_ReclaimingPool, PooledSqliteDatabase):
    def __init__(self, *args, **kwargs) -> None:
        self._owners: dict[int, threading.Thread] = {}
        super().__init__(*args, **kwargs)


class BoundedPostgresqlDatabase(_ReclaimingPool, PooledPostgresqlDatabase):
    def __init__(self, *args, **kwargs) -> None:
        self._owners: dict[int, threading.Thread] = {}
        super().__init__(*args, **kwargs)


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL; None for PostgreSQL and in-memory databases."""
    if not urlparse(url).scheme.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def open_database(url: str, max_connections: int = DEFAULT_CONNECTIONS) -> peewee.Database:
    """Connect to `url`, bind the models to it, and return it (migrations are run separately)."""
    scheme = urlparse(url).scheme
    pool = {"max_connections": max_connections + 1, "timeout": POOL_WAIT_SECONDS}  # + the writer's own
    if scheme.startswith("sqlite"):
        path = sqlite_path(url)
        if path is None:
            db = connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)  # in memory: one connection
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = BoundedSqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, check_same_thread=False, **pool)
    elif scheme.startswith(("postgres", "postgresql")):
        try:
            import psycopg2  # noqa: F401 - only to give a clear error
        except ImportError as exc:
            raise RuntimeError("PostgreSQL needs the driver: pip install 'ringback[postgres]'") from exc
        parsed = connect(url)  # playhouse parses the URL into connection arguments
        db = BoundedPostgresqlDatabase(parsed.database, **parsed.connect_params, **pool)
    else:
        raise ValueError(f"unsupported database URL scheme {scheme!r} (use sqlite:/// or postgresql://)")
    database_proxy.initialize(db)
    return db


def listen_connection(db: peewee.Database):
    """A connection of its own, outside the pool, for LISTEN (PostgreSQL): it stays open for the node's life."""
    import psycopg2  # the [postgres] extra

    return psycopg2.connect(database=db.database, **db.connect_params)


def release() -> None:
    """Give this thread's connection back to the pool (the end of a request, an actor message, a job)."""
    db = database_proxy.obj
    if isinstance(db, PooledDatabase) and not db.in_transaction():
        db.close()


def close_database(db: peewee.Database) -> None:
    """Close this thread's connection and every idle one (at shutdown). Connections still checked out by
    other threads are left to them: closing a connection under a running query can crash the driver."""
    db.close()
    if isinstance(db, PooledDatabase):
        db.close_idle()


def open_connections(db: peewee.Database) -> int:
    """Connections the pool holds, checked out or idle (what the bound applies to)."""
    if not isinstance(db, PooledDatabase):
        return 0 if db.is_closed() else 1
    with db._pool_lock:
        return len(db._in_use) + len(db._connections)


def is_sqlite(db: peewee.Database) -> bool:
    return isinstance(db, peewee.SqliteDatabase)


def write_transaction(db: peewee.Database):
    """A transaction that takes the write lock up front on SQLite (no SELECT ... FOR UPDATE there)."""
    if is_sqlite(db):
        return db.atomic("IMMEDIATE")
    return db.atomic()


def ping(db: peewee.Database) -> bool:
    try:
        db.execute_sql("SELECT 1")
        return True
    except peewee.PeeweeException:
        return False
