"""Building blocks for the incident tests: an incident reported some days ago, a closed one."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from mamori.apps.core.models import Role
from mamori.apps.incidents import services
from mamori.apps.incidents.models import Incident
from mamori.apps.incidents.selectors import incident_reports


def reported(world, *, days_ago: float = 1, actor=None, department=None, **personal) -> Incident:
    """An incident learned of and reported `days_ago` days ago."""
    learned = timezone.now() - timedelta(days=days_ago)
    return services.incident_report(
        actor=actor or world.users[Role.STAFF], scope=None, title="USBメモリの紛失", kind="loss",
        department=department or world.gyokaku, detected_at=learned, learned_at=learned,
        description="会議室で紛失", **{"reported_at": learned} | personal,
    )  # fmt: skip


def closed(world, **personal) -> Incident:
    """Reported 10 days ago, its reports (if due) filed on days 2 and 5, then closed."""
    incident = reported(world, days_ago=10, **personal)
    if incident_reports(incident):
        for report, day in (("preliminary", 2), ("final", 5)):
            services.incident_file_report(
                actor="o",
                incident=incident,
                report=report,
                filed_at=incident.learned_at + timedelta(days=day),
            )
    return services.incident_close(actor="o", incident=incident)
