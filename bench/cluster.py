"""Cluster mode: N real nodes on one PostgreSQL database, all driven at once, for N = 1, 2, 3 by default.

For each node count: a scratch database created empty, the workspace, sandbox key and two-email template made
once with the CLI before any node starts (the CLI migrates; key and template live in the shared database, so
every node accepts them), then N `python run.py` processes with the settings of bench/throughput.py, each on
its own port with its own RINGBACK_NODE_ID, sharing one data dir (one server secret, as a cluster must). The
load is one wrk per node, the client connections split across the nodes:
  1. `GET /healthz` on every node at once: the HTTP ceiling of this cluster on this machine, in the same run;
  2. `POST /api/v1/sequences/start` on every node at once, each request a new fast-path lead: total 202s/s, its
     share of the ceiling, p50/p99 of all nodes' requests pooled; then the drain until every lead's first step
     is recorded sent: end-to-end leads/s;
  3. the scaling of each figure against the 1-node run.
The nodes are stopped (SIGTERM) and the database dropped before the next node count. The machine has 2 cores:
three nodes and their wrk processes contend for them, which the ratios show rather than hide. Prints a table
and one JSON line. Usage: python bench/cluster.py [--nodes 1,2,3] [--duration 10] [--connections 8]
[--postgres-url postgresql://postgres@127.0.0.1:5432/bench_cluster] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import wrk
from common import print_figures
from node_process import DatabaseProbe, Server, create_workspace, scratch_postgres, settings_env, start_server
from stats import pooled_percentile, split_evenly, to_ms
from throughput import SERVER_SETTINGS, WRK_THREADS

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/bench_cluster"  # --postgres-url: that database is dropped
SCALED = ("healthz_rps", "start_rps", "e2e_leads_per_s")


def main() -> int:
    args = _parser().parse_args()
    if not wrk.ready_to_load(args):
        return 2
    if max(args.nodes) > args.connections:
        print(f"--connections {args.connections} cannot give each of {max(args.nodes)} nodes one", file=sys.stderr)
        return 2
    results = {nodes: measure(nodes, args) for nodes in args.nodes}
    add_scaling(results)
    print_figures(ROWS, {_column(nodes): figures for nodes, figures in results.items()})
    print(json.dumps({"benchmark": "cluster", "args": vars(args), "results": results}))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=_counts, default=[1, 2, 3], help="node counts to measure, e.g. 1,2,3")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections in all, split across nodes")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="scratch database (dropped and recreated)")
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test of the benchmark)")
    return parser


def _counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"node counts must be positive integers: {text!r}")
    return counts


def measure(nodes: int, args: argparse.Namespace) -> dict:
    """One node count, from an empty database to every node stopped and the database dropped."""
    with (
        tempfile.TemporaryDirectory(prefix="ringback-bench-cluster-") as tmp,
        scratch_postgres(args.postgres_url) as database_url,
    ):
        work = Path(tmp)
        env = settings_env(work / "data", database_url, SERVER_SETTINGS)
        api_key, template_id = create_workspace(env, work)
        probe = DatabaseProbe(database_url)
        servers: list[Server] = []
        try:
            for number in range(1, nodes + 1):
                node_env = {**env, "RINGBACK_NODE_ID": f"bench-node-{number}"}
                servers.append(start_server(node_env, work / f"node-{number}.log"))
            return _measure_cluster(servers, probe, api_key, template_id, work, args)
        finally:
            for server in servers:
                server.stop()
            probe.close()


def _measure_cluster(
    servers: list[Server], probe: DatabaseProbe, api_key: str, template_id: str, work: Path, args: argparse.Namespace
) -> dict:
    connections = split_evenly(args.connections, len(servers))
    healthz = _run_on_all(servers, "/healthz", connections, args.duration)
    ceiling = sum(result.ok_per_second for result in healthz)
    scripts = []
    for number in range(1, len(servers) + 1):
        script = work / f"start-{number}.lua"
        script.write_text(wrk.start_script(api_key, template_id, prefix=f"node{number}"))
        scripts.append(str(script))
    leads_before, sent_before = probe.enrollments(), probe.first_steps_sent()
    started = time.perf_counter()
    starts = _run_on_all(servers, wrk.START_PATH, connections, args.duration, scripts)
    leads, sent, drained = probe.drain()
    leads, sent = leads - leads_before, sent - sent_before
    start_rps = sum(result.ok_per_second for result in starts)
    e2e = sent / (drained - started) if drained > started else 0.0
    grids = [(result.requests, result.latency_grid) for result in starts]
    return {
        "nodes": len(servers),
        "connections": "+".join(str(n) for n in connections),
        "healthz_rps": round(ceiling),
        "healthz_non_2xx": sum(result.non_2xx for result in healthz),
        "start_rps": round(start_rps, 1),
        "start_rps_per_node": [round(result.ok_per_second, 1) for result in starts],
        "start_pct_of_healthz": round(100 * start_rps / ceiling, 1) if ceiling else None,
        "start_p50_ms": to_ms(pooled_percentile(grids, 50)),
        "start_p99_ms": to_ms(pooled_percentile(grids, 99)),
        "start_non_2xx": sum(result.non_2xx for result in starts),
        "start_socket_errors": sum(result.socket_errors for result in starts),
        "leads": leads,
        "first_steps_sent": sent,
        "e2e_leads_per_s": round(e2e, 1),
        "e2e_pct_of_healthz": round(100 * e2e / ceiling, 1) if ceiling else None,
    }


def _run_on_all(
    servers: list[Server], path: str, connections: list[int], seconds: float, scripts: list[str] | None = None
) -> list[wrk.WrkResult]:
    """One wrk per node, all at once. Client threads stay about WRK_THREADS in all, so the client's share of the
    2 cores does not grow with the node count."""
    threads = max(1, WRK_THREADS // len(servers))
    commands = [
        wrk.command(server.url + path, seconds, count, min(threads, count), scripts[index] if scripts else None)
        for index, (server, count) in enumerate(zip(servers, connections, strict=True))
    ]
    return wrk.run_all(commands)


def add_scaling(results: dict[int, dict]) -> None:
    """Each figure of SCALED over the same figure with one node (none when 1 was not measured)."""
    base = results.get(1)
    for figures in results.values():
        for key in SCALED:
            ratio = figures[key] / base[key] if base and base[key] else None
            figures[f"{key}_scaling"] = None if ratio is None else round(ratio, 2)


def _column(nodes: int) -> str:
    return f"{nodes} node" + ("s" if nodes > 1 else "")


ROWS = (
    ("wrk connections per node", "connections"),
    ("GET /healthz req/s, all nodes at once (ceiling)", "healthz_rps"),
    ("start req/s (wrk, all nodes)", "start_rps"),
    ("start req/s per node", "start_rps_per_node"),
    ("start / healthz %", "start_pct_of_healthz"),
    ("start p50 ms (all nodes pooled)", "start_p50_ms"),
    ("start p99 ms (all nodes pooled)", "start_p99_ms"),
    ("start non-2xx / socket errors", ("start_non_2xx", "start_socket_errors")),
    ("healthz non-2xx", "healthz_non_2xx"),
    ("end to end leads/s (202 -> first step sent)", "e2e_leads_per_s"),
    ("end to end / healthz %", "e2e_pct_of_healthz"),
    ("leads / first steps sent", ("leads", "first_steps_sent")),
    ("scaling vs 1 node: healthz / start / end to end", tuple(f"{key}_scaling" for key in SCALED)),
)


if __name__ == "__main__":
    sys.exit(main())
