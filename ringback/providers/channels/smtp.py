"""Email over SMTP: yagmail connects and logs in, we build the MIME message ourselves.

yagmail 0.16's own `send` is unfit for outreach (DESIGN §11): its text/plain alternative is the
raw HTML and after a disconnect it sleeps, retries and returns `False` instead of raising. So we
build a proper `multipart/alternative` with `email.message.EmailMessage` and hand it to the SMTP
connection yagmail opened (`yag.smtp.send_message`), which raises on every refusal. Only a
completed DATA exchange counts as sent.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from email import policy as email_policy
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import formatdate
from html import escape
from typing import Literal

import yagmail

from ringback.providers.channels.base import (
    OutboundMessage,
    PermanentSendError,
    Receipt,
    SendError,
    TransientSendError,
)

TlsMode = Literal["none", "starttls", "ssl"]
FALLBACK_DOMAIN = "ringback.invalid"


class _UrlListHeader(UnstructuredHeader):
    """List-Unsubscribe: `<url>, <mailto:...>`; URLs must stay intact, so fold only between them.

    The stock folder RFC 2047-encodes any token longer than a line, which would turn a long
    one-click URL into `=?utf-8?q?...?=` that no mail client recognises.
    """

    def fold(self, *, policy: email_policy.Policy) -> str:
        entries = re.split(r"(?<=>)\s*,\s*", str(self))
        return f"{self.name}: " + f",{policy.linesep} ".join(entries) + policy.linesep


def _mail_policy() -> email_policy.EmailPolicy:
    registry = HeaderRegistry()
    registry.map_to_type("list-unsubscribe", _UrlListHeader)
    return email_policy.default.clone(header_factory=registry)


MAIL_POLICY = _mail_policy()


class SmtpChannel:
    """The email channel, also used for admin notifications (`send_email`)."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        tls: TlsMode = "none",
        user: str | None = None,
        password: str | None = None,
        timeout_seconds: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if user and password is None:
            # yagmail would fall back to the keyring and then an interactive password prompt.
            raise ValueError("an SMTP user needs a password")
        self._host = host
        self._port = port
        self._tls = tls
        self._user = user or None
        self._password = password
        self._timeout = timeout_seconds
        self._ssl_context = ssl_context or ssl.create_default_context()

    def send(self, message: OutboundMessage) -> Receipt:
        message_id = message.message_id or f"<{message.step_id}@{_domain_of(message.sender_address)}>"
        sent_id = self.send_email(
            message.to,
            message.subject or "",
            message.body,
            sender_name=message.sender_name,
            sender_address=message.sender_address,
            message_id=message_id,
            headers=_unsubscribe_headers(message.unsubscribe_url, message.unsubscribe_mailto),
        )
        return Receipt(self.name, sent_id)

    def send_email(
        self,
        to: str,
        subject: str,
        text: str,
        html: str | None = None,
        *,
        sender_name: str,
        sender_address: str,
        message_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Send one email (HTML rendered from `text` unless given) and return its Message-ID."""
        msg = build_email(
            to,
            subject,
            text,
            html,
            sender_name=sender_name,
            sender_address=sender_address,
            message_id=message_id,
            headers=headers or {},
        )
        with self._session() as yag:
            yag.smtp.send_message(msg, from_addr=sender_address, to_addrs=[to])
        return str(msg["Message-ID"])

    def check_login(self) -> None:
        """Connect, negotiate TLS and log in, for `ringback doctor`; raises a SendError if that fails."""
        with self._session() as yag:
            yag.smtp.noop()

    @contextlib.contextmanager
    def _session(self) -> Iterator[yagmail.SMTP]:
        """One connection per send: threads never share a socket and a dead one is never reused."""
        yag = yagmail.SMTP(
            # A dict keeps the login name as given; a bare string without "@" gets "@gmail.com" appended.
            user={self._user: self._user} if self._user else None,
            password=self._password,
            host=self._host,
            port=self._port,
            smtp_ssl=self._tls == "ssl",
            smtp_starttls={"context": self._ssl_context} if self._tls == "starttls" else False,
            smtp_skip_login=self._user is None,
            soft_email_validation=False,
            timeout=self._timeout,
            **({"context": self._ssl_context} if self._tls == "ssl" else {}),
        )
        try:
            yag.login()
            yield yag
        except (smtplib.SMTPException, OSError) as exc:
            raise _send_error(exc) from exc
        finally:
            # The message is already accepted (or refused) by now; a failed QUIT changes nothing.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                yag.close()


def build_email(
    to: str,
    subject: str,
    text: str,
    html: str | None,
    *,
    sender_name: str,
    sender_address: str,
    message_id: str,
    headers: Mapping[str, str],
) -> EmailMessage:
    """A `multipart/alternative` message: the text as written, and the same text as escaped HTML."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = Address(display_name=_one_line(sender_name), addr_spec=sender_address)
    msg["To"] = to
    msg["Subject"] = _one_line(subject)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    for name, value in headers.items():
        msg[name] = _one_line(value)
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html or text_to_html(text), subtype="html", cte="quoted-printable")
    return msg


_URL = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)\]]")


def text_to_html(text: str) -> str:
    """Blank-line-separated paragraphs become `<p>`, line breaks `<br>`, URLs links; all text escaped."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(_linkify(line) for line in p.splitlines()) + "</p>" for p in paragraphs
    )
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}\n</body></html>\n'


def _linkify(line: str) -> str:
    pieces, last = [], 0
    for match in _URL.finditer(line):
        url = escape(match.group())
        pieces += [escape(line[last : match.start()]), f'<a href="{url}">{url}</a>']
        last = match.end()
    pieces.append(escape(line[last:]))
    return "".join(pieces)


def _unsubscribe_headers(url: str, mailto: str) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe, plus RFC 8058 one-click when there is an HTTPS endpoint to POST to."""
    targets = []
    if url:
        targets.append(f"<{url}>")
    if mailto:
        targets.append(f"<{mailto if mailto.startswith('mailto:') else 'mailto:' + mailto}>")
    if not targets:
        return {}
    headers = {"List-Unsubscribe": ", ".join(targets)}
    if url:
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def _one_line(value: str) -> str:
    """Header values from generated content must not smuggle in extra headers."""
    return " ".join(value.split())


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2] or FALLBACK_DOMAIN


def _send_error(exc: Exception) -> SendError:
    """SMTP 4xx and network trouble are worth retrying; 5xx replies are the server's final word."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return _reply_error(code, reply)
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_error(exc.smtp_code, exc.smtp_error)
    # smtplib reports a read timeout as a disconnect; the timeout is the useful part.
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return TransientSendError(f"SMTP timeout: {exc}", code="smtp_timeout")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransientSendError(f"SMTP server disconnected: {exc}", code="smtp_disconnected")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return PermanentSendError(f"SMTP server lacks a required extension: {exc}", code="smtp_unsupported")
    return TransientSendError(f"SMTP connection failed: {exc}", code="smtp_connect")


def _reply_error(code: int, reply: bytes | str) -> SendError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    error_class = PermanentSendError if 500 <= code < 600 else TransientSendError
    return error_class(f"SMTP {code} {text}", code=f"smtp_{code}")
