"""The `ringback` command line against a real SQLite database in a temporary data directory."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ringback.cli import main
from ringback.config import Settings
from ringback.demo import DEMO_TEMPLATE
from ringback.storage import accounts, templates
from ringback.storage.db import open_database
from ringback.storage.models import database_proxy
from tests.conftest import WEDNESDAY_MORNING

REPO = Path(__file__).resolve().parents[2]
Run = Callable[..., str]


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    for name in [n for n in os.environ if n.startswith("RINGBACK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RINGBACK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def ringback(data_dir, capsys) -> Iterator[Run]:
    """Run `ringback ARGS...` in-process; return its stdout. The command's database is closed afterwards."""

    def run(*args: str) -> str:
        capsys.readouterr()
        try:
            assert main(list(args)) == 0
        finally:
            if database_proxy.obj is not None:
                database_proxy.close()
        return capsys.readouterr().out

    yield run
    if database_proxy.obj is not None:
        database_proxy.close()


@pytest.fixture
def storage(data_dir) -> Callable[[], None]:
    """Bind the models to the CLI's database to check what a command did."""

    def bind() -> None:
        open_database(f"sqlite:///{data_dir.resolve() / 'ringback.db'}")

    return bind


def _json(output: str) -> dict:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    return json.loads(lines[0])


def _workspace(ringback: Run, plan: str = "standard") -> str:
    return _json(ringback("workspaces", "create", "--name", "Acme", "--plan", plan, "--json"))["workspace_id"]


# --- init --------------------------------------------------------------------------------------------------


def test_init_json_prints_exactly_the_three_ids_and_the_key_works(ringback, storage):
    out = _json(ringback("init", "--workspace", "Acme", "--admin-email", "boss@example.com", "--json"))

    assert set(out) == {"workspace_id", "api_key", "template_id"}
    assert out["api_key"].startswith("ck_test_")
    storage()
    record = accounts.resolve_key(out["api_key"], WEDNESDAY_MORNING)
    assert record is not None and record.workspace_id == out["workspace_id"]
    assert record.scopes == frozenset({"read", "write"}) and record.mode == "test"
    assert record.features == frozenset({"sequences", "api_access"})
    workspace = accounts.get_workspace(out["workspace_id"])
    assert (workspace.name, workspace.plan, workspace.admin_emails) == ("Acme", "standard", ("boss@example.com",))
    assert templates.get_template(out["workspace_id"], out["template_id"]).name == DEMO_TEMPLATE["name"]


def test_init_without_json_prints_a_ready_to_paste_curl(ringback):
    out = ringback("init")

    assert "curl -X POST" in out and "/api/v1/sequences/start" in out
    assert "Authorization: Bearer ck_test_" in out


