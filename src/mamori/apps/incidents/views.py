"""Incident pages: everyone may report; the officer triages, corrects the dates, records the reports,
closes and reopens; leads follow their departments' incidents; auditors read. A closed incident's
page offers no form that would change it, only 「再開」. Views parse, call one service, render."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.models import Role
from mamori.apps.core.navigation import Task
from mamori.apps.core.permissions import (
    ALL_ROLES,
    OFFICERS,
    READERS,
    RoleRequiredMixin,
    membership_department_ids,
    user_role,
)
from mamori.apps.core.selectors import department_list
from mamori.apps.core.views.base import ServiceFormView

from . import selectors, services
from .forms import (
    DatesForm,
    FilingForm,
    IncidentReportForm,
    IncidentTriageForm,
    ReopenForm,
    TimelineEntryForm,
)
from .models import Incident, IncidentStatus

FOLLOWERS = OFFICERS | {Role.DEPARTMENT_LEAD}


def dashboard_card_context(request: HttpRequest) -> dict[str, Any] | None:
    """The officers' overview always; others only while an incident they may see is open."""
    deadlines = selectors.open_deadlines(user=request.user)
    open_ = selectors.open_count(user=request.user)
    if not open_ and not deadlines and user_role(request.user) not in READERS:
        return None
    overdue = [incident for incident, status in deadlines if status.overdue]
    status = "red" if overdue else ("amber" if deadlines or open_ else "green")
    return {
        "open": open_,
        "deadlines": deadlines[:3],
        "status": status,
        "status_label": _card_label(overdue, deadlines, open_),
        "status_url": _card_url(overdue or [incident for incident, _status in deadlines], status),
    }


def _card_label(overdue: list[Incident], deadlines: list[Any], open_: int) -> str:
    """Why the light has its colour: the late report, the next one due, or the open incidents."""
    if overdue:
        if len(overdue) == 1:
            return _("報告期限切れ: {title}").format(title=overdue[0].title)
        return _("報告期限切れ {n}件").format(n=len(overdue))
    if deadlines:
        incident, status = deadlines[0]
        day = f"{status.deadline.file_by:%Y-%m-%d}"
        return _("報告の提出期限 {day}: {title}").format(day=day, title=incident.title)
    if open_:
        return _("対応中の事故 {n}件").format(n=open_)
    return str(_("対応中の事故なし"))


def _card_url(incidents: list[Incident], status: str) -> str:
    """One incident to act on: its page; several, or only open ones: the list."""
    if status == "green":
        return ""
    if len({i.pk for i in incidents}) == 1:
        return reverse("incidents:detail", args=[incidents[0].pk])
    return reverse("incidents:list")


def report_tasks(request: HttpRequest) -> list[Task]:
    """For the officers' 「あなたへの依頼」 card: each unfiled 速報 / 確報, due by its last office day."""
    if user_role(request.user) not in OFFICERS:
        return []
    names = {"preliminary": _("速報を提出"), "final": _("確報を提出")}
    return [
        Task(
            title=f"{names[status.deadline.kind]}: {incident.title}",
            url=reverse("incidents:detail", args=[incident.pk]),
            due=status.deadline.file_by,
            detail=_("個人情報保護委員会への報告"),
        )
        for incident, status in selectors.open_deadlines(user=request.user)
    ]


class IncidentListView(RoleRequiredMixin, TemplateView):
    allowed_roles = ALL_ROLES
    template_name = "incidents/incident_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            incidents=selectors.incident_list(user=self.request.user)[:500],
            deadlines=selectors.open_deadlines(user=self.request.user),
            can_report=user_role(self.request.user) != Role.AUDITOR,
            **kwargs,
        )


class IncidentDetailView(RoleRequiredMixin, TemplateView):
    allowed_roles = ALL_ROLES
    template_name = "incidents/incident_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        incident = selectors.incident_get(user=self.request.user, pk=self.kwargs["pk"])
        role = user_role(self.request.user)
        is_officer = role in OFFICERS
        is_open = incident.status != IncidentStatus.CLOSED
        reports = selectors.incident_reports(incident)
        pending = (
            [s.deadline.kind for s in (reports.preliminary, reports.final) if s.filed_at is None]
            if reports
            else []
        )
        return super().get_context_data(
            incident=incident,
            reports=reports,
            timeline=incident.timeline.select_related("author"),
            entry_form=TimelineEntryForm() if is_open and role in FOLLOWERS else None,
            # Only while a report is still to be filed, with the next one chosen.
            filing_form=FilingForm(initial={"report": pending[0]})
            if is_officer and is_open and pending
            else None,
            can_triage=is_officer and is_open,
            can_reopen=is_officer and not is_open,
            can_follow_links=role in READERS,  # the linked records' own pages admit these roles
            now=timezone.now(),
            **kwargs,
        )


