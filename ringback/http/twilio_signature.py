"""Proof that a webhook request comes from Twilio: `X-Twilio-Signature` over the URL and the form.

Twilio signs the full URL it called (our public base URL, the path and the query string exactly as
configured) followed by every POST parameter, with the account's auth token. Behind a proxy or
tunnel the URL we were reached at differs from that one, so the check always uses
`public_url` + path + query; a wrong `RINGBACK_PUBLIC_URL` shows up as 403s (logged with the URL).

The app's media handlers only parse JSON, so the form-encoded body is read and parsed here.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import falcon
from twilio.request_validator import RequestValidator

from ringback.http.errors import forbidden

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Twilio-Signature"


class _Form(dict[str, list[str]]):
    """Parsed form values; `getlist` lets RequestValidator sign repeated parameters as Twilio does."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


class TwilioRequestVerifier:
    def __init__(self, auth_token: str | None, public_url: str) -> None:
        self._validator = RequestValidator(auth_token) if auth_token else None
        self._public_url = public_url.rstrip("/")

    def signed_url(self, req: falcon.Request) -> str:
        """The URL Twilio called, as it signed it."""
        query = req.query_string
        return f"{self._public_url}{req.path}" + (f"?{query}" if query else "")

    def form(self, req: falcon.Request) -> dict[str, str]:
        """The posted parameters (first value of each) of a request Twilio signed; 403 otherwise."""
        raw = req.bounded_stream.read().decode("utf-8", errors="replace")
        parsed = _Form(parse_qs(raw, keep_blank_values=True))
        if self._validator is None:
            log.warning("refused a Twilio webhook: no Twilio auth token is configured")
            raise forbidden("Twilio webhooks need RINGBACK_TWILIO_AUTH_TOKEN")
        signature = req.get_header(SIGNATURE_HEADER) or ""
        url = self.signed_url(req)
        if not signature or not self._validator.validate(url, parsed, signature):
            log.warning("refused a Twilio webhook with a missing or wrong signature for %s", url)
            raise forbidden("missing or invalid Twilio signature")
        # NUL cannot reach PostgreSQL (a number or message body with one would fail the lookup); the signature
        # was checked on the values as sent.
        return {name: values[0].replace("\x00", "") for name, values in parsed.items()}
