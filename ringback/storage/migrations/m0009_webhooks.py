"""0009: outbound webhooks: endpoints, the event outbox (also the event feed) and deliveries (issue 15)."""

from ringback.storage.models import OutboxEvent, WebhookDelivery, WebhookEndpoint


def up(db) -> None:
    # New tables: 0001 already made them on a database created by this version (safe=True skips them).
    db.create_tables([WebhookEndpoint, OutboxEvent, WebhookDelivery], safe=True)
