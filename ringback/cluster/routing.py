"""Work accepted by one node for an enrollment another node owns reaches the owner by NOTIFY.

Commands commit first (on whichever node the request reached), then tell the routing what happened.
An event for an enrollment this node owns goes straight to its supervisor; any other goes out on the
`ringback` channel, and every node's listener hands the owner's supervisor what is its to handle.

NOTIFY is a wake-up, not the record: if one is lost (no owner at that moment, a listener reconnecting),
the committed rows still say what is owed — the owner's recovery scans (on taking a partition over, on
every reconnect of its listener, and periodically) resume generating enrollments and re-apply accepted
decisions, edits and cancels from their timeline. Only provider delivery reports live in the message
alone; losing one leaves a step at `sent` instead of `delivered`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

import peewee
import psycopg2
import psycopg2.extensions

from ringback.actors.messages import Deliver, ForgetEnrollments, Reconcile, StopContact
from ringback.cluster.leases import LeaseKeeper
from ringback.engine import events as ev
from ringback.engine.model import StepContent

log = logging.getLogger(__name__)
CHANNEL = "ringback"
MAX_PAYLOAD = 7900  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more
RECONNECT_SECONDS = 1.0
# Events commands and provider callbacks deliver; nothing else crosses nodes.
_EVENTS: dict[str, type] = {
    cls.__name__: cls for cls in (ev.Started, ev.Approved, ev.Rejected, ev.StepEdited, ev.Stopped, ev.DeliveryReported)
}


def encode(origin: str, message: Any) -> str:
    """JSON for the NOTIFY payload; an event too large to carry becomes a `Reconcile` (its timeline has it)."""
    if isinstance(message, Deliver):
        event = message.event
        body = {"kind": "deliver", "enrollment": message.enrollment_id, "event": type(event).__name__}
        body["fields"] = dataclasses.asdict(event)
        text = json.dumps({"origin": origin, **body})
        if len(text.encode()) <= MAX_PAYLOAD:
            return text
        return json.dumps({"origin": origin, "kind": "reconcile", "enrollment": message.enrollment_id})
    if isinstance(message, StopContact):
        return json.dumps(
            {"origin": origin, "kind": "stop_contact", "contact": message.contact_id, "reason": message.reason}
        )
    if isinstance(message, ForgetEnrollments):
        return json.dumps({"origin": origin, "kind": "forget", "enrollments": list(message.enrollment_ids)})
    raise TypeError(f"{type(message).__name__} does not cross nodes")


def decode(payload: str) -> tuple[str, Any]:
    """(origin node, message); raises ValueError on anything we did not write."""
    try:
        body = json.loads(payload)
        kind, origin = body["kind"], body["origin"]
        if kind == "rebalance":
            return origin, None
        if kind == "deliver":
            cls = _EVENTS[body["event"]]
            fields = body["fields"]
            if cls is ev.StepEdited:
                fields = {**fields, "content": StepContent(**fields["content"])}
            return origin, Deliver(body["enrollment"], cls(**fields))
        if kind == "reconcile":
            return origin, Reconcile(body["enrollment"])
        if kind == "stop_contact":
            return origin, StopContact(body["contact"], body["reason"])
        if kind == "forget":
            return origin, ForgetEnrollments(tuple(body["enrollments"]))
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"not a ringback notification: {error!r}") from error
    raise ValueError(f"unknown notification kind {kind!r}")


def rebalance_payload(origin: str) -> str:
    return json.dumps({"origin": origin, "kind": "rebalance"})


class ClusterRouting:
    """Replaces `supervisor.tell` for commands and provider callbacks in cluster mode."""

    def __init__(self, db: peewee.Database, keeper: LeaseKeeper, tell_local: Callable[[Any], None]) -> None:
        self._db = db
        self._keeper = keeper
        self._tell_local = tell_local

    def tell(self, message: Any) -> None:
        if isinstance(message, Deliver) and self._keeper.owns(message.enrollment_id):
            self._tell_local(message)
            return
        if not isinstance(message, Deliver):
            self._tell_local(message)  # a contact's enrollments, erasures: some may be ours too
        self.notify(encode(self._keeper.node_id, message))

    def announce(self) -> None:
        """Ask every node to run a lease round now (joined, handed partitions back)."""
        self.notify(rebalance_payload(self._keeper.node_id))

    def notify(self, payload: str) -> None:
        self._db.execute_sql("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


class Listener:
    """One thread, one dedicated connection, LISTENing; reconnects and then asks for a catch-up scan."""

    def __init__(
        self,
        connect: Callable[[], psycopg2.extensions.connection],
        keeper: LeaseKeeper,
        tell_local: Callable[[Any], None],
        on_connected: Callable[[], None],
    ) -> None:
        """`on_connected` runs after every (re)connect but the first: notifications may have been missed."""
        self._connect = connect
        self._keeper = keeper
        self._tell_local = tell_local
        self._on_connected = on_connected
        self._stopping = threading.Event()
        self._wake_read, self._wake_write = os.pipe()  # stop() wakes the select at once (nodes stop in tests a lot)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cluster-listener", daemon=True)

    def start(self, timeout: float = 10.0) -> Listener:
        self._thread.start()
        self._ready.wait(timeout)
        return self

    def stop(self) -> None:
        self._stopping.set()
        os.write(self._wake_write, b"x")
        self._thread.join(RECONNECT_SECONDS * 2)
        if not self._thread.is_alive():
            os.close(self._wake_read)
            os.close(self._wake_write)

    def _loop(self) -> None:
        first = True
        while not self._stopping.is_set():
            try:
                conn = self._connect()
            except psycopg2.Error:
                log.warning("cluster: listener cannot connect; retrying", exc_info=True)
                self._stopping.wait(RECONNECT_SECONDS)
                continue
            try:
                conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
                conn.cursor().execute(f"LISTEN {CHANNEL}")
                self._ready.set()
                if not first:
                    self._on_connected()
                first = False
                self._listen(conn)
            except (psycopg2.Error, OSError):
                log.warning("cluster: listener connection lost; reconnecting", exc_info=True)
                self._stopping.wait(RECONNECT_SECONDS)
            finally:
                conn.close()

    def _listen(self, conn: psycopg2.extensions.connection) -> None:
        while not self._stopping.is_set():
            readable, _, _ = select.select([conn, self._wake_read], [], [], RECONNECT_SECONDS)
            if conn not in readable:
                continue
            conn.poll()
            while conn.notifies:
                self.handle(conn.notifies.pop(0).payload)

    def handle(self, payload: str) -> None:
        try:
            origin, message = decode(payload)
        except ValueError:
            log.warning("cluster: ignored a notification we did not write")
            return
        if origin == self._keeper.node_id:
            return  # the sender told its own supervisor already
        if message is None:
            self._keeper.poke()
        elif isinstance(message, Deliver | Reconcile):
            if self._keeper.owns(message.enrollment_id):
                self._tell_local(message)
        else:
            self._tell_local(message)
