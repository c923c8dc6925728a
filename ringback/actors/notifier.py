"""Notifier pool worker: review emails to workspace admins (internal mail: always via SMTP, never sandboxed)."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import pykka

from ringback.actors.messages import NotifyWork
from ringback.actors.pool import LoadCounter, PoolWorker
from ringback.actors.replies import reply
from ringback.engine.events import AdminsNotified
from ringback.providers.channels.base import SendError

log = logging.getLogger(__name__)


class Mailer(Protocol):
    def send_email(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        html: str | None,
        sender_name: str,
        sender_address: str,
        message_id: str = "",
        headers: dict[str, str] | None = None,
    ) -> str: ...


class NotifierWorker(PoolWorker):
    def __init__(
        self, counter: LoadCounter, mailer: Mailer | None, sender_address: str, supervisor: pykka.ActorRef
    ) -> None:
        super().__init__(counter)
        self._mailer = mailer
        self._sender = sender_address
        self._supervisor = supervisor

    def handle(self, message: Any) -> None:
        if not isinstance(message, NotifyWork):
            return
        delivered: list[str] = []
        problems: list[str] = []
        if not message.recipients:
            problems.append("the workspace has no admin email address")
        elif self._mailer is None:
            problems.append(
                "no SMTP server is configured (RINGBACK_SMTP_HOST); `ringback review-link` prints the review link"
            )
        if self._mailer is None and message.recipients:
            # The link grants approval, so it is not logged; an admin on the server asks for one instead.
            log.warning(
                "no SMTP configured; review email for %s not sent (`ringback review-link %s` prints the link)",
                message.enrollment_id,
                message.enrollment_id,
            )
        for number, address in enumerate(message.recipients if self._mailer else ()):
            try:
                self._mailer.send_email(
                    to=address,
                    subject=message.subject,
                    text=message.text,
                    html=message.html,
                    sender_name="ringback",
                    sender_address=self._sender,
                    # Stable per enrollment and recipient: a re-send after a crash can be de-duplicated.
                    message_id=f"<review-{message.enrollment_id}-{number}@ringback>",
                )
                delivered.append(address)
            except SendError as error:
                log.error("review email for %s failed: %s", message.enrollment_id, error.code or error.message)
                problems.append(f"the review email to an admin failed ({error.code or 'smtp'})")
        reply(self._supervisor, message, AdminsNotified(tuple(delivered), "; ".join(problems)))
