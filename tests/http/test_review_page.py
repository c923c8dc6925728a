"""The human review loop through the real app, supervisor and actors: page, API, email and review queue."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import urlencode

import falcon.testing
import pytest

from ringback.demo import bootstrap
from ringback.node import Providers
from ringback.providers.channels.smtp import SmtpChannel
from ringback.providers.llm.offline import OfflineWriter
from ringback.storage import enrollments, sandbox
from tests.conftest import Api, seed_lead, wait_for
from tests.fakes.smtp_server import HOST, SmtpServer

FORM = "application/x-www-form-urlencoded"
PUBLIC_URL = "http://127.0.0.1:8080"  # the node's default public URL in these tests
EDITED_SCRIPT = "Hola Maria, soy Ana de Acme. Le llamo por su consulta sobre precios."


# --- helpers ----------------------------------------------------------------------------------------


def view(api: Api, enrollment_id: str) -> dict:
    return api.get(f"/api/v1/sequences/enrollments/{enrollment_id}").json


def start_pending(api: Api, **lead: object) -> str:
    """A lead without auto_approve, waited for until its review email went out (the actor is then idle)."""
    body = seed_lead(api.template_id, auto_approve=False, **lead)
    response = api.post("/api/v1/sequences/start", body)
    assert response.status_code == 202, response.json
    enrollment_id = response.json["enrollment_id"]
    wait_for(lambda: view(api, enrollment_id)["review"]["admins_notified_at"])
    return enrollment_id


def review_token(node, clock, enrollment_id: str) -> str:
    """What the enrollment actor signs for the email (tests read it from the email in test_review_email)."""
    return node.signer.sign("review", enrollment_id, clock.now() + timedelta(days=7))


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def post_form(api: Api, token: str, fields: dict[str, str], **headers: str):
    return api.client.simulate_post(
        f"/review/{token}", body=urlencode(fields), headers={"Content-Type": FORM, **headers}
    )


def decide(api: Api, token: str, action: str, **fields: str):
    """Post what the page's own form posts: its CSRF value and the action."""
    page = api.client.simulate_get(f"/review/{token}")
    assert page.status_code == 200, page.text
    return post_form(api, token, {"csrf": csrf_of(page.text), "action": action, **fields}, Origin=PUBLIC_URL)


def snapshot(api: Api, enrollment_id: str) -> tuple:
    return view(api, enrollment_id), sandbox.deliveries(), enrollments.load_state(enrollment_id)


@pytest.fixture
def pending(api) -> str:
    return start_pending(api)


@pytest.fixture
def token(node, clock, pending) -> str:
    return review_token(node, clock, pending)


# --- GET --------------------------------------------------------------------------------------------


def test_page_shows_the_lead_and_every_step_with_edit_boxes(api, pending, token):
    response = api.client.simulate_get(f"/review/{token}")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none': no script
    page = response.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    for text in ("Maria", "maria@example.com", "+34911234567", "Located in Madrid", "Europe/Madrid"):
        assert text in page
    assert "<dt>Language</dt><dd>es " in page and "Inbound lead callback" in page
    steps = view(api, pending)["steps"]
    assert [s["channel"] for s in steps] == ["voice", "email", "email"]
    for index, step in enumerate(steps):
        assert f'name="step_{index}_body"' in page
        text = step.get("script") or step["body"]
        assert text.splitlines()[0] in page
    assert 'name="step_1_subject"' in page and 'name="step_0_subject"' not in page  # no subject on a call
    assert "right after approval" in page and "2 min after approval" in page and "2 d after approval" in page
    assert 'value="approve"' in page and 'value="reject"' in page and 'value="save"' in page


def test_get_never_changes_anything(api, clock, node, pending, token):
    before = snapshot(api, pending)

    for _ in range(3):
        assert api.client.simulate_get(f"/review/{token}").status_code == 200
    assert api.client.simulate_get(f"/review/{token}x").status_code == 403
    clock.advance(timedelta(days=8))
    assert api.client.simulate_get(f"/review/{token}").status_code == 410

    assert snapshot(api, pending) == before
    assert before[0]["status"] == "pending_approval" and before[1] == []


