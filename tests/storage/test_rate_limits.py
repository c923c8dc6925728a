"""The shared rate-limit window (migration 0011): one SQL call counts a hit on database time."""

from __future__ import annotations

from collections.abc import Iterator

import peewee
import pytest

from ringback.storage import rate_limits
from ringback.storage.db import close_database, is_sqlite, open_database
from ringback.storage.migrations import migrate
from tests.conftest import POSTGRES_URL
from tests.storage.conftest import _reset_postgres, age_rate_limit_hits


@pytest.fixture
def postgres() -> Iterator[peewee.Database]:
    _reset_postgres(POSTGRES_URL)
    db = open_database(POSTGRES_URL)
    migrate(db)
    yield db
    close_database(db)


def test_postgres_gets_an_unlogged_window_and_sqlite_nothing(database):
    if is_sqlite(database):
        assert "rate_limit_window" not in database.get_tables()
        with pytest.raises(rate_limits.WindowUnavailable):
            rate_limits.hit(database, "key_1:write", 60, 60.0)
        return
    persistence = database.execute_sql("SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_window'")
    assert persistence.fetchone() == ("u",)  # no WAL for hits that matter for a minute


@pytest.mark.postgres
def test_hits_are_counted_up_to_the_limit_and_refusals_write_nothing(postgres):
    first = rate_limits.hit(postgres, "key_1:write", 2, 60.0)
    second = rate_limits.hit(postgres, "key_1:write", 2, 60.0)
    refused = [rate_limits.hit(postgres, "key_1:write", 2, 60.0) for _ in range(3)]

    assert first == rate_limits.WindowState(True, 1, 0.0)
    assert (second.allowed, second.counted) == (True, 2)
    assert [(r.allowed, r.counted) for r in refused] == [(False, 2)] * 3
    assert 0 <= second.oldest_age_seconds <= refused[0].oldest_age_seconds < 60
    age_rate_limit_hits(postgres, "key_1:write", 60)  # the first hit leaves the window: one slot, not four
    assert [rate_limits.hit(postgres, "key_1:write", 2, 60.0).allowed for _ in range(2)] == [True, False]


@pytest.mark.postgres
def test_the_window_argument_decides_which_hits_count(postgres):
    for _ in range(2):
        rate_limits.hit(postgres, "key_1:write", 2, 60.0)
    age_rate_limit_hits(postgres, "key_1:write", 30, 10)  # admitted 30 s and 10 s ago

    wide = rate_limits.hit(postgres, "key_1:write", 2, 60.0)
    narrow = rate_limits.hit(postgres, "key_1:write", 2, 20.0)

    assert (wide.allowed, wide.counted) == (False, 2)
    assert wide.oldest_age_seconds >= 30
    assert (narrow.allowed, narrow.counted) == (True, 2)  # the 30 s old hit is out of a 20 s window
    assert 10 <= narrow.oldest_age_seconds < 20


@pytest.mark.postgres
def test_a_purge_forgets_only_keys_idle_for_a_whole_window(postgres):
    for key in ("idle:write", "busy:write"):
        rate_limits.hit(postgres, key, 5, 60.0)
    age_rate_limit_hits(postgres, "idle:write", 61)
    age_rate_limit_hits(postgres, "busy:write", 59)

    rate_limits.hit(postgres, "other:read", 5, 60.0)
    assert len(stored_keys(postgres)) == 3  # no purge asked for
    rate_limits.hit(postgres, "other:read", 5, 60.0, purge=True)
    assert stored_keys(postgres) == {"busy:write", "other:read"}
    # A purged key starts again from an empty window.
    assert rate_limits.hit(postgres, "idle:write", 5, 60.0) == rate_limits.WindowState(True, 1, 0.0)


def stored_keys(db: peewee.Database) -> set[str]:
    return {key for (key,) in db.execute_sql("SELECT key FROM rate_limit_window")}
