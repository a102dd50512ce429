"""Awareness reads: campaigns a person may see, acknowledgement rates, a person's own notices.

`department_ids` (from `membership_department_ids`) limits a department lead to the recipients in
their departments; None means all. Rates count recipients by the department they were in when the
campaign was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest

from mamori.apps.core.kpis import kpi_percent
from mamori.apps.core.models import Department, Membership

from .models import Campaign, CampaignStatus, Recipient


def rate_of(acknowledged: int, total: int) -> Decimal | None:
    return kpi_percent(acknowledged, total)


@dataclass(frozen=True)
class Rate:
    label: str
    total: int
    acknowledged: int
    department_id: int | None = None

    @property
    def percent(self) -> Decimal | None:
        return rate_of(self.acknowledged, self.total)

    @property
    def fraction(self) -> float:
        """0–1 for a <meter>."""
        return self.acknowledged / self.total if self.total else 0.0

    @property
    def pending(self) -> int:
        return self.total - self.acknowledged


def campaign_list(*, department_ids: set[int] | None) -> QuerySet[Campaign]:
    """Newest first, each with `total` and `acknowledged` counted within the scope.

    A department lead sees the sent campaigns that reached their departments; officers and
    auditors see every campaign, scheduled ones too.
    """
    campaigns = Campaign.objects.all()
    scope = Q()
    if department_ids is not None:
        scope = Q(recipients__department_id__in=department_ids)
        campaigns = campaigns.filter(status=CampaignStatus.SENT, recipients__department_id__in=department_ids)
    return (
        campaigns.annotate(
            total=Count("recipients", filter=scope, distinct=True),
            acknowledged=Count(
                "recipients", filter=scope & Q(recipients__acknowledged_at__isnull=False), distinct=True
            ),
        )
        .distinct()
        .order_by("-send_at", "-pk")
    )


def campaign_get(*, pk: int, department_ids: set[int] | None) -> Campaign | None:
    return campaign_list(department_ids=department_ids).filter(pk=pk).first()


def department_rates(campaign: Campaign, *, department_ids: set[int] | None) -> list[Rate]:
    """One rate per department the recipients were in, lowest first: who needs a nudge is on top."""
    recipients = campaign.recipients.all()
    if department_ids is not None:
        recipients = recipients.filter(department_id__in=department_ids)
    rows = recipients.values("department_id").annotate(
        total=Count("pk"), acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False))
    )
    names = {d.pk: d.full_name for d in Department.objects.select_related("parent")}
    rates = [
        Rate(names.get(r["department_id"], "—"), r["total"], r["acknowledged"], r["department_id"])
        for r in rows
    ]
    return sorted(rates, key=lambda r: (r.fraction, r.label))


def recipient_list(campaign: Campaign, *, department_ids: set[int] | None) -> QuerySet[Recipient]:
    recipients = campaign.recipients.select_related("staff", "department__parent")
    if department_ids is not None:
        recipients = recipients.filter(department_id__in=department_ids)
    return recipients.order_by("acknowledged_at", "department__code", "staff__employee_number")


def _staff_id(request: HttpRequest) -> int | None:
    """The signed-in person's staff record; the membership is cached on the user (no query per page)."""
    if not request.user.is_authenticated:
        return None
    try:
        return request.user.membership.staff_id  # type: ignore[union-attr]
    except Membership.DoesNotExist:
        return None


def my_recipients(request: HttpRequest) -> QuerySet[Recipient]:
    """The signed-in person's own copies of sent campaigns, unacknowledged first."""
    staff_id = _staff_id(request)
    if staff_id is None:
        return Recipient.objects.none()
    return (
        Recipient.objects.filter(staff_id=staff_id, campaign__status=CampaignStatus.SENT)
        .select_related("campaign", "department")
        .order_by(F("acknowledged_at").asc(nulls_first=True), "-campaign__sent_at")
    )


def my_pending(request: HttpRequest) -> list[Recipient]:
    return list(my_recipients(request).filter(acknowledged_at__isnull=True))