def test_lead_text_is_escaped(api, node, clock):
    lead = seed_lead(api.template_id)["contact"] | {"first_name": "<script>alert(1)</script>"}
    enrollment_id = start_pending(api, contact=lead)

    page = api.client.simulate_get(f"/review/{review_token(node, clock, enrollment_id)}").text

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- tokens -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature
        lambda t: "cmV2aWV3fGVucl9vdGhlcnwwMDAw." + t.split(".")[1],  # payload of another enrollment
        lambda t: "not-a-token",
        lambda t: "x" * 600,
        lambda t: t[:10] + "!!" + t[10:],  # junk that lenient base64 decoding skipped (issue 13)
        lambda t: t.replace(".", "=.", 1),  # padding the signer never writes
    ],
    ids=["signature", "payload", "garbage", "oversized", "junk", "padding"],
)
def test_tampered_token_is_403_for_get_and_post(api, token, tamper):
    bad = tamper(token)

    got = api.client.simulate_get(f"/review/{bad}")
    posted = post_form(api, bad, {"action": "approve", "csrf": "x"})

    assert got.status_code == posted.status_code == 403
    assert "not valid" in got.text and got.headers["content-type"].startswith("text/html")


def test_a_token_for_another_purpose_is_403(api, node, pending):
    unsubscribe = node.signer.sign("unsubscribe", pending, None)

    assert api.client.simulate_get(f"/review/{unsubscribe}").status_code == 403


def test_expired_token_is_410_and_says_when(api, clock, pending, token):
    csrf = csrf_of(api.client.simulate_get(f"/review/{token}").text)
    clock.advance(timedelta(days=7, minutes=1))

    got = api.client.simulate_get(f"/review/{token}")
    posted = post_form(api, token, {"csrf": csrf, "action": "approve"})

    assert got.status_code == posted.status_code == 410
    assert "expired" in got.text and "Wed 13 May 2026, 10:00 UTC" in got.text
    assert view(api, pending)["status"] == "pending_approval"


def test_missing_or_wrong_csrf_or_foreign_origin_is_403(api, node, clock, pending, token):
    other = start_pending(api, idempotency_key="other-lead")
    other_csrf = csrf_of(api.client.simulate_get(f"/review/{review_token(node, clock, other)}").text)
    csrf = csrf_of(api.client.simulate_get(f"/review/{token}").text)

    missing = post_form(api, token, {"action": "approve"})
    wrong = post_form(api, token, {"action": "approve", "csrf": other_csrf})
    forged = post_form(api, token, {"action": "approve", "csrf": token})
    foreign = post_form(api, token, {"action": "approve", "csrf": csrf}, Origin="https://evil.example")
    foreign_referer = post_form(api, token, {"action": "reject", "csrf": csrf}, Referer="https://evil.example/review")

    assert [r.status_code for r in (missing, wrong, forged, foreign, foreign_referer)] == [403] * 5
    assert view(api, pending)["status"] == "pending_approval"
    assert view(api, pending)["review"]["decided_at"] is None


def test_a_form_that_is_not_url_encoded_is_refused(api, token):
    response = api.client.simulate_post(f"/review/{token}", json={"action": "approve"})

    assert response.status_code == 415
    assert response.headers["content-type"].startswith("text/html")


# --- decisions --------------------------------------------------------------------------------------


