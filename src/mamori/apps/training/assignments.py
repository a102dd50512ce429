"""Assignments by rule, and the reminder mails before and after the due date.

A rule names who must take a course (all staff, new staff, staff transferred since a date, a
department, a role) and by when. It is applied when created and again on each worker tick until
its due date has passed, so a person who matches later (the April 定期人事異動 imported afterwards,
a new hire) is assigned too; applying twice assigns no one twice.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, actor_name, audit_record
from mamori.apps.core.chronology import check_past
from mamori.apps.core.models import Department, Staff, StaffStatus
from mamori.apps.core.selectors import staff_transferred_since

from .errors import TrainingError
from .models import Assignment, AssignmentRule, Course, RuleKind

logger = logging.getLogger(__name__)

DEFAULT_REMIND_DAYS = 7
NEEDS_SINCE = _("この対象には基準日が必要です")
NEEDS_DEPARTMENT = _("所属を選んでください")
NEEDS_ROLE = _("ロールを選んでください")


def remind_days() -> int:
    """Days before the due date when the first reminder goes out."""
    return int(getattr(settings, "MAMORI_TRAINING_REMIND_DAYS", DEFAULT_REMIND_DAYS))


def rule_staff(rule: AssignmentRule) -> QuerySet[Staff]:
    """Staff in service that the rule names today."""
    staff = Staff.objects.filter(status=StaffStatus.ACTIVE)
    if rule.kind == RuleKind.NEW:
        staff = staff.filter(joined_on__gte=rule.since)
    elif rule.kind == RuleKind.TRANSFERRED:
        assert rule.since is not None
        staff = staff_transferred_since(since=rule.since)
    elif rule.kind == RuleKind.DEPARTMENT:
        assert rule.department is not None
        staff = staff.filter(department_id__in=rule.department.descendant_ids())
    elif rule.kind == RuleKind.ROLE:
        staff = staff.filter(membership__role=rule.role)
    return staff.distinct()


def _apply(rule: AssignmentRule, now: datetime) -> int:
    have = set(rule.assignments.values_list("staff_id", flat=True))
    new = [
        Assignment(rule=rule, course_id=rule.course_id, staff_id=pk, assigned_at=now, due_on=rule.due_on)
        for pk in rule_staff(rule).values_list("pk", flat=True)
        if pk not in have
    ]
    Assignment.objects.bulk_create(new, batch_size=500)
    return len(new)


def rule_create(
    *,
    actor: Actor,
    course: Course,
    kind: str,
    due_on: date,
    since: date | None = None,
    department: Department | None = None,
    role: str = "",
    created_at: datetime | None = None,
) -> AssignmentRule:
    """A rule, applied at once. `created_at` (default now): for a rule recorded afterwards; the
    people it assigns are assigned then, so the passes recorded since complete their assignments."""
    if kind in {RuleKind.NEW, RuleKind.TRANSFERRED} and since is None:
        raise TrainingError(NEEDS_SINCE, code="needs_since")
    if kind == RuleKind.DEPARTMENT and department is None:
        raise TrainingError(NEEDS_DEPARTMENT, code="needs_department")
    if kind == RuleKind.ROLE and not role:
        raise TrainingError(NEEDS_ROLE, code="needs_role")
    now = created_at or timezone.now()
    check_past(now, field=_("作成日時"), error=TrainingError)
    rule = AssignmentRule(
        course=course,
        kind=kind,
        since=since if kind in {RuleKind.NEW, RuleKind.TRANSFERRED} else None,
        department=department if kind == RuleKind.DEPARTMENT else None,
        role=role if kind == RuleKind.ROLE else "",
        due_on=due_on,
        created_at=now,
        created_by=actor_name(actor),
    )
    with transaction.atomic():
        rule.save()
        assigned = _apply(rule, now)
        audit_record(
            actor=actor,
            action="training.rule.create",
            obj=rule,
            after={
                "course_id": course.pk,
                "kind": kind,
                "since": since.isoformat() if since else None,
                "department_id": rule.department_id,
                "role": rule.role,
                "due_on": due_on.isoformat(),
                "assigned": assigned,
            },
        )
    return rule


def rules_reapply(*, now: datetime) -> int:
    """Assign rules still running (due date not yet passed) to the people who newly match them."""
    total = 0
    today = timezone.localdate(now)
    for rule in AssignmentRule.objects.filter(due_on__gte=today).select_related("department"):
        with transaction.atomic():
            assigned = _apply(rule, now)
            if assigned:
                audit_record(
                    actor="system", action="training.rule.apply", obj=rule, after={"assigned": assigned}
                )
        total += assigned
    return total


def _mail(assignment: Assignment, *, overdue: bool) -> EmailMessage:
    base = getattr(settings, "MAMORI_BASE_URL", "").rstrip("/")
    url = base + reverse("training:course", args=[assignment.course_id])
    title, due = assignment.course.title, assignment.due_on.isoformat()
    if overdue:
        subject = gettext("[mamori] 研修「{title}」の受講期限（{due}）を過ぎています").format(
            title=title, due=due
        )
        lead = gettext("受講期限を過ぎています。早めに受講してください。")
    else:
        subject = gettext("[mamori] 研修「{title}」の受講期限は {due} です").format(title=title, due=due)
        lead = gettext("受講期限が近づいています。期限までに受講してください。")
    body = f"{assignment.staff.full_name} 様\n\n{lead}\n\n{title}\n{url}\n"
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [assignment.staff.email])


def reminders_send(*, now: datetime) -> int:
    """Mail each open assignment once N days before its due date and once after it; returns mails sent.

    A mail that cannot be sent leaves its assignment unmarked, so the next tick tries again.
    """
    today = timezone.localdate(now)
    open_ = Assignment.objects.filter(completion__isnull=True).exclude(staff__email="")
    open_ = open_.filter(staff__status=StaffStatus.ACTIVE).select_related("course", "staff")
    soon = today + timedelta(days=remind_days())
    before = open_.filter(reminded_before__isnull=True, due_on__gte=today, due_on__lte=soon)
    after = open_.filter(reminded_after__isnull=True, due_on__lt=today)
    due = [("before", a) for a in before[:1000]] + [("after", a) for a in after[:1000]]
    sent: dict[str, list[int]] = {"before": [], "after": []}
    if not due:
        return 0
    connection = get_connection()
    try:
        connection.open()
        for kind, assignment in due:
            connection.send_messages([_mail(assignment, overdue=kind == "after")])
            sent[kind].append(assignment.pk)
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning(
            "training reminders: %s sent, then the mail server refused: %s", sum(map(len, sent.values())), exc
        )
    finally:
        connection.close()
    if sent["before"] or sent["after"]:
        with transaction.atomic():
            Assignment.objects.filter(pk__in=sent["before"]).update(reminded_before=now)
            Assignment.objects.filter(pk__in=sent["after"]).update(reminded_after=now)
            audit_record(
                actor="system",
                action="training.reminders.send",
                object_type="training.assignment",
                after={"before": sent["before"], "after": sent["after"]},
            )
    return len(sent["before"]) + len(sent["after"])


def periodic_tick(now: datetime) -> None:
    """The worker's tick: new matches for running rules, then the reminders."""
    rules_reapply(now=now)
    reminders_send(now=now)
