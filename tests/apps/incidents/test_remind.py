"""`mamori remind` mails the officers about overdue certificates and report deadlines due soon or
past, and stays quiet when nothing is pending."""

from __future__ import annotations

import io
import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from mamori.apps.core.models import Role
from mamori.apps.incidents import services
from tests.apps.disposal.helpers import handed_over, stored


def _remind() -> str:
    out = io.StringIO()
    call_command("remind", stdout=out)
    return out.getvalue()


def test_nothing_pending_sends_nothing(world):
    assert _remind().strip() == "nothing to remind" and mail.outbox == []


def test_overdue_certificates_and_deadlines_are_mailed_to_the_officers(world, settings):
    settings.MAMORI_ALERT_EMAILS = ["security@city.example.jp"]
    settings.MAMORI_DISPOSAL_CERTIFICATE_DAYS = 30
    handed_over([stored("USB-OLD", world.gyokaku)], days_ago=31)
    handed_over([stored("USB-NEW", world.gyokaku)], days_ago=2)
    learned = timezone.now() - timedelta(days=4)  # day 5 of the 速報: due today
    due = services.incident_report(
        actor=world.users[Role.STAFF], scope=None, title="住民票の誤交付", kind="misdelivery",
        department=world.gyokaku, detected_at=learned, learned_at=learned, description="x",
        personal_data=True, people_affected=1, special_care=True,
    )  # fmt: skip
    services.incident_report(
        actor="x", scope=None, title="報告不要の紛失", kind="loss", department=world.gyokaku,
        detected_at=learned, learned_at=learned, description="x", personal_data=True, people_affected=2,
    )  # fmt: skip
    _remind()
    assert [m.to for m in mail.outbox] == [["security@city.example.jp"]] * 2
    certificates, deadlines = mail.outbox
    assert "USB-OLD" in certificates.body and "USB-NEW" not in certificates.body
    assert due.title in deadlines.body and "報告不要" not in deadlines.body
    assert "速報" in deadlines.body


def test_pending_reminders_without_recipients_fail_loudly(world, settings):
    settings.MAMORI_ALERT_EMAILS = []
    handed_over([stored("USB-OLD", world.gyokaku)], days_ago=40)
    with pytest.raises(CommandError, match="no recipients"):
        _remind()


def test_a_mail_server_that_refuses_ends_the_command_with_the_setting_to_check(world, settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.MAMORI_ALERT_EMAILS = ["security@city.example.jp"]
    handed_over([stored("USB-OLD", world.gyokaku)], days_ago=40)
    with pytest.raises(CommandError, match="MAMORI_SMTP_HOST"):
        _remind()
