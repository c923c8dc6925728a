"""The route table: every public endpoint in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ringback.commands.webhook_endpoints import WebhookEndpointCommands
from ringback.engine.model import Channel
from ringback.http.metrics import MetricsResource
from ringback.http.pages.review import ReviewPage
from ringback.http.resources.contact_events import ContactEventsResource
from ringback.http.resources.contacts import ContactResource
from ringback.http.resources.events import EventsResource
from ringback.http.resources.health import HealthResource, ReadyResource
from ringback.http.resources.openapi import OpenApiResource
from ringback.http.resources.sequences import (
    DecisionResource,
    EnrollmentResource,
    ReviewQueueResource,
    StartSequenceResource,
)
from ringback.http.resources.templates import TemplateResource, TemplatesResource
from ringback.http.resources.unsubscribe import UnsubscribeResource
from ringback.http.resources.webhook_endpoints import (
    EndpointValidator,
    WebhookEndpointResource,
    WebhookEndpointsResource,
)
from ringback.http.resources.webhooks import TwilioSmsResource, TwilioStatusResource
from ringback.http.resources.workspace import WorkspaceResource
from ringback.http.twilio_signature import TwilioRequestVerifier

if TYPE_CHECKING:
    from ringback.node import Node


def table(node: Node) -> list[tuple[Any, ...]]:
    s = node.settings
    decisions = DecisionResource(node.supervisor)
    enrollment = "/api/v1/sequences/enrollments/{enrollment_id}"
    twilio = TwilioRequestVerifier(s.twilio_auth_token, s.resolved_public_url)
    validator, commands = EndpointValidator(node.webhook_sender), WebhookEndpointCommands()
    endpoint = WebhookEndpointResource(node.clock, validator, commands, node.webhook_sender)
    endpoint_path = "/api/v1/webhook_endpoints/{endpoint_id}"
    return [
        ("/healthz", HealthResource()),
        ("/readyz", ReadyResource(node.ready_checks())),
        ("/metrics", MetricsResource(node.metrics)),
        ("/openapi.json", OpenApiResource(s.resolved_public_url)),
        ("/api/v1/workspace", WorkspaceResource(node.workspace_changed)),
        ("/api/v1/templates", TemplatesResource(node.clock)),
        ("/api/v1/templates/{template_id}", TemplateResource()),
        ("/api/v1/contacts/{contact_id}", ContactResource()),
        (
            "/api/v1/sequences/start",
            StartSequenceResource(
                node.supervisor,
                node.clock,
                node._workspace,
                node.configured_channels,
                s.idempotency_ttl_hours,
            ),
        ),
        (enrollment, EnrollmentResource()),
        (enrollment + "/approve", decisions, "approve"),
        (enrollment + "/reject", decisions, "reject"),
        (enrollment + "/cancel", decisions, "cancel"),
        (enrollment + "/steps/{index}", decisions, "step"),
        ("/api/v1/review-queue", ReviewQueueResource(node.clock)),
        (
            "/review/{token}",
            ReviewPage(node.supervisor, node.signer, node.clock, node._policy, s.resolved_public_url),
        ),
        ("/api/v1/contacts/{contact_id}/events", ContactEventsResource(node.supervisor, node.clock)),
        (
            "/webhooks/twilio/status",
            TwilioStatusResource(
                twilio, node.supervisor, getattr(node.router.live.get(Channel.VOICE), "hang_up", None)
            ),
        ),
        (
            "/webhooks/twilio/sms",
            TwilioSmsResource(twilio, node.supervisor, node.clock, s.reply_stops_sequence),
        ),
        ("/u/{token}", UnsubscribeResource(node.signer, node.supervisor, node.clock)),
        ("/api/v1/webhook_endpoints", WebhookEndpointsResource(node.clock, validator, commands)),
        (endpoint_path, endpoint),
        (endpoint_path + "/rotate_secret", endpoint, "rotate"),
        (endpoint_path + "/test", endpoint, "test"),
        (endpoint_path + "/deliveries", endpoint, "deliveries"),
        ("/api/v1/events", EventsResource()),
    ]
