"""`GET /metrics`: every documented series from the start, and the counters moving with what really happens."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import falcon.testing
import pytest

from ringback.config import load_settings
from ringback.demo import bootstrap
from ringback.engine.model import StepStatus
from ringback.metering import COUNTERS, GAUGES
from ringback.node import Node
from ringback.storage import enrollments
from tests.conftest import seed_lead, wait_for
from tests.fakes.fake_cohere import FakeCohere, error

OPERATIONS_DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _documented_metrics() -> set[str]:
    section = OPERATIONS_DOC.read_text().split("Metrics (`GET /metrics`)", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(ringback_[a-z_]+)", section))


def _value(node: Node, name: str, **labels: str) -> float | None:
    return node.metrics.registry.get_sample_value(name, labels)


def _sent(enrollment_id: str, index: int = 0) -> bool:
    return enrollments.load_state(enrollment_id).steps[index].status == StepStatus.SENT


def test_every_documented_metric_is_exported_at_zero_before_anything_happens(node):
    text = falcon.testing.TestClient(node.app).simulate_get("/metrics").text
    documented = _documented_metrics()

    # The writer's own counters move at the first tick already (housekeeping commits).
    declared = [f"ringback_{name}" for name in GAUGES] + [
        f"ringback_{name}_total" for name in COUNTERS if not name.startswith("db_")
    ]

    assert [name for name in sorted(documented) if f"# HELP {name} " not in text] == []
    assert [name for name in declared if not re.search(rf"^{name}(\{{.*\}})? 0\.0$", text, re.M)] == []
    assert 'ringback_steps_unknown_total{channel="voice"} 0.0' in text
    assert 'ringback_pool_job_crashes_total{pool="notifier"} 0.0' in text
    assert 'ringback_opt_outs_total{source="sms"} 0.0' in text
    assert "ringback_enrollments_failed_by_crashes_total 0.0" in text


def test_every_declared_metric_is_documented():
    declared = {f"ringback_{name}" for name in GAUGES} | {f"ringback_{name}_total" for name in COUNTERS}

    assert sorted(declared - _documented_metrics()) == []


def test_a_sent_first_step_counts_by_channel_with_the_llm_call_and_its_time(api, node):
    started = api.post("/api/v1/sequences/start", seed_lead(api.template_id)).json

    wait_for(lambda: _sent(started["enrollment_id"]))

    wait_for(lambda: _value(node, "ringback_steps_sent_total", channel="voice") == 1)
    assert _value(node, "ringback_steps_sent_total", channel="email") == 0
    assert _value(node, "ringback_llm_calls_total", outcome="ok") >= 1
    assert _value(node, "ringback_llm_call_seconds_count") == _value(node, "ringback_llm_calls_total", outcome="ok")
    assert _value(node, "ringback_enrollments_started_total") == 1


def test_review_decisions_and_opt_outs_count(api, node):
    lead = seed_lead(api.template_id, auto_approve=False)
    first = api.post("/api/v1/sequences/start", lead).json
    second = api.post("/api/v1/sequences/start", {**lead, "idempotency_key": "lead-2"}).json
    for started in (first, second):
        wait_for(lambda s=started: enrollments.load_state(s["enrollment_id"]).status == "pending_approval")

    api.post(f"{first['status_url']}/approve", {})
    api.post(f"{second['status_url']}/reject", {"reason": "not a fit"})
    api.post(f"/api/v1/contacts/{first['contact_id']}/events", {"type": "opted_out"})

    wait_for(lambda: _value(node, "ringback_review_decisions_total", decision="approved") == 1)
    wait_for(lambda: _value(node, "ringback_review_decisions_total", decision="rejected") == 1)
    wait_for(lambda: _value(node, "ringback_opt_outs_total", source="api") == 1)
    assert _value(node, "ringback_opt_outs_total", source="sms") == 0


def test_a_failing_llm_is_counted_as_an_error_and_a_fallback(tmp_path, clock):
    with FakeCohere() as cohere:
        cohere.set_default(error(500))
        settings = load_settings(
            env={},
            data_dir=str(tmp_path / "data"),
            demo=False,
            tick_seconds=0.01,
            secret_key="test-secret-0123456789abcdef",
            cohere_api_key="co-test-key",
            cohere_base_url=cohere.url,
            llm_max_retries=0,
        )
        node = Node(settings, clock=clock).start()
        try:
            demo = bootstrap(clock.now())
            client = falcon.testing.TestClient(node.app)
            answer = client.simulate_post(
                "/api/v1/sequences/start",
                json=seed_lead(demo.template_id),
                headers={"Authorization": f"Bearer {demo.api_key}"},
            )
            wait_for(lambda: _sent(answer.json["enrollment_id"]))

            assert _value(node, "ringback_llm_fallbacks_total") >= 1
            assert _value(node, "ringback_llm_calls_total", outcome="ok") >= 1  # the chain answered, offline
        finally:
            node.stop()


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_are_logged_at_debug_not_info(node, caplog, path):
    client = falcon.testing.TestClient(node.app)

    with caplog.at_level(logging.INFO, logger="ringback.access"):
        assert client.simulate_get(path).status_code == 200
        assert client.simulate_get("/api/v1/templates").status_code == 401
    with caplog.at_level(logging.DEBUG, logger="ringback.access"):
        client.simulate_get(path)

    access = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "ringback.access"]
    assert [level for level, message in access if f'"route": "{path}"' in message] == [logging.DEBUG]
    assert any(level == logging.INFO and "/api/v1/templates" in message for level, message in access)
