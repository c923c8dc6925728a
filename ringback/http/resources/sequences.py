"""/api/v1/sequences: the headline start call, enrollment status, and review decisions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import falcon
import pykka

from ringback.actors.messages import DecideCommand, StartCommand
from ringback.actors.supervisor import Conflict, NotFound
from ringback.clock import Clock
from ringback.engine import fields
from ringback.engine.errors import InvalidInput
from ringback.engine.lead import parse_start_request, request_fingerprint
from ringback.engine.model import Channel, StepContent
from ringback.http.errors import ApiError, conflict, idempotency_mismatch, not_found, validation_error
from ringback.http.resources.common import ASK_TIMEOUT_SECONDS, from_invalid, json_body, principal
from ringback.http.resources.erased import ErasedCheck
from ringback.ids import looks_like
from ringback.storage import enrollments, idempotency, templates
from ringback.storage.accounts import WorkspaceInfo

MAX_INDEX_DIGITS = 3  # a template has at most 10 steps


class StartSequenceResource:
    def __init__(
        self,
        supervisor: pykka.ActorRef,
        clock: Clock,
        workspace: Callable[[str], WorkspaceInfo],
        configured_channels: Callable[[], frozenset[Channel]],
        idempotency_ttl_hours: int,
        erased: ErasedCheck,
    ) -> None:
        self._supervisor = supervisor
        self._erased = erased
        self._clock = clock
        self._workspace = workspace
        self._configured = configured_channels
        self._ttl = timedelta(hours=idempotency_ttl_hours)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        who = principal(req)
        body = json_body(req)
        try:
            start = parse_start_request(
                body, req.get_header("Idempotency-Key"), self._workspace(who.workspace_id).default_region
            )
        except InvalidInput as error:
            raise from_invalid(error) from None
        self._erased.refuse(who.workspace_id, start.contact)
        template = (
            templates.get_template(who.workspace_id, start.template_id)
            if looks_like(start.template_id, "tpl")
            else None
        )
        if template is None:
            raise ApiError(404, "not_found", "template not found", {"field": "template_id"})
        if who.mode == "live":
            missing = sorted(c.value for c in template.allowed_channels if c not in self._configured())
            if missing:
                raise ApiError(
                    422,
                    "channel_not_configured",
                    f"no provider is configured for {', '.join(missing)}; a live key never falls back "
                    "to the sandbox",
                    {"field": "template_id", "channels": missing},
                )
        key = start.idempotency_key
        if key:
            claim = idempotency.claim(
                who.workspace_id, key, request_fingerprint(body), self._clock.now(), self._ttl
            )
            if isinstance(claim, idempotency.Replay):
                resp.status = falcon.HTTP_200
                resp.set_header("Idempotent-Replayed", "true")
                resp.media = claim.body
                return
            if isinstance(claim, idempotency.Mismatch):
                raise idempotency_mismatch()
            if isinstance(claim, idempotency.InFlight):
                raise conflict(
                    "a request with this idempotency key is still in flight; retry shortly",
                    {"idempotency_key": key},
                )
        try:
            result = self._supervisor.ask(
                StartCommand(who.workspace_id, who.mode, start), timeout=ASK_TIMEOUT_SECONDS
            )
        except BaseException as error:
            if key:
                idempotency.release(who.workspace_id, key)  # failures are not remembered; a retry may succeed
            if isinstance(error, InvalidInput):
                raise from_invalid(error) from None
            if isinstance(error, NotFound):
                raise ApiError(404, "not_found", "template not found", {"field": "template_id"}) from None
            raise
        resp.status = falcon.HTTP_202
        resp.location = result["status_url"]
        resp.media = result


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

    def __init__(self, supervisor: pykka.ActorRef) -> None:
        self._supervisor = supervisor

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
        command = DecideCommand(who.workspace_id, enrollment_id, decision, f"api:{who.key_id}", reason, edits)
        try:
            status = self._supervisor.ask(command, timeout=ASK_TIMEOUT_SECONDS)
        except NotFound:
            raise not_found("enrollment not found") from None
        except Conflict as error:
            raise conflict(str(error)) from None
        except InvalidInput as error:
            raise from_invalid(error) from None
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
