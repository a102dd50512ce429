"""The dashboard card of the evaluation sheet (kept apart from the views so that app start-up does
not load the PDF and XLSX libraries)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from mamori.apps.core.labels import fiscal_year_label
from mamori.apps.core.permissions import membership_department_ids
from mamori.apps.core.wareki import fiscal_year_of

from .selectors import program_list


def dashboard_card_context(request: HttpRequest) -> dict[str, Any]:
    programs = program_list(department_ids=membership_department_ids(request.user))
    return {
        "programs": programs.count(),
        "fiscal_year": fiscal_year_label(fiscal_year_of(timezone.localdate())),
    }