def test_init_json_as_a_real_process_prints_only_json(data_dir):
    env = {**os.environ, "RINGBACK_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "ringback", "init", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert set(json.loads(done.stdout)) == {"workspace_id", "api_key", "template_id"}
    assert done.stdout.count("\n") == 1


# --- keys --------------------------------------------------------------------------------------------------


def test_keys_create_live_read_only(ringback, storage):
    workspace_id = _workspace(ringback)

    out = _json(ringback("keys", "create", "--workspace", workspace_id, "--live", "--scopes", "read", "--json"))

    assert set(out) == {"key_id", "api_key"}
    assert out["api_key"].startswith("ck_live_") and out["key_id"].startswith("key_")
    storage()
    record = accounts.resolve_key(out["api_key"], WEDNESDAY_MORNING)
    assert (record.key_id, record.mode, record.scopes) == (out["key_id"], "live", frozenset({"read"}))


def test_keys_create_refuses_an_unknown_workspace_and_bad_scopes(ringback):
    with pytest.raises(SystemExit, match="no workspace"):
        ringback("keys", "create", "--workspace", "ws_01HV0000000000000000000000")
    workspace_id = _workspace(ringback)
    with pytest.raises(SystemExit, match="scopes"):
        ringback("keys", "create", "--workspace", workspace_id, "--scopes", "read,admin")


def test_keys_list_never_prints_a_key(ringback):
    workspace_id = _workspace(ringback)
    created = [
        _json(ringback("keys", "create", "--workspace", workspace_id, *extra, "--json"))
        for extra in ([], ["--live", "--scopes", "read"])
    ]

    out = ringback("keys", "list", "--workspace", workspace_id)

    assert len(out.strip().splitlines()) == 2
    for key in created:
        assert key["key_id"] in out
        assert key["api_key"][:12] in out  # the prefix identifies it
        assert key["api_key"][12:] not in out  # the rest never shows
        assert accounts.hash_key(key["api_key"]) not in out


def test_keys_revoke(ringback, storage):
    workspace_id = _workspace(ringback)
    key = _json(ringback("keys", "create", "--workspace", workspace_id, "--json"))

    assert key["key_id"] in ringback("keys", "revoke", key["key_id"])

    assert "revoked" in ringback("keys", "list", "--workspace", workspace_id)
    with pytest.raises(SystemExit, match="no active key"):
        ringback("keys", "revoke", key["key_id"])
    storage()
    assert accounts.resolve_key(key["api_key"], WEDNESDAY_MORNING) is None


# --- templates ---------------------------------------------------------------------------------------------


def test_templates_create_from_a_file_and_list(ringback, storage, tmp_path):
    workspace_id = _workspace(ringback)
    path = tmp_path / "template.json"
    path.write_text(json.dumps({**DEMO_TEMPLATE, "name": "From a file"}))

    out = _json(ringback("templates", "create", "--workspace", workspace_id, "--file", str(path), "--json"))

    assert out["template_id"].startswith("tpl_")
    assert out["template_id"] in ringback("templates", "list", "--workspace", workspace_id)
    storage()
    assert templates.get_template(workspace_id, out["template_id"]).name == "From a file"


def test_templates_create_names_the_bad_field(ringback, tmp_path):
    workspace_id = _workspace(ringback)
    path = tmp_path / "template.json"
    path.write_text(json.dumps({**DEMO_TEMPLATE, "allowed_channels": ["fax"]}))

    with pytest.raises(SystemExit, match=r"allowed_channels\[0\]"):
        ringback("templates", "create", "--workspace", workspace_id, "--file", str(path))


def test_templates_create_refuses_an_unknown_workspace(ringback, tmp_path):
    _workspace(ringback)  # the database exists; this id is just not in it
    path = tmp_path / "template.json"
    path.write_text(json.dumps(DEMO_TEMPLATE))

    with pytest.raises(SystemExit, match="no workspace"):
        ringback("templates", "create", "--workspace", "ws_01HV0000000000000000000000", "--file", str(path))


# --- workspaces --------------------------------------------------------------------------------------------


def test_workspaces_create_list_and_set_plan(ringback, storage):
    workspace_id = _workspace(ringback, plan="starter")

    assert f"{workspace_id}  Acme  plan=starter  features=api_access" in ringback("workspaces", "list")
    ringback("workspaces", "set-plan", "--workspace", workspace_id, "--plan", "pro")
    assert "features=api_access,sequences" in ringback("workspaces", "list")
    storage()
    assert accounts.get_workspace(workspace_id).plan == "pro"


def test_set_plan_refuses_unknown_workspaces_and_plans(ringback, capsys):
    with pytest.raises(SystemExit, match="no workspace"):
        ringback("workspaces", "set-plan", "--workspace", "ws_01HV0000000000000000000000", "--plan", "pro")
    with pytest.raises(SystemExit) as exit_info:
        ringback("workspaces", "set-plan", "--workspace", "ws_01HV0000000000000000000000", "--plan", "gold")
    assert exit_info.value.code == 2  # argparse: invalid choice
    assert "gold" in capsys.readouterr().err


# --- serve --help and settings errors ----------------------------------------------------------------------


def test_serve_help_documents_every_setting(data_dir, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])

    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--config" in out
    missing = [f.name for f in dataclasses.fields(Settings) if f"RINGBACK_{f.name.upper()} " not in out]
    assert missing == []


def test_a_bad_setting_is_a_one_line_error_not_a_traceback(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("RINGBACK_PORT", "eighty")

    assert main(["workspaces", "list"]) == 2
    err = capsys.readouterr().err
    assert "RINGBACK_PORT" in err and "Traceback" not in err


def test_a_missing_config_file_is_a_one_line_error(data_dir, tmp_path, capsys):
    assert main(["workspaces", "--config", str(tmp_path / "nowhere.toml"), "list"]) == 2
    assert "nowhere.toml" in capsys.readouterr().err
