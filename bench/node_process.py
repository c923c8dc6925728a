"""The real server under test: a `python run.py` process on a fresh database, and what we read off it.

As tests/e2e/conftest.py does: the process gets only the settings we give it (RINGBACK_* of the caller's
shell are dropped), its data dir is a temp dir, and it is ready when `/readyz` answers. The workspace, test
key and template are created with the CLI, the way an operator would. The database is read read-only, on
connections of our own, to follow leads to their first sent step.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from common import TWO_STEP_EMAIL

from ringback.storage.db import sqlite_path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
READY_TIMEOUT = 60.0
FIRST_STEPS_SENT = 'SELECT count(*) FROM step WHERE "index" = 0 AND sent_at IS NOT NULL'
ENROLLMENTS = "SELECT count(*) FROM enrollment"
DRAIN_POLL_SECONDS = 0.2
DRAIN_STALL_SECONDS = 20.0  # no new first step sent for this long: stop waiting


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    """A database created empty for this run and dropped after it (PostgreSQL ≥ 13 for DROP ... FORCE)."""
    name = urlparse(url).path.lstrip("/")
    if not name.isidentifier():
        raise SystemExit(f"scratch database name must be a plain identifier: {name!r}")
    admin = _admin_connection(url)
    try:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
        yield url
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _admin_connection(url: str):
    """Autocommit connection to the server's `postgres` database (CREATE/DROP DATABASE, pg_stat_database)."""
    import psycopg2

    connection = psycopg2.connect(urlunparse(urlparse(url)._replace(path="/postgres")))
    connection.autocommit = True
    return connection


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    env: dict[str, str]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """SIGTERM (graceful), SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def get(self, path: str, timeout: float = 10.0) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def settings_env(data_dir: Path, database_url: str, extra: Mapping[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RINGBACK_")}
    return {
        **base,
        "RINGBACK_DATA_DIR": str(data_dir),
        "RINGBACK_DATABASE_URL": database_url,
        "RINGBACK_DEMO": "false",
        **extra,
    }


def ringback_cli(args: list[str], env: Mapping[str, str]) -> dict:
    """`python -m ringback <args> --json`: the parsed JSON it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "ringback", *args, "--json"],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ringback {' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def create_workspace(env: Mapping[str, str], work_dir: Path) -> tuple[str, str]:
    """A workspace, a test (sandbox) key and the two-email template: (api_key, template_id)."""
    workspace_id = ringback_cli(["workspaces", "create", "--name", "bench"], env)["workspace_id"]
    api_key = ringback_cli(["keys", "create", "--workspace", workspace_id], env)["api_key"]
    template_file = work_dir / "template.json"
    template_file.write_text(json.dumps(TWO_STEP_EMAIL))
    template_id = ringback_cli(["templates", "create", "--workspace", workspace_id, "--file", str(template_file)], env)[
        "template_id"
    ]
    return api_key, template_id


def start_server(env: Mapping[str, str], log_path: Path) -> Server:
    port = free_port()
    full = {**env, "RINGBACK_HOST": HOST, "RINGBACK_PORT": str(port), "RINGBACK_PUBLIC_URL": f"http://{HOST}:{port}"}
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "run.py"], cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT)
    server = Server(process, f"http://{HOST}:{port}", full, log_path)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            if server.get("/readyz", timeout=2)[0] == 200:
                return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server not ready within {READY_TIMEOUT}s:\n{log_path.read_text(errors='replace')}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class DatabaseProbe:
    """Read-only counts on a connection of our own. On PostgreSQL, `queries` lets the caller take our own
    transactions out of the database's xact_commit."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.queries = 0
        if database_url.startswith("sqlite"):
            path = sqlite_path(database_url)
            self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            self._admin = None
        else:
            import psycopg2

            self._conn = psycopg2.connect(database_url)
            self._conn.set_session(readonly=True, autocommit=True)
            self._admin = _admin_connection(database_url)

    def _count(self, sql: str) -> int:
        cursor = self._conn.cursor()
        cursor.execute(sql)
        self.queries += 1
        return int(cursor.fetchone()[0])

    def first_steps_sent(self) -> int:
        return self._count(FIRST_STEPS_SENT)

    def enrollments(self) -> int:
        return self._count(ENROLLMENTS)

    def drain(self) -> tuple[int, int, float]:
        """Wait until every enrollment's first step is sent, or progress stalls: (enrollments, first steps sent,
        time of the last one seen). Enrollments are counted until two polls agree: starts in flight when the
        load generator stopped still commit."""
        leads, sent, last_progress = self.enrollments(), self.first_steps_sent(), time.perf_counter()
        previous = -1
        while (sent < leads or leads != previous) and time.perf_counter() - last_progress < DRAIN_STALL_SECONDS:
            time.sleep(DRAIN_POLL_SECONDS)
            previous = leads
            leads, now_sent = self.enrollments(), self.first_steps_sent()
            if now_sent > sent:
                sent, last_progress = now_sent, time.perf_counter()
        return leads, sent, last_progress

    def xact_commit(self) -> int | None:
        """pg_stat_database's committed transactions of the bench database (read from `postgres`), or None."""
        if self._admin is None:
            return None
        with self._admin.cursor() as cur:
            cur.execute(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (urlparse(self.url).path.lstrip("/"),)
            )
            return int(cur.fetchone()[0])

    def close(self) -> None:
        self._conn.close()
        if self._admin is not None:
            self._admin.close()
