"""The email that tells a workspace's admins their webhook endpoint was disabled.

Sent through the same SMTP mailer as the review emails. The endpoint's URL is not in it (it may carry
a token of the receiver's); the id is enough to find it and re-enable it with PATCH.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ringback.actors.notifier import Mailer
from ringback.providers.channels.base import SendError
from ringback.storage import accounts
from ringback.storage.outbox import Due

log = logging.getLogger(__name__)


class EndpointDisabledMail:
    def __init__(
        self,
        mailer: Mailer | None,
        sender_address: str,
        workspace: Callable[[str], accounts.WorkspaceInfo | None] = accounts.get_workspace,
    ) -> None:
        self._mailer = mailer
        self._sender = sender_address
        self._workspace = workspace

    def __call__(self, due: Due) -> None:
        info = self._workspace(due.workspace_id)
        recipients = info.admin_emails if info else ()
        if self._mailer is None or not recipients:
            log.warning("webhook endpoint %s disabled; no SMTP or no admin address to tell", due.endpoint_id)
            return
        text = (
            f"ringback stopped sending webhooks to endpoint {due.endpoint_id}: every delivery to it failed for "
            "about three days.\n\nFix the receiver, then re-enable it:\n"
            f'  PATCH /api/v1/webhook_endpoints/{due.endpoint_id} {{"enabled": true}}\n'
            f"Recent attempts: GET /api/v1/webhook_endpoints/{due.endpoint_id}/deliveries\n"
            "Events meanwhile stay in GET /api/v1/events.\n"
        )
        for number, address in enumerate(recipients):
            try:
                self._mailer.send_email(
                    to=address,
                    subject="Webhook endpoint disabled after repeated failures",
                    text=text,
                    html=None,
                    sender_name="ringback",
                    sender_address=self._sender,
                    message_id=f"<webhook-disabled-{due.endpoint_id}-{due.delivery_id}-{number}@ringback>",
                )
            except SendError as error:
                log.error("webhook-disabled email for %s failed: %s", due.endpoint_id, error.code or error.message)
