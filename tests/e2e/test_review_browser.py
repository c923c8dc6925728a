"""An admin's review, end to end: the real server process, a real SMTP server and Debian's Chromium.

The deep link is taken from the email the SMTP server received, opened in the browser, a step is edited and
the sequence approved (or rejected) by clicking; the API then shows what was (not) sent in the sandbox.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # reported by the `browser` fixture: a skip locally, a failure in CI
    sync_playwright = None

from tests.conftest import services_required, wait_for
from tests.fakes.smtp_server import HOST, SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(__file__).resolve().parents[1] / "artifacts" / "review_page.png"
EDITED = "Hola Maria,\n\nGracias por su interés. Le envío los precios hoy mismo.\n\nUn saludo,\nAna"

# Email only, so nothing waits for a calling window: the test never depends on the time of day.
TEMPLATE = {
    "name": "Email follow-up",
    "goal": "Answer the pricing question and offer a short call.",
    "allowed_channels": ["email"],
    "steps": [{"channel": "email", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 86400}],
    "sender": {"name": "Ana", "email": "ana@example.com"},
    "link_allowlist": ["example.com"],
}
LEAD = {
    "first_name": "Maria",
    "emails": ["maria@example.com"],
    "notes": "Speaks Spanish. Submitted the contact form asking about pricing.",
}


@pytest.fixture(scope="module")
def browser():
    missing = [
        what
        for what, present in (("chromium at /usr/bin/chromium", CHROMIUM.exists()), ("playwright", sync_playwright))
        if not present
    ]
    if missing:
        if services_required():  # CI installs both: a missing one is a failure there, never a skip
            pytest.fail(f"missing: {', '.join(missing)}")
        pytest.skip(f"missing: {', '.join(missing)}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def smtp_server():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def review(start_server, ringback, smtp_server):
    """A running server with a lead waiting for review; returns (server, api key, enrollment id, link)."""
    env = {"RINGBACK_SMTP_HOST": HOST, "RINGBACK_SMTP_PORT": str(smtp_server.port)}
    workspace = ringback(["init", "--admin-email", "admin@example.com"], env)
    server = start_server(env)
    key = workspace["api_key"]
    status, template = server.request("POST", "/api/v1/templates", TEMPLATE, key)
    assert status == 201, template
    lead = {"template_id": template["id"], "contact": LEAD, "auto_approve": False}
    status, started = server.request("POST", "/api/v1/sequences/start", lead, key)
    assert status == 202, started

    [mail] = smtp_server.wait_for(1, timeout=30)
    assert mail.recipients == ("admin@example.com",)
    text = mail.message.get_body(("plain",)).get_content()
    link = re.search(rf"{re.escape(server.url)}/review/\S+", text)
    assert link, text
    return server, key, started["enrollment_id"], link.group(0)


def enrollment(server, key: str, enrollment_id: str) -> dict:
    status, body = server.request("GET", f"/api/v1/sequences/enrollments/{enrollment_id}", key=key)
    assert status == 200, body
    return body


def test_admin_edits_step_2_and_approves_in_chromium(browser, review):
    server, key, enrollment_id, link = review
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone

    page.goto(link)
    assert page.title().startswith("Review: Maria")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.fill('textarea[name="step_1_body"]', EDITED)
    with page.expect_navigation():
        page.click('button[value="approve"]')

    done = wait_for(
        lambda: (v := enrollment(server, key, enrollment_id))["steps"][0]["state"] == "sent" and v, timeout=30
    )
    assert done["steps"][0]["provider"] == "sandbox"
    assert done["steps"][1]["body"] == EDITED and done["steps"][1]["state"] == "scheduled"
    assert done["review"]["decided_by"] == "review-link"
    page.goto(link)
    assert "approved by the review link" in page.content()
    page.close()


def test_admin_rejects_in_chromium_and_nothing_is_sent(browser, review, smtp_server):
    server, key, enrollment_id, link = review
    page = browser.new_page(viewport={"width": 390, "height": 844})

    page.goto(link)
    page.fill('input[name="reason"]', "Not a real lead")
    with page.expect_navigation():
        page.click('button[value="reject"]')
    assert "Nothing will be sent to Maria" in page.content()

    rejected = wait_for(lambda: (v := enrollment(server, key, enrollment_id))["status"] == "rejected" and v, timeout=30)
    assert [s["state"] for s in rejected["steps"]] == ["canceled", "canceled"]
    assert all(s["sent_at"] is None and s["provider_id"] is None for s in rejected["steps"])
    assert len(smtp_server.received) == 1  # only the review email itself
    page.goto(link)
    assert "Already rejected" in page.content()
    page.close()
