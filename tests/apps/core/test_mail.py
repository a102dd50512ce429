"""Mail over a real SMTP server on 127.0.0.1 (aiosmtpd): STARTTLS or implicit TLS, with a login,
the server verified against the city's CA — and a server the CA did not sign gets nothing."""

from __future__ import annotations

import email
import email.policy
import smtplib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail

from mamori.config.settings.base import smtp_settings

from .tls import self_signed_certificate

USER, PASSWORD = "mamori", "correct horse battery staple"


@dataclass
class Sink:
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == USER and auth_data.password.decode() == PASSWORD
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 235 or 535


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server_cert(tmp_path) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path, "mail.city.example.jp")


def _start(sink: Sink, cert: tuple[Path, Path], *, implicit_tls: bool) -> Controller:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)
    # With implicit TLS every byte is encrypted, but aiosmtpd only counts STARTTLS as TLS for AUTH.
    options = (
        {"ssl_context": context, "auth_require_tls": False}
        if implicit_tls
        else {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    )
    controller = Controller(
        sink, hostname="127.0.0.1", port=_free_port(), authenticator=sink.authenticate, **options
    )
    controller.start()
    return controller


@pytest.fixture(params=["starttls", "tls"])
def mail_server(request, server_cert, settings) -> Iterator[tuple[Sink, str]]:
    sink = Sink()
    controller = _start(sink, server_cert, implicit_tls=request.param == "tls")
    environ = {
        "MAMORI_SMTP_HOST": "127.0.0.1",
        "MAMORI_SMTP_PORT": str(controller.port),
        "MAMORI_SMTP_SECURITY": request.param,
        "MAMORI_SMTP_USER": USER,
        "MAMORI_SMTP_PASSWORD": PASSWORD,
        "MAMORI_SMTP_CA_FILE": str(server_cert[0]),
    }
    for name, value in smtp_settings(environ).items():
        setattr(settings, name, value)
    try:
        yield sink, request.param
    finally:
        controller.stop()


def test_mail_goes_over_tls_with_a_login_to_a_server_the_ca_signed(mail_server):
    sink, _security = mail_server
    send_mail("[mamori] テスト", "本文です。", "mamori@city.example.jp", ["officer@city.example.jp"])
    assert [m["Subject"] for m in sink.messages] == ["[mamori] テスト"] and sink.logins == [USER]


def test_a_server_the_ca_did_not_sign_receives_nothing(mail_server, tmp_path, settings):
    """A man in the middle with his own certificate: the connection is refused, no login is sent."""
    sink, _security = mail_server
    settings.MAMORI_SMTP_CA_FILE = str(self_signed_certificate(tmp_path, "other-ca")[0])
    with pytest.raises(ssl.SSLCertVerificationError):
        send_mail("x", "y", "mamori@city.example.jp", ["officer@city.example.jp"])
    assert sink.messages == [] and sink.logins == []


def test_a_wrong_password_is_refused(mail_server, settings):
    sink, _security = mail_server
    settings.EMAIL_HOST_PASSWORD = "wrong"
    with pytest.raises(smtplib.SMTPAuthenticationError):
        send_mail("x", "y", "mamori@city.example.jp", ["officer@city.example.jp"])
    assert sink.messages == []


def test_the_password_may_come_from_a_file(tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD + "\n")
    values = smtp_settings(
        {
            "MAMORI_SMTP_SECURITY": "starttls",
            "MAMORI_SMTP_USER": USER,
            "MAMORI_SMTP_PASSWORD_FILE": str(secret),
        }
    )
    assert values["EMAIL_HOST_PASSWORD"] == PASSWORD


def test_the_default_is_the_local_relay_without_tls():
    values = smtp_settings({})
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"]) == ("127.0.0.1", 25)
    assert not values["EMAIL_USE_TLS"] and not values["EMAIL_USE_SSL"] and values["EMAIL_HOST_USER"] == ""


def test_an_unknown_security_setting_is_one_clear_error():
    with pytest.raises(ImproperlyConfigured, match=r"MAMORI_SMTP_SECURITY.*none, starttls or tls"):
        smtp_settings({"MAMORI_SMTP_SECURITY": "ssl3"})


def test_a_login_without_tls_is_refused():
    """The password would cross the network in clear."""
    with pytest.raises(ImproperlyConfigured, match="MAMORI_SMTP_USER needs MAMORI_SMTP_SECURITY"):
        smtp_settings({"MAMORI_SMTP_USER": USER, "MAMORI_SMTP_PASSWORD": PASSWORD})
