"""Rate limits through the app: headers, 429 + Retry-After, budgets per key and per read/write class."""

from __future__ import annotations

import falcon
import falcon.testing
import pytest

from ringback.http import errors
from ringback.http.app import create_app
from ringback.http.auth import Principal
from ringback.http.metrics import Metrics
from ringback.http.ratelimit import RateLimiter
from ringback.http.resources.health import HealthResource

WRITES, READS = 2, 3

KEY_A = "ck_live_" + "a" * 32
KEY_B = "ck_live_" + "b" * 32
READ_ONLY = "ck_live_" + "r" * 32
PRINCIPALS = {
    KEY_A: Principal("ws_1", "key_a", "live", frozenset({"read", "write"}), frozenset({"api_access"})),
    KEY_B: Principal("ws_1", "key_b", "live", frozenset({"read", "write"}), frozenset({"api_access"})),
    READ_ONLY: Principal("ws_1", "key_r", "live", frozenset({"read"}), frozenset({"api_access"})),
}


class FakeClock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


class Items:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"items": []}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.status = 201
        resp.media = {}


class Missing:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise errors.not_found()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> falcon.testing.TestClient:
    app = create_app(
        resolve_key=PRINCIPALS.get,
        routes=[("/healthz", HealthResource()), ("/api/v1/items", Items()), ("/api/v1/missing", Missing())],
        metrics=Metrics(),
        limiter=RateLimiter(now=clock),
        writes_per_minute=WRITES,
        reads_per_minute=READS,
        max_body_bytes=1024,
    )
    return falcon.testing.TestClient(app)


def write(client: falcon.testing.TestClient, key: str = KEY_A) -> falcon.testing.Result:
    return client.simulate_post("/api/v1/items", json={}, headers={"Authorization": f"Bearer {key}"})


def read(
    client: falcon.testing.TestClient, key: str = KEY_A, path: str = "/api/v1/items"
) -> falcon.testing.Result:
    return client.simulate_get(path, headers={"Authorization": f"Bearer {key}"})


def limits(result: falcon.testing.Result) -> tuple[int, int, int]:
    headers = result.headers
    return (
        int(headers["X-RateLimit-Limit"]),
        int(headers["X-RateLimit-Remaining"]),
        int(headers["X-RateLimit-Reset"]),
    )


def test_headers_count_down_then_429_with_retry_after(client, clock):
    first = write(client)
    clock.seconds += 15
    second = write(client)
    clock.seconds += 5
    refused = write(client)
    assert (first.status_code, second.status_code) == (201, 201)
    assert limits(first) == (WRITES, 1, 60)
    assert limits(second) == (WRITES, 0, 45)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert refused.json["error"]["details"] == {"retry_after": 40}
    assert refused.headers["Retry-After"] == "40"
    assert limits(refused) == (WRITES, 0, 40)
    assert refused.headers["X-Request-Id"]


def test_window_rolls_one_request_at_a_time(client, clock):
    write(client)
    clock.seconds += 30
    write(client)
    clock.seconds += 29
    assert write(client).status_code == 429
    clock.seconds += 1  # the first write is now 60 s old
    freed = write(client)
    assert freed.status_code == 201
    assert limits(freed) == (WRITES, 0, 30)
    assert write(client).status_code == 429
    clock.seconds += 30
    assert write(client).status_code == 201


def test_refused_requests_do_not_spend_budget(client, clock):
    write(client)
    clock.seconds += 1
    write(client)
    for _ in range(5):
        clock.seconds += 10
        assert write(client).status_code == 429
    clock.seconds += 9  # 60 s after the first write: exactly one slot is free again
    assert write(client).status_code == 201
    assert write(client).status_code == 429


def test_rejected_credentials_and_scopes_never_spend_budget(client):
    for _ in range(10):
        assert write(client, "ck_live_" + "z" * 32).status_code == 401
        assert write(client, READ_ONLY).status_code == 403
    assert limits(read(client, READ_ONLY))[1] == READS - 1
    assert limits(write(client))[1] == WRITES - 1


def test_reads_writes_and_keys_have_separate_budgets(client):
    write(client)
    write(client)
    assert write(client).status_code == 429
    assert limits(read(client)) == (READS, READS - 1, 60)
    assert limits(write(client, KEY_B)) == (WRITES, WRITES - 1, 60)


def test_resource_errors_still_carry_rate_limit_headers(client):
    result = read(client, path="/api/v1/missing")
    assert result.status_code == 404
    assert limits(result) == (READS, READS - 1, 60)


def test_public_routes_are_not_rate_limited(client):
    for _ in range(READS + 2):
        result = client.simulate_get("/healthz")
        assert result.status_code == 200
        assert "X-RateLimit-Limit" not in result.headers
