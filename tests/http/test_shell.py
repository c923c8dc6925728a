"""The HTTP shell (envelope, auth, limits, request ids, logs, metrics) around tiny stand-in resources."""

from __future__ import annotations

import http.client
import io
import json
import logging
import threading

import falcon
import falcon.testing
import pytest

from ringback.http import errors
from ringback.http.app import create_app, serve
from ringback.http.auth import Principal
from ringback.http.metrics import Metrics, MetricsResource
from ringback.http.ratelimit import RateLimiter
from ringback.http.resources.health import HealthResource, ReadyResource

MAX_BODY = 1024

FULL_KEY = "ck_live_" + "f" * 32
READ_ONLY_KEY = "ck_live_" + "r" * 32
NO_SEQUENCES_KEY = "ck_test_" + "s" * 32
NO_API_KEY = "ck_live_" + "n" * 32
REVOKED_KEY = "ck_live_" + "x" * 32  # the resolver answers None, as it does for revoked keys

ALL_FEATURES = frozenset({"api_access", "sequences"})


def _principal(key_id: str, scopes: set[str], features: frozenset[str] = ALL_FEATURES) -> Principal:
    return Principal("ws_1", key_id, "live", frozenset(scopes), features)


class StandInKeys:
    """Dict-backed resolver that records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self._keys = {
            FULL_KEY: _principal("key_full", {"read", "write"}),
            READ_ONLY_KEY: _principal("key_ro", {"read"}),
            NO_SEQUENCES_KEY: _principal("key_noseq", {"read", "write"}, frozenset({"api_access"})),
            NO_API_KEY: _principal("key_noapi", {"read", "write"}, frozenset({"sequences"})),
        }

    def __call__(self, key: str) -> Principal | None:
        self.asked.append(key)
        return self._keys.get(key)


class Things:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"workspace_id": req.context.principal.workspace_id}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.get_media()
        if not isinstance(body.get("name"), str):
            raise errors.validation_error("name", "name must be a string")
        resp.status = 201
        resp.media = body


class Thing:
    def on_get(self, req: falcon.Request, resp: falcon.Response, thing_id: str) -> None:
        raise errors.not_found(f"no thing {thing_id}")


class Boom:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise RuntimeError("secret internal detail")


class Accepted:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"items": []}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.status = 202
        resp.media = {"accepted": True}


class PublicHook:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"public": True}


@pytest.fixture
def keys() -> StandInKeys:
    return StandInKeys()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


def build_app(keys: StandInKeys, metrics: Metrics, ready: bool = True) -> falcon.App:
    def broken() -> bool:
        raise OSError("database unreachable")

    checks = {"database": lambda: True} if ready else {"database": broken, "actors": lambda: False}
    return create_app(
        resolve_key=keys,
        routes=[
            ("/healthz", HealthResource()),
            ("/readyz", ReadyResource(checks)),
            ("/metrics", MetricsResource(metrics)),
            ("/webhooks/ping", PublicHook()),
            ("/api/v1/things", Things()),
            ("/api/v1/things/{thing_id}", Thing()),
            ("/api/v1/boom", Boom()),
            ("/api/v1/sequences/start", Accepted()),
            ("/api/v1/review-queue", Accepted()),
        ],
        metrics=metrics,
        limiter=RateLimiter(now=lambda: 0.0),
        writes_per_minute=1000,
        reads_per_minute=1000,
        max_body_bytes=MAX_BODY,
    )


@pytest.fixture
def client(keys: StandInKeys, metrics: Metrics) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(build_app(keys, metrics))


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_envelope(result: falcon.testing.Result, status: int, code: str) -> dict:
    assert result.status_code == status, result.text
    assert result.headers["Content-Type"].startswith("application/json")
    assert result.headers["X-Request-Id"]
    error = result.json["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error


# --- 400 / 415 / 422: bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["{not json", '{"name": NaN}', '{"name": "a"', b"\xff\xfe"])
def test_malformed_json_is_400_bad_request(client, body):
    result = client.simulate_post(
        "/api/v1/things", body=body, headers=auth(FULL_KEY), content_type="application/json"
    )
    error = assert_envelope(result, 400, "bad_request")
    assert error["message"] == "malformed JSON"


def test_empty_body_is_400(client):
    result = client.simulate_post("/api/v1/things", headers=auth(FULL_KEY), content_type="application/json")
    assert_envelope(result, 400, "bad_request")


def test_wrong_content_type_on_json_route_is_415(client):
    result = client.simulate_post(
        "/api/v1/things",
        body="name=x",
        headers=auth(FULL_KEY),
        content_type="application/x-www-form-urlencoded",
    )
    assert_envelope(result, 415, "unsupported_media_type")


def test_validation_error_is_422_naming_the_field(client):
    result = client.simulate_post("/api/v1/things", json={"name": 5}, headers=auth(FULL_KEY))
    error = assert_envelope(result, 422, "validation_error")
    assert error["details"] == {"field": "name"}


def test_valid_json_with_charset_reaches_the_resource(client):
    result = client.simulate_post(
        "/api/v1/things",
        body=json.dumps({"name": "Mária"}).encode(),
        headers=auth(FULL_KEY),
        content_type="application/json; charset=utf-8",
    )
    assert result.status_code == 201
    assert result.json == {"name": "Mária"}


# --- 401 / 403: auth -----------------------------------------------------------------------------------


def test_every_kind_of_bad_credential_gets_the_same_401(client, keys):
    variants = [
        {},  # missing
        {"Authorization": f"Basic {FULL_KEY}"},  # wrong scheme
        {"Authorization": "Bearer sk_live_not-our-format"},  # malformed
        {"Authorization": "Bearer " + "ck_live_" + "u" * 32},  # unknown
        auth(REVOKED_KEY),  # revoked: the resolver says None
    ]
    results = [client.simulate_get("/api/v1/things", headers=headers) for headers in variants]
    for result in results:
        assert_envelope(result, 401, "unauthorized")
        assert result.headers["WWW-Authenticate"] == "Bearer"
    assert len({result.text for result in results}) == 1
    # Malformed keys never reach the resolver; well-formed ones arrive as the plain key.
    assert keys.asked == ["ck_live_" + "u" * 32, REVOKED_KEY]


def test_bearer_scheme_is_case_insensitive(client):
    result = client.simulate_get("/api/v1/things", headers={"Authorization": f"bearer {FULL_KEY}"})
    assert result.status_code == 200
    assert result.json == {"workspace_id": "ws_1"}


def test_read_only_key_can_read_but_not_write(client):
    assert client.simulate_get("/api/v1/things", headers=auth(READ_ONLY_KEY)).status_code == 200
    result = client.simulate_post("/api/v1/things", json={"name": "x"}, headers=auth(READ_ONLY_KEY))
    error = assert_envelope(result, 403, "forbidden")
    assert error["details"] == {"scope": "write"}


@pytest.mark.parametrize(
    ("key", "method", "path", "feature"),
    [
        (NO_SEQUENCES_KEY, "POST", "/api/v1/sequences/start", "sequences"),
        (NO_SEQUENCES_KEY, "GET", "/api/v1/review-queue", "sequences"),
        (NO_API_KEY, "GET", "/api/v1/things", "api_access"),
        (NO_API_KEY, "POST", "/api/v1/sequences/start", "api_access"),
    ],
)
def test_missing_plan_feature_is_403_naming_it(client, key, method, path, feature):
    result = client.simulate_request(method, path, headers=auth(key), json={})
    error = assert_envelope(result, 403, "forbidden")
    assert feature in error["message"]
    assert error["details"] == {"feature": feature}


def test_plan_without_sequences_still_reaches_other_routes(client):
    assert client.simulate_get("/api/v1/things", headers=auth(NO_SEQUENCES_KEY)).status_code == 200


def test_routes_outside_api_are_public(client, keys):
    assert client.simulate_get("/webhooks/ping").json == {"public": True}
    assert client.simulate_get("/healthz").json == {"status": "ok"}
    assert keys.asked == []


# --- 404 / 405 / 413 / 500 -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope"])
def test_unknown_route_is_404(client, path):
    assert_envelope(client.simulate_get(path, headers=auth(FULL_KEY)), 404, "not_found")


def test_resource_not_found_is_404_with_its_message(client):
    error = assert_envelope(
        client.simulate_get("/api/v1/things/t_9", headers=auth(FULL_KEY)), 404, "not_found"
    )
    assert error["message"] == "no thing t_9"


def test_wrong_method_is_405_and_keeps_allow(client):
    result = client.simulate_delete("/api/v1/things", headers=auth(FULL_KEY))
    assert_envelope(result, 405, "method_not_allowed")
    assert {m.strip() for m in result.headers["Allow"].split(",")} >= {"GET", "POST"}


def test_body_over_limit_by_content_length_is_413(client, keys):
    result = client.simulate_post(
        "/api/v1/things", body="x" * (MAX_BODY + 1), headers=auth(FULL_KEY), content_type="application/json"
    )
    error = assert_envelope(result, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": MAX_BODY}
    assert keys.asked == []  # refused before authentication, without reading the body


def _chunked_post(client: falcon.testing.TestClient, body: bytes) -> falcon.testing.Result:
    """A body without Content-Length, as a server passes on a chunked request it did not de-chunk."""
    return client.simulate_post(
        "/api/v1/things",
        headers={**auth(FULL_KEY), "Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        extras={"wsgi.input": io.BytesIO(body)},
    )


def test_chunked_body_over_limit_is_413(client):
    body = json.dumps({"name": "x" * MAX_BODY}).encode()
    assert_envelope(_chunked_post(client, body), 413, "payload_too_large")


def test_chunked_body_under_limit_is_parsed_as_usual(client):
    result = _chunked_post(client, b'{"name": "chunked"}')
    assert result.status_code == 201
    assert result.json == {"name": "chunked"}


def test_unexpected_exception_is_logged_500_without_traceback(client, caplog):
    with caplog.at_level(logging.ERROR, logger="ringback.http"):
        result = client.simulate_get("/api/v1/boom", headers={**auth(FULL_KEY), "X-Request-Id": "req-boom-1"})
    error = assert_envelope(result, 500, "internal_error")
    assert "secret internal detail" not in result.text
    assert "Traceback" not in result.text and "RuntimeError" not in result.text
    assert error["details"] == {}
    [record] = [r for r in caplog.records if r.name == "ringback.http"]
    assert "req-boom-1" in record.getMessage()
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)


# --- request ids ---------------------------------------------------------------------------------------


def test_every_response_carries_a_request_id(client):
    results = [
        client.simulate_get("/healthz"),
        client.simulate_get("/nope"),
        client.simulate_get("/api/v1/things"),
        client.simulate_get("/api/v1/things", headers=auth(FULL_KEY)),
        client.simulate_get("/api/v1/boom", headers=auth(FULL_KEY)),
        client.simulate_post("/api/v1/things", body="x" * (MAX_BODY + 1), headers=auth(FULL_KEY)),
    ]
    ids = [result.headers.get("X-Request-Id") for result in results]
    assert all(ids)
    assert len(set(ids)) == len(ids)


def test_sane_request_id_is_echoed(client):
    result = client.simulate_get("/healthz", headers={"X-Request-Id": "lead-42_A.b"})
    assert result.headers["X-Request-Id"] == "lead-42_A.b"


@pytest.mark.parametrize("incoming", ["has space", "x" * 129, "semi;colon", "ünïcode"])
def test_insane_request_id_is_replaced(client, incoming):
    result = client.simulate_get("/healthz", headers={"X-Request-Id": incoming})
    assert result.headers["X-Request-Id"] not in ("", incoming)


# --- access log, metrics, health -----------------------------------------------------------------------


def test_access_log_line_has_no_key_query_or_body(client, caplog):
    with caplog.at_level(logging.INFO, logger="ringback.access"):
        client.simulate_post(
            "/api/v1/things",
            params={"token": "query-secret"},
            json={"name": "body-secret"},
            headers={**auth(FULL_KEY), "X-Request-Id": "req-log-1"},
        )
    [record] = [r for r in caplog.records if r.name == "ringback.access"]
    line = record.getMessage()
    assert FULL_KEY not in caplog.text and "f" * 32 not in caplog.text
    assert "query-secret" not in line and "body-secret" not in line
    assert json.loads(line) == {
        "method": "POST",
        "route": "/api/v1/things",
        "path": "/api/v1/things",
        "status": 201,
        "duration_ms": json.loads(line)["duration_ms"],
        "request_id": "req-log-1",
        "workspace_id": "ws_1",
    }


def test_access_log_names_unmatched_routes(client, caplog):
    with caplog.at_level(logging.INFO, logger="ringback.access"):
        client.simulate_get("/nope")
    [record] = [r for r in caplog.records if r.name == "ringback.access"]
    assert json.loads(record.getMessage())["route"] == "unmatched"


def test_metrics_count_requests_by_route_template(client):
    client.simulate_get("/api/v1/things/t_1", headers=auth(FULL_KEY))
    client.simulate_get("/api/v1/things/t_2", headers=auth(FULL_KEY))
    client.simulate_get("/nope")
    result = client.simulate_get("/metrics")
    assert result.status_code == 200
    assert result.headers["Content-Type"].startswith("text/plain")
    text = result.text
    assert (
        'ringback_http_requests_total{method="GET",route="/api/v1/things/{thing_id}",status="404"} 2.0'
        in text
    )
    assert 'ringback_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'ringback_http_request_duration_seconds_count{route="/api/v1/things/{thing_id}"} 2.0' in text


def test_unknown_methods_share_one_metrics_label(metrics):
    metrics.observe_request("/healthz", "PROPFIND", 405, 0.001)
    text = metrics.render().decode()
    assert 'ringback_http_requests_total{method="OTHER",route="/healthz",status="405"} 1.0' in text
    assert "PROPFIND" not in text


def test_metrics_hands_out_one_collector_per_name(metrics):
    gauge = metrics.gauge("ringback_live_enrollments", "Live enrollment actors.")
    assert metrics.gauge("ringback_live_enrollments", "Live enrollment actors.") is gauge
    gauge.set(3)
    assert b"ringback_live_enrollments 3.0" in metrics.render()
    with pytest.raises(ValueError, match="already exists"):
        metrics.counter("ringback_live_enrollments", "Not a counter.")


def test_ready_when_all_checks_pass(client):
    result = client.simulate_get("/readyz")
    assert result.status_code == 200
    assert result.json == {"status": "ready", "checks": {"database": True}}


def test_not_ready_lists_failing_checks(keys, metrics):
    client = falcon.testing.TestClient(build_app(keys, metrics, ready=False))
    error = assert_envelope(client.simulate_get("/readyz"), 503, "not_ready")
    assert error["details"]["failing"] == ["actors", "database"]
    assert error["details"]["checks"] == {"database": False, "actors": False}


# --- the real server -----------------------------------------------------------------------------------


def test_serve_answers_over_http_and_closes(keys, metrics):
    server = serve(build_app(keys, metrics), host="127.0.0.1", port=0, threads=2, max_body_bytes=MAX_BODY)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", "/healthz", headers={"X-Request-Id": "real-1"})
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}
        assert response.getheader("X-Request-Id") == "real-1"
        # The keep-alive connection is still open: close() must not wait for it to time out.
        assert server.close(timeout=5) is True
        with pytest.raises(ConnectionRefusedError):
            http.client.HTTPConnection("127.0.0.1", server.port, timeout=5).request("GET", "/healthz")
    finally:
        connection.close()
        server.close(timeout=5)


def test_real_server_answers_oversized_bodies_in_the_envelope(keys, metrics):
    server = serve(build_app(keys, metrics), host="127.0.0.1", port=0, threads=2, max_body_bytes=MAX_BODY)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        headers = {**auth(FULL_KEY), "Content-Type": "application/json"}
        exact = json.dumps({"name": "x" * (MAX_BODY - 12)}).encode()
        assert len(exact) == MAX_BODY
        connection.request("POST", "/api/v1/things", body=exact, headers=headers)
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())) == (201, json.loads(exact))

        connection.request("POST", "/api/v1/things", body=exact + b" ", headers=headers)
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "payload_too_large"

        chunks = iter([exact[:100], exact[100:], b"  "])
        connection.request("POST", "/api/v1/things", body=chunks, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "payload_too_large"
    finally:
        connection.close()
        server.close(timeout=5)


def test_close_lets_the_request_in_flight_finish(keys, metrics):
    entered, release = threading.Event(), threading.Event()
    answers: list[tuple[int, bytes]] = []

    class Slow:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            entered.set()
            release.wait(5)
            resp.media = {"slow": True}

    app = create_app(
        resolve_key=keys,
        routes=[("/slow", Slow())],
        metrics=metrics,
        limiter=RateLimiter(),
        writes_per_minute=10,
        reads_per_minute=10,
        max_body_bytes=MAX_BODY,
    )
    server = serve(app, host="127.0.0.1", port=0, threads=2, max_body_bytes=MAX_BODY)

    def call() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        connection.request("GET", "/slow")
        response = connection.getresponse()
        answers.append((response.status, response.read()))
        connection.close()

    caller = threading.Thread(target=call)
    caller.start()
    try:
        assert entered.wait(5)
        closer = threading.Thread(target=server.close)
        closer.start()
        release.set()
        closer.join(10)
        caller.join(5)
    finally:
        release.set()
        server.close(timeout=5)
    assert answers == [(200, b'{"slow": true}')]
