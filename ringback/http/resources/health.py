"""Liveness and readiness probes (public, unauthenticated)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import falcon

from ringback.http.errors import ApiError

log = logging.getLogger(__name__)


class HealthResource:
    """``GET /healthz``: the process answers HTTP; says nothing about its dependencies."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


class ReadyResource:
    """``GET /readyz``: every named check passes (database reachable, actors running, ...)."""

    def __init__(self, checks: Mapping[str, Callable[[], bool]]) -> None:
        self._checks = dict(checks)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        results = {name: _run(name, check) for name, check in self._checks.items()}
        failing = sorted(name for name, ok in results.items() if not ok)
        if failing:
            raise ApiError(
                503, "not_ready", f"not ready: {', '.join(failing)}", {"checks": results, "failing": failing}
            )
        resp.media = {"status": "ready", "checks": results}


def _run(name: str, check: Callable[[], bool]) -> bool:
    """A check that raises is a failing check, not a 500."""
    try:
        return bool(check())
    except Exception:
        log.warning("readiness check %r raised", name, exc_info=True)
        return False
