"""Completion by department (a bar per 課, lowest first), the people behind a bar, the overdue list and
the XLSX export. Officers and auditors see every department; a department lead their own subtree."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from mamori.apps.core.labels import fiscal_year_label
from mamori.apps.core.models import Department
from mamori.apps.core.permissions import (
    LEADS_AND_READERS,
    OFFICERS,
    READERS,
    RoleRequiredMixin,
    membership_department_ids,
    user_role,
)
from mamori.apps.core.wareki import fiscal_year_of

from .. import report, selectors
from ..models import Course

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chosen_course(request: HttpRequest) -> Course | None:
    """?course=<id> narrows the report to one course; anything else means every course."""
    raw = request.GET.get("course", "")
    return Course.objects.filter(pk=int(raw)).first() if raw.isdigit() else None


class ReportView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "training/report.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        course = chosen_course(self.request)
        rates = selectors.department_rates(user=self.request.user, course=course)
        assigned = sum(r.assigned for r in rates)
        completed = sum(r.completed for r in rates)
        return super().get_context_data(
            course=course,
            courses=Course.objects.all(),
            rates=rates,
            assigned=assigned,
            completed=completed,
            overall=round(100 * completed / assigned) if assigned else 0,
            overdue_count=sum(r.overdue for r in rates),
            **kwargs,
        )


class DepartmentReportView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "training/report_department.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        course = chosen_course(self.request)
        department = get_object_or_404(Department.objects.select_related("parent"), pk=self.kwargs["pk"])
        people = selectors.department_people(
            user=self.request.user, department_id=department.pk, course=course
        )
        return super().get_context_data(
            course=course, department=department, people=people, today=timezone.localdate(), **kwargs
        )


class OverdueView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "training/overdue.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        course = chosen_course(self.request)
        overdue = selectors.overdue_list(user=self.request.user, course=course)
        return super().get_context_data(
            course=course,
            overdue=overdue[:2000],
            total=overdue.count(),
            can_remind=user_role(self.request.user) in OFFICERS,
            shown_at=timezone.now().isoformat(),  # a second click of this page's buttons sends nothing twice
            **kwargs,
        )


class ReportExportView(RoleRequiredMixin, View):
    allowed_roles = LEADS_AND_READERS

    def get(self, request: HttpRequest) -> HttpResponse:
        course = chosen_course(request)
        response = HttpResponse(report.report_xlsx(user=request.user, course=course), content_type=XLSX)
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="training-completion-{stamp}.xlsx"'
        return response


def dashboard_card_context(request: HttpRequest) -> dict[str, Any] | None:
    """This fiscal year's completion over every course for the officers' overview and a lead's
    departments, counted as the sheet's KPI counts it (`selectors.asked_in_year`)."""
    today = timezone.localdate()
    year = fiscal_year_of(today)
    scope = membership_department_ids(request.user)
    rates = selectors.asked_rates(
        selectors.asked_in_year(fiscal_year=year, department_ids=scope), today=today
    )
    assigned = sum(r.assigned for r in rates)
    if not assigned:  # a lead with nothing assigned in their departments gets no card
        return {"assigned": 0} if user_role(request.user) in READERS else None
    completed = sum(r.completed for r in rates)
    overdue = sum(r.overdue for r in rates)
    rate = round(100 * completed / assigned)
    status = "red" if overdue else ("green" if completed == assigned else "amber")
    labels = {
        "red": _("期限を過ぎた未修了 {n}件").format(n=overdue),
        "amber": _("受講期間中: 未修了 {n}件").format(n=assigned - completed),
        "green": _("全員修了"),
    }
    urls = {"red": reverse("training:overdue"), "amber": reverse("training:report"), "green": ""}
    return {
        "year": fiscal_year_label(year),
        "assigned": assigned,
        "completed": completed,
        "overdue": overdue,
        "rate": rate,
        "lowest": rates[:3],
        "status": status,
        "status_label": labels[status],
        "status_url": urls[status],
    }
