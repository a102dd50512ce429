"""Where an uploaded file's import runs.

Until core's progress facility is on main the import runs at once, in the request; the page then
shows its result (`import_start` returns the page to go to).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .imports import import_execute
from .models import DeviceImport


def import_start(*, actor: Any, record: DeviceImport) -> str:
    import_execute(import_id=record.pk)
    return reverse("devices:import-detail", args=[record.pk])
