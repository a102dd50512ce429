"""URL kwargs for the incident pages in the role × view matrix: an incident the staff login reported
in its own department (inside the lead's scope), with personal data so the reports apply."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from mamori.apps.core.models import Role
from mamori.apps.incidents import services

if TYPE_CHECKING:
    from tests.apps.core.world import World


def url_kwargs(world: World) -> dict[str, dict[str, Any]]:
    learned = timezone.now() - timedelta(days=1)
    incident = services.incident_report(
        actor=world.users[Role.STAFF], scope=None, title="USBメモリの紛失", kind="loss",
        department=world.gyokaku, detected_at=learned, learned_at=learned, description="会議室で紛失",
        personal_data=True, people_affected=3, special_care=True,
    )  # fmt: skip
    pk = {"pk": incident.pk}
    return {
        f"incidents:{name}": pk
        for name in ("detail", "triage", "dates", "filing", "entry", "close", "reopen")
    }
