"""The SSRF guard: https and public addresses only, unless private targets are allowed; checked per send."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from ringback.providers.webhooks.address_guard import UnsafeUrl, is_public, parse, resolve
from ringback.providers.webhooks.sender import WebhookSender
from tests.fakes.webhook_receiver import WebhookReceiver


def answering(*addresses: str):
    """A resolver (getaddrinfo's shape) that answers these addresses and counts its calls."""
    calls: list[str] = []

    def resolver(host, port, type=0):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    resolver.calls = calls
    return resolver


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "::1", "fc00::1",
     "fe80::1", "::ffff:127.0.0.1", "100.64.0.1", "224.0.0.1"],
)
def test_private_loopback_link_local_and_reserved_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_are(address):
    assert is_public(address)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/x", "https"),
        ("ftp://hooks.example.com/x", "https"),
        ("https:///x", "no host"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://hooks.example.com/x#frag", "fragment"),
        ("https://hooks.example.com:99999/x", "not a valid URL"),
        ("", "absolute URL"),
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url, message):
    with pytest.raises(UnsafeUrl, match=message):
        parse(url, allow_private=False)


def test_the_setting_allows_http():
    assert parse("http://hooks.lan:8080/in?x=1", allow_private=True) == ("http", "hooks.lan", 8080, "/in?x=1")


@pytest.mark.parametrize("answers", [("127.0.0.1",), ("10.0.0.5",), ("93.184.215.14", "192.168.0.10")])
def test_a_name_with_any_private_answer_is_refused(answers):
    with pytest.raises(UnsafeUrl, match="private, loopback"):
        resolve("https://hooks.example.com/in", False, answering(*answers))


def test_a_public_name_resolves_to_the_address_to_connect_to():
    target = resolve("https://hooks.example.com/in", False, answering("93.184.215.14"))

    assert (target.host, target.port, target.path, target.address) == ("hooks.example.com", 443, "/in", "93.184.215.14")


def test_a_name_that_does_not_resolve_is_refused():
    def fails(*args, **kwargs):
        raise socket.gaierror("no such name")

    with pytest.raises(UnsafeUrl, match="does not resolve"):
        resolve("https://nowhere.invalid/", False, fails)


def test_every_send_resolves_again_and_connects_to_the_checked_address():
    resolver = answering("127.0.0.1")
    with WebhookReceiver() as receiver:
        sender = WebhookSender(allow_private=True, resolver=resolver)
        url = f"http://hooks.internal.example:{receiver.port}/in"
        results = [sender.send(url, "whsec_" + "A" * 44, f"evt_{n}", "{}") for n in range(2)]

        assert [r.ok for r in results] == [True, True]
        assert resolver.calls == ["hooks.internal.example", "hooks.internal.example"]
        assert [r.headers["host"] for r in receiver.received] == [f"hooks.internal.example:{receiver.port}"] * 2
        assert [len(r.response) for r in results] == [1024, 1024]  # the answer is read up to 1 KiB


def test_without_the_setting_a_name_turning_private_is_refused_before_connecting():
    with WebhookReceiver() as receiver:
        sender = WebhookSender(allow_private=False, resolver=answering("127.0.0.1"))

        result = sender.send(f"https://hooks.example.com:{receiver.port}/in", "whsec_" + "A" * 44, "evt_1", "{}")

        assert not result.ok
        assert "private, loopback" in result.error
        assert receiver.received == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for the name hooks.test."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=hooks.test",
         "-addext", "subjectAltName=DNS:hooks.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize(("name", "ok"), [("hooks.test", True), ("other.test", False)])
def test_https_goes_to_the_checked_address_and_verifies_the_certificate_for_the_name(certificate, name, ok):
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    with WebhookReceiver(tls=server) as receiver:
        sender = WebhookSender(
            allow_private=True, resolver=answering("127.0.0.1"), tls=ssl.create_default_context(cafile=str(cert))
        )

        result = sender.send(receiver.url(host=name), "whsec_" + "A" * 44, "evt_1", "{}")

        assert result.ok is ok
        assert len(receiver.received) == (1 if ok else 0)
