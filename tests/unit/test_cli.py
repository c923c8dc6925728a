"""The `ringback` command line against a real SQLite database in a temporary data directory."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ringback.cli import build_parser, main
from ringback.config import Settings
from ringback.demo import DEMO_TEMPLATE
from ringback.storage import accounts, templates
from ringback.storage.db import open_database
from ringback.storage.migrations import latest_known
from ringback.storage.models import database_proxy
from tests.conftest import WEDNESDAY_MORNING
from tests.fakes.fake_openai import FakeOpenAI

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


# --- every command: --data-dir, --database-url, help texts --------------------------------------------------


def _all_parsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _all_parsers(child)


def test_every_option_of_every_command_has_help_and_takes_the_data_dir_and_database_url():
    parsers = dict(_all_parsers(build_parser()))
    assert len(parsers) > 15

    for prog, parser in parsers.items():
        options = [a for a in parser._actions if not isinstance(a, argparse._SubParsersAction)]
        assert [a.dest for a in options if not a.help] == [], prog
        if prog != "ringback":
            flags = {flag for a in options for flag in a.option_strings}
            assert {"--config", "--data-dir", "--database-url"} <= flags, prog


def test_data_dir_and_database_url_win_over_the_environment_before_or_after_the_sub_command(ringback, tmp_path):
    elsewhere = tmp_path / "elsewhere"

    created = _json(ringback("workspaces", "--data-dir", str(elsewhere), "create", "--name", "Far", "--json"))

    assert (elsewhere / "ringback.db").exists()
    assert created["workspace_id"] in ringback("workspaces", "list", "--data-dir", str(elsewhere))
    assert created["workspace_id"] in ringback(
        "workspaces", "list", "--database-url", f"sqlite:///{elsewhere / 'ringback.db'}"
    )
    assert created["workspace_id"] not in ringback("workspaces", "list")  # RINGBACK_DATA_DIR's database


# --- init on a server ----------------------------------------------------------------------------------------


def test_init_names_the_workspace_and_prints_curl_for_the_configured_host_and_port(ringback, monkeypatch):
    monkeypatch.setenv("RINGBACK_HOST", "0.0.0.0")
    monkeypatch.setenv("RINGBACK_PORT", "9137")

    out = ringback("init", "--workspace", "Acme Sales")

    assert "workspace 'Acme Sales' created" in out
    assert 'curl -X POST "http://127.0.0.1:9137/api/v1/sequences/start"' in out


def test_init_on_an_existing_workspace_name_says_so_and_creates_no_twin(ringback, storage):
    first = _json(ringback("init", "--workspace", "Acme", "--json"))

    again = ringback("init", "--workspace", "Acme")
    again_json = _json(ringback("init", "--workspace", "Acme", "--json"))

    assert f"workspace 'Acme' already exists ({first['workspace_id']})" in again and "ck_test_" not in again
    assert again_json == {"workspace_id": first["workspace_id"], "existing": True}
    storage()
    assert [ws.id for ws in accounts.list_workspaces()] == [first["workspace_id"]]
    assert len(accounts.list_keys(first["workspace_id"])) == 1


# --- workspaces plans and update -------------------------------------------------------------------------------


def test_workspaces_plans_lists_every_plan_and_its_features(ringback):
    lines = ringback("workspaces", "plans").strip().splitlines()

    assert [line.split()[0] for line in lines] == list(accounts.PLANS)
    assert "api_access, sequences" in next(line for line in lines if line.startswith("standard"))
    assert "(no API access)" in next(line for line in lines if line.startswith("free"))


def test_workspaces_update_changes_the_settings_the_api_shows(ringback, storage):
    workspace_id = _workspace(ringback)

    view = _json(
        ringback(
            "workspaces", "update", "--workspace", workspace_id,
            "--admin-email", "Ops@Example.com", "--admin-email", "boss@example.com",
            "--default-language", "fr", "--default-timezone", "europe/paris", "--default-region", "fr",
            "--calling-window", "09:00-19:00", "--calling-days", "mon-fri",
            "--sender-name", "Acme", "--sender-email", "hello@example.com", "--json",
        )
    )  # fmt: skip

    assert view["admin_emails"] == ["Ops@example.com", "boss@example.com"]
    assert (view["default_language"], view["default_timezone"], view["default_region"]) == ("fr", "Europe/Paris", "FR")
    assert view["calling_window"] == {"start": "09:00", "end": "19:00", "days": "mon-fri"}
    assert view["default_sender"] == {"name": "Acme", "email": "hello@example.com"}
    ringback("workspaces", "update", "--workspace", workspace_id, "--default-region", "none", "--admin-email", "")
    storage()
    stored = accounts.get_workspace(workspace_id)
    assert (stored.default_region, stored.admin_emails, stored.window_days) == (None, (), "mon-fri")


UNCHANGED = {
    "admin_emails": [],
    "default_language": "en",
    "default_timezone": "UTC",
    "default_region": None,
    "calling_window": {"start": "08:00", "end": "21:00", "days": "mon-sun"},
    "default_sender": None,
}


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["--admin-email", "not-an-email"], "admin_emails[0]"),
        (["--default-language", "xx"], "default_language"),
        (["--default-timezone", "Mars/Olympus"], "default_timezone"),
        (["--default-region", "ZZ"], "default_region"),
        (["--calling-window", "21:00-08:00"], "calling_window"),
        (["--sender-email", "hello@example.com"], "default_sender.name"),
        (["--sending-limits", '{"email": {"daily": 0}}'], "sending_limits.email.daily"),
        (["--sending-limits", "{email: 300}"], "sending_limits"),
    ],
)
def test_workspaces_update_refuses_bad_values_naming_the_field_and_changes_nothing(ringback, storage, flags, field):
    workspace_id = _workspace(ringback)

    with pytest.raises(SystemExit, match=re.escape(field)):
        ringback("workspaces", "update", "--workspace", workspace_id, *flags)

    storage()
    view = accounts.get_workspace(workspace_id).settings_view()
    assert {name: view[name] for name in UNCHANGED} == UNCHANGED


def test_workspaces_update_sets_and_removes_sending_limits(ringback, storage):
    workspace_id = _workspace(ringback)

    view = _json(ringback("workspaces", "update", "--workspace", workspace_id, "--json",
                          "--sending-limits", '{"voice": {"daily": 100}, "email_domain_per_minute": 5}'))

    assert view["sending_limits"]["voice"] == {"daily": 100, "hourly": None}
    assert view["sending_limits"]["email_domain_per_minute"] == 5
    ringback("workspaces", "update", "--workspace", workspace_id, "--sending-limits", "none")
    storage()
    assert accounts.get_workspace(workspace_id).sending_limits is None


def test_workspaces_update_refuses_an_unknown_workspace(ringback):
    _workspace(ringback)

    with pytest.raises(SystemExit, match="no workspace"):
        ringback("workspaces", "update", "--workspace", "ws_01HV0000000000000000000000", "--default-language", "es")


def test_a_template_file_without_a_sender_uses_the_workspace_default_sender(ringback, storage, tmp_path):
    workspace_id = _workspace(ringback)
    path = tmp_path / "template.json"
    path.write_text(json.dumps({k: v for k, v in DEMO_TEMPLATE.items() if k != "sender"}))
    with pytest.raises(SystemExit, match="sender"):
        ringback("templates", "create", "--workspace", workspace_id, "--file", str(path))

    ringback(
        "workspaces", "update", "--workspace", workspace_id,
        "--sender-name", "Acme", "--sender-email", "hi@example.com", "--sender-phone", "+14155550100",
    )  # fmt: skip
    out = _json(ringback("templates", "create", "--workspace", workspace_id, "--file", str(path), "--json"))

    storage()
    sender = templates.get_template(workspace_id, out["template_id"]).sender
    assert (sender.name, sender.email, sender.phone) == ("Acme", "hi@example.com", "+14155550100")


# --- doctor ----------------------------------------------------------------------------------------------------


def test_doctor_on_a_missing_database_names_it_fails_and_creates_nothing(data_dir, tmp_path, capsys):
    empty = tmp_path / "no-install-here"

    assert main(["doctor", "--data-dir", str(empty)]) == 1

    out = capsys.readouterr().out
    assert f"FAIL  database sqlite:///{empty.resolve() / 'ringback.db'}" in out
    assert "no database at" in out and "--data-dir" in out
    assert not empty.exists()


def test_doctor_names_the_database_it_checked_and_its_schema_version(ringback, data_dir, capsys):
    _workspace(ringback)

    assert main(["doctor"]) == 0
    database_proxy.close()

    out = capsys.readouterr().out
    assert f"ok    database sqlite:///{data_dir.resolve() / 'ringback.db'}: schema version {latest_known()}" in out


def test_doctor_hides_a_database_password(data_dir, capsys):
    assert main(["doctor", "--database-url", "postgresql://ringback:s3cret@127.0.0.1:1/ringback"]) == 1

    out = capsys.readouterr().out
    assert "postgresql://ringback:***@127.0.0.1:1/ringback" in out and "s3cret" not in out


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(models=("llama3.1:8b", "qwen2.5:7b")) as server:
        yield server


def test_doctor_finds_the_model_on_the_openai_compatible_server(ringback, fake_openai, monkeypatch, capsys):
    _workspace(ringback)
    monkeypatch.setenv("RINGBACK_LLM_PROVIDER", "openai")
    monkeypatch.setenv("RINGBACK_OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("RINGBACK_OPENAI_MODEL", "qwen2.5:7b")
    monkeypatch.setenv("RINGBACK_OPENAI_API_KEY", "sk-local-not-a-secret")

    assert main(["doctor"]) == 0
    database_proxy.close()

    out = capsys.readouterr().out
    assert f"ok    llm openai: {fake_openai.url} serves qwen2.5:7b" in out
    assert "sk-local-not-a-secret" not in out
    [listing] = fake_openai.requests
    assert (listing.method, listing.path) == ("GET", "/v1/models")
    assert listing.headers["authorization"] == "Bearer sk-local-not-a-secret"


def test_doctor_fails_when_the_server_does_not_serve_the_model(ringback, fake_openai, monkeypatch, capsys):
    _workspace(ringback)
    monkeypatch.setenv("RINGBACK_LLM_PROVIDER", "openai")
    monkeypatch.setenv("RINGBACK_OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("RINGBACK_OPENAI_MODEL", "mistral:7b")

    assert main(["doctor"]) == 1
    database_proxy.close()

    out = capsys.readouterr().out
    assert "FAIL  llm openai: the server does not serve 'mistral:7b' (it lists: llama3.1:8b, qwen2.5:7b)" in out
    assert "authorization" not in fake_openai.requests[0].headers


def test_doctor_fails_when_the_openai_server_is_unreachable(ringback, monkeypatch, capsys):
    _workspace(ringback)
    monkeypatch.setenv("RINGBACK_LLM_PROVIDER", "openai")
    monkeypatch.setenv("RINGBACK_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("RINGBACK_OPENAI_MODEL", "llama3.1:8b")

    assert main(["doctor"]) == 1
    database_proxy.close()

    assert "FAIL  llm openai: GET http://127.0.0.1:9/v1/models failed: APIConnectionError" in capsys.readouterr().out
