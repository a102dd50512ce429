"""Reminders: a mail to each staff member whose change is due or forced, the officer's list with the
leavers, and the task on the person's own dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from mamori.apps.backups.worker import BackupWorker
from mamori.apps.core.models import AuditEvent, Membership, Role
from mamori.apps.passwords import services
from mamori.apps.passwords.models import AuditRun, RunStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def audited(directory, policies, staff, settings):
    settings.MAMORI_ALERT_EMAILS = ["security@city.example.jp"]
    return services.audit_run(actor="officer", directory=directory)


def test_staff_due_a_change_are_mailed_and_the_officer_gets_the_list(audited, staff):
    call_command("passwords", "remind")
    to = {m.to[0]: m for m in mail.outbox}
    overdue, forced = staff["100002"].email, staff["100009"].email  # rotation overdue; pwdReset
    assert set(to) == {overdue, forced, "security@city.example.jp"}
    assert "変更期限" in to[overdue].body and "を過ぎています" in to[overdue].body
    assert "住基ネット管理要領 第8条" in to[overdue].body
    assert "漏えいの疑い" in to[forced].body
    officer = to["security@city.example.jp"]
    assert "退職者の有効アカウント 1件" in officer.subject and "leaver" in officer.body
    assert AuditEvent.objects.get(action="passwords.reminders.send").after["staff_mails"] == 2


def test_the_person_sees_the_task_on_the_dashboard(audited, staff, client):
    user = get_user_model().objects.create_user(username="juki", password="x" * 12)
    Membership.objects.create(user=user, role=Role.STAFF, staff=staff["100002"])
    client.force_login(user)
    page = client.get("/").content.decode()
    assert "パスワードを変更してください（overdue）" in page
    other = get_user_model().objects.create_user(username="fine", password="x" * 12)
    Membership.objects.create(user=other, role=Role.STAFF, staff=staff["100001"])
    client.force_login(other)
    assert "パスワードを変更してください" not in client.get("/").content.decode()


# The worker closes stale connections at each tick, as in production: on PostgreSQL that needs real
# transactions, not the test's wrapping atomic block (SQLite's in-memory test database never closes).
@pytest.mark.django_db(transaction=True)
def test_the_worker_audits_each_directory_on_its_interval_and_reminds_once_a_day(directory, policies, staff):
    now = timezone.now()
    worker = BackupWorker(clock=lambda: now)
    worker.run_once()
    assert AuditRun.objects.filter(directory=directory, status=RunStatus.OK).count() == 1
    reminded = AuditEvent.objects.filter(action="passwords.reminders.send").count()
    assert reminded == 1 and len(mail.outbox) >= 2
    worker.clock = lambda: now + timedelta(hours=23)
    worker.run_once()  # nothing due yet
    assert AuditRun.objects.count() == 1
    assert AuditEvent.objects.filter(action="passwords.reminders.send").count() == 1
    worker.clock = lambda: now + timedelta(hours=25)
    worker.run_once()
    assert AuditRun.objects.count() == 2
    assert AuditEvent.objects.filter(action="passwords.reminders.send").count() == 2


def test_a_refused_mail_is_counted_not_fatal(audited, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    counts = services.reminders_send(actor="worker")
    assert counts["failed"] == 2 and counts["staff_mails"] == 0 and counts["officer_mail"] == 0
