"""One-click unsubscribe (RFC 8058) behind the `List-Unsubscribe` link of every email step.

`POST /u/{token}` with `List-Unsubscribe=One-Click` (form-urlencoded or multipart, as mail clients
send it) unsubscribes at once: 200, no redirect, no login. `GET` only shows a page whose button
makes that same POST, because mail scanners and link previews fetch URLs and must change nothing.

Scope: the email channel is suppressed (the header belongs to an email, and RFC 8058 is about
mail), and every open enrollment of the contact is stopped, so no SMS or call of those sequences
follows either. SMS has its own opt-out (STOP); a customer can suppress everything with an
`opted_out` contact event.
"""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from html import escape
from urllib.parse import parse_qs

import falcon

from ringback.clock import Clock
from ringback.commands.contact_events import ContactEvent, ContactEvents
from ringback.engine.model import Channel
from ringback.tokens import TokenExpired, TokenInvalid, TokenSigner

UNSUBSCRIBED = ContactEvent("unsubscribed by email", (Channel.EMAIL,), opt_out="email_link")
ONE_CLICK = ("List-Unsubscribe", "One-Click")

# The URL holds the token: keep it out of caches, search engines and Referer headers.
_PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 4em auto; padding: 0 1em">
<h1>{title}</h1><p>{text}</p>{form}</body></html>
"""
_FORM = (
    f'<form method="post"><input type="hidden" name="{ONE_CLICK[0]}" value="{ONE_CLICK[1]}">'
    '<button type="submit">Unsubscribe</button></form>'
)


def _page(resp: falcon.Response, status: int, title: str, text: str, form: str = "") -> None:
    resp.status = status
    resp.set_headers(_PRIVATE_HEADERS)
    resp.content_type = falcon.MEDIA_HTML
    resp.text = _PAGE.format(title=escape(title), text=escape(text), form=form)


def is_one_click(content_type: str, body: bytes) -> bool:
    """True when the form body carries `List-Unsubscribe=One-Click`, in either encoding RFC 8058 allows."""
    name, value = ONE_CLICK
    if content_type.lower().startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        return message.is_multipart() and any(
            part.get_param("name", header="content-disposition") == name
            and (part.get_payload(decode=True) or b"").strip() == value.encode()
            for part in message.iter_parts()
        )
    return value in parse_qs(body.decode("utf-8", errors="replace")).get(name, [])


class UnsubscribeResource:
    """`/u/{token}`: the token is `signer.sign("unsubscribe", contact_id, None)` (it does not expire)."""

    def __init__(self, signer: TokenSigner, events: ContactEvents, clock: Clock) -> None:
        self._signer = signer
        self._events = events
        self._clock = clock

    def _contact(self, resp: falcon.Response, token: str) -> str | None:
        try:
            return self._signer.verify(token, "unsubscribe", self._clock.now())
        except (TokenInvalid, TokenExpired):
            _page(resp, 403, "Link not valid", "This unsubscribe link is not valid. Use the link in the email.")
            return None

    def on_get(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        if self._contact(resp, token) is not None:
            _page(resp, 200, "Unsubscribe", "Stop receiving these emails from us?", _FORM)

    def on_post(self, req: falcon.Request, resp: falcon.Response, token: str) -> None:
        contact_id = self._contact(resp, token)
        if contact_id is None:
            return
        if not is_one_click(req.content_type or "", req.bounded_stream.read()):
            _page(resp, 400, "Unsubscribe", "The request did not ask to unsubscribe (List-Unsubscribe=One-Click).")
            return
        self._events.record([contact_id], UNSUBSCRIBED)
        _page(resp, 200, "Unsubscribed", "You will not receive further emails from us.")
