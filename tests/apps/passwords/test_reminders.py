"""Reminders: a mail to each staff member whose change is due or forced, the officer's list with the
leavers, and the task on the person's own dashboard."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command

from mamori.apps.core.models import AuditEvent, Membership, Role
from mamori.apps.passwords import services

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
