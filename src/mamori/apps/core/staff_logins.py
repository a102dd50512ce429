"""Staff logins: created in bulk from the staff register, first password through a one-time link.

A staff member in service (在職 / 休職) with a mail address gets a login named by their 職員番号, role
職員, that cannot sign in yet; the worker mails them a signed link to set their own password. The link
is Django's password-reset token under mamori's own salt: bound to that login, valid until
`PASSWORD_RESET_TIMEOUT`, and spent once the password is set (the token hashes the password hash and
the last sign-in). No password ever travels in a mail, a CSV or the audit log.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_tasks import task

from .audit import Actor, audit_record
from .models import Department, Membership, Organisation, Role, Staff, StaffStatus
from .services import user_create

logger = logging.getLogger(__name__)
User = get_user_model()
ACTOR_WORKER = "worker"


class FirstPasswordTokenGenerator(PasswordResetTokenGenerator):
    """Its own salt: a first-password link is never a valid token for anything else."""

    key_salt = "mamori.apps.core.staff_logins.FirstPasswordTokenGenerator"


first_password_tokens = FirstPasswordTokenGenerator()


def first_password_link(user: AbstractBaseUser) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse("password_set", kwargs={"uidb64": uid, "token": first_password_tokens.make_token(user)})
    return f"{settings.MAMORI_BASE_URL}{path}"


def _in_service(department: Department | None) -> QuerySet[Staff]:
    staff = Staff.objects.exclude(status=StaffStatus.LEFT)
    if department is not None:
        staff = staff.filter(department_id__in=department.descendant_ids())
    return staff


def _awaiting_password(department: Department | None) -> QuerySet:  # type: ignore[type-arg]
    """Staff logins that were invited and have not set a password (nor signed in) yet."""
    return User.objects.filter(
        is_active=True,
        last_login__isnull=True,
        membership__role=Role.STAFF,
        membership__staff__in=_in_service(department),
        password__startswith=UNUSABLE_PASSWORD_PREFIX,
    )


@dataclass(frozen=True)
class StaffLoginSummary:
    """What the officer's page shows before the bulk creation."""

    in_service: int
    with_login: int
    without_login: int
    without_email: int
    awaiting_password: int


def staff_login_summary(*, department: Department | None = None) -> StaffLoginSummary:
    staff = _in_service(department)
    with_login = staff.filter(membership__isnull=False).count()
    return StaffLoginSummary(
        in_service=staff.count(),
        with_login=with_login,
        without_login=staff.filter(membership__isnull=True).exclude(email="").count(),
        without_email=staff.filter(membership__isnull=True, email="").count(),
        awaiting_password=_awaiting_password(department).count(),
    )


@dataclass
class StaffLoginsResult:
    created: list[str] = field(default_factory=list)
    invited: list[int] = field(default_factory=list)  # user ids the worker mails a link to
    without_email: int = 0
    name_taken: list[str] = field(default_factory=list)


def staff_logins_create(*, actor: Actor, department: Department | None = None) -> StaffLoginsResult:
    """A 職員 login for every staff member in service without one (in `department`'s subtree when
    given), and a first-password mail, queued for the worker, to them and to everyone still invited.

    A staff member without a mail address is counted, not given a login (the link could not reach
    them); one whose 職員番号 is already another login's name is listed for the officer to resolve.
    """
    result = StaffLoginsResult()
    with transaction.atomic():
        missing = _in_service(department).filter(membership__isnull=True).select_related("department")
        taken = set(
            User.objects.filter(username__in=missing.values("employee_number")).values_list(
                "username", flat=True
            )
        )
        for staff in missing.order_by("employee_number"):
            if not staff.email:
                result.without_email += 1
            elif staff.employee_number in taken:
                result.name_taken.append(staff.employee_number)
            else:
                user_create(
                    actor=actor, username=staff.employee_number, password=None, role=Role.STAFF,
                    email=staff.email, staff=staff, department=staff.department,
                )  # fmt: skip
                result.created.append(staff.employee_number)
        result.invited = list(_awaiting_password(department).order_by("pk").values_list("pk", flat=True))
        audit_record(
            actor=actor,
            action="staff_logins.create",
            object_type="core.staff_logins",
            after={
                "department": department.code if department else None,
                "created": len(result.created),
                "invited": len(result.invited),
                "without_email": result.without_email,
                "name_taken": result.name_taken,
            },
        )
        if result.invited:
            ids = list(result.invited)
            transaction.on_commit(lambda: first_password_mails_send.enqueue(user_ids=ids))
    return result


def _mail(user: AbstractBaseUser, staff: Staff, organisation: Organisation | None) -> tuple[str, str]:
    expires = timezone.localtime() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    subject = _("[mamori] ログインのご案内（パスワードの設定）")
    body = _(
        "{name} 様\n\n{city}の情報セキュリティの仕組み「mamori」に、あなたのログインを用意しました。\n"
        "ユーザー名: {username}\n\n"
        "次のリンクを開いて、ご自分でパスワードを設定してください。リンクは一度だけ、{expires} まで使えます。\n"
        "{link}\n\n"
        "心当たりがない場合は、リンクを開かずに情報セキュリティ担当へ連絡してください。\n"
        "mamori や担当者が、メールや電話でパスワードを尋ねることはありません。\n"
    ).format(
        name=staff.full_name, city=organisation.name if organisation else "", username=user.get_username(),
        expires=f"{expires:%Y-%m-%d %H:%M}", link=first_password_link(user),
    )  # fmt: skip
    return subject, body


@task()
def first_password_mails_send(user_ids: list[int]) -> dict[str, int]:
    """The worker's half: one mail per invited login still waiting for its first password.

    A refused mail is counted and the rest still go; an unreachable server ends the round (the
    officer sends again from the page). The outcome is audited, never the links.
    """
    organisation = Organisation.objects.order_by("pk").first()
    memberships = Membership.objects.select_related("user", "staff").filter(
        user_id__in=user_ids, user__in=_awaiting_password(None), staff__isnull=False
    )
    sent: list[str] = []
    failed = 0
    with translation.override(settings.LANGUAGE_CODE):
        for membership in memberships.order_by("user_id"):
            subject, body = _mail(membership.user, membership.staff, organisation)
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [membership.staff.email])
            except smtplib.SMTPException as exc:
                logger.warning("first-password mail to %s refused: %s", membership.user.get_username(), exc)
                failed += 1
                continue
            except OSError as exc:
                logger.warning("first-password mails not sent, the mail server is unreachable: %s", exc)
                failed += len(user_ids) - len(sent) - failed
                break
            sent.append(membership.user.get_username())
    with transaction.atomic():
        audit_record(
            actor=ACTOR_WORKER,
            action="staff_logins.links_send",
            object_type="core.staff_logins",
            after={"sent": sent, "failed": failed},
        )
    return {"sent": len(sent), "failed": failed}
