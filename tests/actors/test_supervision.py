"""Supervision: a crash is logged with the enrollment id, counted, and the enrollment restarts from storage;
past the restart limit it is failed with the reason; one bad enrollment never stops the others."""

from __future__ import annotations

import logging

import pytest

from ringback.actors.messages import Stats, StopContact
from ringback.engine import events as ev
from tests.actors.conftest import api_for, start, view
from tests.conftest import wait_for


def metric(node, sample: str) -> float:
    for line in node.metrics.render().decode().splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


def logged(caplog, level: int, *needles: str) -> bool:
    return any(r.levelno >= level and all(n in r.getMessage() for n in needles) for r in caplog.records)


@pytest.fixture
def node(make_node, providers):
    return make_node(providers)


@pytest.fixture
def api(node, clock):
    return api_for(node, clock)


def pending(api, name: str) -> str:
    enrollment_id = start(api, name=name, auto_approve=False)
    wait_for(lambda: view(api, enrollment_id)["status"] == "pending_approval")
    return enrollment_id


def test_a_crash_is_logged_counted_and_the_event_that_crashed_is_applied_after_the_restart(api, node, faults, caplog):
    enrollment_id = pending(api, "Ana")
    faults.crash(enrollment_id, on=(ev.Approved,), times=1)

    assert api.post(f"/api/v1/sequences/enrollments/{enrollment_id}/approve").status_code == 200

    wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "sent")
    assert view(api, enrollment_id)["status"] == "active"
    assert logged(caplog, logging.ERROR, enrollment_id, "crashed")
    assert metric(node, "ringback_enrollment_crashes_total") == 1


def test_an_enrollment_that_keeps_crashing_is_failed_and_the_others_go_on(api, node, faults, channel, caplog):
    bad, good = pending(api, "Bad"), pending(api, "Good")
    faults.crash(bad)

    for enrollment_id in (bad, good):
        assert api.post(f"/api/v1/sequences/enrollments/{enrollment_id}/approve").status_code == 200

    failed = wait_for(lambda: (v := view(api, bad))["status"] == "failed" and v)
    assert failed["status_reason"] == "internal error: processing failed 4 times in a row (see the server log)"
    assert {s["state"] for s in failed["steps"]} == {"canceled"}
    assert logged(caplog, logging.ERROR, bad, "RuntimeError('injected fault")  # the repr is for the log only
    wait_for(lambda: view(api, good)["steps"][0]["state"] == "sent")
    assert [m.to for m in channel.sent] == ["good@example.com"]
    assert metric(node, "ringback_enrollment_crashes_total") == 4
    assert metric(node, "ringback_enrollments_failed_by_crashes_total") == 1


def test_a_writer_crash_is_logged_with_the_enrollment_counted_and_fails_only_that_lead(api, node, caplog):
    boom, fine = start(api, name="Boom"), start(api, name="Fine")

    failed = wait_for(lambda: (v := view(api, boom))["status"] == "failed" and v)
    assert failed["status_reason"] == "the writer crashed"
    wait_for(lambda: view(api, fine)["steps"][0]["state"] == "sent")
    assert logged(caplog, logging.ERROR, "generator", boom)
    assert metric(node, 'ringback_pool_job_crashes_total{pool="generator"}') >= 1


def test_a_channel_crash_fails_only_that_step(api, node, channel, caplog):
    boom = start(api, name="Bo", email="boom@example.com")
    fine = start(api, name="Fine")

    failed = wait_for(lambda: (v := view(api, boom))["steps"][0]["state"] == "failed" and v)
    assert failed["steps"][0]["last_error"]["code"] == "internal_error"
    wait_for(lambda: view(api, fine)["steps"][0]["state"] == "sent")
    assert [m.to for m in channel.sent] == ["fine@example.com"]
    assert logged(caplog, logging.ERROR, "dispatcher", boom)
    assert metric(node, 'ringback_pool_job_crashes_total{pool="dispatcher"}') == 1


def test_the_supervisor_outlives_a_told_message_that_fails(api, node, monkeypatch, caplog):
    import ringback.actors.supervisor as supervisor_module

    def locked(contact_id):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(supervisor_module.enrollments, "open_ids_for_contact", locked)
    node.supervisor.tell(StopContact("ct_x", "opted out"))

    assert node.supervisor.ask(Stats(), timeout=5)["live_enrollments"] >= 0
    assert logged(caplog, logging.ERROR, "StopContact")
    assert metric(node, "ringback_supervisor_errors_total") == 1
    enrollment_id = start(api, name="After")
    wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "sent")
