"""Settings: one frozen object built from defaults < TOML file < RINGBACK_* environment variables.

Every field documents itself; ``ringback serve --help`` prints this table. Secrets may also be
read from a file named by ``RINGBACK_<NAME>_FILE`` (Docker/Kubernetes secrets) and are never logged.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "RINGBACK_"
LLM_PROVIDERS = ("offline", "cohere", "openai")


def default_llm_provider(cohere_api_key: str | None) -> str:
    """Without an explicit choice: Cohere when its key is set (as before the choice existed), else offline."""
    return "cohere" if cohere_api_key else "offline"


def _setting(default: Any, help: str, secret: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "secret": secret})


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    host: str = _setting("127.0.0.1", "Address the HTTP server binds to.")
    port: int = _setting(8080, "Port the HTTP server listens on.")
    threads: int = _setting(8, "waitress worker threads.")
    connection_limit: int = _setting(
        500, "Open HTTP connections at most; beyond it new ones wait. Put a reverse proxy in front on the internet."
    )
    channel_timeout_seconds: int = _setting(
        20, "An idle connection, or one whose request has not fully arrived, is closed after this many seconds."
    )
    data_dir: str = _setting("./var", "Directory for the SQLite database and the server secret.")
    database_url: str | None = _setting(
        None,
        "Database URL; default sqlite:///<data_dir>/ringback.db. postgresql://... needs the [postgres] extra.",
    )
    public_url: str | None = _setting(
        None,
        "Base URL the outside world uses to reach us (links in emails, Twilio callbacks). Default http://host:port.",
    )
    secret_key: str | None = _setting(
        None,
        "Server secret for review and unsubscribe links and erased-address hashes; generated into "
        "<data_dir>/secret.key if unset.",
        True,
    )
    log_level: str = _setting("INFO", "Python logging level.")
    max_body_bytes: int = _setting(65536, "Largest accepted request body in bytes (413 above).")
    writes_per_minute: int = _setting(60, "Write requests per API key per rolling minute.")
    reads_per_minute: int = _setting(120, "Read requests per API key per rolling minute.")
    idempotency_ttl_hours: int = _setting(48, "How long idempotency keys are remembered (at least 24).")
    retention_notes_days: int = _setting(
        0, "Contact notes older than this many days are purged (hourly); 0 keeps them (docs/privacy.md)."
    )
    retention_content_days: int = _setting(
        0, "Generated step content of enrollments finished this many days ago is purged (hourly); 0 keeps it."
    )
    demo: bool = _setting(
        True, "On first start with an empty database, create a demo workspace, key and template."
    )

    llm_provider: str | None = _setting(
        None,
        "Who writes the sequences: offline, cohere or openai (any OpenAI-compatible server: Ollama, vLLM, "
        "llama.cpp, LM Studio). Default: cohere when a Cohere API key is set, else offline.",
    )
    cohere_api_key: str | None = _setting(
        None, "Cohere API key; needed by the cohere provider (and makes it the default).", True
    )
    cohere_model: str = _setting("command-a-03-2025", "Cohere chat model.")
    cohere_base_url: str | None = _setting(None, "Cohere API base URL (proxies, compatible gateways).")
    openai_base_url: str | None = _setting(
        None, "Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1 (Ollama); openai provider."
    )
    openai_model: str | None = _setting(None, "Model the OpenAI-compatible server serves, e.g. llama3.1:8b.")
    openai_api_key: str | None = _setting(
        None, "API key of the OpenAI-compatible server; leave unset for local servers that need none.", True
    )
    llm_timeout_seconds: float = _setting(20.0, "Timeout of one LLM call.")
    llm_max_retries: int = _setting(
        2, "Retries of a failed LLM call before falling back to the offline writer."
    )
    llm_simulated_latency_seconds: float = _setting(
        0.0, "Extra delay per LLM call (benchmarks and fault-injection tests only)."
    )

    smtp_host: str | None = _setting(None, "SMTP server for email steps and admin review emails.")
    smtp_port: int = _setting(25, "SMTP port.")
    smtp_tls: str = _setting("none", "SMTP transport security: none, starttls or ssl.")
    smtp_user: str | None = _setting(None, "SMTP login user.")
    smtp_password: str | None = _setting(None, "SMTP login password.", True)
    smtp_from: str = _setting("ringback@localhost", "From address of admin review emails.")
    smtp_timeout_seconds: float = _setting(15.0, "SMTP connect/send timeout.")

    twilio_account_sid: str | None = _setting(None, "Twilio account SID for SMS and voice.")
    twilio_auth_token: str | None = _setting(
        None, "Twilio auth token (also checks webhook signatures).", True
    )
    twilio_api_base: str | None = _setting(
        None, "Twilio REST base URL (egress proxy, tests); default Twilio's own."
    )
    twilio_timeout_seconds: float = _setting(15.0, "Timeout of one Twilio API call.")
    voice_machine_detection: str = _setting(
        "voicemail", "Answering machines: voicemail (voicemail script after the beep), hangup, or off."
    )
    reply_stops_sequence: bool = _setting(
        True, "An inbound SMS that is not a keyword stops the contact's sequences."
    )

    fast_path_split_first_step: bool = _setting(
        True, "With auto_approve, write step 1 alone first (one short LLM call) and the rest meanwhile."
    )
    db_connections: int = _setting(
        24, "Database connections the node may hold for reads (the group-commit writer holds one more)."
    )
    write_timeout_seconds: float = _setting(
        30.0, "How long a request waits for its write to commit before answering 503 (the write still lands)."
    )
    node_id: str = _setting(
        "", "Cluster mode (PostgreSQL): this node's unique name; default <hostname>-<pid>. Reuse it on restart."
    )
    lease_seconds: float = _setting(
        15.0, "Cluster mode: partition lease; a dead node's enrollments move to the others after this long."
    )
    generator_pool_size: int = _setting(4, "Generator actors (parallel LLM calls).")
    dispatcher_pool_size: int = _setting(4, "Dispatcher actors (parallel channel sends).")
    notifier_pool_size: int = _setting(2, "Notifier actors (admin emails).")
    max_live_enrollments: int = _setting(1000, "Cap on live enrollment actors; work beyond it queues.")
    passivate_after_seconds: float = _setting(
        60.0, "An enrollment whose next step is further away than this releases its actor."
    )
    tick_seconds: float = _setting(0.1, "Clock resolution for scheduled steps.")
    recovery_rate_per_second: float = _setting(
        200.0, "Enrollments re-activated per second: resumed at start-up or woken when a step comes due."
    )
    send_max_attempts: int = _setting(5, "Attempts of one step before it is marked failed.")
    retry_base_seconds: float = _setting(5.0, "First retry delay; doubles each attempt, with jitter.")
    review_token_ttl_days: int = _setting(7, "How long a review link stays valid.")
    shutdown_grace_seconds: float = _setting(10.0, "How long shutdown waits for in-flight sends.")
    webhook_allow_private_urls: bool = _setting(
        False, "Webhook endpoints may use http and private or loopback addresses (receivers on your LAN, tests)."
    )
    webhook_dispatcher_threads: int = _setting(2, "Threads delivering outbound webhooks (parallel POSTs).")
    event_retention_days: int = _setting(30, "How long events stay in the event feed (GET /api/v1/events).")
    faults: str = _setting(
        "", "Test-only: fault points where the process kills itself (point:pass,...; docs/operations.md)."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir).resolve() / 'ringback.db'}"

    @property
    def resolved_node_id(self) -> str:
        return self.node_id or f"{socket.gethostname()}-{os.getpid()}"

    @property
    def resolved_llm_provider(self) -> str:
        return self.llm_provider or default_llm_provider(self.cohere_api_key)

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def help_rows(cls) -> list[tuple[str, str, str]]:
        """(variable, default as shown, meaning) per setting: `serve --help` and the README's table."""
        rows = []
        for f in dataclasses.fields(cls):
            default = "(secret)" if f.metadata["secret"] else str(f.default)
            rows.append((f"{ENV_PREFIX}{f.name.upper()}", default, f.metadata["help"]))
        return rows

    @classmethod
    def describe(cls) -> str:
        """A help table of every setting, for ``ringback serve --help``."""
        return "\n".join(f"  {name:43} {meaning} [default: {default}]" for name, default, meaning in cls.help_rows())


