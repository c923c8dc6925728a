"""The real server process (`python run.py`) on a free loopback port, for end-to-end tests.

    handle = start_server({"RINGBACK_SMTP_HOST": "127.0.0.1", ...})   # waits for /readyz
    status, body = handle.request("POST", "/api/v1/sequences/start", body, key)
    handle.stop()          # SIGTERM: graceful; handle.kill() is SIGKILL (crash tests)
    start_server(env, data_dir=handle.data_dir)                         # restart on the same data

Every process still running at teardown is killed. `ringback(args, env)` runs the CLI with the same settings.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class ServerHandle:
    process: subprocess.Popen
    url: str
    port: int
    data_dir: Path
    env: dict[str, str]  # the full environment the process got; reuse it for the CLI or a restart
    log_path: Path

    def request(
        self, method: str, path: str, body: object = None, key: str | None = None, timeout: float = 10.0
    ) -> tuple[int, Any]:
        """One JSON request; returns (status, parsed body or None). Errors are answers, not exceptions."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, (json.loads(raw) if raw else None)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait: the graceful shutdown path. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def wait_for_self_kill(self, timeout: float = 30.0) -> None:
        """An armed fault point (RINGBACK_FAULTS) kills the process with SIGKILL: prove the window was reached."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the armed fault point was not reached within {timeout}s:\n{self.output()}") from None
        assert code == -signal.SIGKILL, f"exit {code}, not the fault point's SIGKILL:\n{self.output()}"

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(STOP_TIMEOUT)


def _wait_ready(handle: ServerHandle, armed: bool = False) -> None:
    """Until /readyz answers. An `armed` process (RINGBACK_FAULTS) may kill itself on the way, in recovery."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if armed and handle.process.poll() == -signal.SIGKILL:
            return
        if handle.process.poll() is not None:
            raise AssertionError(f"server exited with {handle.process.returncode}:\n{handle.output()}")
        try:
            with urllib.request.urlopen(handle.url + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    handle.kill()
    raise AssertionError(f"server not ready within {READY_TIMEOUT}s:\n{handle.output()}")


def server_env(data_dir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment: ours, minus any RINGBACK_* of the developer's shell, plus the test's settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("RINGBACK_")}
    return {**base, "RINGBACK_DATA_DIR": str(data_dir), "RINGBACK_DEMO": "false", **(env or {})}


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerHandle]]:
    handles: list[ServerHandle] = []

    def start(env: Mapping[str, str] | None = None, data_dir: Path | None = None) -> ServerHandle:
        data_dir = data_dir or Path((env or {}).get("RINGBACK_DATA_DIR") or tmp_path / "data")
        port = int((env or {}).get("RINGBACK_PORT") or free_port())
        full = server_env(data_dir, env)
        full.setdefault("RINGBACK_HOST", HOST)
        full["RINGBACK_PORT"] = str(port)
        full.setdefault("RINGBACK_PUBLIC_URL", f"http://{HOST}:{port}")
        log_path = tmp_path / f"server-{len(handles)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "run.py"], cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT
            )
        handle = ServerHandle(process, f"http://{HOST}:{port}", port, data_dir, full, log_path)
        handles.append(handle)
        _wait_ready(handle, armed=bool(full.get("RINGBACK_FAULTS")))
        return handle

    yield start
    for handle in handles:
        handle.kill()


@pytest.fixture
def ringback(tmp_path: Path) -> Callable[..., dict]:
    """Run `ringback <args> --json` as a subprocess; returns the parsed JSON it prints."""

    def run(args: list[str], env: Mapping[str, str] | None = None) -> dict:
        full = server_env(tmp_path / "data", env)
        done = subprocess.run(
            [sys.executable, "-m", "ringback", *args, "--json"],
            cwd=ROOT,
            env=full,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run


def numbered_lead(template_id: str, n: int, reviewed_every: int) -> dict:
    """Lead n of a load test: its own address and idempotency key; one in `reviewed_every` waits for a human."""
    return {
        "template_id": template_id,
        "contact": {"first_name": f"Lead{n}", "emails": [f"lead{n}@example.com"], "notes": "Asked about pricing."},
        "auto_approve": n % reviewed_every != 0,
        "idempotency_key": f"lead-{n}",
    }
