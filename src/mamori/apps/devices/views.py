"""Devices pages. Officers edit the inventory, import files and plan renewals; department leads read
their own departments' devices; auditors read everything. Views parse, call one service, render."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from mamori.apps.core.models import NetworkZone, ProgressJob
from mamori.apps.core.permissions import (
    LEADS_AND_READERS,
    OFFICERS,
    READERS,
    RoleRequiredMixin,
    membership_department_ids,
    user_role,
)
from mamori.apps.core.views.base import ServiceFormView, paginate
from mamori.apps.core.wareki import fiscal_year_of

from . import selectors, services, uploads
from .charts import coverage_bars
from .errors import DeviceError
from .export import failing_xlsx
from .forms import DeviceEditForm, DeviceForm, ImportForm, RenewalPlanForm, WazuhSourceForm
from .hygiene import Rule, Thresholds
from .models import Device, DeviceKind, DeviceStatus, ImportState, RenewalPlan, thousand_yen
from .tasks import import_queue
from .wazuh_pull import NOT_CONFIGURED, wazuh_pull_start, wazuh_source_get, wazuh_source_save

IMPORT_READERS = OFFICERS | READERS


def today() -> date:
    return timezone.localdate()


def thresholds_from(request: HttpRequest) -> Thresholds:
    """The page's N for each rule (?signature_days=…); anything missing or out of range: the default."""
    default = Thresholds.from_settings()

    def number(name: str, low: int, high: int, fallback: Any) -> Any:
        raw = request.GET.get(name, "")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            return fallback
        return value if low <= value <= high else fallback

    return Thresholds(
        signature_days=int(number("signature_days", 0, 365, default.signature_days)),
        silent_days=int(number("silent_days", 0, 365, default.silent_days)),
        patch_days=int(number("patch_days", 0, 730, default.patch_days)),
        baseline_min=Decimal(number("baseline_min", 0, 100, default.baseline_min)),
    )


