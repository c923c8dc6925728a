"""/api/v1/webhook_endpoints: where a workspace's events are pushed (docs/webhooks.md).

The secret is shown in the answer to create and rotate_secret only. URLs pass the SSRF guard when they
are saved (a clear 422) and again before every send (DNS answers change).
"""

from __future__ import annotations

import json
from typing import Any

import falcon

from ringback.clock import Clock
from ringback.commands.webhook_endpoints import WebhookEndpointCommands
from ringback.engine import fields
from ringback.engine.webhook_events import EVENT_TYPES, PING
from ringback.http.errors import not_found, validation_error
from ringback.http.resources.common import json_body, principal
from ringback.ids import looks_like, new_id
from ringback.providers.webhooks.address_guard import UnsafeUrl
from ringback.providers.webhooks.sender import WebhookSender
from ringback.storage import outbox, webhook_endpoints
from ringback.storage.timestamps import iso

_CREATE_FIELDS = {"url", "events", "description"}
_PATCH_FIELDS = {"url", "events", "enabled", "description"}


class EndpointValidator:
    """Turns a request body into storage changes, or a 422 naming the field."""

    def __init__(self, sender: WebhookSender) -> None:
        self._sender = sender  # its SSRF guard and resolver judge URLs exactly as sends will

    def body(self, body: object, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise validation_error("body", "the request body must be a JSON object")
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise validation_error(unknown[0], f"unknown field {unknown[0]!r}")
        for name in required:
            if name not in body:
                raise validation_error(name, f"{name} is required")
        if not body:
            raise validation_error("body", f"give at least one of {', '.join(sorted(allowed))}")
        changes: dict[str, Any] = {}
        if "url" in body:
            changes["url"] = self.url(body["url"])
        if "events" in body:
            changes["events"] = _events(body["events"])
        if "description" in body:
            description = body["description"]
            if not isinstance(description, str) or len(description) > fields.WEBHOOK_DESCRIPTION:
                raise validation_error(
                    "description", f"description must be a string of at most {fields.WEBHOOK_DESCRIPTION} characters"
                )
            changes["description"] = description
        if "enabled" in body:
            if not isinstance(body["enabled"], bool):
                raise validation_error("enabled", "enabled must be true or false")
            changes["enabled"] = body["enabled"]
        return changes

    def url(self, url: object) -> str:
        try:
            self._sender.target(url)  # type: ignore[arg-type]
        except UnsafeUrl as error:
            raise validation_error("url", str(error)) from None
        return url  # type: ignore[return-value]


def _events(events: object) -> list[str] | None:
    if events is None:
        return None
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise validation_error("events", "events must be a non-empty list of event types, or null for every type")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise validation_error("events", f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}")
    return sorted(set(events), key=EVENT_TYPES.index)


def _endpoint_id(endpoint_id: str) -> str:
    if not looks_like(endpoint_id, "we"):
        raise not_found("webhook endpoint not found")
    return endpoint_id


class WebhookEndpointsResource:
    """`POST` (create, 201 with the secret) and `GET` (list) on /api/v1/webhook_endpoints."""

    def __init__(self, clock: Clock, validator: EndpointValidator, commands: WebhookEndpointCommands) -> None:
        self._clock = clock
        self._validator = validator
        self._commands = commands

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        workspace_id = principal(req).workspace_id
        changes = self._validator.body(json_body(req), _CREATE_FIELDS, required=("url",))
        endpoint_id, secret = self._commands.create(
            workspace_id, changes["url"], changes.get("events"), changes.get("description", ""), self._clock.now()
        )
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/webhook_endpoints/{endpoint_id}"
        resp.media = {**webhook_endpoints.view(workspace_id, endpoint_id), "secret": secret}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"data": webhook_endpoints.list_views(principal(req).workspace_id)}


class WebhookEndpointResource:
    """One endpoint: `GET`, `PATCH`, `DELETE`, and the `rotate_secret`, `test` and `deliveries` suffixes."""

    def __init__(
        self, clock: Clock, validator: EndpointValidator, commands: WebhookEndpointCommands, sender: WebhookSender
    ) -> None:
        self._clock = clock
        self._validator = validator
        self._commands = commands
        self._sender = sender

    def _view(self, workspace_id: str, endpoint_id: str) -> dict[str, Any]:
        view = webhook_endpoints.view(workspace_id, _endpoint_id(endpoint_id))
        if view is None:
            raise not_found("webhook endpoint not found")
        return view

    def on_get(self, req: falcon.Request, resp: falcon.Response, endpoint_id: str) -> None:
        resp.media = self._view(principal(req).workspace_id, endpoint_id)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, endpoint_id: str) -> None:
        workspace_id = principal(req).workspace_id
        self._view(workspace_id, endpoint_id)  # 404 before validating a body for nothing
        changes = self._validator.body(json_body(req), _PATCH_FIELDS)
        if not self._commands.update(workspace_id, endpoint_id, changes, self._clock.now()):
            raise not_found("webhook endpoint not found")
        resp.media = self._view(workspace_id, endpoint_id)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, endpoint_id: str) -> None:
        if not self._commands.delete(principal(req).workspace_id, _endpoint_id(endpoint_id)):
            raise not_found("webhook endpoint not found")
        resp.status = falcon.HTTP_204

    def on_post_rotate(self, req: falcon.Request, resp: falcon.Response, endpoint_id: str) -> None:
        secret = self._commands.rotate_secret(principal(req).workspace_id, _endpoint_id(endpoint_id), self._clock.now())
        if secret is None:
            raise not_found("webhook endpoint not found")
        resp.media = {"id": endpoint_id, "secret": secret}

    def on_post_test(self, req: falcon.Request, resp: falcon.Response, endpoint_id: str) -> None:
        """Send a signed `ping` now and answer what the endpoint did (not recorded, never retried)."""
        workspace_id = principal(req).workspace_id
        found = webhook_endpoints.target(workspace_id, _endpoint_id(endpoint_id))
        if found is None:
            raise not_found("webhook endpoint not found")
        url, secret = found
        event_id = new_id("evt")
        payload = {
            "id": event_id,
            "type": PING,
            "created_at": iso(self._clock.now()),
            "workspace_id": workspace_id,
            "data": {"object": "webhook_endpoint", "id": endpoint_id},
        }
        result = self._sender.send(url, secret, event_id, json.dumps(payload, separators=(",", ":")))
        resp.media = {
            "event_id": event_id,
            "delivered": result.ok,
            "response_code": result.status_code,
            "duration_ms": result.duration_ms,
            "error": result.error,
        }

    def on_get_deliveries(self, req: falcon.Request, resp: falcon.Response, endpoint_id: str) -> None:
        workspace_id = principal(req).workspace_id
        self._view(workspace_id, endpoint_id)
        resp.media = {"data": outbox.deliveries_view(workspace_id, endpoint_id)}
