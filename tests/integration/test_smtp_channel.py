"""SmtpChannel (yagmail + our MIME) against a real aiosmtpd server on loopback."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from ringback.engine.model import Channel
from ringback.providers.channels.base import OutboundMessage, PermanentSendError, TransientSendError
from ringback.providers.channels.smtp import SmtpChannel
from tests.fakes.smtp_server import HOST, SmtpServer

SUBJECT = "¿Hablamos mañana sobre los precios, María?"
BODY = (
    "Hola María,\n\n"
    "Gracias por escribirnos desde Madrid. Aquí tiene los precios: https://acme.example/precios?plan=pro&x=1.\n"
    "¿Le viene bien una llamada?\n\n"
    "Un saludo,\nAna <Ventas> & equipo"
)


def lead_email(**overrides) -> OutboundMessage:
    fields = {
        "step_id": "01HXSTEP0000000000000001",
        "idempotency_token": "tok-1",
        "channel": Channel.EMAIL,
        "to": "maria@example.com",
        "body": BODY,
        "subject": SUBJECT,
        "language": "es",
        "sender_name": "Ana Pérez, Acme",
        "sender_address": "ana@acme.example",
        "message_id": "<01HXSTEP0000000000000001.1@acme.example>",
        "unsubscribe_url": "https://ringback.example/u/eyJzdGVwIjoiMDFIWFNURVAwMDAwMDAwMDAwMDAwMDAwMDEifQ.c2lnbmF0dXJl",
        "unsubscribe_mailto": "unsubscribe@acme.example",
    }
    return OutboundMessage(**(fields | overrides))


@pytest.fixture
def smtp_server():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def channel(smtp_server) -> SmtpChannel:
    return SmtpChannel(HOST, smtp_server.port, timeout_seconds=5)


def test_sends_a_proper_multipart_alternative_in_utf8(channel, smtp_server):
    receipt = channel.send(lead_email())

    [received] = smtp_server.wait_for(1)
    msg = received.message
    assert receipt.provider == "smtp"
    assert receipt.provider_id == "<01HXSTEP0000000000000001.1@acme.example>"
    assert msg["Message-ID"] == receipt.provider_id
    assert msg["From"].addresses[0].display_name == "Ana Pérez, Acme"
    assert msg["From"].addresses[0].addr_spec == "ana@acme.example"
    assert msg["To"] == "maria@example.com"
    assert msg["Subject"] == SUBJECT
    assert received.envelope_from == "ana@acme.example"
    assert received.recipients == ("maria@example.com",)
    assert msg.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in msg.iter_parts()] == ["text/plain", "text/html"]


def test_text_part_is_the_text_and_html_part_is_escaped_paragraphs(channel, smtp_server):
    channel.send(lead_email())

    msg = smtp_server.wait_for(1)[0].message
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert text.replace("\r\n", "\n").strip() == BODY
    assert "<p>" not in text and "<br>" not in text
    assert html.count("<p>") == 3
    assert "<p>Hola María,</p>" in html
    assert "Ana &lt;Ventas&gt; &amp; equipo" in html
    assert '<a href="https://acme.example/precios?plan=pro&amp;x=1">' in html


def test_one_click_unsubscribe_headers(channel, smtp_server):
    message = lead_email()
    channel.send(message)

    msg = smtp_server.wait_for(1)[0].message
    assert msg["List-Unsubscribe"] == f"<{message.unsubscribe_url}>, <mailto:unsubscribe@acme.example>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_no_unsubscribe_headers_without_an_unsubscribe_target(channel, smtp_server):
    channel.send(lead_email(unsubscribe_url="", unsubscribe_mailto=""))

    msg = smtp_server.wait_for(1)[0].message
    assert "List-Unsubscribe" not in msg and "List-Unsubscribe-Post" not in msg


def test_message_id_is_derived_from_the_step_when_missing(channel, smtp_server):
    receipt = channel.send(lead_email(message_id=""))

    assert receipt.provider_id == "<01HXSTEP0000000000000001@acme.example>"
    assert smtp_server.wait_for(1)[0].message["Message-ID"] == receipt.provider_id


def test_generated_header_values_cannot_add_headers(channel, smtp_server):
    channel.send(lead_email(subject="Hola\r\nBcc: victim@example.com", sender_name="Ana\nX-Evil: 1"))

    msg = smtp_server.wait_for(1)[0].message
    assert msg["Subject"] == "Hola Bcc: victim@example.com"
    assert "Bcc" not in msg and "X-Evil" not in msg
    assert smtp_server.received[0].recipients == ("maria@example.com",)


def test_admin_email_with_its_own_html(channel, smtp_server):
    message_id = channel.send_email(
        "admin@acme.example",
        "Review needed",
        "Approve: https://ringback.example/review/abc",
        html='<p>Approve: <a href="https://ringback.example/review/abc">review</a></p>',
        sender_name="ringback",
        sender_address="ringback@acme.example",
        message_id="review-abc@acme.example",
        headers={"X-Ringback-Kind": "review"},
    )

    msg = smtp_server.wait_for(1)[0].message
    assert message_id == "<review-abc@acme.example>" == msg["Message-ID"]
    assert msg["X-Ringback-Kind"] == "review"
    assert ">review</a>" in msg.get_body(("html",)).get_content()
    assert msg.get_body(("plain",)).get_content().rstrip() == "Approve: https://ringback.example/review/abc"


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_mailbox_unavailable_is_permanent(channel, smtp_server, stage):
    smtp_server.fail("maria@example.com", 550, "5.1.1 Mailbox unavailable", stage=stage)

    with pytest.raises(PermanentSendError) as caught:
        channel.send(lead_email())

    assert caught.value.code == "smtp_550"
    assert "Mailbox unavailable" in caught.value.message
    assert smtp_server.received == []


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_try_again_later_is_transient(channel, smtp_server, stage):
    smtp_server.fail("maria@example.com", 451, "4.7.1 Greylisted", stage=stage)

    with pytest.raises(TransientSendError) as caught:
        channel.send(lead_email())

    assert caught.value.code == "smtp_451"
    assert smtp_server.received == []


def test_connection_refused_is_transient():
    with socket.socket() as sock:  # a port that nobody listens on
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]

    with pytest.raises(TransientSendError) as caught:
        SmtpChannel(HOST, port, timeout_seconds=2).send(lead_email())

    assert caught.value.code == "smtp_connect"


def test_a_server_that_never_greets_times_out_as_transient():
    with socket.socket() as silent:  # accepts connections (backlog) but never speaks
        silent.bind((HOST, 0))
        silent.listen()
        channel = SmtpChannel(HOST, silent.getsockname()[1], timeout_seconds=0.3)

        with pytest.raises(TransientSendError) as caught:
            channel.send(lead_email())

    assert caught.value.code == "smtp_timeout"


def test_login_with_auth():
    with SmtpServer(users={"apikey": "s3cret"}) as server:
        channel = SmtpChannel(HOST, server.port, user="apikey", password="s3cret", timeout_seconds=5)
        channel.check_login()
        channel.send(lead_email())

        assert server.wait_for(1)[0].login == "apikey"


def test_wrong_password_is_permanent():
    with SmtpServer(users={"apikey": "s3cret"}) as server:
        channel = SmtpChannel(HOST, server.port, user="apikey", password="wrong", timeout_seconds=5)

        with pytest.raises(PermanentSendError) as caught:
            channel.check_login()
        with pytest.raises(PermanentSendError):
            channel.send(lead_email())

        assert caught.value.code == "smtp_535"
        assert server.received == []


def test_a_user_without_a_password_is_refused_up_front():
    with pytest.raises(ValueError, match="password"):
        SmtpChannel(HOST, 25, user="apikey")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_modes_log_in_over_an_encrypted_connection(certificate, mode):
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    tls = {"tls_context": server_context} if mode == "starttls" else {"ssl_context": server_context}
    client_context = ssl.create_default_context(cafile=str(cert))

    with SmtpServer(users={"apikey": "s3cret"}, **tls) as server:
        channel = SmtpChannel(
            HOST, server.port, tls=mode, user="apikey", password="s3cret", ssl_context=client_context
        )
        channel.send(lead_email())

        received = server.wait_for(1)[0]
        assert (received.tls, received.login) == (True, "apikey")
        assert received.message["Subject"] == SUBJECT


def test_untrusted_certificate_is_not_a_send(certificate):
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    with SmtpServer(users={"apikey": "s3cret"}, tls_context=server_context) as server:
        channel = SmtpChannel(HOST, server.port, tls="starttls", user="apikey", password="s3cret")

        with pytest.raises(TransientSendError):
            channel.send(lead_email())
        assert server.received == []