def test_edit_then_approve_sends_the_edited_first_step_in_the_sandbox(api, pending, token):
    response = decide(api, token, "approve", step_0_body=EDITED_SCRIPT.replace(" Le", "\r\nLe"))

    assert response.status_code == 303 and response.headers["location"] == f"/review/{token}"
    done = wait_for(lambda: (v := view(api, pending))["steps"][0]["state"] == "sent" and v)
    [delivery] = sandbox.deliveries()
    assert delivery["step_id"] == done["steps"][0]["id"] and delivery["channel"] == "voice"
    assert delivery["body"] == EDITED_SCRIPT  # a voice script is one line; the browser's CRLF is gone
    assert delivery["voicemail"] == done["steps"][0]["voicemail_script"]  # the untouched voicemail stays
    assert done["review"]["decided_by"] == "review-link" and done["review"]["state"] == "approved"
    kinds = [(e["kind"], e.get("detail", {}).get("by")) for e in done["timeline"]]
    assert ("review.step_edited", "review-link") in kinds and ("review.approved", "review-link") in kinds
    assert kinds.index(("review.step_edited", "review-link")) < kinds.index(("review.approved", "review-link"))


def test_after_approval_the_page_shows_live_step_states(api, pending, token):
    decide(api, token, "approve")
    wait_for(lambda: view(api, pending)["steps"][0]["state"] == "sent")

    page = api.client.simulate_get(f"/review/{token}")

    assert page.status_code == 200
    assert "approved by the review link" in page.text
    assert 'class="state state-sent">sent<' in page.text and 'class="state state-scheduled">scheduled<' in page.text
    assert '<meta http-equiv="refresh"' in page.text  # live: it refreshes while steps are pending


def test_save_keeps_it_pending_and_shows_the_edit(api, pending, token):
    response = decide(api, token, "save", step_1_subject="Precios de Acme", step_1_body="Hola Maria,\r\n\r\nAdjunto.")

    assert response.status_code == 200 and "Saved 1 edited step(s)." in response.text
    assert 'value="Precios de Acme"' in response.text
    edited = wait_for(lambda: (v := view(api, pending))["steps"][1]["subject"] == "Precios de Acme" and v)
    assert edited["steps"][1]["body"] == "Hola Maria,\n\nAdjunto."
    assert edited["status"] == "pending_approval" and sandbox.deliveries() == []


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"step_1_body": "   "}, "body is empty"),
        ({"step_1_body": "Mire https://evil.example/x"}, "link not in the template's allow-list"),
        ({"step_1_subject": ""}, "email subject is empty"),
        ({"step_0_voicemail": "  "}, "voicemail_script is empty"),
    ],
)
def test_an_invalid_edit_is_refused_with_the_typed_text_kept(api, pending, token, fields, problem):
    before = snapshot(api, pending)

    response = decide(api, token, "approve", **fields)

    assert response.status_code == 422
    assert problem in response.text.replace("&#39;", "'")
    assert "Nothing was changed or approved" in response.text
    assert snapshot(api, pending) == before


def test_reject_sends_nothing_and_the_link_then_says_so(api, pending, token):
    response = decide(api, token, "reject", reason="Duplicate lead")

    assert response.status_code == 200 and "Nothing will be sent to Maria" in response.text
    rejected = wait_for(lambda: (v := view(api, pending))["status"] == "rejected" and v)
    assert {s["state"] for s in rejected["steps"]} == {"canceled"}
    assert sandbox.deliveries() == []
    again = api.client.simulate_get(f"/review/{token}")
    assert again.status_code == 410
    assert "Rejected by the review link on Wed 6 May 2026, 10:00 UTC" in again.text
    assert "Duplicate lead" in again.text


def test_a_second_decision_through_the_link_is_410(api, pending, token):
    csrf = csrf_of(api.client.simulate_get(f"/review/{token}").text)
    assert post_form(api, token, {"csrf": csrf, "action": "approve"}).status_code == 303

    for action in ("approve", "reject", "save"):
        again = post_form(api, token, {"csrf": csrf, "action": action, "step_1_body": "Otra cosa"})
        assert again.status_code == 410, action
        assert "by the review link on Wed 6 May 2026, 10:00 UTC; this link cannot decide again" in again.text
    wait_for(lambda: view(api, pending)["steps"][0]["state"] == "sent")
    assert view(api, pending)["steps"][1]["body"] != "Otra cosa"


