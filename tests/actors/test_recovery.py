"""Start-up recovery. A node runs a lead to some point; the rows are left (or put) in the state a kill -9 at
that moment leaves behind; a second node on the same database must resume it as the issue and DESIGN §5 say."""

from __future__ import annotations

from datetime import timedelta

import falcon.testing
import pytest

from bench.common import seed_enrollments
from ringback.actors.messages import Stats
from ringback.config import load_settings
from ringback.node import Node, Providers
from ringback.storage import sandbox
from ringback.storage.models import Enrollment, Step
from tests.actors.conftest import EMAIL_THEN_EMAIL, api_for, lead, start, view
from tests.conftest import Api, wait_for

SMS_THEN_EMAIL = {
    **EMAIL_THEN_EMAIL,
    "allowed_channels": ["sms", "email"],
    "steps": [{"channel": "sms", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 2 * 24 * 3600}],
    "sender": {"name": "Acme", "email": "sales@acme.example", "phone": "+14155550100"},
}
CALL_THEN_EMAIL = {
    **SMS_THEN_EMAIL,
    "allowed_channels": ["voice", "email"],
    "steps": [{"channel": "voice", "delay_seconds": 0}, {"channel": "email", "delay_seconds": 3600}],
}


class Mailer:
    """Counts admin review emails."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_email(self, *, to: str, **message: object) -> str:
        self.sent.append(to)
        return "ok"


def on(node: Node, api: Api) -> Api:
    """The same key and template, against another node."""
    return Api(falcon.testing.TestClient(node.app), api.key, api.workspace_id, api.template_id)


def idle(node: Node) -> bool:
    stats = node.supervisor.ask(Stats(), timeout=5)
    return stats["recovery_backlog"] == 0 and stats["live_enrollments"] == 0


def interrupt_the_send(enrollment_id: str, index: int = 0) -> None:
    """What a kill between the `sending` commit and the provider's answer leaves: no provider id, no wake time."""
    Step.update(status="sending", provider=None, provider_id=None, sent_at=None, delivery_rank=0).where(
        Step.enrollment == enrollment_id, Step.index == index
    ).execute()
    Enrollment.update(next_wake_at=None).where(Enrollment.id == enrollment_id).execute()


def crash_mid_send(make_node, providers, clock, template: dict = EMAIL_THEN_EMAIL, **contact) -> tuple[Api, str]:
    """A node sends step 1 and stops; the rows are then put back as a kill -9 mid-send leaves them."""
    first = make_node(providers)
    api = api_for(first, clock, template)
    enrollment_id = start(api, **contact)
    wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "sent")
    first.stop()
    interrupt_the_send(enrollment_id)
    return api, enrollment_id


@pytest.fixture
def crashing(make_node, providers):
    """A node whose shutdown gives up at once: what is in flight stays as storage has it, as after a kill."""
    return lambda: make_node(providers, shutdown_grace_seconds=0.05)


# --- generating --------------------------------------------------------------------------------------------


def test_generating_is_written_again_once_after_a_restart(crashing, make_node, providers, writer, clock):
    first = crashing()
    api = api_for(first, clock)
    writer.hold()
    enrollment_id = start(api)
    wait_for(lambda: writer.calls)
    first.stop()
    writer.release()

    second = make_node(providers)

    wait_for(lambda: view(on(second, api), enrollment_id)["steps"][0]["state"] == "sent")
    assert Enrollment.get_by_id(enrollment_id).generation_attempts == 2


def test_generating_interrupted_twice_fails_without_a_third_writer_call(crashing, make_node, providers, writer, clock):
    first = crashing()
    api = api_for(first, clock)
    writer.hold()
    enrollment_id = start(api)
    wait_for(lambda: len(writer.calls) == 2)  # fast path: step 1 alone, and the rest
    first.stop()
    second = crashing()
    wait_for(lambda: len(writer.calls) == 4)
    second.stop()
    writer.release()

    third = make_node(providers)

    failed = wait_for(lambda: (v := view(on(third, api), enrollment_id))["status"] == "failed" and v)
    assert failed["status_reason"] == "content generation was interrupted twice"
    assert len(writer.calls) == 4


def test_an_enrollment_busy_writing_is_never_left_passive(crashing, make_node, providers, writer, clock):
    """03:00 in Los Angeles: the call waits hours for the window while the email is still being written.

    Its wake time must stay empty until the content exists, or after a crash the due poll would wake it
    without anyone writing the email, and it would wait forever."""
    first = crashing()
    api = api_for(first, clock, CALL_THEN_EMAIL)
    writer.hold(lambda request: 0 not in request.wanted)
    enrollment_id = start(api, phone_numbers=["+14155552671"], timezone="America/Los_Angeles")
    wait_for(lambda: "waiting for the calling window" in (view(api, enrollment_id)["steps"][0]["note"] or ""))
    assert Enrollment.get_by_id(enrollment_id).next_wake_at is None
    first.stop()
    writer.release()

    second = make_node(providers)

    wait_for(lambda: view(on(second, api), enrollment_id)["steps"][1].get("body"))
    wait_for(lambda: Enrollment.get_by_id(enrollment_id).next_wake_at is not None)
    wait_for(lambda: idle(second))  # hours from its next step: passivated


