"""Who must change a password now: the mails to staff, the officer's list and each person's task.

Built from the latest completed audit run of each directory: an enabled account matched to a staff
member whose change is overdue or due within DUE_SOON_DAYS (rotation policies) or forced (evidence of
compromise). The officer's list adds the leavers whose accounts are still enabled.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from mamori.apps.core.navigation import Task

from .models import Finding
from .selectors import latest_runs

DUE = Q(overdue=True) | Q(due_soon=True) | Q(must_change=True)


def due_findings(*, staff_id: int | None = None) -> list[Finding]:
    runs = latest_runs()
    findings = (
        Finding.objects.filter(run__in=runs, staff__isnull=False, disabled=False)
        .filter(DUE)
        .select_related("staff", "run__directory", "policy")
        .order_by("due_on", "login")
    )
    if staff_id is not None:
        findings = findings.filter(staff_id=staff_id)
    return list(findings)


def _what(finding: Finding) -> str:
    if finding.must_change:
        return _("漏えいの疑いなどにより、パスワードの変更が必要です。")
    if finding.overdue:
        return _("パスワードの変更期限（{day}）を過ぎています。").format(day=f"{finding.due_on:%Y-%m-%d}")
    return _("パスワードの変更期限（{day}）が近づいています。").format(day=f"{finding.due_on:%Y-%m-%d}")


def staff_mails(findings: Iterable[Finding]) -> list[tuple[str, str, str]]:
    """(address, subject, body) per staff member with an address."""
    mails = []
    for f in findings:
        if not f.staff or not f.staff.email:
            continue
        clause = f" ({f.policy.clause})" if f.policy and f.policy.clause else ""
        body = _(
            "{name} 様\n\n{directory} のアカウント {login} について: {what}\n"
            "方針: {policy}{clause}\n\n漏えいしたパスワードや、よく使われるパスワードは使わないでください。\n"
        ).format(
            name=f.staff.full_name, directory=f.run.directory.name, login=f.login, what=_what(f),
            policy=f.policy_name, clause=clause,
        )  # fmt: skip
        mails.append((f.staff.email, _("[mamori] パスワードの変更のお願い"), body))
    return mails


def officer_mail(findings: list[Finding]) -> tuple[str, str] | None:
    leavers = list(
        Finding.objects.filter(run__in=latest_runs(), leaver_enabled=True).select_related(
            "staff", "run__directory"
        )
    )
    if not findings and not leavers:
        return None
    lines = [
        f"- {_('退職者の有効アカウント')}: {f.run.directory.name} {f.login} ({f.staff})" for f in leavers
    ]
    lines += [f"- {f.run.directory.name} {f.login} ({f.staff}): {_what(f)}" for f in findings]
    subject = _("[mamori] パスワード: 退職者の有効アカウント {l}件、変更が必要なアカウント {n}件").format(
        l=len(leavers), n=len(findings)
    )
    return subject, "\n".join(lines) + "\n"


def password_tasks(request: HttpRequest) -> list[Task]:
    """The signed-in person's own accounts that need a new password (「あなたへの依頼」)."""
    membership = getattr(request.user, "membership", None)
    if membership is None or membership.staff_id is None:
        return []
    return [
        Task(
            title=_("パスワードを変更してください（{login}）").format(login=f.login),
            url=reverse("passwords:leak-check"),
            due=f.due_on,
            detail=_what(f),
        )
        for f in due_findings(staff_id=membership.staff_id)
    ]