def _coerce(name: str, annotation: Any, raw: Any) -> Any:
    hint = annotation
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        if raw is None or raw == "":
            return None
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    try:
        if hint is bool:
            if isinstance(raw, bool):
                return raw
            lowered = str(raw).strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        return hint(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}: cannot read {raw!r} as {hint.__name__}") from None


def load_settings(
    env: Mapping[str, str] | None = None, config_file: str | None = None, **overrides: Any
) -> Settings:
    """Build Settings from defaults, an optional TOML file, the environment and explicit overrides."""
    env = os.environ if env is None else env
    hints = typing.get_type_hints(Settings)
    values: dict[str, Any] = {}
    if config_file:
        try:
            with open(config_file, "rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise SettingsError(f"{config_file}: {error}") from None
        unknown = set(data) - set(hints)
        if unknown:
            raise SettingsError(f"{config_file}: unknown settings {sorted(unknown)}")
        values.update(data)
    for name in hints:
        key = ENV_PREFIX + name.upper()
        if key in env:
            values[name] = env[key]
        elif key + "_FILE" in env:
            try:
                values[name] = Path(env[key + "_FILE"]).read_text().strip()
            except OSError as error:
                raise SettingsError(f"{key}_FILE: cannot read {env[key + '_FILE']!r}: {error.strerror}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**{name: _coerce(name, hints[name], raw) for name, raw in values.items()})
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    _check_llm(settings)
    if settings.smtp_tls not in {"none", "starttls", "ssl"}:
        raise SettingsError("RINGBACK_SMTP_TLS must be none, starttls or ssl")
    if settings.voice_machine_detection not in {"voicemail", "hangup", "off"}:
        raise SettingsError("RINGBACK_VOICE_MACHINE_DETECTION must be voicemail, hangup or off")
    if settings.idempotency_ttl_hours < 24:
        raise SettingsError("RINGBACK_IDEMPOTENCY_TTL_HOURS must be at least 24")
    if settings.write_timeout_seconds <= 0:
        raise SettingsError("RINGBACK_WRITE_TIMEOUT_SECONDS must be more than 0")
    if settings.lease_seconds < 3:
        raise SettingsError("RINGBACK_LEASE_SECONDS must be at least 3 (leases are renewed every third of it)")
    if len(settings.node_id) > 200:
        raise SettingsError("RINGBACK_NODE_ID must be at most 200 characters")
    for name in ("retention_notes_days", "retention_content_days"):
        if getattr(settings, name) < 0:
            raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be 0 (off) or a number of days")
    if not 0 <= settings.port <= 65535:
        raise SettingsError("RINGBACK_PORT must be from 0 (any free port) to 65535")
    for name in (
        "threads",
        "connection_limit",
        "channel_timeout_seconds",
        "max_body_bytes",
        "writes_per_minute",
        "reads_per_minute",
        "generator_pool_size",
        "dispatcher_pool_size",
        "notifier_pool_size",
        "max_live_enrollments",
        "send_max_attempts",
        "db_connections",
        "webhook_dispatcher_threads",
        "event_retention_days",
    ):
        if getattr(settings, name) < 1:
            raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be at least 1")


def _check_llm(settings: Settings) -> None:
    """An explicit provider must have what it needs: failing at start-up beats silently writing offline."""
    provider = settings.resolved_llm_provider
    if provider not in LLM_PROVIDERS:
        raise SettingsError(f"RINGBACK_LLM_PROVIDER must be one of {', '.join(LLM_PROVIDERS)}, not {provider!r}")
    if provider == "cohere" and not settings.cohere_api_key:
        raise SettingsError("RINGBACK_LLM_PROVIDER=cohere needs RINGBACK_COHERE_API_KEY (or _FILE)")
    missing = [name for name in ("openai_base_url", "openai_model") if not getattr(settings, name)]
    if provider == "openai" and missing:
        needed = " and ".join(f"{ENV_PREFIX}{name.upper()}" for name in missing)
        raise SettingsError(f"RINGBACK_LLM_PROVIDER=openai needs {needed}")