# --- page and API stay consistent -------------------------------------------------------------------


def test_api_first_then_the_page_gets_410_saying_who(api, pending, token):
    csrf = csrf_of(api.client.simulate_get(f"/review/{token}").text)
    assert api.post(f"/api/v1/sequences/enrollments/{pending}/reject", {"reason": "spam"}).status_code == 200
    in_flight = post_form(api, token, {"csrf": csrf, "action": "approve"})  # the actor may not have applied it
    wait_for(lambda: view(api, pending)["status"] == "rejected")

    response = post_form(api, token, {"csrf": csrf, "action": "approve"})

    assert in_flight.status_code == response.status_code == 410
    assert "by the API (key key_" in in_flight.text
    assert "Rejected by the API (key key_" in response.text and "spam" in response.text
    assert sandbox.deliveries() == []


def test_page_first_then_the_api_gets_409(api, pending, token):
    assert decide(api, token, "approve").status_code == 303

    approve = api.post(f"/api/v1/sequences/enrollments/{pending}/approve")
    reject = api.post(f"/api/v1/sequences/enrollments/{pending}/reject")
    patch = api.patch(f"/api/v1/sequences/enrollments/{pending}/steps/1", {"subject": "x", "body": "y"})

    assert [r.status_code for r in (approve, reject, patch)] == [409, 409, 409]
    assert approve.json["error"]["code"] == "conflict"
    wait_for(lambda: view(api, pending)["steps"][0]["state"] == "sent")


def test_an_api_edit_shows_on_the_page(api, pending, token):
    body = {"subject": "Precios", "body": "Hola Maria, le escribo por los precios."}
    assert api.patch(f"/api/v1/sequences/enrollments/{pending}/steps/1", body).status_code == 200
    wait_for(lambda: view(api, pending)["steps"][1]["subject"] == "Precios")

    assert 'value="Precios"' in api.client.simulate_get(f"/review/{token}").text


def race(api: Api, token: str, csrf: str, enrollment_id: str) -> dict[str, int]:
    """The page approves while the API rejects, released at the same moment; their status codes."""
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def page() -> None:
        barrier.wait(5)
        results["page"] = post_form(api, token, {"csrf": csrf, "action": "approve"}).status_code

    def via_api() -> None:
        barrier.wait(5)
        results["api"] = api.post(f"/api/v1/sequences/enrollments/{enrollment_id}/reject").status_code

    threads = [threading.Thread(target=page), threading.Thread(target=via_api)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_page_and_api_racing_first_decision_wins(api, node, clock):
    for attempt in range(3):
        enrollment_id = start_pending(api, idempotency_key=f"race-{attempt}")
        token = review_token(node, clock, enrollment_id)
        csrf = csrf_of(api.client.simulate_get(f"/review/{token}").text)

        results = race(api, token, csrf, enrollment_id)

        assert results in ({"page": 303, "api": 409}, {"page": 410, "api": 200}), results
        final = "active" if results["page"] == 303 else "rejected"
        settled = wait_for(lambda i=enrollment_id: (v := view(api, i))["status"] in ("active", "rejected") and v)
        assert settled["status"] == final
        assert settled["review"]["decided_by"].startswith("review-link" if final == "active" else "api:")


# --- review queue -----------------------------------------------------------------------------------


def test_review_queue_lists_pending_oldest_first_with_their_age(api, node, clock):
    first = start_pending(api, idempotency_key="q1")
    clock.advance(timedelta(minutes=30))
    second = start_pending(api, idempotency_key="q2")
    clock.advance(timedelta(minutes=5))

    queue = api.get("/api/v1/review-queue").json["data"]

    assert [(e["enrollment_id"], e["waiting_seconds"]) for e in queue] == [(first, 2100), (second, 300)]
    assert queue[0]["language"] == "es"
    decide(api, review_token(node, clock, first), "approve")
    wait_for(lambda: [e["enrollment_id"] for e in api.get("/api/v1/review-queue").json["data"]] == [second])


def test_review_queue_needs_a_key_and_is_per_workspace(api, clock):
    start_pending(api)
    other = bootstrap(clock.now(), name="Other")

    assert api.client.simulate_get("/api/v1/review-queue").status_code == 401
    assert api.get("/api/v1/review-queue", key=other.api_key).json["data"] == []


# --- the admin email --------------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    with SmtpServer() as server:
        yield server


def mailing_node(make_node, smtp_server):
    return make_node(Providers(writer=OfflineWriter(), mailer=SmtpChannel(HOST, smtp_server.port, timeout_seconds=5)))


def test_review_email_has_the_lead_the_steps_and_a_working_deep_link(make_node, smtp_server, clock):
    node = mailing_node(make_node, smtp_server)
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com", "boss@example.com"))
    api = Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)
    clock.advance(timedelta(minutes=3))  # the email says how long the lead has waited
    enrollment_id = start_pending(api)

    received = smtp_server.wait_for(2)
    assert sorted(r.recipients[0] for r in received) == ["admin@example.com", "boss@example.com"]
    message = received[0].message
    assert message["Subject"].startswith("Review needed: Maria (es) waiting")
    text = message.get_body(("plain",)).get_content()
    assert "maria@example.com, +34911234567" in text and "Language: es · Time zone: Europe/Madrid" in text
    assert "Step 1 · voice: Hola, Maria." in text and "Step 2 · email: Maria, su consulta sobre precios" in text
    link = re.search(rf"{re.escape(PUBLIC_URL)}/review/(\S+)", text)
    assert link, text
    assert f'href="{PUBLIC_URL}/review/{link.group(1)}"' in message.get_body(("html",)).get_content()
    page = api.client.simulate_get(f"/review/{link.group(1)}")
    assert page.status_code == 200 and "Review outreach to Maria" in page.text
    assert view(api, enrollment_id)["timeline"][-1]["detail"]["recipients"] == ["admin@example.com", "boss@example.com"]


