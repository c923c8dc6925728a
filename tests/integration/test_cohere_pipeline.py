"""The whole start path with the real cohere SDK talking to our fake Cohere server."""

from __future__ import annotations

import falcon.testing
import pytest

from ringback.demo import bootstrap
from ringback.node import Providers
from ringback.providers.llm.factory import build_writer
from tests.conftest import seed_lead, wait_for
from tests.fakes.fake_cohere import FakeCohere, error, valid


@pytest.fixture
def cohere():
    with FakeCohere() as server:
        yield server


def start_node(make_node, clock, cohere):
    writer = build_writer(cohere_api_key="co-test-key", cohere_model="command-a-03-2025", cohere_base_url=cohere.url,
                          timeout_seconds=2.0, max_retries=0)
    node = make_node(providers=Providers(writer=writer))
    demo = bootstrap(clock.now())
    client = falcon.testing.TestClient(node.app)
    return client, {"Authorization": f"Bearer {demo.api_key}"}, demo.template_id


def final_view(client, headers, enrollment_id):
    path = f"/api/v1/sequences/enrollments/{enrollment_id}"
    return wait_for(lambda: (v := client.simulate_get(path, headers=headers).json)["steps"][0]["state"] == "sent"
                    and v["steps"][1].get("subject") and v)


def test_cohere_writes_the_sequence_in_the_leads_language(make_node, clock, cohere):
    cohere.set_default(valid())
    client, headers, template_id = start_node(make_node, clock, cohere)

    body = client.simulate_post("/api/v1/sequences/start", json=seed_lead(template_id), headers=headers).json
    view = final_view(client, headers, body["enrollment_id"])

    assert view["model"] == "cohere:command-a-03-2025"
    requests = cohere.wait_for_requests(2)
    assert all(r.headers["authorization"] == "Bearer co-test-key" for r in requests)
    assert all(r.body["model"] == "command-a-03-2025" for r in requests)
    assert all(r.body["response_format"]["type"] == "json_object" for r in requests)
    prompts = " ".join(m["content"] for r in requests for m in r.body["messages"])
    assert "Spanish" in prompts and "Maria" in prompts


def test_a_failing_llm_falls_back_to_the_offline_writer_and_the_lead_is_still_called(make_node, clock, cohere):
    cohere.set_default(error(500))
    client, headers, template_id = start_node(make_node, clock, cohere)

    body = client.simulate_post("/api/v1/sequences/start", json=seed_lead(template_id), headers=headers).json
    view = final_view(client, headers, body["enrollment_id"])

    assert view["model"] == "offline-v2"
    assert "Maria" in view["steps"][0]["script"]
    assert len(cohere.requests) >= 1
