"""Storage fixtures: every storage test runs on a SQLite file and on the local PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import peewee
import pytest

from ringback.engine.template import TemplateDef, parse_template
from ringback.storage import accounts
from ringback.storage.db import close_database, open_database
from ringback.storage.migrations import migrate
from ringback.storage.models import database_proxy
from ringback.storage.writer import GroupCommitWriter
from tests.conftest import POSTGRES_URL, WEDNESDAY_MORNING, services_required

NOW: datetime = WEDNESDAY_MORNING
THREAD_TIMEOUT = 30.0

TEMPLATE_BODY = {
    "name": "Callback",
    "goal": "Call the lead back and book a discovery call.",
    "allowed_channels": ["voice", "email", "sms"],
    "steps": [
        {"channel": "voice", "delay_seconds": 0},
        {"channel": "email", "delay_seconds": 120},
        {"channel": "sms", "delay_seconds": 3600},
    ],
    "sender": {"name": "Acme", "email": "hello@example.com", "phone": "+14155550100"},
}


def _reset_postgres(url: str) -> None:
    """An empty `public` schema, or a skip (locally) / failure (CI) when the server is not there."""
    import psycopg2

    try:
        conn = psycopg2.connect(url, connect_timeout=3)
    except psycopg2.OperationalError as error:
        message = f"PostgreSQL at {url} is unreachable: {error}".strip()
        if services_required():
            pytest.fail(message)
        pytest.skip(message)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        conn.close()


def age_rate_limit_hits(db: peewee.Database, key: str, *seconds: float) -> None:
    """Move a key's stored rate-limit hits into the past, the oldest by the first amount and so on: the window
    rolls without the test waiting for it (hits not given an amount stay where they are)."""
    db.execute_sql(
        "UPDATE rate_limit_window SET hits = ARRAY("
        " SELECT h - make_interval(secs => coalesce(s, 0)) FROM unnest(hits, %s::float8[]) AS t(h, s)"
        " WHERE h IS NOT NULL) WHERE key = %s",
        (list(seconds), key),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """The URL of an empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ringback.db'}"
    _reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def fresh_database(database_url) -> Iterator[peewee.Database]:
    """Opened and bound to the models, not migrated yet."""
    db = open_database(database_url)
    yield db
    close_database(db)


@pytest.fixture
def database(fresh_database) -> peewee.Database:
    """Opened, bound and migrated: the state the node starts from."""
    migrate(fresh_database)
    return fresh_database


@pytest.fixture
def workspace(database) -> accounts.WorkspaceInfo:
    return accounts.create_workspace("Acme", NOW, admin_emails=("admin@example.com",))


@pytest.fixture
def other_workspace(database) -> accounts.WorkspaceInfo:
    return accounts.create_workspace("Globex", NOW)


@pytest.fixture
def template_def() -> TemplateDef:
    return parse_template(TEMPLATE_BODY)


@pytest.fixture
def run_concurrently(database) -> Callable[..., list[Any]]:
    """Run callables on their own threads (own connections), started together; return their results in order.

    Each thread closes its connection when done so the next test can drop the PostgreSQL schema.
    """

    def run(*calls: Callable[[], Any], start_together: bool = True) -> list[Any]:
        barrier = threading.Barrier(len(calls)) if start_together else None
        results: list[Any] = [None] * len(calls)
        errors: list[BaseException] = []

        def body(index: int, call: Callable[[], Any]) -> None:
            try:
                if barrier is not None:
                    barrier.wait(THREAD_TIMEOUT)
                results[index] = call()
            except BaseException as error:
                errors.append(error)
            finally:
                database_proxy.close()

        threads = [threading.Thread(target=body, args=(i, c), daemon=True) for i, c in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(THREAD_TIMEOUT)
        assert not any(t.is_alive() for t in threads), "a storage thread did not finish"
        if errors:
            raise errors[0]
        return results

    return run


@pytest.fixture
def writer(database) -> Iterator[GroupCommitWriter]:
    """The node's group-commit writer on the test database (commands hand it their units)."""
    writer = GroupCommitWriter(database)
    yield writer
    writer.close()
