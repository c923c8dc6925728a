"""The route table: every public endpoint in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ringback.http.metrics import MetricsResource
from ringback.http.resources.contacts import ContactResource
from ringback.http.resources.health import HealthResource, ReadyResource
from ringback.http.resources.sequences import (
    DecisionResource,
    EnrollmentResource,
    ReviewQueueResource,
    StartSequenceResource,
)
from ringback.http.resources.templates import TemplateResource, TemplatesResource

if TYPE_CHECKING:
    from ringback.node import Node


def table(node: Node) -> list[tuple[Any, ...]]:
    s = node.settings
    decisions = DecisionResource(node.supervisor)
    enrollment = "/api/v1/sequences/enrollments/{enrollment_id}"
    return [
        ("/healthz", HealthResource()),
        ("/readyz", ReadyResource(node.ready_checks())),
        ("/metrics", MetricsResource(node.metrics)),
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
        (enrollment, EnrollmentResource(s.resolved_public_url)),
        (enrollment + "/approve", decisions, "approve"),
        (enrollment + "/reject", decisions, "reject"),
        (enrollment + "/cancel", decisions, "cancel"),
        (enrollment + "/steps/{index}", decisions, "step"),
        ("/api/v1/review-queue", ReviewQueueResource(node.clock)),
    ]