def test_one_review_email_per_enrollment_also_after_a_restart(make_node, smtp_server, clock):
    node = mailing_node(make_node, smtp_server)
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    api = Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)
    first = start_pending(api)
    smtp_server.wait_for(1)
    node.stop()

    restarted = mailing_node(make_node, smtp_server)
    api.client = falcon.testing.TestClient(restarted.app)
    second = start_pending(api, idempotency_key="after-restart")
    smtp_server.wait_for(2)

    assert first not in enrollments.ids_to_resume()  # notified: recovery leaves it passive, no second email
    subjects = [r.message["Message-ID"] for r in smtp_server.received]
    assert subjects == [f"<review-{first}-0@ringback>", f"<review-{second}-0@ringback>"]


def test_without_an_admin_address_the_timeline_says_nobody_was_emailed(node, clock):
    demo = bootstrap(clock.now())  # no admin emails
    api = Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)

    enrollment_id = start_pending(api)

    status = view(api, enrollment_id)
    kinds = [e["kind"] for e in status["timeline"]]
    assert kinds[-2:] == ["review.admins_notified", "review.admins_not_reached"]
    assert status["timeline"][-2]["detail"]["recipients"] == []
    assert "no admin email address" in status["status_reason"]
    assert [e["enrollment_id"] for e in api.get("/api/v1/review-queue").json["data"]] == [enrollment_id]


# --- the two scripts of a call, and the opt-out line of a first text ------------------------------------

SMS_FIRST = {
    "name": "Text first",
    "goal": "Book a demo.",
    "allowed_channels": ["sms", "email"],
    "steps": [{"channel": "sms", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 3600}],
    "sender": {"name": "Dana", "company": "Ringback", "email": "dana@example.com", "phone": "+14155550100"},
}
US_PHONE = ["+14155550123"]


