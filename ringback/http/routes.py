"""The route table: every public endpoint in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ringback.commands.erase_contact import EraseContact
from ringback.commands.export_contact import ExportContact
from ringback.engine.model import Channel
from ringback.http.metrics import MetricsResource
from ringback.http.pages.review import ReviewPage
from ringback.http.resources.audit import AuditResource
from ringback.http.resources.contact_events import ContactEventsResource
from ringback.http.resources.contacts import ContactExportResource, ContactResource
from ringback.http.resources.erased import ErasedCheck
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
    return [
        ("/healthz", HealthResource()),
        ("/readyz", ReadyResource(node.ready_checks())),
        ("/metrics", MetricsResource(node.metrics)),
        ("/openapi.json", OpenApiResource(s.resolved_public_url)),
        ("/api/v1/workspace", WorkspaceResource(node.workspace_changed)),
        ("/api/v1/templates", TemplatesResource(node.clock)),
        ("/api/v1/templates/{template_id}", TemplateResource()),
        (
            "/api/v1/contacts/{contact_id}",
            ContactResource(EraseContact(node.fingerprints), node.supervisor, node.clock),
        ),
        ("/api/v1/contacts/{contact_id}/export", ContactExportResource(ExportContact(), node.clock)),
        ("/api/v1/audit", AuditResource()),
        (
            "/api/v1/sequences/start",
            StartSequenceResource(
                node.supervisor,
                node.clock,
                node._workspace,
                node.configured_channels,
                s.idempotency_ttl_hours,
                ErasedCheck(node.fingerprints),
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
    ]
