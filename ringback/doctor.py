"""`ringback doctor`: check every outside dependency and say plainly what is missing."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from ringback.config import Settings
from ringback.engine.model import Channel
from ringback.node import build_providers
from ringback.providers.channels.base import SendError
from ringback.storage import accounts
from ringback.storage.db import open_database, ping, sqlite_path
from ringback.storage.migrations import latest_known, schema_version
from ringback.storage.models import database_proxy


def _check(label: str, action: Callable[[], str]) -> bool:
    try:
        detail = action()
        print(f"  ok    {label}: {detail}")
        return True
    except (SendError, OSError, RuntimeError, ValueError) as error:
        print(f"  FAIL  {label}: {error}")
        return False


def _database(settings: Settings) -> str:
    """Reach the database and read its schema version; never create or migrate it (doctor only looks)."""
    url = settings.resolved_database_url
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise RuntimeError(
            f"no database at {path}: pass --data-dir (or --database-url) of your installation, "
            "or create one with `ringback init`"
        )
    db = open_database(url)
    if not ping(db):
        raise RuntimeError("cannot reach the database")
    version, known = schema_version(db), latest_known()
    if version > known:
        raise RuntimeError(f"schema version {version} is newer than this ringback ({known}): run the newer version")
    pending = f"; {known - version} migration(s) pending, applied at the next start" if version < known else ""
    return f"schema version {version}{pending}"


def _smtp(settings: Settings) -> str:
    build_providers(settings).mailer.check_login()
    return f"{settings.smtp_host}:{settings.smtp_port} ({settings.smtp_tls}) accepted the connection"


def _twilio(settings: Settings) -> str:
    build_providers(settings).live_channels[Channel.SMS].check_credentials()
    return "credentials accepted"


def _cohere(settings: Settings) -> str:
    import cohere

    client = cohere.ClientV2(
        api_key=settings.cohere_api_key,
        base_url=settings.cohere_base_url,
        timeout=settings.llm_timeout_seconds,
    )
    try:
        result = client.check_api_key()
    except Exception as error:  # the SDK raises many types; doctor only reports
        raise RuntimeError(f"the API key check failed: {type(error).__name__}") from None
    if not getattr(result, "valid", False):
        raise RuntimeError("Cohere says the API key is not valid")
    return f"key valid; model {settings.cohere_model}"


def _openai(settings: Settings) -> str:
    """Reachable and serving the model: GET /models lists what the server serves (Ollama, vLLM, llama.cpp's
    server and LM Studio all answer it), without spending a generation."""
    from ringback.providers.llm.openai_writer import auth_headers, openai_client

    client = openai_client(settings.openai_base_url, settings.openai_api_key, settings.llm_timeout_seconds)
    try:
        served = [model.id for model in client.models.list(extra_headers=auth_headers(settings.openai_api_key))]
    except Exception as error:  # the SDK raises many types; doctor only reports
        status = getattr(error, "status_code", None)
        raise RuntimeError(
            f"GET {settings.openai_base_url}/models failed: {type(error).__name__}"
            + (f" (HTTP {status})" if status else "")
        ) from None
    if settings.openai_model not in served:
        listed = ", ".join(served[:10]) or "none"
        raise RuntimeError(f"the server does not serve {settings.openai_model!r} (it lists: {listed})")
    return f"{settings.openai_base_url} serves {settings.openai_model}"


def _redacted(url: str) -> str:
    """The URL without its password, fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


def run_checks(settings: Settings) -> int:
    print("ringback doctor")
    ok = _check(f"database {_redacted(settings.resolved_database_url)}", lambda: _database(settings))
    if settings.smtp_host:
        ok &= _check("smtp", lambda: _smtp(settings))
    else:
        print(
            "  warn  smtp: RINGBACK_SMTP_HOST is not set: live email steps are refused and review emails "
            "are only logged"
        )
    if settings.twilio_account_sid and settings.twilio_auth_token:
        ok &= _check("twilio", lambda: _twilio(settings))
    else:
        print("  warn  twilio: RINGBACK_TWILIO_ACCOUNT_SID/AUTH_TOKEN not set: live SMS and voice steps are refused")
    provider = settings.resolved_llm_provider
    if provider == "cohere":
        ok &= _check("llm cohere", lambda: _cohere(settings))
    elif provider == "openai":
        ok &= _check("llm openai", lambda: _openai(settings))
    else:
        print("  warn  llm: RINGBACK_LLM_PROVIDER is offline: the offline writer composes every message")
    if ok and schema_version(database_proxy.obj) == latest_known():  # an older schema lacks today's columns
        for ws in accounts.list_workspaces():
            if not ws.admin_emails:
                print(f"  warn  workspace {ws.id} ({ws.name}) has no admin email: review requests only reach the log")
    print("all required checks passed" if ok else "some checks failed")
    return 0 if ok else 1
