"""Incident KPIs per fiscal year (by the day the city learned of the incident, Japan time).

- incidents.count: incidents, 件 (the program's target is 0); `incidents.count.<kind>` per kind
- incidents.reports_on_time: statutory reports (速報 / 確報) filed by their deadline ÷ reports due
  (filed, or whose deadline has passed), %
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.kpis import Evidence, Kpi, KpiValue, kpi_percent, register_kpi
from mamori.apps.disposal.kpis import fiscal_year_span

from .models import Incident, IncidentKind
from .selectors import incident_reports


def learned_in(fiscal_year: int, kind: str = "") -> list[Incident]:
    start, end = fiscal_year_span(fiscal_year)
    incidents = Incident.objects.filter(learned_at__gte=start, learned_at__lt=end).select_related(
        "department"
    )
    if kind:
        incidents = incidents.filter(kind=kind)
    return list(incidents.order_by("learned_at", "pk"))


def _evidence(incidents: list[Incident]) -> list[Evidence]:
    return [
        Evidence(
            label=f"{timezone.localtime(i.learned_at):%Y-%m-%d} {i.get_kind_display()} {i.title}",
            object_type="incidents.incident",
            object_id=str(i.pk),
            url=reverse("incidents:detail", args=[i.pk]),
        )
        for i in incidents
    ]


def count_of(kind: str = ""):  # type: ignore[no-untyped-def]
    def compute(fiscal_year: int) -> KpiValue:
        incidents = learned_in(fiscal_year, kind)
        by_kind = Counter(i.kind for i in incidents)
        return KpiValue(
            value=Decimal(len(incidents)),
            evidence=_evidence(incidents),
            detail={k: by_kind.get(k, 0) for k in IncidentKind.values} if not kind else {},
        )

    return compute


def kpi_reports_on_time(fiscal_year: int) -> KpiValue:
    now = timezone.now()
    due, met, reportable = 0, 0, []
    for incident in learned_in(fiscal_year):
        reports = incident_reports(incident, now)
        if reports is None:
            continue
        counted = [s for s in (reports.preliminary, reports.final) if s.filed_at is not None or s.overdue]
        due += len(counted)
        on_time = sum(1 for s in counted if s.met)
        met += on_time
        reportable.append(incident)
    value = kpi_percent(met, due)
    return KpiValue(value=value, evidence=_evidence(reportable), detail={"due": due, "met": met})


def register() -> None:
    register_kpi(Kpi("incidents.count", _("情報セキュリティ事故の件数"), "件", "down", count_of()))
    for kind in IncidentKind:
        register_kpi(
            Kpi(
                f"incidents.count.{kind.value}",
                format_lazy(_("事故の件数（{kind}）"), kind=kind.label),
                "件",
                "down",
                count_of(kind.value),
            )
        )
    register_kpi(
        Kpi("incidents.reports_on_time", _("委員会への報告の期限内提出率"), "%", "up", kpi_reports_on_time)
    )
