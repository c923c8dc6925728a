"""What packaging/ ships stays true to the code: the unit verifies, the sample config holds every setting, the
dashboard queries only metrics that exist, the wheel and sdist carry every data file."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

from ringback.config import Settings, load_settings
from ringback.metering import COUNTERS, GAUGES, LLM_SECONDS

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
UNIT = PACKAGING / "systemd" / "ringback.service"


def _directives(text: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and not line.lstrip().startswith("#")
    )


# --- systemd ---------------------------------------------------------------------------------------------------


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path):
    # verify also checks that ExecStart exists: point it at a stand-in, leave every other line as shipped.
    stand_in = tmp_path / "ringback"
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    unit = tmp_path / "ringback.service"
    unit.write_text(UNIT.read_text().replace("ExecStart=/usr/local/bin/ringback", f"ExecStart={stand_in}"))
    assert f"ExecStart={stand_in} serve" in unit.read_text()

    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)

    assert (done.returncode, done.stdout + done.stderr) == (0, "")  # unknown keys are warnings: none either


def test_the_unit_runs_as_its_own_user_locked_down_with_the_documented_stop_timeout():
    unit = _directives(UNIT.read_text())
    operations = (ROOT / "docs" / "operations.md").read_text()

    assert unit["User"] == "ringback" and unit["StateDirectory"] == "ringback"
    assert unit["EnvironmentFile"] == "/etc/ringback/ringback.env"
    assert (unit["NoNewPrivileges"], unit["ProtectSystem"]) == ("yes", "strict")
    assert unit["KillSignal"] == "SIGTERM"
    assert f"TimeoutStopSec={unit['TimeoutStopSec']}" in operations
    assert unit["ExecStart"] == "/usr/local/bin/ringback serve"


# --- container -------------------------------------------------------------------------------------------------


def test_the_image_runs_the_dist_binary_as_a_non_root_user_with_a_health_check():
    dockerfile = (PACKAGING / "Dockerfile").read_text()
    instructions = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]

    assert instructions[0] == "FROM debian:bookworm-slim"
    assert "COPY --chmod=0755 dist/ringback /usr/local/bin/ringback" in instructions
    assert re.search(r"^USER ringback$", dockerfile, re.M)
    assert 'CMD ["ringback", "health"]' in dockerfile and dockerfile.count("HEALTHCHECK") == 1


def test_compose_runs_the_image_on_postgresql_with_the_documented_stop_grace():
    compose = yaml.safe_load((PACKAGING / "docker-compose.yml").read_text())
    ringback = compose["services"]["ringback"]

    assert ringback["build"] == {"context": "..", "dockerfile": "packaging/Dockerfile"}
    assert ringback["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert ringback["environment"]["RINGBACK_DATABASE_URL"].startswith("postgresql://")
    assert ringback["stop_grace_period"] == "30s" and "/tmp" in ringback["tmpfs"]
    assert "pg_isready" in compose["services"]["postgres"]["healthcheck"]["test"]


# --- sample settings -------------------------------------------------------------------------------------------


def test_the_sample_config_is_what_the_generator_writes_from_the_settings():
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "sample_config.py")], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert done.stdout == (PACKAGING / "ringback.toml").read_text(), (
        "packaging/ringback.toml is stale: python packaging/sample_config.py > packaging/ringback.toml"
    )


def test_every_setting_is_in_the_sample_and_uncommented_it_loads_as_the_defaults(tmp_path):
    sample = (PACKAGING / "ringback.toml").read_text()
    settings_lines = [line[2:] for line in sample.splitlines() if re.match(r"^# [a-z_]+ = ", line)]
    uncommented = tmp_path / "ringback.toml"
    uncommented.write_text("\n".join(settings_lines) + "\n")

    names = set(tomllib.loads(uncommented.read_text()))
    loaded = load_settings(env={}, config_file=str(uncommented))

    assert names == {f.name for f in dataclasses.fields(Settings)}
    assert loaded == Settings()


# --- dashboard -------------------------------------------------------------------------------------------------


def test_the_grafana_dashboard_queries_only_metrics_ringback_exports():
    dashboard = json.loads((PACKAGING / "grafana" / "ringback.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    exported = (
        {f"ringback_{name}" for name in GAUGES}
        | {f"ringback_{name}_total" for name in COUNTERS}
        | {f"{LLM_SECONDS}_bucket", "ringback_http_requests_total", "ringback_http_request_duration_seconds_bucket"}
    )

    used = {name for expr in exprs for name in re.findall(r"ringback_[a-z_]+", expr)}

    assert used and used <= exported
    assert {"ringback_steps_sent_total", "ringback_llm_fallbacks_total", "ringback_opt_outs_total"} <= used


# --- wheel and sdist -------------------------------------------------------------------------------------------


def test_wheel_and_sdist_build_offline_with_every_data_file(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "is absent from the `packages` configuration" not in done.stdout + done.stderr

    [wheel] = tmp_path.glob("ringback-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "ringback/http/openapi.yaml",
        "ringback/http/pages/templates/review.html",
        "ringback/storage/migrations/m0001_initial.py",
        "ringback/storage/migrations/m0004_workspace_sender.py",
    ):
        assert needed in names
    assert any(name.endswith("/licenses/LICENSE") or name.endswith("/LICENSE") for name in names)
    assert "console_scripts" in zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))
    ).decode()
    [sdist] = tmp_path.glob("ringback-*.tar.gz")
    unpacked = tmp_path / "sdist"
    shutil.unpack_archive(sdist, unpacked)
    assert next(unpacked.glob("ringback-*/ringback/http/pages/templates/base.html"))
