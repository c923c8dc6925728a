"""Scale: threads and RSS while 100k enrollments wait on future steps, and during a wave of them coming due.

The database holds N active sandbox enrollments waiting for their next step (written in bulk): most two
days away, a share one hour away. A node starts on it with a manual clock; we sample its threads and RSS
while everything waits (passivated: no actor, no thread per enrollment), then move the clock one hour so the
share comes due, and measure the wave (woken by the due poll, bounded by RINGBACK_MAX_LIVE_ENROLLMENTS).
Usage: python bench/scale.py [--enrollments 100000] [--due-share 0.05] [--max-live 1000 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta

from common import in_fresh_process, peak_rss_mb, report, rss_mb, seed_enrollments, seeded_elsewhere, threads

from ringback.actors.messages import Stats
from ringback.clock import ManualClock
from ringback.config import load_settings
from ringback.node import Node
from ringback.storage import sandbox
from ringback.storage.db import open_database
from ringback.storage.migrations import migrate

NOW = datetime(2026, 5, 6, 10, tzinfo=UTC)


def seed(database_url: str, later: int, soon: int) -> None:
    """In a child process, so the parent's RSS is the node's alone."""
    migrate(open_database(database_url))
    seed_enrollments(later, NOW, NOW + timedelta(days=2))
    seed_enrollments(soon, NOW, NOW + timedelta(hours=1))


def run(enrollments: int, due_share: float, max_live: int) -> dict:
    due = int(enrollments * due_share)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(
            env={}, data_dir=data_dir, demo=False, max_live_enrollments=max_live, recovery_rate_per_second=100_000
        )
        seeded_elsewhere(seed, settings.resolved_database_url, enrollments - due, due)
        clock = ManualClock(NOW)
        node = Node(settings, clock=clock).start()
        time.sleep(2)  # a couple of due polls and ticks: the node as it idles over the waiting enrollments
        waiting = {"live": node.supervisor.ask(Stats(), timeout=60)["live_enrollments"], "threads": threads()}
        waiting_rss = rss_mb()

        clock.advance(timedelta(hours=1))
        started, cpu, most_threads, most_live = time.perf_counter(), time.process_time(), 0, 0
        while sandbox.steps_sent() < due:
            most_threads = max(most_threads, threads())
            most_live = max(most_live, node.supervisor.ask(Stats(), timeout=60)["live_enrollments"])
            time.sleep(0.2)
        wave = time.perf_counter() - started
        cpu = time.process_time() - cpu
        result = {
            "waiting_enrollments": enrollments,
            "max_live": max_live,
            "idle_live_actors": waiting["live"],
            "idle_threads": waiting["threads"],
            "idle_rss_mb": round(waiting_rss),
            "due_wave": due,
            "wave_s": round(wave, 1),
            "wave_per_s": round(due / wave),
            # CPU of the whole process (every thread) per woken enrollment: one GIL-bound core caps the wave
            # near 1000 / this, whatever the concurrency (the floor the docs discuss).
            "wave_cpu_ms_per_enrollment": round(cpu / due * 1000, 2),
            "wave_peak_live": most_live,
            "wave_peak_threads": most_threads,
            "peak_rss_mb": round(peak_rss_mb()),
        }
        node.stop()
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--due-share", type=float, default=0.05)
    parser.add_argument("--max-live", type=int, nargs="+", default=[1000, 100])
    args = parser.parse_args()
    report(
        "waiting enrollments: threads and RSS",
        [in_fresh_process(run, args.enrollments, args.due_share, max_live) for max_live in args.max_live],
    )


if __name__ == "__main__":
    main()
