"""SSRF guard for webhook URLs: https only, public addresses only, unless private targets are allowed.

A customer chooses the URL, so without this a webhook could make the server call its own admin
interfaces, the cloud metadata service or the LAN. The name is resolved again before every send and
the connection goes to the address checked here, so a DNS answer cannot change between the check and
the connect (no rebinding window).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ringback.engine import fields

Resolver = Callable[..., list[tuple[Any, ...]]]  # socket.getaddrinfo's shape


class UnsafeUrl(ValueError):
    """The URL may not be called; the message says why, for a 422 or a delivery's error."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written: the Host header and the TLS server name
    port: int
    path: str  # path and query
    address: str  # the checked IP address to connect to


def parse(url: str, allow_private: bool) -> tuple[str, str, int, str]:
    """Shape checks that need no DNS: (scheme, host, port, path)."""
    if not isinstance(url, str) or not url or len(url) > fields.WEBHOOK_URL:
        raise UnsafeUrl(f"url must be an absolute URL of at most {fields.WEBHOOK_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl(f"url is not a valid URL: {error}") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeUrl("url must use https" if not allow_private else "url must use http or https")
    if not parts.hostname:
        raise UnsafeUrl("url has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("url must not carry credentials; use the signing secret to authenticate us")
    if parts.fragment:
        raise UnsafeUrl("url must not have a fragment")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(url: str, allow_private: bool, resolver: Resolver = socket.getaddrinfo) -> Target:
    """Check `url` and resolve its host now; every address the name has must be public (one private
    answer among public ones is how rebinding attacks hide)."""
    scheme, host, port, path = parse(url, allow_private)
    try:
        answers = resolver(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeUrl(f"the host {host!r} does not resolve") from None
    addresses = [answer[4][0] for answer in answers]
    if not addresses:
        raise UnsafeUrl(f"the host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise UnsafeUrl(
                    f"the host {host!r} resolves to a private, loopback or reserved address; "
                    "set RINGBACK_WEBHOOK_ALLOW_PRIVATE_URLS=true for receivers on your own network"
                )
    return Target(scheme, host, port, path, addresses[0])
