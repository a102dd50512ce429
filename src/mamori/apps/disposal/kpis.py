"""Disposal KPIs per fiscal year (April–March, by the hand-over's date in Japan time), with evidence.

- disposal.certified_rate: media handed over that year whose certificate came in ÷ media handed over, %
- disposal.certificate_late: of those, media whose certificate came (or is still missing) later than
  N days after the hand-over (`MAMORI_DISPOSAL_CERTIFICATE_DAYS`), 件
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.kpis import Evidence, Kpi, KpiValue, kpi_percent, register_kpi
from mamori.apps.core.wareki import fiscal_year_range

from .models import Medium, MediumState
from .selectors import certificate_due_days


def fiscal_year_span(fiscal_year: int) -> tuple[datetime, datetime]:
    """[1 April 00:00, next 1 April 00:00) in the city's time zone."""
    zone = ZoneInfo(settings.TIME_ZONE)
    first, last = fiscal_year_range(fiscal_year)
    return datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)


def handed_over_in(fiscal_year: int) -> list[Medium]:
    start, end = fiscal_year_span(fiscal_year)
    return list(
        Medium.objects.filter(batch__handed_over_at__gte=start, batch__handed_over_at__lt=end)
        .select_related("batch", "certificate", "department")
        .order_by("batch__handed_over_at", "label")
    )


def is_late(medium: Medium, now: datetime) -> bool:
    assert medium.batch is not None
    due = medium.batch.handed_over_at + timedelta(days=certificate_due_days())
    arrived = medium.certificate.uploaded_at if medium.certificate else None
    return (arrived or now) > due


def _evidence(media: list[Medium]) -> list[Evidence]:
    return [
        Evidence(
            label=f"{m.label} {m.get_state_display()} "
            f"{timezone.localtime(m.batch.handed_over_at):%Y-%m-%d} {m.batch.contractor}",  # type: ignore[union-attr]
            object_type="disposal.medium",
            object_id=str(m.pk),
            url=reverse("disposal:medium-detail", args=[m.pk]),
        )
        for m in media
    ]


def kpi_certified_rate(fiscal_year: int) -> KpiValue:
    media = handed_over_in(fiscal_year)
    certified = [m for m in media if m.state == MediumState.CERTIFIED]
    value = kpi_percent(len(certified), len(media))
    return KpiValue(
        value=value,
        evidence=_evidence(media),
        detail={"handed_over": len(media), "certified": len(certified)},
    )


def kpi_certificate_late(fiscal_year: int) -> KpiValue:
    media = handed_over_in(fiscal_year)
    now = timezone.now()
    late = [m for m in media if is_late(m, now)]
    return KpiValue(
        value=Decimal(len(late)) if media else None,
        evidence=_evidence(late),
        detail={"handed_over": len(media), "days": certificate_due_days()},
    )


def register() -> None:
    register_kpi(Kpi("disposal.certified_rate", _("廃棄証明書の受領率"), "%", "up", kpi_certified_rate))
    register_kpi(
        Kpi(
            "disposal.certificate_late",
            _("証明書が期限までに届かなかった媒体"),
            "件",
            "down",
            kpi_certificate_late,
        )
    )
