"""`make dist`'s single file, dist/ringback, runs the product on its own: no checkout, no venv.

Built once for the module (about 80 s on two cores), then: `init --json`, `serve`, `/healthz` (and `health`, the
container's check), one sandbox start to a sent first step, SIGTERM → exit 0, and `doctor` on PostgreSQL (the
driver is inside). Deselect locally with `-m "not dist"`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, seed_lead
from tests.e2e.conftest import HOST, ROOT, ServerHandle, _wait_ready, free_port, server_env
from tests.storage.conftest import _reset_postgres

pytestmark = [pytest.mark.dist, pytest.mark.e2e, pytest.mark.postgres]
BUILD_TIMEOUT = 900
SPEC = ROOT / "packaging" / "ringback.spec"


@pytest.fixture(scope="module")
def binary(tmp_path_factory) -> Path:
    """dist/ringback as `make dist` builds it (same spec), into a temporary directory."""
    out = tmp_path_factory.mktemp("pyinstaller")
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(out / "dist"), "--workpath", str(out / "build"), str(SPEC)],
        cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return out / "dist" / "ringback"


def test_the_binary_initialises_serves_sends_a_first_step_and_stops_cleanly(binary, tmp_path):
    workdir = tmp_path / "elsewhere"  # not the checkout: nothing may come from the source tree
    workdir.mkdir()
    port = free_port()
    env = {
        **server_env(tmp_path / "data"),
        "RINGBACK_HOST": HOST,
        "RINGBACK_PORT": str(port),
        "PYTHONPATH": "",
        "PATH": "/usr/bin:/bin",
    }

    def ringback(*args: str) -> str:
        done = subprocess.run([str(binary), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    created = json.loads(ringback("init", "--json"))
    # The demo calls first; calls wait for the calling window. Any hour is inside this one, so the test never
    # depends on the time of day.
    ringback("workspaces", "update", "--workspace", created["workspace_id"], "--calling-window", "00:00-24:00")
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([str(binary), "serve"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = ServerHandle(process, f"http://{HOST}:{port}", port, tmp_path / "data", env, log_path)
    try:
        _wait_ready(server)
        assert server.request("GET", "/healthz") == (200, {"status": "ok"})
        assert "/healthz: ok" in ringback("health")  # the container's HEALTHCHECK

        status, body = server.request("POST", "/api/v1/sequences/start", seed_lead(created["template_id"]),
                                      created["api_key"])  # fmt: skip
        assert status == 202, body
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # at most ~60 reads: under the 120 per minute rate limit
            status, view = server.request("GET", body["status_url"], key=created["api_key"])
            assert status == 200, view
            if view["steps"][0]["state"] == "sent":
                break
            time.sleep(0.5)
        assert view["steps"][0]["state"] == "sent", view
        assert view["steps"][0]["provider"] == "sandbox"
    finally:
        code = server.stop()
    assert code == 0, server.output()
    health = subprocess.run([str(binary), "health"], cwd=workdir, env=env, capture_output=True, timeout=60)
    assert health.returncode == 1
    # The PostgreSQL driver travels inside the binary too: migrate an empty database, then check it.
    _reset_postgres(POSTGRES_URL)
    assert json.loads(ringback("init", "--json", "--database-url", POSTGRES_URL))["workspace_id"].startswith("ws_")
    assert "ok    database postgresql://" in ringback("doctor", "--database-url", POSTGRES_URL)
    assert (tmp_path / "data" / "ringback.db").exists() and not (workdir / "var").exists()
    assert os.listdir(workdir) == []
