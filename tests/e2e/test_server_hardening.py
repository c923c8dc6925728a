"""Issue 13 through the real server process: waitress-level errors, slow connections, logs and review links."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from tests.conftest import wait_for
from tests.e2e.conftest import HOST, ROOT, ServerHandle

pytestmark = pytest.mark.e2e

SLOW_SOCKETS = 300
CHANNEL_TIMEOUT = 6  # seconds; the default is 20, shortened so the test stays well under 30 s
# The issue asks for /healthz within a second under the attack; the bound is generous for a loaded machine.
# Before the fix /healthz did not answer at all while the slow connections were open.
HEALTHZ_BOUND = 3.0


def exchange(server: ServerHandle, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the answer to the end; (status, headers, body)."""
    with socket.create_connection((HOST, server.port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data:
                head, _, body = data.partition(b"\r\n\r\n")
                length = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                if length and len(body) >= int(length[0].split(b":")[1]):
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def post_head(extra: str) -> bytes:
    return f"POST /api/v1/sequences/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}\r\n".encode()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        # a chunked body over waitress's cap (4 x RINGBACK_MAX_BODY_BYTES): waitress answers before the app runs
        (post_head("Transfer-Encoding: chunked\r\n") + (b"10000\r\n" + b"x" * 65536 + b"\r\n") * 5 + b"0\r\n\r\n", 413),
        (post_head("Transfer-Encoding: gzip, chunked\r\n") + b"0\r\n\r\n", 501),
        (post_head("Transfer-Encoding: chunked\r\n") + b"zz\r\nxx\r\n0\r\n\r\n", 400),
    ],
    ids=["413-over-256KiB", "501-gzip-chunked", "400-bad-chunk-size"],
)
def test_errors_that_waitress_writes_are_in_the_envelope(start_server, raw, status):
    server = start_server()

    answer_status, headers, body = exchange(server, raw)

    assert answer_status == status
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"]
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message", "details"} and error["code"]


def test_slow_connections_do_not_take_the_service_down(start_server):
    server = start_server({"RINGBACK_CHANNEL_TIMEOUT_SECONDS": str(CHANNEL_TIMEOUT)})
    stop = threading.Event()
    sockets = []
    try:
        for _ in range(SLOW_SOCKETS):
            sock = socket.create_connection((HOST, server.port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            sockets.append(sock)
        trickler = threading.Thread(target=_trickle, args=(sockets, stop), daemon=True)
        trickler.start()

        answered = []
        for _ in range(4):  # while all 300 are open and trickling
            started = time.monotonic()
            with urllib.request.urlopen(server.url + "/healthz", timeout=HEALTHZ_BOUND) as response:
                answered.append((response.status, time.monotonic() - started))
            time.sleep(0.5)
        assert [status for status, _ in answered] == [200] * 4
        assert max(seconds for _, seconds in answered) < HEALTHZ_BOUND

        # The server cuts each one off once its request has taken longer than the channel timeout.
        deadline = time.monotonic() + CHANNEL_TIMEOUT + 10
        for sock in sockets:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            assert _closed_by_server(sock)  # a timeout here fails the test
    finally:
        stop.set()
        for sock in sockets:
            sock.close()


def _closed_by_server(sock: socket.socket) -> bool:
    """Closed without an answer: an orderly close, or a reset (the server had unread header lines)."""
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def _trickle(sockets: list[socket.socket], stop: threading.Event) -> None:
    """What a slow-loris client does: one more header line every 2 s, never the blank line that ends them."""
    n = 0
    while not stop.wait(2.0):
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the server
                sock.sendall(f"X-Slow-{n}: 1\r\n".encode())
        n += 1


def test_review_links_are_not_logged_and_the_cli_prints_one(start_server, ringback):
    demo = ringback(["init"])
    server = start_server()
    lead = {
        "template_id": demo["template_id"],
        "contact": {"first_name": "Ana", "emails": ["ana@example.com"]},
    }
    status, started = server.request("POST", "/api/v1/sequences/start", lead, demo["api_key"])
    assert status == 202
    enrollment_id = started["enrollment_id"]
    path = f"/api/v1/sequences/enrollments/{enrollment_id}"
    wait_for(lambda: server.request("GET", path, key=demo["api_key"])[1]["status"] == "pending_approval")
    done = subprocess.run(
        [sys.executable, "-m", "ringback", "review-link", enrollment_id, "--json"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    link = json.loads(done.stdout)["review_link"]
    assert link.startswith(f"{server.url}/review/")
    with urllib.request.urlopen(link, timeout=10) as page:  # the link works: the review form
        assert page.status == 200
        assert page.headers["X-Frame-Options"] == "DENY"

    # Expected outcomes: 404 (unknown enrollment), 422 (bad edit), 409 (decided twice).
    unknown = "/api/v1/sequences/enrollments/enr_01JUNKJUNKJUNKJUNKJUNKJUNK/approve"
    assert server.request("POST", unknown, {}, demo["api_key"])[0] == 404
    assert server.request("PATCH", path + "/steps/0", {"body": ""}, demo["api_key"])[0] == 422
    assert server.request("POST", path + "/reject", {}, demo["api_key"])[0] == 200
    assert server.request("POST", path + "/approve", {}, demo["api_key"])[0] == 409

    log = server.output()
    assert not re.search(r"/review/[A-Za-z0-9_-]", log)  # only the route template and "[token]" appear
    assert f"review-link {enrollment_id}" in log
    assert "Traceback" not in log
