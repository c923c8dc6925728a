"""/api/v1/webhook_endpoints and /api/v1/events through the app: validation, isolation, the feed under load.

These nodes run with the default settings (no private webhook targets). The one URL that passes the
guard is a public address literal, so nothing may ever be delivered to it: no event is made while such
an endpoint exists, and the node's dispatcher is stopped first anyway (nothing leaves loopback).
"""

from __future__ import annotations

import threading
import time

import falcon.testing
import pytest

from ringback.demo import bootstrap
from ringback.storage import accounts
from tests.conftest import POSTGRES_URL, Api, seed_lead
from tests.storage.conftest import _reset_postgres

PUBLIC_URL = "https://93.184.215.14/hooks"  # a public address literal: no DNS, never called here
STARTS = 12


@pytest.fixture
def quiet_api(api, node) -> Api:
    node.webhooks.stop(time.monotonic() + 10)
    return api


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def feed_api(request, make_node, clock) -> Api:
    """The demo workspace's API on each database, with room in the rate limits for a reader paging fast."""
    settings: dict[str, object] = {"reads_per_minute": 100_000, "writes_per_minute": 1000}
    if request.param == "postgres":
        _reset_postgres(POSTGRES_URL)
        settings["database_url"] = POSTGRES_URL
    node = make_node(**settings)
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    return Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)


def create(api: Api, body: object, key: str | None = None):
    return api.post("/api/v1/webhook_endpoints", body, key=key)


def other_key(api: Api, clock) -> str:
    other = accounts.create_workspace("Globex", clock.now())
    return accounts.create_key(other.id, clock.now())[1]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.215.14/hooks", "https"),
        ("https://127.0.0.1/hooks", "private, loopback"),
        ("https://localhost/hooks", "private, loopback"),
        ("https://10.0.0.7/hooks", "private, loopback"),
        ("https://169.254.169.254/latest/meta-data", "private, loopback"),
        ("https://[::1]/hooks", "private, loopback"),
        ("not a url", "https"),
        (12, "absolute URL"),
    ],
)
def test_private_loopback_and_plain_http_targets_are_refused(quiet_api, url, message):
    response = create(quiet_api, {"url": url})

    assert response.status_code == 422
    assert response.json["error"]["details"] == {"field": "url"}
    assert message in response.json["error"]["message"]
    assert quiet_api.get("/api/v1/webhook_endpoints").json["data"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["step.sent"]}, "url"),
        ({"url": PUBLIC_URL, "events": ["step.exploded"]}, "events"),
        ({"url": PUBLIC_URL, "events": []}, "events"),
        ({"url": PUBLIC_URL, "events": "step.sent"}, "events"),
        ({"url": PUBLIC_URL, "description": "x" * 501}, "description"),
        ({"url": PUBLIC_URL, "secret": "mine"}, "secret"),
        ([PUBLIC_URL], "body"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(quiet_api, body, field):
    response = create(quiet_api, body)

    assert response.status_code == 422
    assert response.json["error"]["details"] == {"field": field}


def test_the_secret_is_shown_once_and_the_endpoint_can_be_changed_and_deleted(quiet_api):
    created = create(quiet_api, {"url": PUBLIC_URL, "events": ["step.sent", "contact.replied"], "description": "CRM"})

    assert created.status_code == 201
    endpoint = created.json
    assert endpoint["id"].startswith("we_") and endpoint["secret"].startswith("whsec_")
    assert created.headers["Location"] == f"/api/v1/webhook_endpoints/{endpoint['id']}"
    path = f"/api/v1/webhook_endpoints/{endpoint['id']}"
    shown = quiet_api.get(path).json
    assert "secret" not in shown and shown["events"] == ["step.sent", "contact.replied"]
    assert [e["id"] for e in quiet_api.get("/api/v1/webhook_endpoints").json["data"]] == [endpoint["id"]]
    assert all("secret" not in e for e in quiet_api.get("/api/v1/webhook_endpoints").json["data"])

    changed = quiet_api.patch(path, {"events": None, "enabled": False, "description": ""})
    assert changed.status_code == 200
    assert (changed.json["events"], changed.json["enabled"], changed.json["description"]) == (None, False, "")
    refused = quiet_api.patch(path, {"url": "https://192.168.0.2/hooks"})
    assert refused.status_code == 422 and refused.json["error"]["details"] == {"field": "url"}
    assert quiet_api.patch(path, {}).status_code == 422
    assert quiet_api.patch(path, {"enabled": "yes"}).status_code == 422
    assert quiet_api.get(path).json["url"] == PUBLIC_URL

    rotated = quiet_api.post(path + "/rotate_secret")
    assert rotated.status_code == 200 and rotated.json["secret"] not in (endpoint["secret"], None)
    assert quiet_api.get(path + "/deliveries").json == {"data": []}

    assert quiet_api.client.simulate_delete(path, headers=quiet_api.headers()).status_code == 204
    assert quiet_api.get(path).status_code == 404


def test_another_workspace_sees_none_of_it(quiet_api, clock):
    endpoint = create(quiet_api, {"url": PUBLIC_URL}).json
    key = other_key(quiet_api, clock)
    path = f"/api/v1/webhook_endpoints/{endpoint['id']}"

    assert quiet_api.get("/api/v1/webhook_endpoints", key=key).json == {"data": []}
    for suffix in ("", "/deliveries"):
        assert quiet_api.get(path + suffix, key=key).status_code == 404
    for suffix in ("/rotate_secret", "/test"):
        assert quiet_api.post(path + suffix, key=key).status_code == 404
    assert quiet_api.patch(path, {"enabled": False}, key=key).status_code == 404
    assert quiet_api.client.simulate_delete(path, headers=quiet_api.headers(key)).status_code == 404
    assert quiet_api.get(path).json["enabled"] is True
    assert quiet_api.get("/api/v1/webhook_endpoints/we_nonsense").status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [("after=abc", "after"), ("after=-1", "after"), ("limit=0", "limit"), ("limit=101", "limit"), ("types=x", "types")],
)
def test_bad_feed_parameters_are_refused(quiet_api, query, field):
    response = quiet_api.client.simulate_get("/api/v1/events", query_string=query, headers=quiet_api.headers())

    assert response.status_code == 422
    assert response.json["error"]["details"] == {"field": field}


