"""The API rate limits' window in PostgreSQL (migration 0011), so every node of a cluster counts the same hits."""

from __future__ import annotations

from dataclasses import dataclass

import peewee


class WindowUnavailable(RuntimeError):
    """The database could not run the check (down, unreachable, not migrated): the caller decides what then."""


@dataclass(frozen=True)
class WindowState:
    """Where a key stands after one hit: was it admitted, how many hits the window now counts, and how many
    seconds ago the oldest of them was admitted (database time)."""

    allowed: bool
    counted: int
    oldest_age_seconds: float


def hit(db: peewee.Database, key: str, limit: int, window_seconds: float, purge: bool = False) -> WindowState:
    """Count one hit of `key` if its window has room: one statement, its own transaction (the connection is in
    autocommit and no transaction is open when a request is checked), so the key's row lock lasts only as long
    as the check. `purge` also forgets keys idle for a whole window (the caller asks for it now and then)."""
    try:
        cursor = db.execute_sql(
            "SELECT allowed, counted, oldest_age_seconds FROM ringback_rate_limit_hit(%s, %s, %s, %s)",
            (key, limit, window_seconds, purge),
        )
        allowed, counted, oldest_age_seconds = cursor.fetchone()
    except peewee.PeeweeException as error:
        raise WindowUnavailable(str(error).strip() or type(error).__name__) from error
    return WindowState(allowed, counted, oldest_age_seconds)
