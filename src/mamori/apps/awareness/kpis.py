"""Awareness KPIs per fiscal year (by the day each campaign was sent, Japan time), with evidence.

- awareness.ack_rate: recipients who acknowledged ÷ recipients, over the campaigns sent that year, %
- awareness.campaigns: campaigns sent that year, 回
Each campaign is one piece of evidence, with its own count and rate.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.kpis import Evidence, Kpi, KpiValue, register_kpi
from mamori.apps.core.wareki import fiscal_year_range

from .delivery import city_name, subject_for
from .models import Campaign, CampaignStatus
from .selectors import rate_of


def sent_in(fiscal_year: int) -> list[Campaign]:
    zone = ZoneInfo(settings.TIME_ZONE)
    first, last = fiscal_year_range(fiscal_year)
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return list(
        Campaign.objects.filter(status=CampaignStatus.SENT, sent_at__gte=start, sent_at__lt=end)
        .annotate(
            total=Count("recipients"),
            acknowledged=Count("recipients", filter=Q(recipients__acknowledged_at__isnull=False)),
        )
        .order_by("sent_at", "pk")
    )


def _evidence(campaigns: list[Campaign]) -> list[Evidence]:
    """Each campaign with its subject as its recipients read it (city and year filled in)."""
    city = city_name()
    return [
        Evidence(
            label=f"{timezone.localtime(c.sent_at):%Y-%m-%d} {c.get_kind_display()} "  # type: ignore[arg-type]
            f"{subject_for(c, city)} 確認 {c.acknowledged}/{c.total}人 ({rate_of(c.acknowledged, c.total) or 0}%)",  # type: ignore[attr-defined]
            object_type="awareness.campaign",
            object_id=str(c.pk),
            url=reverse("awareness:detail", args=[c.pk]),
        )
        for c in campaigns
    ]


def kpi_ack_rate(fiscal_year: int) -> KpiValue:
    campaigns = sent_in(fiscal_year)
    total = sum(c.total for c in campaigns)  # type: ignore[attr-defined]
    acknowledged = sum(c.acknowledged for c in campaigns)  # type: ignore[attr-defined]
    return KpiValue(
        value=rate_of(acknowledged, total),
        evidence=_evidence(campaigns),
        detail={"recipients": total, "acknowledged": acknowledged, "campaigns": len(campaigns)},
    )


def kpi_campaigns(fiscal_year: int) -> KpiValue:
    campaigns = sent_in(fiscal_year)
    return KpiValue(value=Decimal(len(campaigns)), evidence=_evidence(campaigns))


def register() -> None:
    register_kpi(Kpi("awareness.ack_rate", _("注意喚起の確認率"), "%", "up", kpi_ack_rate))
    register_kpi(Kpi("awareness.campaigns", _("注意喚起の配信回数"), "回", "up", kpi_campaigns))
