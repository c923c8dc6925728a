"""SQLite is one node: a second ringback process on the same database file refuses to start.

Two nodes on one SQLite file would both recover, wake and send the same enrollments (there are no
leases without PostgreSQL). An exclusive `flock` on a file next to the database, held for the life of
the node, is released by the kernel however the process ends, kill -9 included.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class AnotherNodeRunning(RuntimeError):
    """Another ringback process serves this SQLite database."""


class SqliteNodeLock:
    def __init__(self, database: Path) -> None:
        self._path = database.with_name(database.name + ".node-lock")
        self._fd: int | None = None

    def acquire(self) -> SqliteNodeLock:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            database = self._path.with_name(self._path.name.removesuffix(".node-lock"))
            raise AnotherNodeRunning(
                f"another ringback node (pid {holder}) is using the SQLite database {database}."
                " SQLite runs exactly one node; for several nodes use PostgreSQL (cluster mode, docs/operations.md)."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
