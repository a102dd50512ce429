"""Starting the whole year (XLSX / PDF) from the program list: a background job with a progress page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views import View

from mamori.apps.core.labels import fiscal_year_label
from mamori.apps.core.permissions import LEADS_AND_READERS, RoleRequiredMixin
from mamori.apps.core.progress import progress_start

from .forms import YearBookForm
from .selectors import default_rules, fiscal_years_recorded
from .year_book import YEAR_BOOK_KIND


def year_choices() -> list[tuple[int, str]]:
    """(fiscal year, its label in the sheet's era style), newest first, for the years with records."""
    style = default_rules().era_style
    return [(fy, fiscal_year_label(fy, style)) for fy in fiscal_years_recorded()]  # type: ignore[arg-type]


class YearBookStartView(RoleRequiredMixin, View):
    """POST only: queue the job (leads get their departments' programs) and show its progress page."""

    allowed_roles = LEADS_AND_READERS

    def post(self, request: HttpRequest) -> HttpResponse:
        years = year_choices()
        form = YearBookForm(request.POST, years=years)
        if not form.is_valid():
            for errors in form.errors.values():
                messages.error(request, " ".join(errors))
            return redirect("evaluation:program_list")
        fy, fmt = form.cleaned_data["fiscal_year"], form.cleaned_data["format"]
        title = gettext("{fy} 全事業の評価シート（{fmt}）").format(fy=dict(years)[fy], fmt=fmt.upper())
        job = progress_start(
            actor=request.user,
            kind=YEAR_BOOK_KIND.key,
            title=title,
            params={"fiscal_year": fy, "format": fmt},
        )
        return redirect("progress_detail", job.pk)
