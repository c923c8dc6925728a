"""Every metric the node exports, declared once, and the small adapters that feed them.

Each gauge and counter is registered when the node is built, so `/metrics` shows every documented series
at 0 from the start (an alert on "crashes > 0" needs the series to exist before the first crash). Actors
report through the node's one hook, `Node._record_metric(name, value=1, **labels)`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import Counter, Gauge, Histogram

from ringback.engine.enrollment import EnrollmentState
from ringback.engine.events import TimelineEntry
from ringback.engine.model import Channel, GeneratedSteps, GenerationRequest
from ringback.http.metrics import Metrics
from ringback.providers.llm.base import Writer

CHANNELS = tuple(c.value for c in Channel)
POOLS = ("generator", "dispatcher", "notifier")

GAUGES = {
    "live_enrollments": "Live enrollment actors (bounded by RINGBACK_MAX_LIVE_ENROLLMENTS).",
    "waiting_enrollments": "Enrollments with events waiting for room under the live-actor bound.",
    "recovery_backlog": "Enrollments found at start-up that still wait to be resumed.",
    "partitions_owned": "Cluster mode: partitions this node holds by lease (of 256; all of them on one node).",
}

# name -> (help, {label: every value it takes}); exported as ringback_<name>_total.
COUNTERS: dict[str, tuple[str, Mapping[str, tuple[str, ...]]]] = {
    "enrollments_started": ("Enrollments started (202 answers of the start call).", {}),
    "db_commits": ("Transactions committed by the group-commit writer (each holds one or more units).", {}),
    "recovered_enrollments": ("Enrollments resumed by start-up recovery.", {}),
    "enrollment_crashes": ("Enrollment actor crashes (each one restarts it).", {}),
    "enrollments_failed_by_crashes": ("Enrollments given up after the restart limit.", {}),
    "supervisor_errors": ("Routed messages that failed in the supervisor.", {}),
    "pool_job_crashes": ("Unexpected exceptions in pool jobs.", {"pool": POOLS}),
    "pool_worker_deaths": ("Pool workers lost.", {"pool": POOLS}),
    "pool_workers_replaced": ("Pool workers replaced.", {"pool": POOLS}),
    "steps_sent": ("Steps handed to their channel's provider.", {"channel": CHANNELS}),
    "steps_failed": ("Steps failed for good (refused, attempts used up, undelivered).", {"channel": CHANNELS}),
    "steps_skipped": ("Steps skipped (channel not allowed, no address, suppressed).", {"channel": CHANNELS}),
    "steps_unknown": ("SMS and calls whose outcome was lost; never re-sent.", {"channel": CHANNELS}),
    "llm_calls": ("Calls to the content writer, by outcome.", {"outcome": ("ok", "error")}),
    "llm_fallbacks": ("LLM calls that failed and were answered by the offline writer.", {}),
    "review_decisions": ("Human review decisions.", {"decision": ("approved", "rejected")}),
    "rate_limit_errors": ("API rate-limit checks the database failed (counted on this node alone instead).", {}),
    "opt_outs": ("Contacts opted out, by where they said so.", {"source": ("api", "email_link", "sms")}),
    "lease_renewals": ("Cluster mode: lease rounds that renewed this node's partitions.", {}),
    "lease_round_failures": ("Cluster mode: lease rounds that failed (database unreachable).", {}),
    "lease_losses": ("Cluster mode: partitions lost because their lease expired and another node took it.", {}),
    "lease_takeovers": ("Cluster mode: partitions taken over from a node that stopped renewing.", {}),
    "partitions_handed_back": ("Cluster mode: partitions handed to other nodes (rebalancing, shutdown).", {}),
    "fenced_writes": ("Cluster mode: enrollment writes or sends refused because the lease was not ours.", {}),
    "deliveries_not_owned": ("Cluster mode: events dropped here because another node owns the enrollment.", {}),
}
LLM_SECONDS = "ringback_llm_call_seconds"
LLM_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)

# Timeline kinds (engine/machine.py) that count, and the counter each one feeds.
_STEP_KINDS = {f"step.{state}": f"steps_{state}" for state in ("sent", "failed", "skipped", "unknown")}
_DECISIONS = {"review.approved": "approved", "review.rejected": "rejected"}


def gauge(metrics: Metrics, name: str) -> Gauge:
    return metrics.gauge(f"ringback_{name}", GAUGES[name])


def counter(metrics: Metrics, name: str, labels: Iterable[str] = ()) -> Counter:
    """A declared counter; an undeclared name still counts, documented by its name."""
    documentation, known = COUNTERS.get(name, (name.replace("_", " ").capitalize() + ".", {}))
    return metrics.counter(f"ringback_{name}_total", documentation, tuple(known) or tuple(labels))


def llm_seconds(metrics: Metrics) -> Histogram:
    return metrics.histogram(LLM_SECONDS, "Time one content-writer call took.", buckets=LLM_BUCKETS)


def register_all(metrics: Metrics) -> None:
    """Create every series at 0, including one per known label value."""
    for name in GAUGES:
        gauge(metrics, name)
    for name, (_, labels) in COUNTERS.items():
        created = counter(metrics, name)
        for values in itertools.product(*labels.values()) if labels else ():
            created.labels(*values)
    llm_seconds(metrics)


def timeline_metrics(state: EnrollmentState, timeline: Iterable[TimelineEntry]) -> Iterator[tuple[str, dict]]:
    """(counter, labels) for what one transition did: step outcomes by channel, review decisions."""
    channels = {step.index: step.channel.value for step in state.steps}
    for entry in timeline:
        if entry.kind in _STEP_KINDS and entry.detail.get("index") in channels:
            yield _STEP_KINDS[entry.kind], {"channel": channels[entry.detail["index"]]}
        elif entry.kind in _DECISIONS:
            yield "review_decisions", {"decision": _DECISIONS[entry.kind]}


class MeteredWriter:
    """Counts and times every call of the writer it wraps (the offline writer or the Cohere chain)."""

    def __init__(self, writer: Writer, metrics: Metrics, monotonic: Callable[[], float] = time.perf_counter) -> None:
        self.name = writer.name
        self._writer = writer
        self._seconds = llm_seconds(metrics)
        self._calls = counter(metrics, "llm_calls")
        self._monotonic = monotonic

    def write(self, request: GenerationRequest) -> GeneratedSteps:
        started = self._monotonic()
        outcome = "error"
        try:
            written = self._writer.write(request)
            outcome = "ok"
            return written
        finally:
            self._seconds.observe(self._monotonic() - started)
            self._calls.labels(outcome).inc()
