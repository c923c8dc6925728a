"""The composition root: the one place that wires settings, storage, providers, actors and HTTP.

Start-up order: settings → storage + migrations → providers → supervisor and pools → recovery →
webhook dispatcher → HTTP. Shutdown runs in reverse and ends by stopping whatever actor is left.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

import falcon
import pykka

from ringback import faults
from ringback.actors.clock import ClockActor, Ticker
from ringback.actors.dispatcher import ChannelRouter, DispatcherWorker
from ringback.actors.enrollment import EnrollmentActor
from ringback.actors.generator import GeneratorWorker
from ringback.actors.messages import PartitionsLost, Recover, Stats
from ringback.actors.notifier import NotifierWorker
from ringback.actors.pool import Pool
from ringback.actors.runtime import Runtime
from ringback.actors.supervisor import Supervisor
from ringback.actors.webhook_alert import EndpointDisabledMail
from ringback.actors.webhook_dispatcher import WebhookDispatcher
from ringback.clock import Clock, SystemClock
from ringback.cluster.leases import LeaseKeeper
from ringback.cluster.ownership import Ownership, SoleOwner
from ringback.cluster.single_node import SqliteNodeLock
from ringback.commands.contact_events import ContactEvents
from ringback.commands.decide import DecideEnrollment
from ringback.commands.erase_contact import EraseContact
from ringback.commands.erased import ErasedCheck
from ringback.commands.export_contact import ExportContact
from ringback.commands.purge_retained import PurgeRetained
from ringback.commands.setup import WorkspaceSetup
from ringback.commands.start import StartSequence
from ringback.commands.webhook_endpoints import WebhookEndpointCommands
from ringback.config import Settings
from ringback.engine.calling_window import CallingWindow
from ringback.engine.enrollment import EnrollmentState
from ringback.engine.events import TimelineEntry
from ringback.engine.machine import Policy
from ringback.engine.model import Channel
from ringback.engine.sending_limits import SendingLimits
from ringback.fingerprints import AddressFingerprints
from ringback.http import routes
from ringback.http.app import HttpServer, create_app
from ringback.http.auth import Principal
from ringback.http.metrics import Metrics
from ringback.http.ratelimit import build_rate_limiter
from ringback.metering import GAUGES, MeteredWriter, counter, gauge, register_all, timeline_metrics
from ringback.providers.channels.base import ChannelAdapter
from ringback.providers.channels.sandbox import SandboxChannel
from ringback.providers.channels.smtp import SmtpChannel
from ringback.providers.channels.twilio_channel import TwilioChannel
from ringback.providers.llm.base import Writer
from ringback.providers.llm.factory import build_writer
from ringback.providers.llm.offline import OfflineWriter
from ringback.providers.webhooks.address_guard import Resolver
from ringback.providers.webhooks.sender import WebhookSender
from ringback.storage import accounts
from ringback.storage.db import close_database, is_sqlite, listen_connection, open_database, ping, sqlite_path
from ringback.storage.migrations import migrate
from ringback.storage.writer import GroupCommitWriter
from ringback.tokens import TokenSigner, load_or_create_secret

log = logging.getLogger(__name__)
STOP_TIMEOUT = 10.0
COMMIT_UNIT_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
WORKSPACE_CACHE_SECONDS = 5.0


@dataclass
class Providers:
    """The outside world; tests pass their own (fake servers behind real SDKs, slow writers)."""

    writer: Writer
    live_channels: dict[Channel, ChannelAdapter] = field(default_factory=dict)
    mailer: SmtpChannel | None = None
    resolver: Resolver = socket.getaddrinfo  # DNS for webhook URLs (the SSRF guard checks its answers)


def build_providers(settings: Settings, on_fallback: Callable[[BaseException], None] | None = None) -> Providers:
    """`on_fallback` hears of every LLM call the offline writer had to answer instead."""
    writer = build_writer(
        provider=settings.resolved_llm_provider,
        cohere_api_key=settings.cohere_api_key,
        cohere_model=settings.cohere_model,
        cohere_base_url=settings.cohere_base_url,
        openai_base_url=settings.openai_base_url,
        openai_model=settings.openai_model,
        openai_api_key=settings.openai_api_key,
        timeout_seconds=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        simulated_latency_seconds=settings.llm_simulated_latency_seconds,
        on_fallback=on_fallback,
    )
    live: dict[Channel, ChannelAdapter] = {}
    mailer = None
    if settings.smtp_host:
        mailer = SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_tls,
            settings.smtp_user,
            settings.smtp_password,
            settings.smtp_timeout_seconds,
        )
        live[Channel.EMAIL] = mailer
    if settings.twilio_account_sid and settings.twilio_auth_token:
        twilio = TwilioChannel(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_api_base,
            settings.twilio_timeout_seconds,
            settings.voice_machine_detection,
        )
        live[Channel.SMS] = live[Channel.VOICE] = twilio
    return Providers(writer, live, mailer)


class Node:
    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        providers: Providers | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`clock` is business time (steps, windows); `monotonic` paces re-activations against the providers."""
        self.settings = settings
        self.clock = clock or SystemClock()
        self._monotonic = monotonic
        self._providers = providers
        self.metrics = Metrics()
        register_all(self.metrics)  # every documented series exists, at 0, before anything happens
        self._commit_units = self.metrics.histogram(
            "ringback_db_commit_units", "Write units per group commit.", buckets=COMMIT_UNIT_BUCKETS
        )
        self.db = None
        self.writer: GroupCommitWriter | None = None
        self.app: falcon.App | None = None
        self.supervisor: pykka.ActorRef | None = None
        self.signer: TokenSigner | None = None
        self.fingerprints: AddressFingerprints | None = None
        self._pools: list[Pool] = []
        self._clock_ref: pykka.ActorRef | None = None
        self._ticker: Ticker | None = None
        self.webhook_sender: WebhookSender | None = None
        self.webhooks: WebhookDispatcher | None = None
        self._server: HttpServer | None = None
        self.ownership: Ownership = SoleOwner()
        self.keeper: LeaseKeeper | None = None
        self._routing = None  # cluster mode: ClusterRouting
        self._listener = None  # cluster mode: the LISTEN thread
        self._sqlite_lock: SqliteNodeLock | None = None
        self._recover_gained = True
        self._stopped = threading.Event()
        self._workspaces: dict[str, tuple[float, accounts.WorkspaceInfo]] = {}
        self._stopping = threading.Lock()

    # --- start ---------------------------------------------------------------------------------------

    def start(self, recover: bool = True, tick: bool = True) -> Node:
        s = self.settings
        faults.arm(s.faults)
        self.db = open_database(s.resolved_database_url, s.db_connections)
        if is_sqlite(self.db):
            self._sqlite_lock = SqliteNodeLock(sqlite_path(s.resolved_database_url)).acquire()
        migrate(self.db)
        secret = load_or_create_secret(s.secret_key, s.data_dir)
        self.signer = TokenSigner(secret)
        self.fingerprints = AddressFingerprints(secret)
        if not is_sqlite(self.db):
            self.ownership = self.keeper = LeaseKeeper(
                self.db,
                s.resolved_node_id,
                s.lease_seconds,
                secret_check=self.signer.sign("cluster-secret-check", "", None),
                on_gained=self._partitions_gained,
                on_lost=lambda partitions: self.supervisor.tell(PartitionsLost(partitions)),
                on_metric=self._record_metric,
                announce=lambda: self._routing.announce(),
            )
            self.keeper.check_peers()
        fence = self.keeper.fence if self.keeper else None
        self.writer = GroupCommitWriter(self.db, on_commit=self._count_commit, fence=fence)
        providers = self._providers or build_providers(s, on_fallback=lambda _: self._record_metric("llm_fallbacks"))
        writer = MeteredWriter(providers.writer, self.metrics)
        self.router = ChannelRouter(SandboxChannel(self.clock.now, self.writer), providers.live_channels)

        runtime = Runtime(
            clock=self.clock,
            writer=self.writer,
            generators=None,
            dispatchers=None,
            notifiers=None,
            signer=self.signer,
            public_url=s.resolved_public_url,
            passivate_after_seconds=s.passivate_after_seconds,
            review_token_ttl_days=s.review_token_ttl_days,
            max_attempts=s.send_max_attempts,
            workspace=self._workspace,
            policy=self._policy,
            observe=self._observe_transition,
            purge_retained=PurgeRetained(s.retention_notes_days, s.retention_content_days, self.writer).run,
            ownership=self.ownership,
        )
        self.supervisor = Supervisor.start(
            runtime,
            s.max_live_enrollments,
            s.recovery_rate_per_second,
            self._record_metric,
            self._monotonic,
            ownership=self.ownership,
        )
        runtime.supervisor = self.supervisor
        fallback = OfflineWriter()
        runtime.generators = Pool(
            "generator",
            s.generator_pool_size,
            lambda c: GeneratorWorker.start(c, writer, fallback, self.supervisor),
            self._record_metric,
        )
        runtime.dispatchers = Pool(
            "dispatcher",
            s.dispatcher_pool_size,
            lambda c: DispatcherWorker.start(
                c, self.router, self.supervisor, self.clock.now, s.retry_base_seconds, self.ownership.may_send
            ),
            self._record_metric,
        )
        runtime.notifiers = Pool(
            "notifier",
            s.notifier_pool_size,
            lambda c: NotifierWorker.start(c, providers.mailer, s.smtp_from, self.supervisor),
            self._record_metric,
        )
        self._pools = [runtime.generators, runtime.dispatchers, runtime.notifiers]
        self._clock_ref = runtime.clock_ref = ClockActor.start(self.clock, self.supervisor)
        self.supervisor.ask(Stats(), timeout=STOP_TIMEOUT)  # surfaces start-up failures at once
        if self.keeper is not None:
            self._join_cluster(recover)
        elif recover:
            self.supervisor.tell(Recover())
        if tick:
            self._ticker = Ticker(self._clock_ref, s.tick_seconds)
            self._ticker.start()
        self.webhook_sender = WebhookSender(s.webhook_allow_private_urls, resolver=providers.resolver)
        self.webhooks = WebhookDispatcher(
            self.clock,
            self.webhook_sender,
            s.webhook_dispatcher_threads,
            s.event_retention_days,
            on_disabled=EndpointDisabledMail(providers.mailer, s.smtp_from),
            write=self.writer.run,
        )
        self.webhooks.start()
        self.route_deps = self._route_deps(providers)
        self.app = create_app(
            resolve_key=self._resolve_key,
            routes=routes.table(self.route_deps),
            metrics=self.metrics,
            limiter=build_rate_limiter(self.db, on_error=lambda: self._record_metric("rate_limit_errors")),
            writes_per_minute=s.writes_per_minute,
            reads_per_minute=s.reads_per_minute,
            max_body_bytes=s.max_body_bytes,
        )
        return self

    def _join_cluster(self, recover: bool) -> None:
        """Listen first (nothing told to us is missed), then take a share of the partitions and resume them."""
        from ringback.cluster.routing import ClusterRouting, Listener  # psycopg2 is the [postgres] extra

        self._routing = ClusterRouting(self.db, self.keeper, self.supervisor.tell)
        self._listener = Listener(
            lambda: listen_connection(self.db),
            self.keeper,
            self.supervisor.tell,
            on_connected=lambda: self.supervisor.tell(Recover()),
        ).start()
        self._recover_gained = recover
        self.keeper.start()
        self._recover_gained = True

    def _partitions_gained(self, partitions: frozenset[int]) -> None:
        if self._recover_gained:
            self.supervisor.tell(Recover(partitions))

    def _tell(self, message: object) -> None:
        """Commands and provider callbacks: to the owner of the enrollment (cluster mode), else our supervisor."""
        if self._routing is not None:
            self._routing.tell(message)
        else:
            self.supervisor.tell(message)

    def serve(self) -> None:
        """Serve HTTP until `stop()` (signal handlers call it)."""
        s = self.settings
        self._server = HttpServer(
            self.app,
            host=s.host,
            port=s.port,
            threads=s.threads,
            max_body_bytes=s.max_body_bytes,
            connection_limit=s.connection_limit,
            channel_timeout_seconds=s.channel_timeout_seconds,
        ).start()
        self._stopped.wait()

    def _route_deps(self, providers: Providers) -> routes.RouteDeps:
        s, tell = self.settings, self._tell
        timeout = s.write_timeout_seconds
        commands = routes.Commands(
            start=StartSequence(
                self.writer,
                self.clock,
                self._workspace,
                tell,
                timedelta(hours=s.idempotency_ttl_hours),
                timeout,
                ErasedCheck(self.fingerprints),
                on_started=lambda: self._record_metric("enrollments_started"),
            ),
            decide=DecideEnrollment(self.writer, self.clock, tell, timeout),
            contact_events=ContactEvents(self.writer, self.clock, tell, timeout),
            setup=WorkspaceSetup(self.writer, self.clock, self.workspace_changed, timeout),
            webhook_endpoints=WebhookEndpointCommands(self.writer, timeout),
            erase_contact=EraseContact(self.fingerprints, self.writer, timeout),
            export_contact=ExportContact(self.writer, timeout),
        )
        return routes.RouteDeps(
            settings=s,
            commands=commands,
            metrics=self.metrics,
            signer=self.signer,
            clock=self.clock,
            policy=self._policy,
            workspace=self._workspace,
            configured_channels=self.configured_channels,
            ready_checks=self.ready_checks(),
            tell_supervisor=tell,
            hang_up=getattr(providers.live_channels.get(Channel.VOICE), "hang_up", None),
            webhook_sender=self.webhook_sender,
        )

    @property
    def port(self) -> int | None:
        return self._server.port if self._server else None

    # --- collaborators handed to actors and resources -------------------------------------------------

    def _resolve_key(self, plain: str) -> Principal | None:
        now = self.clock.now()
        record = accounts.resolve_key(plain, now)
        if record is None:
            return None
        if record.last_used_stale:
            # Bookkeeping, not business state: the request does not wait for it to commit.
            self.writer.submit(lambda: accounts.touch_key(record.key_id, now))
        return Principal(record.workspace_id, record.key_id, record.mode, record.scopes, record.features)

    @lru_cache(maxsize=1024)  # noqa: B019 - one Node per process; settings change only by restart
    def _policy(self, workspace_id: str) -> Policy:
        ws = self._workspace(workspace_id)
        window = CallingWindow.parse(start=ws.window_start, end=ws.window_end, days=ws.window_days)
        return Policy(
            window=window,
            max_attempts=self.settings.send_max_attempts,
            split_first_step=self.settings.fast_path_split_first_step,
            limits=SendingLimits.from_json(ws.sending_limits),
            zone=ws.default_timezone,
        )

    def workspace_changed(self, workspace_id: str) -> None:
        """Settings changed through the API: the next policy and workspace lookups read them again."""
        self._policy.cache_clear()
        self._workspaces.pop(workspace_id, None)

    def _workspace(self, workspace_id: str) -> accounts.WorkspaceInfo:
        """Read on every start and review email: kept for a few seconds (changes made through the API apply at
        once; changes made with the CLI on a running node within `WORKSPACE_CACHE_SECONDS`)."""
        now = time.monotonic()
        cached = self._workspaces.get(workspace_id)
        if cached is not None and now - cached[0] < WORKSPACE_CACHE_SECONDS:
            return cached[1]
        info = accounts.get_workspace(workspace_id)
        if info is None:
            raise LookupError(workspace_id)
        self._workspaces[workspace_id] = (now, info)
        return info

    def configured_channels(self) -> frozenset[Channel]:
        return self.router.configured()

    def ready_checks(self) -> dict[str, object]:
        return {"database": lambda: ping(self.db), "actors": lambda: self.supervisor.is_alive()}

    def _record_metric(self, name: str, value: float = 1, **labels: str) -> None:
        """The actors' one metrics hook: a few names are gauges, every other name counts (`ringback_<name>_total`)."""
        if name in GAUGES:
            gauge(self.metrics, name).set(value)
            return
        counted = counter(self.metrics, name, labels)
        (counted.labels(**labels) if labels else counted).inc(value)

    def _count_commit(self, units: int) -> None:
        self._record_metric("db_commits")
        self._commit_units.observe(units)

    def _observe_transition(self, state: EnrollmentState, timeline: tuple[TimelineEntry, ...]) -> None:
        """Step outcomes and review decisions, as enrollment actors commit them."""
        for name, labels in timeline_metrics(state, timeline):
            self._record_metric(name, **labels)

    # --- stop ---------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop accepting requests, let work in flight finish (bounded), persist, stop every actor.

        Safe to call twice (a second SIGTERM while stopping is ignored). Work still queued when the
        grace period ends is already committed as in flight, so recovery resumes it after a restart.
        """
        if not self._stopping.acquire(blocking=False):
            return
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        if self._server is not None:
            self._server.close()  # stop accepting requests; the ones being answered finish
        if self._ticker is not None:
            self._ticker.stop()  # no new wakes: from here on, only work already started moves
        if self.supervisor is not None and not self._drain(deadline):
            log.warning(
                "shutdown: work still in flight after %.0f s; recovery resumes it", self.settings.shutdown_grace_seconds
            )
        for pool in self._pools:
            pool.stop(deadline)
        if self.webhooks is not None:
            self.webhooks.stop(deadline)  # undelivered webhooks are rows: the next start sends them
        for ref in (self.supervisor, self._clock_ref):  # the supervisor first: its enrollments may still set wakes
            if ref is not None:
                with contextlib.suppress(pykka.Timeout):
                    ref.stop(block=True, timeout=STOP_TIMEOUT)
        for ref in pykka.ActorRegistry.get_all():
            ref.stop(block=False)  # the safety net; a worker stuck in a provider call is a daemon: no waiting for it
        if self.writer is not None:
            self.writer.close()  # after every actor: their last transitions are committed first
        if self._listener is not None:
            self._listener.stop()
        if self.keeper is not None:
            self.keeper.stop()  # after our last commit: the partitions move to the other nodes at once
        if self.db is not None:
            close_database(self.db)
        if self._sqlite_lock is not None:
            self._sqlite_lock.release()
        self._stopped.set()

    def _drain(self, deadline: float) -> bool:
        """Wait until no pool has a job and no actor holds an event that could make one; False at the deadline.

        Work cascades (written content → a send → the next step at once), so one quiet moment is not
        enough: after the pools are empty, an `ask` to the supervisor and then to every enrollment
        actor proves their inboxes are handled; if still no job was handed out meanwhile, all is done.
        """
        while time.monotonic() < deadline:
            if any(pool.in_flight() for pool in self._pools):
                time.sleep(0.02)
                continue
            taken = sum(pool.taken() for pool in self._pools)
            try:
                self.supervisor.ask(Stats(), timeout=max(deadline - time.monotonic(), 0.01))
                for ref in pykka.ActorRegistry.get_by_class(EnrollmentActor):
                    with contextlib.suppress(pykka.ActorDeadError):
                        ref.ask(Stats(), timeout=max(deadline - time.monotonic(), 0.01))
            except pykka.Timeout:
                return False
            if taken == sum(pool.taken() for pool in self._pools) and not any(p.in_flight() for p in self._pools):
                return True
        return False
