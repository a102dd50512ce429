"""Awareness writes: campaigns, their delivery to recipients, reminders and acknowledgements.

Each write is one transaction with one audit event; mails leave after the commit, through the task
queue (`delivery`), so a slow or absent mail server never holds a transaction or an officer's page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, actor_name, audit_record, snapshot_of
from mamori.apps.core.models import Department, Staff, StaffStatus
from mamori.apps.core.selectors import staff_transferred_since
from mamori.apps.core.services import validated
from mamori.apps.core.wareki import fiscal_year_of

from . import delivery, texts
from .errors import AwarenessError
from .models import Audience, Campaign, CampaignKind, CampaignStatus, Recipient

MSG_NEEDS_DEPARTMENTS = _("対象の所属を1つ以上選んでください。")
MSG_NEEDS_ROLE = _("対象のロールを選んでください。")
MSG_NEEDS_SINCE = _(
    "異動した職員を対象にするときは、異動の基準日（発令日がこの日以降の人が対象）を入れてください。"
)
MSG_DUE_BEFORE_SEND = _("確認の期限は配信日以降にしてください。")
MSG_ALREADY_SENT = _("配信済みの注意喚起は変更できません。")
MSG_NOT_SENT = _("まだ配信していないため督促できません。")
MSG_ALREADY_ACKNOWLEDGED = _("この注意喚起は %(when)s に確認済みです。")
FIELDS = [
    "kind", "subject", "body", "send_at", "due_on", "remind_days_before", "audience", "role",
    "transferred_since", "status",
]  # fmt: skip


@dataclass
class CampaignData:
    """The editable fields of a campaign, as the form gives them."""

    subject: str
    body: str
    send_at: datetime
    due_on: date
    audience: str = Audience.ALL
    departments: list[Department] = field(default_factory=list)
    role: str = ""
    transferred_since: date | None = None
    remind_days_before: int = 2
    kind: str = CampaignKind.AD_HOC


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    return snapshot_of(campaign, FIELDS) | {"departments": sorted(d.code for d in campaign.departments.all())}


def _check(data: CampaignData) -> None:
    texts.placeholders_check(data.subject)
    texts.placeholders_check(data.body)
    if data.audience == Audience.DEPARTMENTS and not data.departments:
        raise AwarenessError(MSG_NEEDS_DEPARTMENTS, code="needs_departments")
    if data.audience == Audience.ROLE and not data.role:
        raise AwarenessError(MSG_NEEDS_ROLE, code="needs_role")
    if data.audience == Audience.TRANSFERRED and data.transferred_since is None:
        raise AwarenessError(MSG_NEEDS_SINCE, code="needs_since")
    if data.due_on < timezone.localtime(data.send_at).date():
        raise AwarenessError(MSG_DUE_BEFORE_SEND, code="due_before_send")


def _apply(campaign: Campaign, data: CampaignData) -> None:
    year = campaign.season or fiscal_year_of(timezone.localtime(data.send_at).date())
    campaign.kind, campaign.body = data.kind, data.body.strip() + "\n"
    campaign.subject = texts.subject_with_year(data.subject.strip(), year)
    campaign.send_at, campaign.due_on, campaign.remind_days_before = (
        data.send_at,
        data.due_on,
        data.remind_days_before,
    )
    campaign.audience = data.audience
    campaign.role = data.role if data.audience == Audience.ROLE else ""
    campaign.transferred_since = data.transferred_since if data.audience == Audience.TRANSFERRED else None
    validated(campaign, exclude=["departments"])
    campaign.save()
    campaign.departments.set(data.departments if data.audience == Audience.DEPARTMENTS else [])


def campaign_create(*, actor: Actor, data: CampaignData, season: int | None = None) -> Campaign:
    _check(data)
    with transaction.atomic():
        campaign = Campaign(created_by=actor_name(actor), season=season)
        _apply(campaign, data)
        audit_record(actor=actor, action="awareness.campaign.create", obj=campaign, after=_snapshot(campaign))
    return campaign


def campaign_update(*, actor: Actor, campaign: Campaign, data: CampaignData) -> Campaign:
    """Change a campaign that has not been sent; a sent one is what its recipients received."""
    _check(data)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.SCHEDULED:
            raise AwarenessError(MSG_ALREADY_SENT, code="already_sent", http_status=409)
        before = _snapshot(campaign)
        data.kind = campaign.kind  # a built-in season stays one
        _apply(campaign, data)
        if _snapshot(campaign) != before:
            audit_record(
                actor=actor,
                action="awareness.campaign.update",
                obj=campaign,
                before=before,
                after=_snapshot(campaign),
            )
    return campaign


def season_campaign_ensure(*, actor: Actor, kind: str, fiscal_year: int) -> Campaign | None:
    """The built-in campaign of a season with the default text, unless that season already has one.

    The transfer season's goes to the staff the season's transfers moved (発令日 from 1 April); the
    officer may widen it to everyone before it is sent.
    """
    if Campaign.objects.filter(kind=kind, season=fiscal_year).exists():
        return None
    season = texts.season_schedule(kind, fiscal_year)
    subject, body = texts.TEXTS[kind]
    data = CampaignData(
        subject=subject, body=body, send_at=season.send_at, due_on=season.due_on, kind=kind,
        audience=Audience.TRANSFERRED if season.movers_since else Audience.ALL,
        transferred_since=season.movers_since,
    )  # fmt: skip
    return campaign_create(actor=actor, data=data, season=fiscal_year)


def audience_staff(campaign: Campaign) -> QuerySet[Staff]:
    """Who a campaign goes to, resolved when it is sent: staff at work (在職), by its audience."""
    staff = Staff.objects.filter(status=StaffStatus.ACTIVE)
    if campaign.audience == Audience.DEPARTMENTS:
        ids: set[int] = set()
        for department in campaign.departments.all():
            ids |= department.descendant_ids()
        staff = staff.filter(department_id__in=ids)
    elif campaign.audience == Audience.ROLE:
        staff = staff.filter(membership__role=campaign.role, membership__user__is_active=True)
    elif campaign.audience == Audience.TRANSFERRED:
        assert campaign.transferred_since is not None
        staff = staff_transferred_since(since=campaign.transferred_since)
    return staff


def campaign_send(
    *, actor: Actor, campaign: Campaign, now: datetime | None = None, mail: bool = True
) -> Campaign:
    """Send a scheduled campaign now: its recipients are fixed, the mails queued for the worker.

    Idempotent under concurrency: the row is locked and a campaign already sent is left as it is.
    `mail=False` records a campaign delivered outside mamori (a past season's, e.g.): no mail leaves.
    """
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.SCHEDULED:
            return campaign
        staff = list(audience_staff(campaign).only("pk", "department_id", "email"))
        Recipient.objects.bulk_create(
            [
                Recipient(campaign=campaign, staff=s, department_id=s.department_id, email=s.email)
                for s in staff
            ]
        )
        campaign.status, campaign.sent_at = CampaignStatus.SENT, now
        if campaign.send_at > now:
            campaign.send_at = now
        campaign.save(update_fields=["status", "sent_at", "send_at"])
        audit_record(
            actor=actor,
            action="awareness.campaign.send",
            obj=campaign,
            after={"recipients": len(staff), "with_email": sum(1 for s in staff if s.email)},
        )
        if mail:
            transaction.on_commit(
                lambda: delivery.mails_send.enqueue(campaign_id=campaign.pk, reminder=False)
            )
    return campaign


def campaign_remind(*, actor: Actor, campaign: Campaign, now: datetime | None = None) -> int:
    """Queue a reminder mail to each recipient who has not acknowledged; the number queued."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.SENT:
            raise AwarenessError(MSG_NOT_SENT, code="not_sent", http_status=409)
        pending = campaign.recipients.filter(acknowledged_at__isnull=True).exclude(email="").count()
        campaign.reminded_at = now
        campaign.save(update_fields=["reminded_at"])
        audit_record(
            actor=actor, action="awareness.campaign.remind", obj=campaign, after={"pending": pending}
        )
        transaction.on_commit(lambda: delivery.mails_send.enqueue(campaign_id=campaign.pk, reminder=True))
    return pending


def acknowledgement_record(*, actor: AbstractBaseUser, recipient: Recipient) -> Recipient:
    """The recipient read the notice. Once only: a replayed request changes nothing and says so."""
    with transaction.atomic():
        recipient = (
            Recipient.objects.select_for_update(of=("self",))
            .select_related("campaign", "staff")
            .get(pk=recipient.pk)
        )
        if recipient.acknowledged_at is not None:
            when = timezone.localtime(recipient.acknowledged_at)
            raise AwarenessError(
                MSG_ALREADY_ACKNOWLEDGED % {"when": f"{when:%Y-%m-%d %H:%M}"},
                code="already_acknowledged",
                http_status=409,
            )
        recipient.acknowledged_at, recipient.acknowledged_by = timezone.now(), actor
        recipient.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(
            actor=actor,
            action="awareness.acknowledge",
            obj=recipient.campaign,
            after={"staff": recipient.staff.employee_number},
        )
    return recipient


def acknowledgements_import(
    *, actor: Actor, campaign: Campaign, acknowledged: dict[int, datetime], mailed_at: datetime | None = None
) -> int:
    """Record acknowledgements given outside mamori (on paper, in a former system): staff id → when.

    For a sent campaign's recipients who have not acknowledged yet; one audit event for the batch.
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.SENT:
            raise AwarenessError(MSG_NOT_SENT, code="not_sent", http_status=409)
        recipients = list(campaign.recipients.filter(acknowledged_at__isnull=True))
        for recipient in recipients:
            recipient.acknowledged_at = acknowledged.get(recipient.staff_id)
            if mailed_at is not None and recipient.email:
                recipient.mailed_at = mailed_at
        Recipient.objects.bulk_update(recipients, ["acknowledged_at", "mailed_at"], batch_size=500)
        count = sum(1 for r in recipients if r.acknowledged_at is not None)
        audit_record(
            actor=actor, action="awareness.acknowledge.import", obj=campaign, after={"acknowledged": count}
        )
    return count
