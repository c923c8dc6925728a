"""Database selection and connection setup; the only place that knows SQLite from PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect

from ringback.storage.models import database_proxy

SQLITE_PRAGMAS = {
    "secure_delete": 1,  # deleted rows are zeroed, not left in free pages (erasure, docs/privacy.md)
    "journal_mode": "wal",
    "synchronous": "normal",
    "busy_timeout": 10000,
    "foreign_keys": 1,
    "cache_size": -16000,
}


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL; None for PostgreSQL and in-memory databases."""
    if not urlparse(url).scheme.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def open_database(url: str) -> peewee.Database:
    """Connect to `url`, bind the models to it, and return it (migrations are run separately)."""
    scheme = urlparse(url).scheme
    if scheme.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        db = connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    elif scheme.startswith(("postgres", "postgresql")):
        try:
            import psycopg2  # noqa: F401 - only to give a clear error
        except ImportError as exc:
            raise RuntimeError("PostgreSQL needs the driver: pip install 'ringback[postgres]'") from exc
        db = connect(url)
    else:
        raise ValueError(f"unsupported database URL scheme {scheme!r} (use sqlite:/// or postgresql://)")
    database_proxy.initialize(db)
    return db


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
