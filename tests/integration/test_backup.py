"""`ringback backup` while the server runs, `ringback restore` into an empty data dir: the same enrollments."""

from __future__ import annotations

import falcon.testing
import pytest

from ringback.cli import main
from ringback.engine.model import StepStatus
from ringback.storage import enrollments
from tests.conftest import seed_lead, wait_for


def _first_step_sent(enrollment_id: str) -> bool:
    return enrollments.load_state(enrollment_id).steps[0].status == StepStatus.SENT


def test_backup_of_a_running_node_restores_into_an_empty_data_dir_with_the_same_enrollments(
    api, node, make_node, tmp_path, capsys
):
    started = [
        api.post("/api/v1/sequences/start", seed_lead(api.template_id, idempotency_key=f"lead-{i}")).json
        for i in range(3)
    ]
    for body in started:
        wait_for(lambda b=body: _first_step_sent(b["enrollment_id"]))
    before = {b["status_url"]: api.get(b["status_url"]).json for b in started}
    source_url = node.settings.resolved_database_url
    backup_file = tmp_path / "backups" / "ringback-1.db"
    backup_file.parent.mkdir()

    assert main(["backup", str(backup_file), "--database-url", source_url]) == 0  # the node is still serving
    assert "3 enrollments" in capsys.readouterr().out
    restored_dir = tmp_path / "restored"
    assert main(["restore", str(backup_file), "--data-dir", str(restored_dir)]) == 0
    node.stop()

    restored = make_node(data_dir=str(restored_dir))
    client = falcon.testing.TestClient(restored.app)
    headers = {"Authorization": f"Bearer {api.key}"}
    after = {url: client.simulate_get(url, headers=headers).json for url in before}
    assert after == before
    assert all(view["steps"][0]["state"] == "sent" for view in after.values())


def test_backup_never_overwrites_and_restore_never_replaces_a_database(node, tmp_path):
    url = node.settings.resolved_database_url
    existing = tmp_path / "taken.db"
    existing.write_text("something precious")

    with pytest.raises(SystemExit, match="already exists"):
        main(["backup", str(existing), "--database-url", url])
    assert existing.read_text() == "something precious"
    backup_file = tmp_path / "ok.db"
    assert main(["backup", str(backup_file), "--database-url", url]) == 0
    with pytest.raises(SystemExit, match="restore only into an empty data directory"):
        main(["restore", str(backup_file), "--database-url", url])


def test_restore_refuses_a_file_that_is_not_a_ringback_database(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database")

    with pytest.raises(SystemExit, match="not a ringback database"):
        main(["restore", str(bogus), "--data-dir", str(tmp_path / "data")])
    assert not (tmp_path / "data" / "ringback.db").exists()


def test_backup_of_postgresql_points_at_pg_dump(tmp_path):
    with pytest.raises(SystemExit, match="pg_dump"):
        main(["backup", str(tmp_path / "b.db"), "--database-url", "postgresql://postgres@127.0.0.1:5432/x"])


def test_backup_of_a_missing_database_creates_nothing(tmp_path):
    with pytest.raises(SystemExit, match="no database at"):
        main(["backup", str(tmp_path / "b.db"), "--data-dir", str(tmp_path / "none")])
    assert not (tmp_path / "none").exists() and not (tmp_path / "b.db").exists()
