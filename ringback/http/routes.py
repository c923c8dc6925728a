"""The route table: every public endpoint in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ringback.clock import Clock
from ringback.commands.contact_events import ContactEvents
from ringback.commands.decide import DecideEnrollment
from ringback.commands.erase_contact import EraseContact
from ringback.commands.export_contact import ExportContact
from ringback.commands.setup import WorkspaceSetup
from ringback.commands.start import StartSequence
from ringback.commands.webhook_endpoints import WebhookEndpointCommands
from ringback.config import Settings
from ringback.engine.machine import Policy
from ringback.engine.model import Channel
from ringback.http.metrics import Metrics, MetricsResource
from ringback.http.pages.review import ReviewPage
from ringback.http.resources.audit import AuditResource
from ringback.http.resources.contact_events import ContactEventsResource
from ringback.http.resources.contacts import ContactExportResource, ContactResource
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
from ringback.http.resources.twilio_voice import TwilioVoiceResource
from ringback.http.resources.unsubscribe import UnsubscribeResource
from ringback.http.resources.webhook_endpoints import (
    EndpointValidator,
    WebhookEndpointResource,
    WebhookEndpointsResource,
)
from ringback.http.resources.webhooks import TwilioSmsResource, TwilioStatusResource
from ringback.http.resources.workspace import WorkspaceResource
from ringback.http.twilio_signature import TwilioRequestVerifier
from ringback.providers.webhooks.sender import WebhookSender
from ringback.storage.accounts import WorkspaceInfo
from ringback.tokens import TokenSigner


@dataclass(frozen=True)
class Commands:
    """Every write use case the HTTP layer may call (`ringback/commands/`)."""

    start: StartSequence
    decide: DecideEnrollment
    contact_events: ContactEvents
    setup: WorkspaceSetup
    webhook_endpoints: WebhookEndpointCommands
    erase_contact: EraseContact
    export_contact: ExportContact


@dataclass(frozen=True)
class RouteDeps:
    """What the resources need from the node: built by `node.py`, so this module does not import it."""

    settings: Settings
    commands: Commands
    metrics: Metrics
    signer: TokenSigner
    clock: Clock
    policy: Callable[[str], Policy]
    workspace: Callable[[str], WorkspaceInfo]
    configured_channels: Callable[[], frozenset[Channel]]
    ready_checks: dict[str, Callable[[], bool]]
    tell_supervisor: Callable[[Any], None]
    hang_up: Callable[[str], None] | None
    webhook_sender: WebhookSender


def table(deps: RouteDeps) -> list[tuple[Any, ...]]:
    s = deps.settings
    decisions = DecisionResource(deps.commands.decide)
    enrollment = "/api/v1/sequences/enrollments/{enrollment_id}"
    twilio = TwilioRequestVerifier(s.twilio_auth_token, s.resolved_public_url)
    validator, webhooks = EndpointValidator(deps.webhook_sender), deps.commands.webhook_endpoints
    endpoint = WebhookEndpointResource(deps.clock, validator, webhooks, deps.webhook_sender)
    endpoint_path = "/api/v1/webhook_endpoints/{endpoint_id}"
    return [
        ("/healthz", HealthResource()),
        ("/readyz", ReadyResource(deps.ready_checks)),
        ("/metrics", MetricsResource(deps.metrics)),
        ("/openapi.json", OpenApiResource(s.resolved_public_url)),
        ("/api/v1/workspace", WorkspaceResource(deps.commands.setup)),
        ("/api/v1/templates", TemplatesResource(deps.commands.setup)),
        ("/api/v1/templates/{template_id}", TemplateResource()),
        (
            "/api/v1/contacts/{contact_id}",
            ContactResource(deps.commands.erase_contact, deps.tell_supervisor, deps.clock),
        ),
        ("/api/v1/contacts/{contact_id}/export", ContactExportResource(deps.commands.export_contact, deps.clock)),
        ("/api/v1/audit", AuditResource()),
        (
            "/api/v1/sequences/start",
            StartSequenceResource(deps.commands.start, deps.workspace, deps.configured_channels),
        ),
        (enrollment, EnrollmentResource()),
        (enrollment + "/approve", decisions, "approve"),
        (enrollment + "/reject", decisions, "reject"),
        (enrollment + "/cancel", decisions, "cancel"),
        (enrollment + "/steps/{index}", decisions, "step"),
        ("/api/v1/review-queue", ReviewQueueResource(deps.clock)),
        (
            "/review/{token}",
            ReviewPage(deps.commands.decide, deps.signer, deps.clock, deps.policy, s.resolved_public_url),
        ),
        ("/api/v1/contacts/{contact_id}/events", ContactEventsResource(deps.commands.contact_events)),
        ("/webhooks/twilio/status", TwilioStatusResource(twilio, deps.tell_supervisor, deps.hang_up)),
        ("/webhooks/twilio/voice", TwilioVoiceResource(twilio)),
        (
            "/webhooks/twilio/sms",
            TwilioSmsResource(twilio, deps.commands.contact_events, s.reply_stops_sequence),
        ),
        ("/u/{token}", UnsubscribeResource(deps.signer, deps.commands.contact_events, deps.clock)),
        ("/api/v1/webhook_endpoints", WebhookEndpointsResource(deps.clock, validator, webhooks)),
        (endpoint_path, endpoint),
        (endpoint_path + "/rotate_secret", endpoint, "rotate"),
        (endpoint_path + "/test", endpoint, "test"),
        (endpoint_path + "/deliveries", endpoint, "deliveries"),
        ("/api/v1/events", EventsResource()),
    ]
