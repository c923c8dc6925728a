"""Dispatcher pool worker: one channel send per job; provider errors become retryable or final."""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pykka

from ringback import faults
from ringback.actors.messages import Fenced, SendWork
from ringback.actors.pool import LoadCounter, PoolWorker
from ringback.actors.replies import reply
from ringback.engine.events import SendFailed, SendOutcomeUnknown, SendSucceeded
from ringback.engine.model import Channel
from ringback.providers.channels.base import ChannelAdapter, SendError
from ringback.providers.channels.twilio_channel import OutcomeUnknownError
from ringback.storage import enrollments

log = logging.getLogger(__name__)


def backoff(attempt: int, base_seconds: float, jitter: Callable[[], float] = random.random) -> timedelta:
    """Exponential backoff with full jitter between 50% and 100% of base * 2^(attempt-1), capped at an hour."""
    ceiling = min(base_seconds * 2 ** max(attempt - 1, 0), 3600.0)
    return timedelta(seconds=ceiling * (0.5 + 0.5 * jitter()))


class ChannelRouter:
    """Which adapter carries a step: the sandbox for test keys, the configured provider for live ones."""

    def __init__(self, sandbox: ChannelAdapter, live: dict[Channel, ChannelAdapter]) -> None:
        self.sandbox = sandbox
        self.live = live

    def adapter(self, channel: Channel, sandbox: bool) -> ChannelAdapter | None:
        return self.sandbox if sandbox else self.live.get(channel)

    def configured(self) -> frozenset[Channel]:
        return frozenset(self.live)


class DispatcherWorker(PoolWorker):
    def __init__(
        self,
        counter: LoadCounter,
        router: ChannelRouter,
        supervisor: pykka.ActorRef,
        now: Callable[[], datetime],
        retry_base_seconds: float,
        may_send: Callable[[str], bool] = lambda enrollment_id: True,
    ) -> None:
        """`may_send(enrollment_id)`: cluster mode's last check that the enrollment's lease is still ours."""
        super().__init__(counter)
        self._router = router
        self._supervisor = supervisor
        self._now = now
        self._retry_base = retry_base_seconds
        self._may_send = may_send

    def handle(self, message: Any) -> None:
        if not isinstance(message, SendWork):
            return
        if not self._may_send(message.enrollment_id):
            # Not sent: the lease may be another node's by now (this node was paused or cut off). The
            # enrollment is resumed from storage by whoever owns it, as after a restart.
            with contextlib.suppress(pykka.ActorDeadError):
                self._supervisor.tell(Fenced(message.enrollment_id))
            return
        reply(self._supervisor, message, self._send(message))

    def handle_crash(self, message: Any) -> None:
        if isinstance(message, SendWork):
            failed = SendFailed(message.index, message.attempt, "internal_error", "the dispatcher crashed", False)
            reply(self._supervisor, message, failed)

    def _send(self, work: SendWork) -> SendSucceeded | SendFailed | SendOutcomeUnknown:
        adapter = self._router.adapter(work.message.channel, work.sandbox)
        if adapter is None:
            return SendFailed(
                work.index,
                work.attempt,
                "channel_not_configured",
                f"no provider is configured for {work.message.channel.value}",
                retryable=False,
            )
        if enrollments.find_step(work.message.step_id) is None:
            # Erased with its contact while this job waited in the pool: it must not go out (docs/privacy.md).
            return SendFailed(work.index, work.attempt, "erased", "the contact was erased", retryable=False)
        faults.reach("after_state_commit_before_send")
        try:
            receipt = adapter.send(work.message)
        except OutcomeUnknownError as error:
            # The SMS or call may exist: never send it again blindly (DESIGN §5). The step goes to `unknown`,
            # where a late status callback can still settle it.
            log.warning("send of step %s attempt %d: outcome unknown", work.message.step_id, work.attempt)
            return SendOutcomeUnknown(work.index, work.attempt, error.message)
        except SendError as error:
            log.warning(
                "send of step %s attempt %d failed: %s %s",
                work.message.step_id,
                work.attempt,
                error.code,
                "retryable" if error.retryable else "permanent",
            )
            retry_at = self._now() + backoff(work.attempt, self._retry_base) if error.retryable else None
            return SendFailed(
                work.index,
                work.attempt,
                error.code or "send_failed",
                error.message,
                error.retryable,
                retry_at,
            )
        faults.reach("after_send_before_record")
        return SendSucceeded(work.index, work.attempt, receipt.provider, receipt.provider_id)