def test_the_feed_is_per_workspace_and_filters_types(api, clock):
    started = api.post("/api/v1/sequences/start", seed_lead(api.template_id)).json

    created = api.client.simulate_get(
        "/api/v1/events", query_string="types=enrollment.created", headers=api.headers()
    ).json

    assert [e["data"]["id"] for e in created["data"]] == [started["enrollment_id"]]
    assert created["next_cursor"] == str(int(created["next_cursor"]))
    assert api.get("/api/v1/events", key=other_key(api, clock)).json == {"data": [], "next_cursor": "0"}


def test_the_feed_returns_every_event_once_across_pages_while_starts_run(feed_api):
    """Starts commit concurrently (HTTP threads, enrollment actors) while a reader pages with a small limit."""
    seen: list[dict] = []
    errors: list[BaseException] = []

    def start(n: int) -> None:
        try:
            body = seed_lead(feed_api.template_id, idempotency_key=f"k{n}")
            response = feed_api.post("/api/v1/sequences/start", body)
            assert response.status_code in (200, 202), response.json
        except BaseException as error:
            errors.append(error)

    def page(cursor: str) -> tuple[list[dict], str]:
        body = feed_api.client.simulate_get(
            "/api/v1/events", query_string=f"after={cursor}&limit=3", headers=feed_api.headers()
        ).json
        return body["data"], body["next_cursor"]

    threads = [threading.Thread(target=start, args=(n,), daemon=True) for n in range(STARTS)]
    cursor = "0"
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        data, cursor = page(cursor)
        seen.extend(data)
    for thread in threads:
        thread.join(30)
    assert not errors, errors[0]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the actors go on writing step events after the starts answer
        data, cursor = page(cursor)
        seen.extend(data)
        if not data and sum(e["type"] == "step.sent" for e in seen) >= STARTS:
            break

    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids))
    assert sum(e["type"] == "enrollment.created" for e in seen) == STARTS
    everything = feed_api.client.simulate_get("/api/v1/events", query_string="limit=100", headers=feed_api.headers())
    assert ids == [e["id"] for e in everything.json["data"]][: len(ids)]
