"""Pool workers reply through the supervisor, the one router that knows which enrollments are live."""

from __future__ import annotations

import contextlib

import pykka

from ringback.actors.messages import Deliver, GenerateWork, NotifyWork, SendWork
from ringback.engine.events import Event


def reply(supervisor: pykka.ActorRef, work: GenerateWork | SendWork | NotifyWork, event: Event) -> None:
    """Hand a result to its enrollment; the supervisor re-activates it from storage if it is not live.

    If the supervisor is gone we are shutting down: the step stays in storage as it was and recovery
    takes it from there.
    """
    with contextlib.suppress(pykka.ActorDeadError):
        supervisor.tell(Deliver(work.enrollment_id, event, work.lease))
