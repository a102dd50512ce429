"""Assignments by rule (all, new, transferred since a date, department, role) and the reminder mails
before and after the due date, captured by a real SMTP server."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from mamori.apps.core.models import AuditEvent, Role, StaffStatus, StaffTransfer
from mamori.apps.training import assignments, quiz
from mamori.apps.training.errors import TrainingError
from mamori.apps.training.models import Assignment, RuleKind
from tests.apps.core.factories import StaffFactory

from .helpers import answers, staff_member

pytestmark = pytest.mark.django_db
DUE = date(2026, 6, 30)


def numbers(rule) -> set[str]:  # type: ignore[no-untyped-def]
    return set(rule.assignments.values_list("staff__employee_number", flat=True))


def rule(course, kind, **kwargs):  # type: ignore[no-untyped-def]
    return assignments.rule_create(actor="test", course=course, kind=kind, due_on=DUE, **kwargs)


def test_all_staff_means_everyone_in_service(course, world):
    StaffFactory(department=world.johou, employee_number="700001", status=StaffStatus.LEFT)
    assert numbers(rule(course, RuleKind.ALL)) == {"100001", "400001"}


def test_the_april_transfer_assigns_everyone_who_moved_since_the_date(course, world):
    moved = StaffFactory(department=world.johou, employee_number="700002")
    StaffTransfer.objects.create(staff=moved, effective_date=date(2026, 4, 1), from_department=world.kosodate,
                                 to_department=world.johou)  # fmt: skip
    StaffTransfer.objects.create(staff=world.staff_outside, effective_date=date(2025, 4, 1),
                                 from_department=world.gyokaku, to_department=world.kosodate)  # fmt: skip
    transferred = rule(course, RuleKind.TRANSFERRED, since=date(2026, 4, 1))
    assert numbers(transferred) == {"700002"}
    # someone whose April transfer is imported later is assigned on the next worker tick, once
    late = StaffFactory(department=world.gyokaku, employee_number="700003")
    StaffTransfer.objects.create(staff=late, effective_date=date(2026, 4, 1), to_department=world.gyokaku)
    now = datetime(2026, 4, 10, 9, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert assignments.rules_reapply(now=now) == 1
    assert assignments.rules_reapply(now=now) == 0
    assert numbers(transferred) == {"700002", "700003"}


def test_new_staff_a_department_and_a_role(course, world):
    StaffFactory(department=world.kosodate, employee_number="700004", joined_on=date(2026, 4, 1))
    assert numbers(rule(course, RuleKind.NEW, since=date(2026, 4, 1))) == {"700004"}
    assert numbers(rule(course, RuleKind.DEPARTMENT, department=world.soumu)) == {"100001"}
    lead_user, _lead_staff = staff_member(world.fukushi, number="700005")
    lead_user.membership.role = Role.DEPARTMENT_LEAD
    lead_user.membership.save()
    assert numbers(rule(course, RuleKind.ROLE, role=Role.DEPARTMENT_LEAD)) == {"700005"}


def test_a_rule_missing_what_it_needs_is_refused_and_nothing_is_assigned(course):
    with pytest.raises(TrainingError) as caught:
        rule(course, RuleKind.TRANSFERRED)
    assert caught.value.code == "needs_since" and not Assignment.objects.exists()


def test_passing_completes_the_assignment(course, world):
    user, staff = staff_member(world.gyokaku, number="500001")
    rule(course, RuleKind.ALL)
    attempt = quiz.attempt_start(actor=user, staff=staff, course=course)
    quiz.attempt_submit(actor=user, staff=staff, attempt_id=attempt.pk, answers=answers(attempt, right=4))
    assert Assignment.objects.get(staff=staff).completion is not None


def test_reminders_go_once_before_and_once_after_the_due_date_to_those_not_done(course, world, smtp_sink):
    today = timezone.localdate()
    done_user, done = staff_member(world.gyokaku, number="500001")
    assignments.rule_create(actor="test", course=course, kind=RuleKind.ALL, due_on=today + timedelta(days=3))
    attempt = quiz.attempt_start(actor=done_user, staff=done, course=course)
    quiz.attempt_submit(actor=done_user, staff=done, attempt_id=attempt.pk, answers=answers(attempt, right=4))
    now = timezone.now()
    assert assignments.reminders_send(now=now) == 2  # 100001 and 400001; 500001 has passed
    assert assignments.reminders_send(now=now) == 0
    subjects = sorted(str(m["Subject"]) for m in smtp_sink.messages)
    assert all("受講期限は" in s and "情報セキュリティの基本" in s for s in subjects)
    assert sorted(r[0] for r in smtp_sink.recipients) == sorted(
        [world.staff_in_scope.email, world.staff_outside.email]
    )
    later = now + timedelta(days=5)
    assert assignments.reminders_send(now=later) == 2
    assert all("過ぎています" in str(m["Subject"]) for m in smtp_sink.messages[2:])
    assert AuditEvent.objects.filter(action="training.reminders.send").count() == 2


def test_an_unreachable_mail_server_marks_nothing_so_the_next_tick_retries(course, world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    assignments.rule_create(actor="test", course=course, kind=RuleKind.ALL, due_on=timezone.localdate())
    assert assignments.reminders_send(now=timezone.now()) == 0
    assert not Assignment.objects.filter(reminded_before__isnull=False).exists()
