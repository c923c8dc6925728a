"""The group-commit writer on SQLite and PostgreSQL: batching, savepoints, failures, shutdown."""

from __future__ import annotations

import threading

import pytest

from ringback.storage import accounts
from ringback.storage.db import close_database, open_database
from ringback.storage.migrations import migrate
from ringback.storage.models import Workspace
from ringback.storage.writer import GroupCommitWriter, OutcomeUnknown, WriterClosed
from tests.storage.conftest import NOW


@pytest.fixture
def writer(database):
    batches: list[int] = []
    writer = GroupCommitWriter(database, on_commit=batches.append)
    writer.batches = batches
    yield writer
    writer.close()


def _held(writer: GroupCommitWriter) -> threading.Event:
    """Occupy the writer with a unit that waits for the returned event."""
    entered, release = threading.Event(), threading.Event()
    writer.submit(lambda: (entered.set(), release.wait(30)))
    assert entered.wait(10)
    return release


def test_units_queued_behind_a_commit_share_the_next_commit(writer):
    release = _held(writer)
    futures = [writer.submit(lambda i=i: accounts.create_workspace(f"ws{i}", NOW).id) for i in range(5)]
    release.set()

    ids = [f.result(10) for f in futures]
    assert writer.batches == [1, 5]
    assert {w.id for w in Workspace.select()} == set(ids)


def test_a_failing_unit_is_undone_alone_and_its_caller_gets_the_error(writer):
    def half_then_fail() -> None:
        accounts.create_workspace("half", NOW)
        raise ValueError("refused")

    release = _held(writer)
    before = writer.submit(lambda: accounts.create_workspace("before", NOW))
    failing = writer.submit(half_then_fail)
    after = writer.submit(lambda: accounts.create_workspace("after", NOW))
    release.set()

    before.result(10), after.result(10)
    with pytest.raises(ValueError, match="refused"):
        failing.result(10)
    assert sorted(w.name for w in Workspace.select()) == ["after", "before"]
    assert writer.batches == [1, 3]


def test_a_unit_that_submits_again_runs_inline_in_the_same_transaction(writer):
    def outer() -> str:
        return writer.run(lambda: accounts.create_workspace("inner", NOW).id)

    assert writer.run(outer, 10) == Workspace.get(Workspace.name == "inner").id
    assert writer.batches == [1]


@pytest.fixture
def sqlite_writer(tmp_path):
    """SQLite only: it can defer foreign keys per transaction, which makes COMMIT itself fail on demand."""
    database = open_database(f"sqlite:///{tmp_path / 'commit.db'}")
    migrate(database)
    writer = GroupCommitWriter(database)
    yield writer, database
    writer.close()
    close_database(database)


def test_a_failed_commit_makes_every_unit_of_the_batch_unknown(sqlite_writer):
    """A deferred constraint fails at COMMIT, after the units ran: their callers cannot know the outcome."""
    writer, database = sqlite_writer

    def orphan() -> None:
        database.execute_sql("PRAGMA defer_foreign_keys = ON")
        database.execute_sql("INSERT INTO template (id, workspace_id, name, definition, created_at) "
                             "VALUES ('tpl_x', 'ws_missing', 'x', '{}', '2026-01-01')")

    release = _held(writer)
    fine = writer.submit(lambda: accounts.create_workspace("fine", NOW))
    broken = writer.submit(orphan)
    release.set()

    for future in (fine, broken):
        with pytest.raises(OutcomeUnknown):
            future.result(10)
    assert Workspace.select().count() == 0
    assert writer.run(lambda: accounts.create_workspace("later", NOW).name, 10) == "later"


def test_close_commits_what_is_queued_and_refuses_the_rest(writer):
    release = _held(writer)
    queued = writer.submit(lambda: accounts.create_workspace("queued", NOW))
    release.set()
    writer.close()

    assert queued.result(10).name == "queued"
    with pytest.raises(WriterClosed):
        writer.run(lambda: None, 1)