class IncidentReportView(ServiceFormView):
    """The short form every signed-in person (but the auditor) may use."""

    allowed_roles = ALL_ROLES
    form_class = IncidentReportForm
    title = _("事故の報告")
    success_message = _("報告しました。情報セキュリティ担当が確認します。")

    def get_form_kwargs(self) -> dict[str, Any]:
        scope = membership_department_ids(self.request.user)
        return super().get_form_kwargs() | {
            "departments": department_list(department_ids=scope),
            "backdate": user_role(self.request.user) in OFFICERS,
        }

    def perform(self, form: IncidentReportForm) -> Incident:
        return services.incident_report(
            actor=self.request.user, scope=membership_department_ids(self.request.user), **form.cleaned_data
        )

    def get_success_url(self) -> str:
        return reverse("incidents:detail", args=[self.result.pk])

    def get_back_url(self) -> str:
        return reverse("incidents:list")


class IncidentFormView(ServiceFormView):
    """A write on one incident the user may see."""

    allowed_roles = OFFICERS

    @cached_property
    def incident(self) -> Incident:
        return selectors.incident_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(subject=self.incident.title, **kwargs)

    def get_success_url(self) -> str:
        return reverse("incidents:detail", args=[self.incident.pk])

    def get_back_url(self) -> str:
        return self.get_success_url()


class IncidentTriageView(IncidentFormView):
    form_class = IncidentTriageForm
    title = _("事故の確認・評価")
    success_message = _("更新しました。")

    def get_initial(self) -> dict[str, Any]:
        i = self.incident
        names = [n for n in IncidentTriageForm.base_fields if n not in ("systems", "media")]
        return {n: getattr(i, n) for n in names} | {"systems": i.systems.all(), "media": i.media.all()}

    def perform(self, form: IncidentTriageForm) -> Incident:
        return services.incident_triage(actor=self.request.user, incident=self.incident, **form.cleaned_data)


class IncidentDatesView(IncidentFormView):
    """The officer corrects 発生・発見日時 / 市が把握した日時 (the deadlines' day 1), with a reason."""

    form_class = DatesForm
    title = _("日時の訂正")
    success_message = _("日時を訂正しました。報告期限を計算し直しました。")

    def get_initial(self) -> dict[str, Any]:
        return {"detected_at": self.incident.detected_at, "learned_at": self.incident.learned_at}

    def perform(self, form: DatesForm) -> Incident:
        return services.incident_correct_dates(
            actor=self.request.user, incident=self.incident, **form.cleaned_data
        )


class IncidentFilingView(IncidentFormView):
    form_class = FilingForm
    title = _("個人情報保護委員会への報告を記録")
    success_message = _("報告の提出を記録しました。")

    def perform(self, form: FilingForm) -> Incident:
        return services.incident_file_report(
            actor=self.request.user, incident=self.incident, **form.cleaned_data
        )


class IncidentEntryView(IncidentFormView):
    allowed_roles = FOLLOWERS
    form_class = TimelineEntryForm
    title = _("経過を記録")
    success_message = _("経過を記録しました。")

    def perform(self, form: TimelineEntryForm) -> Incident:
        return services.incident_entry_add(
            actor=self.request.user, incident=self.incident, **form.cleaned_data
        )


class IncidentReopenView(IncidentFormView):
    form_class = ReopenForm
    title = _("事故を再開")
    success_message = _("再開しました。")

    def perform(self, form: ReopenForm) -> Incident:
        return services.incident_reopen(actor=self.request.user, incident=self.incident, **form.cleaned_data)


class IncidentCloseView(RoleRequiredMixin, View):
    allowed_roles = OFFICERS
    writes = True

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        incident = selectors.incident_get(user=request.user, pk=pk)
        try:
            services.incident_close(actor=request.user, incident=incident)
            messages.success(request, _("完了にしました。"))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return HttpResponseRedirect(reverse("incidents:detail", args=[pk]))
