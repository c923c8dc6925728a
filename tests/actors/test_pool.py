"""The pool: least-busy placement, a bad job never kills a worker, a dead worker is replaced and its queued
jobs run elsewhere, and stopping drops only jobs that have not started."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pykka
import pytest

from ringback.actors.pool import LoadCounter, Pool, PoolWorker
from tests.conftest import wait_for


@dataclass(frozen=True)
class Job:
    enrollment_id: str
    kind: str = "ok"  # ok | block | raise | die


class Recorder:
    def __init__(self) -> None:
        self.done: list[str] = []
        self.failed: list[str] = []
        self.metrics: list[tuple[str, dict]] = []
        self.gate = threading.Event()
        self.blocked = threading.Event()

    def metric(self, name, value=1, **labels) -> None:
        self.metrics.append((name, labels))


class DummyWorker(PoolWorker):
    def __init__(self, counter: LoadCounter, recorder: Recorder) -> None:
        super().__init__(counter)
        self._recorder = recorder

    def handle(self, job: Job) -> None:
        if job.kind == "block":
            self._recorder.blocked.set()
            self._recorder.gate.wait(timeout=10)
        if job.kind in ("raise", "die"):
            raise ValueError(f"bad job {job.enrollment_id}")
        self._recorder.done.append(job.enrollment_id)

    def handle_crash(self, job: Job) -> None:
        if job.kind == "die":
            raise RuntimeError("the failure report failed too")
        self._recorder.failed.append(job.enrollment_id)


@pytest.fixture
def recorder():
    recorder = Recorder()
    yield recorder
    recorder.gate.set()
    pykka.ActorRegistry.stop_all()


def pool_of(recorder: Recorder, size: int) -> Pool:
    return Pool("dummy", size, lambda book: DummyWorker.start(book, recorder), recorder.metric)


def test_jobs_go_to_the_least_busy_worker(recorder):
    pool = pool_of(recorder, 2)
    pool.tell(Job("enr_slow", "block"))
    wait_for(recorder.blocked.is_set)

    pool.tell(Job("enr_quick"))

    wait_for(lambda: recorder.done == ["enr_quick"])  # not queued behind the slow one
    assert pool.in_flight() == 1
    recorder.gate.set()
    wait_for(lambda: pool.in_flight() == 0)


def test_a_bad_job_is_reported_and_the_worker_goes_on(recorder):
    pool = pool_of(recorder, 1)
    pool.tell(Job("enr_bad", "raise"))
    pool.tell(Job("enr_next"))

    wait_for(lambda: recorder.done == ["enr_next"])
    assert recorder.failed == ["enr_bad"]
    assert ("pool_job_crashes", {"pool": "dummy"}) in recorder.metrics


def test_a_dead_worker_is_replaced_and_the_jobs_queued_behind_it_run_elsewhere(recorder):
    pool = pool_of(recorder, 1)
    pool.tell(Job("enr_block", "block"))
    wait_for(recorder.blocked.is_set)
    for job in (Job("enr_dies", "die"), Job("enr_a"), Job("enr_b")):
        pool.tell(job)

    recorder.gate.set()

    wait_for(lambda: sorted(recorder.done) == ["enr_a", "enr_b", "enr_block"])
    names = [name for name, _ in recorder.metrics]
    assert "pool_worker_deaths" in names and "pool_workers_replaced" in names
    assert pool.in_flight() == 0


def test_stop_lets_the_running_job_finish_and_drops_the_ones_not_started(recorder):
    pool = pool_of(recorder, 1)
    pool.tell(Job("enr_running", "block"))
    wait_for(recorder.blocked.is_set)
    pool.tell(Job("enr_queued"))
    stopper = threading.Thread(target=pool.stop, args=(time.monotonic() + 10,))
    stopper.start()

    def refuses_new_jobs() -> bool:
        before = pool.in_flight()
        pool.tell(Job("enr_probe"))  # refused quietly once closed: shutdown leaves it to recovery
        return pool.in_flight() == before

    wait_for(refuses_new_jobs)
    recorder.gate.set()
    stopper.join(timeout=10)

    assert recorder.done == ["enr_running"]
    assert pool.in_flight() == 0
