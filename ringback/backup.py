"""`ringback backup` and `ringback restore` for SQLite, through SQLite's online backup API.

The backup is consistent while the server runs (the API copies pages under SQLite's own locking, WAL
included). A restore only goes into an empty data directory: overwriting a live database under a running
server would corrupt it. PostgreSQL has better tools of its own (`pg_dump`, `pg_restore`): see
docs/operations.md.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from ringback.storage.db import sqlite_path
from ringback.storage.migrations import latest_known


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Copied:
    source: Path
    target: Path
    schema_version: int
    enrollments: int


def backup(database_url: str, target: Path) -> Copied:
    source = _sqlite_file(database_url)
    if not source.exists():
        raise BackupError(f"no database at {source}: nothing to back up")
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new file name (a backup never overwrites)")
    _copy(source, target)
    return _describe(source, target, target)


def restore(backup_file: Path, database_url: str) -> Copied:
    target = _sqlite_file(database_url)
    if not backup_file.is_file():
        raise BackupError(f"no backup file at {backup_file}")
    if target.exists():
        raise BackupError(
            f"{target} already exists: restore only into an empty data directory (stop the server, move the "
            "old database away, or pass another --data-dir)"
        )
    copied = _describe(backup_file, target, backup_file)
    if copied.schema_version > latest_known():
        raise BackupError(
            f"{backup_file} is at schema version {copied.schema_version}, newer than this ringback "
            f"({latest_known()}): restore it with the version that made it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup_file, target)
    return copied


def _sqlite_file(database_url: str) -> Path:
    path = sqlite_path(database_url)
    if path is None:
        raise BackupError(
            "backup and restore handle SQLite only; for PostgreSQL use pg_dump and pg_restore (docs/operations.md)"
        )
    return path


def _copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _describe(source: Path, target: Path, inspected: Path) -> Copied:
    """What the copy holds: read from `inspected`, which must be a ringback database."""
    try:
        with closing(sqlite3.connect(f"file:{inspected}?mode=ro", uri=True)) as conn:
            version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            enrollments = conn.execute("SELECT count(*) FROM enrollment").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{inspected} is not a ringback database ({error})") from None
    return Copied(source, target, version, enrollments)
