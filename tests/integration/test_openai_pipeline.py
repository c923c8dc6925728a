"""The whole start path with the openai provider chosen by settings, the real SDK talking to our fake server."""

from __future__ import annotations

import falcon.testing
import pytest

from ringback.config import load_settings
from ringback.demo import bootstrap
from ringback.node import build_providers
from tests.conftest import seed_lead, wait_for
from tests.fakes.fake_openai import FakeOpenAI
from tests.fakes.llm_server import error, valid

MODEL = "qwen2.5:7b-instruct"


@pytest.fixture
def server():
    with FakeOpenAI(models=(MODEL,)) as fake:
        yield fake


def start_node(make_node, clock, server):
    settings = load_settings(env={
        "RINGBACK_LLM_PROVIDER": "openai",
        "RINGBACK_OPENAI_BASE_URL": server.url,
        "RINGBACK_OPENAI_MODEL": MODEL,
        "RINGBACK_LLM_TIMEOUT_SECONDS": "2",
        "RINGBACK_LLM_MAX_RETRIES": "0",
    })
    node = make_node(providers=build_providers(settings))
    demo = bootstrap(clock.now())
    client = falcon.testing.TestClient(node.app)
    return client, {"Authorization": f"Bearer {demo.api_key}"}, demo.template_id


def final_view(client, headers, enrollment_id):
    path = f"/api/v1/sequences/enrollments/{enrollment_id}"
    return wait_for(lambda: (v := client.simulate_get(path, headers=headers).json)["steps"][0]["state"] == "sent"
                    and v["steps"][1].get("subject") and v)


def test_an_on_prem_model_writes_the_sequence(make_node, clock, server):
    server.set_default(valid())
    client, headers, template_id = start_node(make_node, clock, server)

    body = client.simulate_post("/api/v1/sequences/start", json=seed_lead(template_id), headers=headers).json
    view = final_view(client, headers, body["enrollment_id"])

    assert view["model"] == f"openai:{MODEL}"
    requests = server.wait_for_requests(2)
    assert all(r.path == "/v1/chat/completions" and r.body["model"] == MODEL for r in requests)
    assert all("authorization" not in r.headers for r in requests)
    assert all(r.body["response_format"]["type"] == "json_schema" for r in requests)


def test_a_failing_server_falls_back_to_the_offline_writer(make_node, clock, server):
    server.set_default(error(500))
    client, headers, template_id = start_node(make_node, clock, server)

    body = client.simulate_post("/api/v1/sequences/start", json=seed_lead(template_id), headers=headers).json
    view = final_view(client, headers, body["enrollment_id"])

    assert view["model"] == "offline-v2"
    assert "Maria" in view["steps"][0]["script"]
