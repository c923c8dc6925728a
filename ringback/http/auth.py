"""API-key authentication and authorisation for ``/api/`` routes.

Everything outside ``/api/`` (health, metrics, webhooks, unsubscribe and review pages) is public here and does
its own checks (Twilio signatures, signed tokens).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import falcon

from ringback.http import errors

API_PREFIX = "/api/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Route prefixes that need a plan feature on top of ``api_access``.
_FEATURE_PREFIXES = (("/api/v1/sequences", "sequences"), ("/api/v1/review-queue", "sequences"))

# The shape of a key; anything else is refused without asking the resolver (and the database).
_KEY_RE = re.compile(r"^ck_(?:live|test)_[A-Za-z0-9_-]{8,128}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the workspace behind the API key, and what the key and the plan allow."""

    workspace_id: str
    key_id: str
    mode: Literal["live", "test"]
    scopes: frozenset[str]
    features: frozenset[str]


KeyResolver = Callable[[str], Principal | None]


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def is_write(method: str) -> bool:
    return method in WRITE_METHODS


def required_features(path: str) -> tuple[str, ...]:
    extra = tuple(
        feature for prefix, feature in _FEATURE_PREFIXES if path == prefix or path.startswith(prefix + "/")
    )
    return ("api_access", *extra)


def bearer_key(header: str | None) -> str | None:
    """The plain key from ``Authorization: Bearer ck_...``, or None when absent or malformed."""
    if not header:
        return None
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not _KEY_RE.match(key):
        return None
    return key


class AuthMiddleware:
    """Resolves the key to a :class:`Principal` on ``req.context.principal`` and enforces scope and plan.

    It runs in ``process_resource`` (after routing) so 401/403 answers are counted under their route
    template; unknown ``/api/`` paths therefore answer 404 whether or not a key is sent.
    The resolver gets the plain key and does the hashing; the key itself is never logged.
    """

    def __init__(self, resolve_key: KeyResolver) -> None:
        self._resolve_key = resolve_key

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, Any]
    ) -> None:
        if not is_api_path(req.path):
            return
        key = bearer_key(req.get_header("Authorization"))
        principal = self._resolve_key(key) if key else None
        if principal is None:
            raise errors.unauthorized()
        req.context.principal = principal

        scope = "write" if is_write(req.method) else "read"
        if scope not in principal.scopes:
            raise errors.forbidden(f"this API key lacks the '{scope}' scope", {"scope": scope})
        for feature in required_features(req.path):
            if feature not in principal.features:
                raise errors.forbidden(
                    f"your plan does not include the '{feature}' feature", {"feature": feature}
                )
