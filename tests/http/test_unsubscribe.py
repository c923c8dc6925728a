"""One-click unsubscribe (RFC 8058): POST unsubscribes at once, GET only asks, bad tokens get a 403 page."""

from __future__ import annotations

import logging

import pytest

from ringback.http.pages.render import HEADERS as PAGE_HEADERS
from tests.conftest import seed_lead, wait_for

ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def lead(api) -> dict:
    started = api.post("/api/v1/sequences/start", seed_lead(api.template_id)).json
    wait_for(lambda: enrollment(api, started["enrollment_id"])["steps"][0]["state"] == "sent")
    return started


@pytest.fixture
def link(node, lead) -> str:
    """The path of the List-Unsubscribe URL the enrollment actor puts in every email."""
    return "/u/" + node.signer.sign("unsubscribe", lead["contact_id"], None)


def enrollment(api, enrollment_id: str) -> dict:
    return api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json


def suppressed(api, contact_id: str) -> list[str]:
    return api.get(f"/api/v1/contacts/{contact_id}").json["suppressed_channels"]


def test_one_click_post_unsubscribes_email_and_stops_the_sequence(api, lead, link):
    result = api.client.simulate_post(link, body=ONE_CLICK, headers=FORM)

    assert result.status_code == 200
    assert "Location" not in result.headers
    assert result.headers["Content-Type"].startswith("text/html")
    assert "Unsubscribed" in result.text
    assert suppressed(api, lead["contact_id"]) == ["email"]
    stopped = wait_for(lambda: (v := enrollment(api, lead["enrollment_id"]))["status"] == "stopped" and v)
    assert stopped["status_reason"] == "unsubscribed by email"
    assert [s["state"] for s in stopped["steps"]] == ["sent", "canceled", "canceled"]


def test_one_click_post_as_multipart_form_data(api, lead, link):
    boundary = "----ringback"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        "One-Click\r\n"
        f"--{boundary}--\r\n"
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    result = api.client.simulate_post(link, body=body, headers=headers)

    assert result.status_code == 200
    assert suppressed(api, lead["contact_id"]) == ["email"]


def test_repeating_the_post_is_harmless(api, lead, link):
    for _ in range(2):
        assert api.client.simulate_post(link, body=ONE_CLICK, headers=FORM).status_code == 200
    assert suppressed(api, lead["contact_id"]) == ["email"]


def test_get_shows_a_confirmation_form_and_changes_nothing(api, lead, link):
    result = api.client.simulate_get(link)

    assert result.status_code == 200
    assert '<form method="post">' in result.text
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in result.text
    assert result.headers["Cache-Control"] == "no-store"
    assert result.headers["Referrer-Policy"] == "no-referrer"
    assert suppressed(api, lead["contact_id"]) == []
    assert enrollment(api, lead["enrollment_id"])["status"] == "active"


def test_a_post_without_the_one_click_field_changes_nothing(api, lead, link):
    result = api.client.simulate_post(link, body="List-Unsubscribe=Maybe", headers=FORM)

    assert result.status_code == 400
    assert suppressed(api, lead["contact_id"]) == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_tokens_get_a_403_page(api, node, lead, link, method):
    tampered = link[:-2] + ("AA" if not link.endswith("AA") else "BB")
    review_token = "/u/" + node.signer.sign("review", lead["contact_id"], None)  # right subject, wrong purpose

    for path in (tampered, review_token, "/u/not-a-token"):
        result = api.client.simulate_request(method, path, body=ONE_CLICK, headers=FORM)
        assert result.status_code == 403
        assert result.headers["Content-Type"].startswith("text/html")
    assert suppressed(api, lead["contact_id"]) == []


def test_the_access_log_never_holds_the_token(api, link, caplog):
    token = link.removeprefix("/u/")
    with caplog.at_level(logging.INFO, logger="ringback.access"):
        api.client.simulate_get(link)
        api.client.simulate_post(link + "/extra", body=ONE_CLICK, headers=FORM)  # unmatched, still redacted

    assert token not in caplog.text
    assert '"path": "/u/[token]"' in caplog.text
    assert '"path": "/u/[token]/extra"' in caplog.text


def test_every_unsubscribe_page_carries_the_security_headers_of_the_review_page(api, link):
    """Issue 13 item 7: the one-click button could be framed."""
    answers = [
        api.client.simulate_get(link),
        api.client.simulate_get(link[:-3] + "AAA"),  # the 403 page
        api.client.simulate_post(link, body=b"", headers=FORM),  # the 400 page
    ]

    for result in answers:
        assert result.headers["Content-Type"].startswith("text/html")
        for name, value in PAGE_HEADERS.items():
            if name != "Referrer-Policy":  # stricter here: no-referrer
                assert result.headers[name] == value
        assert "frame-ancestors 'none'" in result.headers["Content-Security-Policy"]
