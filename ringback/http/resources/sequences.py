"""/api/v1/sequences: the headline start call, enrollment status, and review decisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import falcon

from ringback.clock import Clock
from ringback.commands.decide import DecideEnrollment, Decision
from ringback.commands.errors import NotFound
from ringback.commands.start import StartSequence
from ringback.engine import fields
from ringback.engine.lead import parse_start_request, request_fingerprint
from ringback.engine.model import Channel, StepContent
from ringback.http.errors import ApiError, not_found, validation_error
from ringback.http.resources.common import json_body, principal
from ringback.ids import looks_like
from ringback.storage import enrollments, templates
from ringback.storage.accounts import WorkspaceInfo

MAX_INDEX_DIGITS = 3  # a template has at most 10 steps


class StartSequenceResource:
    def __init__(
        self,
        start: StartSequence,
        workspace: Callable[[str], WorkspaceInfo],
        configured_channels: Callable[[], frozenset[Channel]],
    ) -> None:
        self._start = start
        self._workspace = workspace
        self._configured = configured_channels

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        body = json_body(req)
        start = parse_start_request(
            body, req.get_header("Idempotency-Key"), self._workspace(who.workspace_id).default_region
        )
        if who.mode == "live":
            self._require_live_channels(who.workspace_id, start.template_id)
        result = self._start(who.workspace_id, who.mode, start, request_fingerprint(body))
        if result.replayed:
            resp.status = falcon.HTTP_200
            resp.set_header("Idempotent-Replayed", "true")
        else:
            resp.status = falcon.HTTP_202
            resp.location = result.body["status_url"]
        resp.media = result.body

    def _require_live_channels(self, workspace_id: str, template_id: str) -> None:
        """A live key never falls back to the sandbox: every channel of the template needs its provider."""
        template = templates.get_template(workspace_id, template_id) if looks_like(template_id, "tpl") else None
        if template is None:
            raise NotFound("template not found", "template_id")
        missing = sorted(c.value for c in template.allowed_channels if c not in self._configured())
        if missing:
            raise ApiError(
                422,
                "channel_not_configured",
                f"no provider is configured for {', '.join(missing)}; a live key never falls back "
                "to the sandbox",
                {"field": "template_id", "channels": missing},
            )


class EnrollmentResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response, enrollment_id: str) -> None:
        view = (
            enrollments.enrollment_view(principal(req).workspace_id, enrollment_id)
            if looks_like(enrollment_id, "enr")
            else None
        )
        if view is None:
            raise not_found("enrollment not found")
        resp.media = view


def _optional_body(req: falcon.Request) -> dict[str, Any]:
    if not req.content_length:
        return {}
    body = req.get_media()
    if not isinstance(body, dict):
        raise validation_error("body", "the request body must be a JSON object")
    return body


class DecisionResource:
    """POST .../approve | reject | cancel, and PATCH .../steps/{index} while pending."""

    def __init__(self, decide: DecideEnrollment) -> None:
        self._decide_enrollment = decide

    def _decide(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        enrollment_id: str,
        decision: str,
        reason: str = "",
        edits: tuple[tuple[int, StepContent], ...] = (),
    ) -> None:
        who = principal(req)
        if not looks_like(enrollment_id, "enr"):
            raise not_found("enrollment not found")
        status = self._decide_enrollment(
            Decision(who.workspace_id, enrollment_id, decision, f"api:{who.key_id}", reason, edits)
        )
        resp.status = falcon.HTTP_200
        resp.media = {"enrollment_id": enrollment_id, "status": status}

    @staticmethod
    def _reason(req: falcon.Request) -> str:
        body = _optional_body(req)
        if set(body) - {"reason"}:
            raise validation_error(sorted(set(body) - {"reason"})[0], "the only field is reason")
        reason = body.get("reason", "")
        if not isinstance(reason, str) or len(reason) > fields.DECISION_REASON:
            raise validation_error(
                "reason", f"reason must be a string of at most {fields.DECISION_REASON} characters"
            )
        return reason

    def on_post_approve(self, req: falcon.Request, resp: falcon.Response, enrollment_id: str) -> None:
        self._decide(req, resp, enrollment_id, "approve")

    def on_post_reject(self, req: falcon.Request, resp: falcon.Response, enrollment_id: str) -> None:
        self._decide(req, resp, enrollment_id, "reject", self._reason(req))

    def on_post_cancel(self, req: falcon.Request, resp: falcon.Response, enrollment_id: str) -> None:
        self._decide(req, resp, enrollment_id, "cancel", self._reason(req) or "canceled via API")

    def on_patch_step(
        self, req: falcon.Request, resp: falcon.Response, enrollment_id: str, index: str
    ) -> None:
        body = json_body(req)
        # "²" is a digit to str.isdigit, not to int(); and int() refuses more than 4,300 digits.
        if not (index.isascii() and index.isdigit() and len(index) <= MAX_INDEX_DIGITS):
            raise not_found("step not found")
        if not isinstance(body, dict) or set(body) - {"subject", "body", "script"}:
            raise validation_error("body", "send subject and body (or script for voice)")
        text = body.get("body", body.get("script"))
        subject = body.get("subject")
        if not isinstance(text, str) or (subject is not None and not isinstance(subject, str)):
            raise validation_error("body", "body (or script) must be a string")
        self._decide(req, resp, enrollment_id, "edit", edits=((int(index), StepContent(text, subject)),))


class ReviewQueueResource:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"data": enrollments.review_queue(principal(req).workspace_id, self._clock.now())}