# --- pending approval --------------------------------------------------------------------------------------


@pytest.fixture
def mailer():
    return Mailer()


@pytest.fixture
def with_mailer(providers, mailer):
    return Providers(providers.writer, providers.live_channels, mailer)


def test_pending_approval_waits_without_a_second_admin_email_then_approval_works(make_node, with_mailer, mailer, clock):
    first = make_node(with_mailer)
    api = api_for(first, clock)
    enrollment_id = start(api, auto_approve=False)
    wait_for(lambda: view(api, enrollment_id)["review"]["admins_notified_at"])
    first.stop()

    second = make_node(with_mailer)
    wait_for(lambda: idle(second))

    assert mailer.sent == ["admin@example.com"]
    assert on(second, api).post(f"/api/v1/sequences/enrollments/{enrollment_id}/approve").status_code == 200
    wait_for(lambda: view(on(second, api), enrollment_id)["steps"][0]["state"] == "sent")


def test_an_admin_email_whose_sending_was_not_recorded_goes_out_again(make_node, with_mailer, mailer, clock):
    first = make_node(with_mailer)
    api = api_for(first, clock)
    enrollment_id = start(api, auto_approve=False)
    wait_for(lambda: view(api, enrollment_id)["review"]["admins_notified_at"])
    first.stop()
    Enrollment.update(admins_notified_at=None).where(Enrollment.id == enrollment_id).execute()

    second = make_node(with_mailer)

    wait_for(lambda: view(on(second, api), enrollment_id)["review"]["admins_notified_at"])
    assert mailer.sent == ["admin@example.com"] * 2


def test_an_accepted_edit_and_approval_not_yet_applied_survive_a_crash(make_node, providers, writer, channel, clock):
    """The one live slot is taken, so the review's events wait in the supervisor when the node dies; the
    human was already told 200. The restarted node must apply the edit and then the approval."""
    first = make_node(providers, max_live_enrollments=1, shutdown_grace_seconds=0.05)
    api = api_for(first, clock)
    enrollment_id = start(api, auto_approve=False)
    wait_for(lambda: view(api, enrollment_id)["review"]["admins_notified_at"] and idle(first))
    writer.hold()
    start(api, name="Busy")
    wait_for(lambda: writer.calls[-1][0] == "Busy")
    edited = {"subject": "Edited by a human", "body": "Hola Ana, te llamamos mañana."}
    path = f"/api/v1/sequences/enrollments/{enrollment_id}"
    assert api.patch(f"{path}/steps/0", edited).status_code == 200
    assert api.post(f"{path}/approve").status_code == 200
    assert view(api, enrollment_id)["status"] == "pending_approval"  # accepted, not applied yet
    first.stop()
    writer.release()

    make_node(providers)

    wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "sent")
    assert [m.subject for m in channel.sent if m.to == "ana@example.com"] == ["Edited by a human"]


def test_a_cancel_answered_but_not_applied_before_a_crash_is_applied_after_it(make_node, providers, writer, clock):
    """Like the review case: the cancel waits in the supervisor behind a full live slot when the node dies."""
    first = make_node(providers, max_live_enrollments=1, shutdown_grace_seconds=0.05)
    api = api_for(first, clock)
    enrollment_id = start(api)
    wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "sent" and idle(first))
    writer.hold()
    start(api, name="Busy")
    wait_for(lambda: writer.calls[-1][0] == "Busy")
    assert api.post(f"/api/v1/sequences/enrollments/{enrollment_id}/cancel").status_code == 200
    assert view(api, enrollment_id)["status"] == "active"  # accepted, not applied yet
    first.stop()
    writer.release()

    second = make_node(providers)
    wait_for(lambda: view(api, enrollment_id)["status"] == "stopped")
    clock.advance(timedelta(days=3))

    wait_for(lambda: idle(second))
    assert view(api, enrollment_id)["steps"][1]["state"] == "canceled"


# --- a send caught by the crash ------------------------------------------------------------------------------


def test_an_email_caught_sending_is_sent_again_with_the_same_message_id(make_node, providers, channel, clock):
    api, enrollment_id = crash_mid_send(make_node, providers, clock)

    second = make_node(providers)

    resent = wait_for(lambda: (v := view(on(second, api), enrollment_id))["steps"][0]["state"] == "sent" and v)
    assert [m.message_id for m in channel.sent] == [channel.sent[0].message_id] * 2
    assert "step.resend_after_restart" in [e["kind"] for e in resent["timeline"]]