def test_the_page_shows_and_saves_the_voicemail_script(api, pending, token):
    voicemail = view(api, pending)["steps"][0]["voicemail_script"]
    page = api.client.simulate_get(f"/review/{token}").text
    assert 'name="step_0_voicemail"' in page and voicemail.split(".")[0] in page
    assert 'name="step_1_voicemail"' not in page  # an email has no voicemail

    response = decide(api, token, "save", step_0_voicemail="Hola Maria,\r\nle llamo de Acme. Hasta pronto.")

    assert response.status_code == 200 and "Saved 1 edited step(s)." in response.text
    edited = wait_for(lambda: (s := view(api, pending)["steps"][0])["voicemail_script"] != voicemail and s)
    assert edited["voicemail_script"] == "Hola Maria, le llamo de Acme. Hasta pronto."


def test_the_api_edits_a_voicemail_script_and_keeps_it_when_only_the_live_script_changes(api, pending):
    path = f"/api/v1/sequences/enrollments/{pending}/steps/0"
    assert api.patch(path, {"script": "¿Hola?", "voicemail_script": "Le dejo un mensaje."}).status_code == 200
    wait_for(lambda: view(api, pending)["steps"][0]["voicemail_script"] == "Le dejo un mensaje.")

    assert api.patch(path, {"script": "Hola Maria, ¿tiene un momento?"}).status_code == 200

    step = wait_for(lambda: (s := view(api, pending)["steps"][0])["script"].startswith("Hola Maria") and s)
    assert step["voicemail_script"] == "Le dejo un mensaje."


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"script": "Hola", "voicemail_script": 7}, "voicemail_script", "must be a string"),
        ({"script": "Hola", "voicemail_script": " "}, "steps[0]", "voicemail_script is empty"),
        ({"script": "Hola", "voicemail": "x"}, "body", "voicemail_script for voice"),
    ],
)
def test_a_bad_voicemail_edit_is_a_422_naming_it(api, pending, body, field, message):
    before = snapshot(api, pending)

    response = api.patch(f"/api/v1/sequences/enrollments/{pending}/steps/0", body)

    assert response.status_code == 422
    assert response.json["error"]["details"]["field"] == field and message in response.json["error"]["message"]
    assert snapshot(api, pending) == before


@pytest.fixture
def pending_text(api) -> str:
    created = api.post("/api/v1/templates", SMS_FIRST)
    assert created.status_code == 201, created.json
    body = seed_lead(created.json["id"], auto_approve=False)
    body["contact"] = {**body["contact"], "phone_numbers": US_PHONE, "language": "en"}
    response = api.post("/api/v1/sequences/start", body)
    assert response.status_code == 202, response.json
    wait_for(lambda: view(api, response.json["enrollment_id"])["status"] == "pending_approval")
    return response.json["enrollment_id"]


def test_an_api_edit_that_drops_the_opt_out_line_of_a_first_text_to_the_us_is_refused(api, pending_text):
    assert "Reply STOP to opt out." in view(api, pending_text)["steps"][0]["body"]
    before = snapshot(api, pending_text)

    refused = api.patch(f"/api/v1/sequences/enrollments/{pending_text}/steps/0", {"body": "Hi Maria, free today?"})

    assert refused.status_code == 422
    error = refused.json["error"]
    assert error["code"] == "validation_error" and error["details"]["field"] == "steps[0]"
    assert "must tell how to opt out" in error["message"] and '"Reply STOP to opt out."' in error["message"]
    assert snapshot(api, pending_text) == before
    kept = {"body": "Hi Maria, free today? Reply STOP to opt out."}
    assert api.patch(f"/api/v1/sequences/enrollments/{pending_text}/steps/0", kept).status_code == 200


def test_the_review_page_refuses_the_same_edit_and_says_what_to_add(api, node, clock, pending_text):
    token = review_token(node, clock, pending_text)
    before = snapshot(api, pending_text)

    response = decide(api, token, "approve", step_0_body="Hi Maria, free today?")

    assert response.status_code == 422
    assert "must tell how to opt out" in response.text and "Reply STOP to opt out." in response.text
    assert snapshot(api, pending_text) == before
