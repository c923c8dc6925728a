"""`ringback doctor`: check every outside dependency and say plainly what is missing."""

from __future__ import annotations

from collections.abc import Callable

from ringback.config import Settings
from ringback.engine.model import Channel
from ringback.node import build_providers
from ringback.providers.channels.base import SendError
from ringback.storage import accounts
from ringback.storage.db import open_database, ping
from ringback.storage.migrations import migrate


def _check(label: str, action: Callable[[], str]) -> bool:
    try:
        detail = action()
        print(f"  ok    {label}: {detail}")
        return True
    except (SendError, OSError, RuntimeError, ValueError) as error:
        print(f"  FAIL  {label}: {error}")
        return False


def _database(settings: Settings) -> str:
    db = open_database(settings.resolved_database_url)
    if not ping(db):
        raise RuntimeError("cannot reach the database")
    return f"schema version {migrate(db)}"


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


def run_checks(settings: Settings) -> int:
    print("ringback doctor")
    ok = _check("database", lambda: _database(settings))
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
    if settings.cohere_api_key:
        ok &= _check("cohere", lambda: _cohere(settings))
    else:
        print("  warn  llm: RINGBACK_COHERE_API_KEY not set: the offline writer composes every message")
    if ok:
        for ws in accounts.list_workspaces():
            if not ws.admin_emails:
                print(f"  warn  workspace {ws.id} ({ws.name}) has no admin email: review requests only reach the log")
    print("all required checks passed" if ok else "some checks failed")
    return 0 if ok else 1