def test_a_send_stuck_past_the_grace_period_is_left_to_recovery(make_node, providers, channel, clock):
    first = make_node(providers, shutdown_grace_seconds=0.2)
    api = api_for(first, clock)
    channel.gate.clear()
    response = api.post("/api/v1/sequences/start", lead(api.template_id))
    enrollment_id = response.json["enrollment_id"]
    assert channel.entered.wait(timeout=15)

    first.stop()  # returns although the send never answered

    assert view(api, enrollment_id)["steps"][0]["state"] == "sending"
    channel.gate.set()  # the stuck call finally returns, to a node that is gone
    make_node(providers)
    wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "sent")
    assert len({m.message_id for m in channel.sent}) == 1  # re-sent with the same Message-ID: de-duplicable


def test_an_email_caught_sending_when_the_lead_opted_out_is_settled_unknown_not_sent_again(
    make_node, providers, channel, clock
):
    api, enrollment_id = crash_mid_send(make_node, providers, clock)
    Enrollment.update(status="stopped", status_reason="opted out").where(Enrollment.id == enrollment_id).execute()

    second = make_node(providers)

    wait_for(lambda: view(on(second, api), enrollment_id)["steps"][0]["state"] == "unknown")
    wait_for(lambda: idle(second))
    assert len(channel.sent) == 1
    assert view(on(second, api), enrollment_id)["status"] == "stopped"


def test_an_sms_caught_sending_is_unknown_and_never_sent_again(make_node, providers, channel, clock):
    api, enrollment_id = crash_mid_send(make_node, providers, clock, SMS_THEN_EMAIL, phone_numbers=["+34911234567"])

    second = make_node(providers)

    step = wait_for(lambda: (s := view(on(second, api), enrollment_id)["steps"][0])["state"] == "unknown" and s)
    assert "reconcile" in step["note"]
    wait_for(lambda: idle(second))
    assert len(channel.sent) == 1
    assert view(on(second, api), enrollment_id)["status"] == "active"  # the email two days later still goes


def test_a_sandbox_send_caught_after_the_provider_recorded_it_is_recorded_once(node, make_node, clock):
    api = api_for(node, clock, live=False)
    enrollment_id = start(api)
    wait_for(lambda: view(api, enrollment_id)["steps"][0]["state"] == "sent")
    step_id = view(api, enrollment_id)["steps"][0]["id"]
    provider_id = sandbox.deliveries(step_id)[0]["provider_id"]
    node.stop()
    interrupt_the_send(enrollment_id)  # the outbox row exists, the step does not know it

    second = make_node()

    step = wait_for(lambda: (s := view(on(second, api), enrollment_id)["steps"][0])["state"] == "sent" and s)
    assert step["provider_id"] == provider_id
    assert sandbox.count_by_step()[step_id] == 1


# --- active, waiting for time --------------------------------------------------------------------------------


def test_a_step_that_came_due_while_the_node_was_down_goes_out_after_the_restart(node, make_node, clock):
    api = api_for(node, clock, live=False)
    enrollment_id = start(api, name="Maria")
    wait_for(lambda: view(api, enrollment_id)["steps"][1]["state"] == "scheduled")
    wait_for(lambda: idle(node))
    node.stop()
    clock.advance(timedelta(days=3))  # the node was down when step 2 came due

    second = make_node()

    wait_for(lambda: view(on(second, api), enrollment_id)["steps"][1]["state"] == "sent")
    wait_for(lambda: view(on(second, api), enrollment_id)["status"] == "completed")


def test_waiting_enrollments_stay_passive_at_start_up(make_node, clock):
    make_node().stop()  # creates the schema
    seed_enrollments(50, clock.now(), clock.now() + timedelta(days=2))

    node = make_node()

    assert node.supervisor.ask(Stats(), timeout=5) == {
        "live_enrollments": 0,
        "waiting_enrollments": 0,
        "recovery_backlog": 0,
    }


def test_recovery_resumes_interrupted_enrollments_at_the_configured_rate(tmp_path, clock):
    """Six sends were caught by the crash; at two per second of real time, recovery must not stampede."""
    settings = load_settings(
        env={}, data_dir=str(tmp_path / "data"), demo=False, tick_seconds=0.01, recovery_rate_per_second=2
    )
    seconds = [0.0]
    Node(settings, clock=clock).start(recover=False, tick=False).stop()  # creates the schema
    seed_enrollments(6, clock.now(), clock.now() + timedelta(days=2), interrupted=True)
    node = Node(settings, clock=clock, monotonic=lambda: seconds[0]).start()
    try:
        for resumed in (2, 4, 6):
            wait_for(lambda n=resumed: len(sandbox.count_by_step()) == n)
            assert node.supervisor.ask(Stats(), timeout=5)["recovery_backlog"] == 6 - resumed
            seconds[0] += 1.0
        wait_for(lambda: idle(node))
        assert len(sandbox.count_by_step()) == 6
    finally:
        node.stop()
