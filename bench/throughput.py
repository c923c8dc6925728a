"""Write-path throughput of the real server (issue 10), on SQLite and on PostgreSQL, in one run.

For each database: a fresh database (a temp dir for SQLite, a scratch database created and dropped on
PostgreSQL), the workspace, a sandbox key and a two-email template made with the CLI, then `python run.py`
with the offline writer and the per-key rate limits raised. Against that one process:
  1. `GET /healthz` under wrk: the HTTP ceiling of this server on this machine;
  2. `POST /api/v1/sequences/start` under wrk, every request a new fast-path lead: req/s, p50/p99, and the
     ratio to the ceiling; then the drain until every lead's first step is recorded sent: end-to-end leads/s;
     commits per lead from pg_stat_database (PostgreSQL) and from `ringback_db_commits_total` (/metrics);
  3. the open-loop fixed rate (default 200 starts/s): p50/p99/max from each request's intended send time;
  4. open file descriptors and RSS of the server before and after; with --soak N, N more starts sampled
     every 2,000.
The machine is shared, so absolute rates move from run to run: read the ratios. Prints a table and one
JSON line. Usage: python bench/throughput.py [--db sqlite|postgres|both] [--duration 10] [--rate 200]
[--connections 8] [--soak 20000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import open_loop
import wrk
from common import print_figures
from node_process import (
    HOST,
    DatabaseProbe,
    Server,
    create_workspace,
    open_fds,
    rss_mb,
    scratch_postgres,
    settings_env,
    start_server,
)
from stats import counter_total, flat_after_warmup, per_lead, percentile, to_ms

POSTGRES_URL = os.environ.get("RINGBACK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/bench_throughput")
SERVER_SETTINGS = {  # rate limits far above any rate this machine reaches, so nothing answers 429
    "RINGBACK_WRITES_PER_MINUTE": "100000000",
    "RINGBACK_READS_PER_MINUTE": "100000000",
}
WRK_THREADS = 2
STATS_SETTLE_SECONDS = 2.0  # PostgreSQL backends report their counters at most once a second
SOAK_EVERY = 2000
COMMITS_METRIC = "ringback_db_commits_total"


def main() -> int:
    args = _parser().parse_args()
    if not wrk.ready_to_load(args):
        return 2
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {kind: measure(kind, args) for kind in kinds}
    print_table(results)
    print(json.dumps({"benchmark": "throughput", "args": vars(args), "results": results}))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each measured run")
    parser.add_argument("--rate", type=float, default=200.0, help="offered starts/s of the open-loop run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (and soak connections)")
    parser.add_argument("--soak", type=int, default=0, metavar="N", help="then send N starts, sampling fds/RSS")
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test of the benchmark)")
    return parser


def measure(kind: str, args: argparse.Namespace) -> dict:
    database: AbstractContextManager[str | None] = (
        scratch_postgres(POSTGRES_URL) if kind == "postgres" else (nullcontext(None))
    )
    with tempfile.TemporaryDirectory(prefix="ringback-bench-") as tmp, database as postgres_url:
        work = Path(tmp)
        database_url = postgres_url or f"sqlite:///{work / 'data' / 'ringback.db'}"
        env = settings_env(work / "data", database_url, SERVER_SETTINGS)
        api_key, template_id = create_workspace(env, work)
        probe = DatabaseProbe(database_url)
        server = start_server(env, work / "server.log")
        try:
            return _measure_server(server, probe, api_key, template_id, work, args)
        finally:
            server.stop()
            probe.close()


def _measure_server(
    server: Server, probe: DatabaseProbe, api_key: str, template_id: str, work: Path, args: argparse.Namespace
) -> dict:
    figures: dict = {"fds_before": open_fds(server.pid), "rss_mb_before": round(rss_mb(server.pid), 1)}
    healthz = wrk.run(server.url + "/healthz", args.duration, args.connections, WRK_THREADS)
    figures["healthz_rps"] = round(healthz.ok_per_second)
    figures.update(_start_run(server, probe, api_key, template_id, work, args, healthz.ok_per_second))
    figures.update(_open_loop_run(server, probe, api_key, template_id, args))
    figures["fds_after"] = open_fds(server.pid)
    figures["rss_mb_after"] = round(rss_mb(server.pid), 1)
    if args.soak:
        figures.update(_soak(server, api_key, template_id, args))
    return figures


def _start_run(
    server: Server,
    probe: DatabaseProbe,
    api_key: str,
    template_id: str,
    work: Path,
    args: argparse.Namespace,
    healthz_rps: float,
) -> dict:
    script = work / "start.lua"
    script.write_text(wrk.start_script(api_key, template_id, prefix="wrk"))
    time.sleep(STATS_SETTLE_SECONDS)
    commits_before, metric_before = probe.xact_commit(), _commits_metric(server)
    leads_before, sent_before, queries_before = probe.enrollments(), probe.first_steps_sent(), probe.queries
    started = time.perf_counter()
    result = wrk.run(server.url + wrk.START_PATH, args.duration, args.connections, WRK_THREADS, str(script))
    leads, sent, drained = probe.drain()
    leads, sent = leads - leads_before, sent - sent_before
    time.sleep(STATS_SETTLE_SECONDS)
    own_queries = probe.queries - queries_before
    commits_after, metric_after = probe.xact_commit(), _commits_metric(server)
    e2e = sent / (drained - started) if drained > started else 0.0
    pg_commits = None if commits_before is None else commits_after - commits_before - own_queries
    metric_commits = None if metric_before is None or metric_after is None else metric_after - metric_before
    return {
        "start_rps": round(result.ok_per_second, 1),
        "start_p50_ms": to_ms(result.latency_seconds.get(50)),
        "start_p99_ms": to_ms(result.latency_seconds.get(99)),
        "start_non_2xx": result.non_2xx,
        "start_socket_errors": result.socket_errors,
        "start_pct_of_healthz": round(100 * result.ok_per_second / healthz_rps, 1),
        "leads": leads,
        "first_steps_sent": sent,
        "e2e_leads_per_s": round(e2e, 1),
        "e2e_pct_of_healthz": round(100 * e2e / healthz_rps, 1),
        "commits_per_lead_pg": _round(per_lead(pg_commits, leads)),
        "commits_per_lead_metric": _round(per_lead(metric_commits, leads)),
    }


def _open_loop_run(
    server: Server, probe: DatabaseProbe, api_key: str, template_id: str, args: argparse.Namespace
) -> dict:
    result = open_loop.fixed_rate(
        _sender(server, api_key, template_id), "open", args.rate, args.duration, give_up_after=3 * args.duration
    )
    probe.drain()  # leave the server quiet for the figures that follow
    ok = result.statuses[202]
    return {
        "open_offered_per_s": args.rate,
        "open_achieved_per_s": round(result.achieved_rate, 1),
        "open_p50_ms": to_ms(percentile(result.latencies, 50)),
        "open_p99_ms": to_ms(percentile(result.latencies, 99)),
        "open_max_ms": to_ms(max(result.latencies)),
        "open_not_202": result.statuses.total() - ok,
        "open_unsent": result.unsent,
    }


def _soak(server: Server, api_key: str, template_id: str, args: argparse.Namespace) -> dict:
    samples = [(0, open_fds(server.pid), rss_mb(server.pid))]

    def sample(answered: int) -> None:
        samples.append((answered, open_fds(server.pid), rss_mb(server.pid)))

    statuses = open_loop.closed_loop(
        _sender(server, api_key, template_id), "soak", args.soak, args.connections, SOAK_EVERY, sample
    )
    samples.sort()
    enough = len(samples) >= 3
    return {
        "soak_starts": args.soak,
        "soak_not_202": statuses.total() - statuses[202],
        "soak_fds": [fds for _, fds, _ in samples],
        "soak_rss_mb": [round(rss) for _, _, rss in samples],
        "soak_fds_flat": flat_after_warmup([fds for _, fds, _ in samples]) if enough else None,
        "soak_rss_flat": flat_after_warmup([rss for _, _, rss in samples]) if enough else None,
    }


def _sender(server: Server, api_key: str, template_id: str) -> Callable[[], open_loop.StartSender]:
    port = int(server.url.rsplit(":", 1)[1])
    return lambda: open_loop.StartSender(HOST, port, api_key, template_id)


def _commits_metric(server: Server) -> float | None:
    status, text = server.get("/metrics")
    return counter_total(text, COMMITS_METRIC) if status == 200 else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


ROWS = (
    ("GET /healthz req/s (ceiling)", "healthz_rps"),
    ("start req/s (wrk)", "start_rps"),
    ("start / healthz %", "start_pct_of_healthz"),
    ("start p50 ms", "start_p50_ms"),
    ("start p99 ms", "start_p99_ms"),
    ("start non-2xx / socket errors", ("start_non_2xx", "start_socket_errors")),
    ("end to end leads/s (202 -> first step sent)", "e2e_leads_per_s"),
    ("end to end / healthz %", "e2e_pct_of_healthz"),
    ("leads / first steps sent", ("leads", "first_steps_sent")),
    ("commits per lead (pg_stat_database)", "commits_per_lead_pg"),
    ("commits per lead (ringback_db_commits_total)", "commits_per_lead_metric"),
    ("open loop offered / achieved starts/s", ("open_offered_per_s", "open_achieved_per_s")),
    ("open loop p50 / p99 / max ms", ("open_p50_ms", "open_p99_ms", "open_max_ms")),
    ("open loop not 202 / unsent", ("open_not_202", "open_unsent")),
    ("open fds before / after", ("fds_before", "fds_after")),
    ("RSS MB before / after", ("rss_mb_before", "rss_mb_after")),
    ("soak fds every 2,000 starts (flat)", ("soak_fds", "soak_fds_flat")),
    ("soak RSS MB every 2,000 starts (flat)", ("soak_rss_mb", "soak_rss_flat")),
)


def print_table(results: dict[str, dict]) -> None:
    names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    print_figures(ROWS, {names[kind]: figures for kind, figures in results.items()})


if __name__ == "__main__":
    sys.exit(main())