class DevicesPage(RoleRequiredMixin, TemplateView):
    """A devices page: the tabs show renewals and imports to those who may open them."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        role = user_role(self.request.user)
        return super().get_context_data(can_read_all=role in READERS, can_edit=role in OFFICERS, **kwargs)


def dashboard_card_context(request: HttpRequest) -> dict[str, Any] | None:
    devices = selectors.fleet(user=request.user, today=today(), thresholds=Thresholds.from_settings())
    counts = selectors.status_counts(user=request.user)
    if not sum(counts.values()):
        return None if user_role(request.user) not in READERS else {"total": 0}
    overall = selectors.coverage(devices).overall
    eol = selectors.past_end_of_support(user=request.user, today=today()).count()
    failing = sum(1 for d in devices if d.failed)
    status = "red" if eol else ("amber" if failing else "green")
    labels = {
        "red": _("サポート終了後も使用中: {n}台").format(n=eol),
        "amber": _("基準を満たさない機器: {n}台").format(n=failing),
        "green": _("すべて基準を満たしています"),
    }
    urls = {"red": reverse("devices:end-of-support"), "amber": reverse("devices:failing"), "green": ""}
    return {
        "total": sum(counts.values()),
        "in_use": counts[DeviceStatus.IN_USE],
        "av_pct": overall.av_pct,
        "patch_pct": overall.patch_pct,
        "failing": failing,
        "eol": eol,
        "status": status,
        "status_label": labels[status],
        "status_url": urls[status],
    }


class DeviceListView(DevicesPage):
    allowed_roles = LEADS_AND_READERS
    template_name = "devices/device_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        get = self.request.GET
        filters = {
            "kind": get.get("kind", "") if get.get("kind") in DeviceKind.values else "",
            "zone": get.get("zone", "") if get.get("zone") in NetworkZone.values else "",
            "status": get.get("status", "") if get.get("status") in DeviceStatus.values else "",
            "q": get.get("q", "")[:100],
        }
        page, query = paginate(self.request, selectors.device_list(user=self.request.user, **filters))
        return super().get_context_data(
            page=page,
            query=query,
            filters=filters,
            kinds=DeviceKind.choices,
            zones=NetworkZone.choices,
            statuses=DeviceStatus.choices,
            counts=selectors.status_counts(user=self.request.user),
            **kwargs,
        )


class DeviceDetailView(DevicesPage):
    allowed_roles = LEADS_AND_READERS
    template_name = "devices/device_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        device = selectors.device_get(user=self.request.user, pk=self.kwargs["pk"])
        judged = selectors.fleet_device(device, today=today(), thresholds=Thresholds.from_settings())
        return super().get_context_data(
            device=device,
            judged=judged,
            reports=device.reports.select_related("imported_by")[:30],
            changes=[(c, selectors.change_rows(c)) for c in device.changes.all()[:50]],
            plans=device.renewal_plans.all(),
            media=device.disposal_media.all(),
            rules=dict(Rule.choices),
            **kwargs,
        )


class DeviceCreateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = DeviceForm
    title = _("機器の登録")
    success_message = _("機器を登録しました。")

    def perform(self, form: DeviceForm) -> Device:
        return services.device_create(actor=self.request.user, **form.cleaned_data)

    def get_success_url(self) -> str:
        return reverse("devices:device-detail", args=[self.result.pk])


class DeviceUpdateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = DeviceEditForm
    title = _("機器の編集")
    success_message = _("機器の記録を更新しました。")

    @cached_property
    def device(self) -> Device:
        return selectors.device_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        # the form edits a copy: the service compares the stored device with the new values
        return super().get_form_kwargs() | {"instance": Device.objects.get(pk=self.device.pk)}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(subject=str(self.device), **kwargs)

    def perform(self, form: DeviceEditForm) -> Device:
        data = dict(form.cleaned_data)
        media = list(data.pop("media"))
        return services.device_update(actor=self.request.user, device=self.device, media=media, **data)

    def get_success_url(self) -> str:
        return reverse("devices:device-detail", args=[self.device.pk])


class CoverageView(DevicesPage):
    """Coverage by zone and by department, worst first, with links to the failing devices."""

    allowed_roles = LEADS_AND_READERS
    template_name = "devices/coverage.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        thresholds = thresholds_from(self.request)
        devices = selectors.fleet(user=self.request.user, today=today(), thresholds=thresholds)
        cov = selectors.coverage(devices)
        return super().get_context_data(
            coverage=cov,
            thresholds=thresholds,
            zone_chart=coverage_bars(cov.zones, title=str(_("ネットワーク区分別"))),
            department_chart=coverage_bars(cov.departments, title=str(_("所属別"))),
            rule_counts=[
                (value, label, selectors.rule_counts(devices).get(value, 0)) for value, label in Rule.choices
            ],
            query=self.request.GET.urlencode(),
            today=today(),
            **kwargs,
        )


def _failing(request: HttpRequest) -> tuple[list[selectors.FleetDevice], Thresholds, dict[str, str]]:
    thresholds = thresholds_from(request)
    get = request.GET
    filters = {
        "rule": get.get("rule", "") if get.get("rule") in Rule.values else "",
        "zone": get.get("zone", "") if get.get("zone") in NetworkZone.values else "",
        "department": get.get("department", "") if get.get("department", "").isdigit() else "",
    }
    scope = membership_department_ids(request.user)
    if filters["department"] and scope is not None and int(filters["department"]) not in scope:
        raise Http404  # another department's drill-down, or its export
    devices = selectors.fleet(user=request.user, today=today(), thresholds=thresholds)
    return selectors.failing(devices, **filters), thresholds, filters


class FailingView(DevicesPage):
    allowed_roles = LEADS_AND_READERS
    template_name = "devices/failing.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        devices, thresholds, filters = _failing(self.request)
        return super().get_context_data(
            devices=devices[:1000],
            count=len(devices),
            thresholds=thresholds,
            filters=filters,
            rules=Rule.choices,
            rule_labels=dict(Rule.choices),
            zones=NetworkZone.choices,
            query=self.request.GET.urlencode(),
            today=today(),
            **kwargs,
        )


class FailingExportView(RoleRequiredMixin, View):
    allowed_roles = LEADS_AND_READERS

    def get(self, request: HttpRequest) -> HttpResponse:
        devices, thresholds, _filters = _failing(request)
        response = HttpResponse(
            failing_xlsx(devices, today=today(), thresholds=thresholds),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="devices-failing-{today():%Y%m%d}.xlsx"'
        return response


class EndOfSupportView(DevicesPage):
    allowed_roles = LEADS_AND_READERS
    template_name = "devices/end_of_support.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            devices=selectors.past_end_of_support(user=self.request.user, today=today()),
            today=today(),
            **kwargs,
        )


class RenewalListView(DevicesPage):
    allowed_roles = READERS
    template_name = "devices/renewals.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        years = selectors.renewal_years()
        return super().get_context_data(
            years=years,
            current_year=fiscal_year_of(today()),
            total=thousand_yen(sum(y.total_yen for y in years)),
            **kwargs,
        )


class RenewalCreateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = RenewalPlanForm
    title = _("更新計画の登録")
    success_message = _("更新計画を登録しました。")

    def perform(self, form: RenewalPlanForm) -> RenewalPlan:
        data = dict(form.cleaned_data)
        return services.renewal_plan_create(
            actor=self.request.user, devices=list(data.pop("devices")), **data
        )

    def get_success_url(self) -> str:
        return reverse("devices:renewals")


class RenewalUpdateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = RenewalPlanForm
    title = _("更新計画の編集")
    success_message = _("更新計画を更新しました。")

    @cached_property
    def plan(self) -> RenewalPlan:
        return selectors.renewal_get(pk=self.kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        return super().get_form_kwargs() | {"instance": RenewalPlan.objects.get(pk=self.plan.pk)}

    def perform(self, form: RenewalPlanForm) -> RenewalPlan:
        data = dict(form.cleaned_data)
        return services.renewal_plan_update(
            actor=self.request.user, plan=self.plan, devices=list(data.pop("devices")), **data
        )

    def get_success_url(self) -> str:
        return reverse("devices:renewals")


class ImportListView(DevicesPage):
    allowed_roles = IMPORT_READERS
    template_name = "devices/import_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        page, query = paginate(self.request, selectors.import_list())
        return super().get_context_data(
            page=page, query=query, can_import=user_role(self.request.user) in OFFICERS, **kwargs
        )


class ImportCreateView(ServiceFormView):
    """Upload a file: it is recorded, then imported by the worker; the page shows the progress."""

    allowed_roles = OFFICERS
    form_class = ImportForm
    title = _("ファイルの取込")

    def perform(self, form: ImportForm) -> ProgressJob:
        upload = form.cleaned_data["file"]
        if upload.size > uploads.MAX_IMPORT_BYTES:  # refused before a byte is copied
            raise DeviceError(uploads.TOO_LARGE, code="too_large")
        return import_queue(
            actor=self.request.user, kind=form.cleaned_data["kind"], filename=upload.name, data=upload
        )

    def get_success_url(self) -> str:
        return reverse("progress_detail", args=[self.result.pk])


class ImportDetailView(DevicesPage):
    allowed_roles = IMPORT_READERS
    template_name = "devices/import_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        record = selectors.import_get(pk=self.kwargs["pk"])
        return super().get_context_data(
            record=record, running=record.state in (ImportState.QUEUED, ImportState.RUNNING), **kwargs
        )


class WazuhSourceView(ServiceFormView):
    """The optional Wazuh API connection, and the button that pulls from it now (in the worker)."""

    allowed_roles = OFFICERS
    form_class = WazuhSourceForm
    template_name = "devices/wazuh.html"
    title = _("Wazuh API からの取得")
    success_message = _("Wazuh API の接続先を保存しました。")

    def get_initial(self) -> dict[str, Any]:
        source = wazuh_source_get()
        if source is None:
            return {}
        return {
            "url": source.url,
            "username": source.username,
            "ca_certificate": source.ca_certificate,
            "timeout_seconds": source.timeout_seconds,
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(source=wazuh_source_get(), **kwargs)

    def perform(self, form: WazuhSourceForm) -> Any:
        return wazuh_source_save(actor=self.request.user, **form.cleaned_data)

    def get_success_url(self) -> str:
        return reverse("devices:wazuh")


class WazuhPullView(RoleRequiredMixin, View):
    """POST only: queue a pull and show its progress page."""

    allowed_roles = OFFICERS
    writes = True

    def post(self, request: HttpRequest) -> HttpResponse:
        if wazuh_source_get() is None:
            messages.error(request, NOT_CONFIGURED)
            return redirect("devices:wazuh")
        job = wazuh_pull_start(actor=request.user)
        return redirect("progress_detail", job.pk)
