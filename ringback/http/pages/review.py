"""``/review/{token}``: the page a workspace admin reaches from the review email.

The signed token is the capability (one enrollment, expiring); it is not under ``/api/``, so no API key is
involved. ``GET`` only reads. Decisions are form ``POST``s (``action=approve|reject|save``) that carry a CSRF
value bound to the token, and go through the same decide command as the API, so the first decision wins
whichever door it came through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import falcon

from ringback.actors.review_mail import human_duration, lead_name
from ringback.clock import Clock
from ringback.commands.decide import DecideEnrollment, Decision
from ringback.commands.errors import Conflict, NotFound
from ringback.engine import events as ev
from ringback.engine.enrollment import EnrollmentState, StepState
from ringback.engine.errors import InvalidInput
from ringback.engine.fields import DECISION_REASON, text_problem
from ringback.engine.machine import WINDOWED_CHANNELS, Policy, transition
from ringback.engine.model import Channel, EnrollmentStatus, StepContent, StepStatus
from ringback.http.csrf import csrf_ok, csrf_value, same_origin
from ringback.http.pages.render import PageError, html_errors, local_time, message_page, write_page
from ringback.storage import enrollments
from ringback.tokens import TokenExpired, TokenInvalid, TokenSigner

log = logging.getLogger(__name__)

PURPOSE = "review"
BY = "review-link"  # who decided, as recorded in the enrollment and its timeline
MAX_TOKEN_CHARS = 512
MAX_FORM_FIELDS = 200
LIVE_REFRESH_SECONDS = 15
PENDING_REFRESH_SECONDS = 2
S = EnrollmentStatus


@dataclass(frozen=True)
class _Loaded:
    """One enrollment as the page needs it: engine state, slow-changing context and the API view."""

    workspace_id: str
    state: EnrollmentState
    context: enrollments.EnrollmentContext
    view: dict[str, Any]

    @property
    def decided_by(self) -> str | None:
        return self.view["review"].get("decided_by")

    @property
    def decided_at(self) -> datetime | None:
        return _parse(self.view["review"].get("decided_at"))


def _parse(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")) if iso else None


def who(by: str | None) -> str:
    if not by:
        return "someone"
    if by.startswith("api:"):
        return f"the API (key {by[4:]})"
    return "the review link" if by == BY else by


class ReviewPage:
    def __init__(
        self,
        decide: DecideEnrollment,
        signer: TokenSigner,
        clock: Clock,
        policy: Callable[[str], Policy],
        public_url: str,
    ) -> None:
        self._decide_enrollment = decide
        self._signer = signer
        self._clock = clock
        self._policy = policy
        self._public_url = public_url

    # --- responders -------------------------------------------------------------------------------

    @html_errors
    def on_get(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        now = self._clock.now()
        loaded = self._load(self._verify(token, now))
        self._show(resp, token, loaded, now)

    @html_errors
    def on_post(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        now = self._clock.now()
        enrollment_id = self._verify(token, now)
        form = _read_form(req)
        allowed = (self._public_url, f"{req.scheme}://{req.netloc}")
        if not csrf_ok(self._signer, token, form.get("csrf"), now) or not same_origin(
            req.get_header("Origin"), req.get_header("Referer"), allowed
        ):
            raise PageError(
                403,
                "This form cannot be accepted",
                "It did not come from this link's review page. Open the link from the email and try again.",
            )
        loaded = self._load(enrollment_id)
        action = form.get("action", "")
        if action == "reject":
            self._reject(req, resp, token, loaded, form, now)
        elif action in ("approve", "save"):
            self._edit_then(action, req, resp, token, loaded, form, now)
        else:
            raise PageError(400, "Unknown action", "Use the Approve, Save or Reject buttons on the page.")

    # --- decisions --------------------------------------------------------------------------------

    def _reject(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        token: str,
        loaded: _Loaded,
        form: dict[str, str],
        now: datetime,
    ) -> None:
        reason = form.get("reason", "").strip()
        if len(reason) > DECISION_REASON:
            error = f"Nothing was rejected: keep the reason under {DECISION_REASON} characters."
            self._form(resp, 422, token, loaded, now, form, error=error)
            return
        self._decide(req, loaded, "reject", reason=reason)
        details = [("Reason", reason)] if reason else []
        message_page(resp, 200, "Rejected", f"Nothing will be sent to {lead_name(loaded.context)}.", details)

    def _edit_then(
        self,
        action: str,
        req: falcon.Request,
        resp: falcon.Response,
        token: str,
        loaded: _Loaded,
        form: dict[str, str],
        now: datetime,
    ) -> None:
        edits = _edits(form, loaded.state)
        if edits:
            try:
                self._decide(req, loaded, "edit", edits=edits)
            except InvalidInput as error:
                self._form(resp, 422, token, loaded, now, form, problem=error)
                return
        if action == "save":
            # The actor applies the edit a moment later: show what was typed (and accepted), not a stale read.
            notice = f"Saved {len(edits)} edited step(s)." if edits else "Nothing changed."
            self._form(resp, 200, token, loaded, now, form, notice=notice)
            return
        self._decide(req, loaded, "approve")
        resp.status = falcon.HTTP_303  # Post/Redirect/Get: the page now shows the live step states
        resp.location = req.relative_uri

    def _decide(
        self,
        req: falcon.Request,
        loaded: _Loaded,
        decision: str,
        reason: str = "",
        edits: tuple[tuple[int, StepContent], ...] = (),
    ) -> str:
        try:
            return self._decide_enrollment(Decision(loaded.workspace_id, loaded.state.id, decision, BY, reason, edits))
        except NotFound:
            raise _not_found() from None
        except Conflict:
            raise _already_decided(self._load(loaded.state.id), req.relative_uri) from None

    # --- reading ----------------------------------------------------------------------------------

    def _verify(self, token: str, now: datetime) -> str:
        if len(token) > MAX_TOKEN_CHARS:
            raise _invalid_link()
        try:
            return self._signer.verify(token, PURPOSE, now)
        except TokenExpired as expired:
            raise PageError(
                410,
                "This review link has expired",
                f"It expired on {local_time(expired.expired_at)}. A pending sequence stays in the review queue "
                "and can still be approved or rejected through the API.",
                [("Enrollment", expired.subject)],
            ) from None
        except TokenInvalid:
            raise _invalid_link() from None

    @staticmethod
    def _load(enrollment_id: str) -> _Loaded:
        workspace_id = enrollments.workspace_of(enrollment_id)
        if workspace_id is None:
            raise _not_found()
        return _Loaded(
            workspace_id,
            enrollments.load_state(enrollment_id),
            enrollments.load_context(enrollment_id),
            enrollments.enrollment_view(workspace_id, enrollment_id),
        )

    # --- pages ------------------------------------------------------------------------------------

    def _show(self, resp: falcon.Response, token: str, loaded: _Loaded, now: datetime) -> None:
        status = loaded.state.status
        if status == S.PENDING_APPROVAL and not loaded.decided_by:
            self._form(resp, 200, token, loaded, now, {})
        elif status == S.PENDING_APPROVAL or status == S.GENERATING:
            message = (
                f"Decided by {who(loaded.decided_by)} on {local_time(loaded.decided_at)}; it is being applied."
                if loaded.decided_by
                else "The sequence is still being written."
            )
            message_page(resp, 200, "One moment", message, refresh_seconds=PENDING_REFRESH_SECONDS)
        elif status in (S.ACTIVE, S.COMPLETED) or (status == S.STOPPED and loaded.decided_by):
            self._live(resp, loaded, now)
        else:
            raise _closed(loaded)

    def _form(
        self,
        resp: falcon.Response,
        status: int,
        token: str,
        loaded: _Loaded,
        now: datetime,
        typed: dict[str, str],
        *,
        notice: str = "",
        error: str = "",
        problem: InvalidInput | None = None,
    ) -> None:
        preview = transition(loaded.state, ev.Approved("preview"), now, self._policy(loaded.workspace_id)).state
        step_errors = {}
        if problem is not None:
            index = problem.field.removeprefix("steps[").removesuffix("]")
            if index.isdigit():
                step_errors[int(index)] = problem.message
            else:
                error = problem.message
        steps = []
        for step, planned in zip(loaded.state.steps, preview.steps, strict=True):
            row = _step_row(step, planned.scheduled_for)
            row["when_text"] = _when_text(step.channel, planned.scheduled_for, now)
            row["error"] = step_errors.get(step.index, "")
            row["subject"] = typed.get(f"step_{step.index}_subject", row["subject"])
            row["body"] = typed.get(f"step_{step.index}_body", row["body"])
            steps.append(row)
        write_page(
            resp,
            status,
            "review.html",
            title=f"Review: {lead_name(loaded.context)}",
            lead=_lead(loaded),
            waiting=human_duration((now - _parse(loaded.view["created_at"])).total_seconds()),
            steps=steps,
            csrf=csrf_value(self._signer, token),
            notice=notice,
            error=error or ("Nothing was changed or approved: fix the step marked below." if step_errors else ""),
            reason=typed.get("reason", ""),
            timeline=_timeline(loaded.view),
            refresh_seconds=0,
        )

    def _live(self, resp: falcon.Response, loaded: _Loaded, now: datetime) -> None:
        status = loaded.state.status
        write_page(
            resp,
            200,
            "live.html",
            title=f"Outreach: {lead_name(loaded.context)}",
            lead=_lead(loaded),
            enrollment_status=status.value,
            status_reason=loaded.state.status_reason or "",
            decided_by=who(loaded.decided_by) if loaded.decided_by else "",
            decided_at=loaded.decided_at,
            steps=[_step_row(step, step.scheduled_for) for step in loaded.state.steps],
            timeline=_timeline(loaded.view),
            now=now,
            refresh_seconds=LIVE_REFRESH_SECONDS if status == S.ACTIVE else 0,
        )


# --- pieces ---------------------------------------------------------------------------------------


def _read_form(req: falcon.Request) -> dict[str, str]:
    """The url-encoded form body (the app's media handlers only speak JSON); the last value of a name wins."""
    kind = (req.content_type or "").split(";", 1)[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise PageError(415, "Unsupported form", "Send the form from the review page.")
    try:
        form = dict(
            parse_qsl(
                req.bounded_stream.read().decode("utf-8"),
                keep_blank_values=True,
                max_num_fields=MAX_FORM_FIELDS,
                errors="strict",
            )
        )
    except (UnicodeDecodeError, ValueError):
        form = None
    # NUL cannot be stored on PostgreSQL (lone surrogates already fail the strict decoding above).
    if form is None or any(text_problem(name) or text_problem(value) for name, value in form.items()):
        raise PageError(400, "Unreadable form", "Send the form from the review page.")
    return form


def _edits(form: dict[str, str], state: EnrollmentState) -> tuple[tuple[int, StepContent], ...]:
    """Steps whose text in the form differs from what is stored (browsers send CRLF line ends)."""
    edits = []
    for step in state.steps:
        if step.content is None or step.status == StepStatus.SKIPPED:
            continue
        body = form.get(f"step_{step.index}_body")
        subject = form.get(f"step_{step.index}_subject") if step.channel == Channel.EMAIL else None
        edited = StepContent(
            body=body.replace("\r\n", "\n") if body is not None else step.content.body,
            subject=subject if subject is not None else step.content.subject,
        )
        if edited != step.content:
            edits.append((step.index, edited))
    return tuple(edits)


def _step_row(step: StepState, when: datetime | None) -> dict[str, Any]:
    content = step.content
    return {
        "index": step.index,
        "number": step.index + 1,
        "channel": step.channel.value,
        "recipient": step.recipient or "",
        "status": step.status.value,
        "skipped": step.status == StepStatus.SKIPPED,
        "note": step.note or "",
        "when": when,
        "sent_at": step.sent_at,
        "delivered_at": step.delivered_at,
        "provider": step.provider or "",
        "error": f"{step.last_error_code}: {step.last_error}" if step.last_error else "",
        "has_subject": step.channel == Channel.EMAIL,
        "subject": (content.subject or "") if content else "",
        "body": content.body if content else "",
    }


def _when_text(channel: Channel, when: datetime | None, now: datetime) -> str:
    if when is None:
        return "when approved"
    delay = (when - now).total_seconds()
    text = "right after approval" if delay < 60 else f"{human_duration(delay)} after approval"
    return text + (" (inside the recipient's calling window)" if channel in WINDOWED_CHANNELS else "")


def _lead(loaded: _Loaded) -> dict[str, Any]:
    contact, view = loaded.context.contact, loaded.view
    return {
        "name": lead_name(loaded.context),
        "company": contact.company,
        "emails": contact.emails,
        "phones": contact.phones,
        "notes": contact.notes,
        "language": view["language"],
        "language_source": view["language_source"],
        "timezone": view["timezone"],
        "timezone_source": view["timezone_source"],
        "template": loaded.context.template.name,
        "sandbox": loaded.state.sandbox,
    }


def _timeline(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "at": _parse(entry["at"]),
            "kind": entry["kind"],
            "summary": ", ".join(
                f"step {value + 1}" if key == "index" and isinstance(value, int) else f"{key}: {value}"
                for key, value in entry.get("detail", {}).items()
            ),
        }
        for entry in view["timeline"]
    ]


def _invalid_link() -> PageError:
    return PageError(403, "This link is not valid", "Check that the whole link from the email was opened.")


def _not_found() -> PageError:
    return PageError(404, "Not found", "This sequence no longer exists.")


def _already_decided(loaded: _Loaded, here: str) -> PageError:
    """The answer to a second decision: what happened first, when and by whom."""
    if loaded.state.status == S.REJECTED or not loaded.decided_by:
        return _closed(loaded)
    applying = loaded.state.status == S.PENDING_APPROVAL  # the first decision is still being applied
    return PageError(
        410,
        "Already decided" if applying else "Already approved",
        f"{'Decided' if applying else 'Approved'} by {who(loaded.decided_by)} on {local_time(loaded.decided_at)}; "
        "this link cannot decide again.",
        link={"href": here, "label": "See where it stands"},
    )


def _closed(loaded: _Loaded) -> PageError:
    """410 for an enrollment that can no longer be reviewed: say what happened and when."""
    state, view = loaded.state, loaded.view
    updated = local_time(_parse(view["updated_at"]))
    if state.status == S.REJECTED:
        details = [("Reason", state.status_reason)] if state.status_reason else []
        return PageError(
            410,
            "Already rejected",
            f"Rejected by {who(loaded.decided_by)} on {local_time(loaded.decided_at)}. Nothing was sent.",
            details,
        )
    if state.status == S.FAILED:
        return PageError(
            410, "This sequence failed", f"It failed on {updated}.", [("Reason", state.status_reason or "")]
        )
    return PageError(
        410,
        f"This sequence is {state.status.value}",
        f"It was {state.status.value} on {updated} before anyone reviewed it.",
        [("Reason", state.status_reason)] if state.status_reason else [],
    )
