"""Each app test starts in Japanese: a request in English (LocaleMiddleware activates the language
in the test's thread and leaves it) must not change the messages later tests assert. Each test keeps
its audit checkpoints to itself, and stops the demo directory (slapd) it started. `smtp_sink`: a
real SMTP server (aiosmtpd) for the mails apps send. `clock`: Django's clock stopped where a test says."""

import email
import email.policy
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.utils import timezone, translation

from mamori.apps.passwords.demo import demo_directory_stop
from tests.remote_servers import free_port


@pytest.fixture(autouse=True)
def _japanese_first() -> Iterator[None]:
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _private_audit_checkpoints(settings, tmp_path_factory) -> None:
    """Each test's audit chain starts empty, so its checkpoints may not outlive it."""
    settings.MAMORI_AUDIT_CHECKPOINT_DIR = tmp_path_factory.mktemp("audit-checkpoints")


@pytest.fixture(autouse=True)
def _demo_directory_stopped() -> Iterator[None]:
    """A demo run in-process keeps its slapd until the process exits: here, until the test ends."""
    yield
    demo_directory_stop()


class Sink:
    """What the SMTP server received: each message parsed, and its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink(settings) -> Iterator[Sink]:
    """A real SMTP server on 127.0.0.1 and Django's SMTP backend pointed at it."""
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_TIMEOUT = 5
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], datetime]:
    """Stops `django.utils.timezone.now` (what the services, `localdate()` and `auto_now` read) at the
    instant the test names, so a run that crosses midnight or 1 April moves no day count or fiscal year."""

    def stop_at(instant: datetime) -> datetime:
        assert instant.tzinfo is not None, "an aware instant"
        monkeypatch.setattr(timezone, "now", lambda: instant)
        return instant

    return stop_at
