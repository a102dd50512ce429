"""Assignments by rule, and the reminder mails before and after the due date.

A rule names who must take a course (all staff, new staff, staff transferred since a date, a
department, a role) and by when. It is applied when created and again on each worker tick until
its due date has passed, so a person who matches later (the April 定期人事異動 imported afterwards,
a new hire) is assigned too; applying twice assigns no one twice.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
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
NOT_OVERDUE = _("この割当ては期限を過ぎた未修了者の一覧にありません")
MAIL_FAILED = _(
    "メールサーバに接続できないため、督促メールを送れませんでした（{error}）。"
    "メールの設定（EMAIL_HOST・EMAIL_PORT）を確かめてください"
)
REMIND_LIMIT = 2000  # as many as the overdue page lists


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


def _deliver(due: list[tuple[Assignment, bool]]) -> tuple[list[int], Exception | None]:
    """Send each (assignment, overdue?) mail over one connection, in the staff's language (the site's,
    whoever clicked): the ids mailed, and the error that stopped the rest (None: all went)."""
    sent: list[int] = []
    connection = get_connection()
    try:
        with translation.override(settings.LANGUAGE_CODE):
            connection.open()
            for assignment, overdue in due:
                connection.send_messages([_mail(assignment, overdue=overdue)])
                sent.append(assignment.pk)
    except (smtplib.SMTPException, OSError) as exc:
        return sent, exc
    finally:
        connection.close()
    return sent, None


def reminders_send(*, now: datetime) -> int:
    """Mail each open assignment once N days before its due date and once after it; returns mails sent.

    A mail that cannot be sent leaves its assignment unmarked, so the next tick tries again.
    """
    today = timezone.localdate(now)
    open_ = Assignment.objects.filter(completion__isnull=True).exclude(staff__email="")
    open_ = open_.filter(staff__status=StaffStatus.ACTIVE).select_related("course", "staff")
    soon = today + timedelta(days=remind_days())
    before = list(open_.filter(reminded_before__isnull=True, due_on__gte=today, due_on__lte=soon)[:1000])
    after = list(open_.filter(reminded_after__isnull=True, due_on__lt=today)[:1000])
    if not before and not after:
        return 0
    mailed, error = _deliver([(a, False) for a in before] + [(a, True) for a in after])
    if error is not None:
        logger.warning("training reminders: %s sent, then the mail server refused: %s", len(mailed), error)
    sent = {
        "before": [a.pk for a in before if a.pk in mailed],
        "after": [a.pk for a in after if a.pk in mailed],
    }
    if mailed:
        with transaction.atomic():
            Assignment.objects.filter(pk__in=sent["before"]).update(reminded_before=now)
            Assignment.objects.filter(pk__in=sent["after"]).update(reminded_after=now)
            audit_record(
                actor="system",
                action="training.reminders.send",
                object_type="training.assignment",
                after={"before": sent["before"], "after": sent["after"]},
            )
    return len(mailed)


@dataclass(frozen=True)
class Reminded:
    """What one 「督促メールを送信」 click did: the people mailed (with the one name when it was one),
    those reminded since the list was opened (a second click, or the worker meanwhile), those with no
    address or no longer in service, and the mail server's error that stopped the rest."""

    sent: int
    name: str = ""
    already: int = 0
    unreachable: int = 0
    left: int = 0
    error: str = ""


def overdue_remind(
    *, actor: Actor, overdue: QuerySet[Assignment], shown_at: datetime, now: datetime | None = None
) -> Reminded:
    """「督促メールを送信」: mail each person of `overdue` (the officer's list, or one row of it) who has
    not been reminded since `shown_at`, when the officer opened the list — so a double click, or the
    same page's button pressed again, sends nothing twice, while the list opened anew may remind
    again. The rows are locked for the send, so two clicks at once queue up; one audit event for
    the mails sent. A server that refuses midway keeps what went (marked, audited) and says so.
    The mails go inside the transaction: were its commit to fail, the next click would mail again."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(overdue.select_for_update(of=("self",)).select_related("staff", "course")[:REMIND_LIMIT])
        if not rows:
            raise TrainingError(NOT_OVERDUE, code="not_overdue")
        reachable = [a for a in rows if a.staff.email and a.staff.status == StaffStatus.ACTIVE]
        due = [a for a in reachable if a.reminded_after is None or a.reminded_after < shown_at]
        if not due:
            return Reminded(
                sent=0, already=_people(reachable), unreachable=_people(rows) - _people(reachable)
            )
        mailed, error = _deliver([(a, True) for a in due])
        if not mailed:
            raise TrainingError(MAIL_FAILED.format(error=error), code="mail_failed")
        Assignment.objects.filter(pk__in=mailed).update(reminded_after=now)
        one = due[0] if len(mailed) == 1 else None
        audit_record(
            actor=actor,
            action="training.assignment.remind",
            object_type="training.assignment",
            object_id=str(one.pk) if one else "",
            object_name=f"{one.staff.full_name} {one.course.title}" if one else "",
            after={"sent": mailed, "left_unsent": len(due) - len(mailed)},
        )
    sent = [a for a in due if a.pk in mailed]
    return Reminded(
        sent=_people(sent),
        name=rows[0].staff.full_name if len(rows) == 1 else "",
        already=_people(reachable) - _people(due),
        unreachable=_people(rows) - _people(reachable),
        left=_people(due) - _people(sent),
        error=str(error or ""),
    )


def _people(rows: list[Assignment]) -> int:
    """How many people: one person late for two courses gets two mails, and counts once."""
    return len({a.staff_id for a in rows})


def periodic_tick(now: datetime) -> None:
    """The worker's tick: new matches for running rules, then the reminders."""
    rules_reapply(now=now)
    reminders_send(now=now)
