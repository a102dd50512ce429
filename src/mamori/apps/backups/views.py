"""Backup pages. Views parse, call one selector or service, render; `BackupError`s become one response
shape here (`BackupErrorMixin`), never a traceback. Officers act; leads see their own systems; auditors read.
"""

from __future__ import annotations

import mimetypes
import posixpath
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from mamori.apps.core.permissions import LEADS_AND_READERS, OFFICERS, READERS, RoleRequiredMixin, user_role

from . import browse, charts, selectors
from .alerts import alert_acknowledge
from .errors import BackupError
from .jobs import run_request
from .models import SCHEDULABLE_KINDS, JobKind, RunStatus

BROWSE_PAGE = 200  # entries per page of a snapshot folder
SEARCH_DAYS = {"7": 7, "30": 30, "90": 90, "365": 365}

# Every scheduled job can also be run by hand: the system page's buttons and a failed run's retry.
RUN_NOW_KINDS = set(SCHEDULABLE_KINDS)
RETRY_STATUSES = {RunStatus.FAILED, RunStatus.MISSED}


def dashboard_card_context(request: HttpRequest) -> dict[str, Any] | None:
    """The card of the systems this user may see; none for a lead whose departments own no system."""
    statuses = selectors.status_list(user=request.user)
    if not statuses and user_role(request.user) not in READERS:
        return None
    worst = selectors.worst_of(statuses)
    light = worst[0].light if worst else ""
    return {
        "statuses": statuses,
        "open_alerts": selectors.alert_list(user=request.user).count(),
        "green": sum(1 for s in statuses if s.light == selectors.GREEN),
        "complete": sum(1 for s in statuses if s.checklist.complete),
        "status": light,
        "status_label": _card_label(worst),
        "status_url": _card_link(worst),
    }


def _card_label(worst: list[selectors.SystemStatus]) -> str:
    if not worst:
        return ""
    if worst[0].light == selectors.GREEN:
        return str(_("すべてのシステムが正常"))
    if len(worst) == 1:
        return f"{worst[0].system.name}: {worst[0].reason}"
    names = "、".join(st.system.name for st in worst)
    return str(_("{n}システムに問題があります: {names}")).format(n=len(worst), names=names)


def _card_link(worst: list[selectors.SystemStatus]) -> str:
    """Where the card's light leads: one system's failed run or page; several, the overview."""
    if not worst or worst[0].light == selectors.GREEN:
        return ""
    if len(worst) > 1:
        return reverse("backups:systems")
    if failures := worst[0].latest_failures:
        return reverse("backups:run-detail", args=[failures[0].pk])
    return reverse("backups:system-detail", args=[worst[0].system.code])


class BackupErrorMixin:
    """Every domain error of this app: a message on the page it came from, with its HTTP status."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc, no-any-return]
        except BackupError as exc:
            return render(request, "backups/error.html", {"error": exc}, status=exc.http_status)


class SystemListView(RoleRequiredMixin, BackupErrorMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "backups/system_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["statuses"] = selectors.status_list(user=self.request.user)
        ctx["alerts"] = selectors.alert_list(user=self.request.user)[:50]
        ctx["can_act"] = user_role(self.request.user) in OFFICERS
        ctx["inactive"] = selectors.inactive_system_list(user=self.request.user)
        return ctx


class SystemDetailView(RoleRequiredMixin, BackupErrorMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "backups/system_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        system = selectors.system_get(user=self.request.user, code=kwargs["code"])
        history = selectors.backup_history(system=system)
        ctx.update(
            system=system,
            status=selectors.system_status(system=system),
            runs=selectors.run_list(system=system, limit=50),
            size_chart=charts.size_chart(history),
            duration_chart=charts.duration_chart(history),
            failed_in_charts=sum(1 for p in history if not p.ok),
            schedules=system.schedules.all(),
            can_act=user_role(self.request.user) in OFFICERS,
            can_read_snapshots=user_role(self.request.user) in READERS,
        )
        return ctx


class RunNowView(RoleRequiredMixin, BackupErrorMixin, View):
    """「今すぐバックアップ」「今すぐ復元訓練」: queue the job and go to its live progress page."""

    allowed_roles = OFFICERS
    writes = True

    def post(self, request: HttpRequest, code: str) -> HttpResponse:
        system = selectors.system_get(user=request.user, code=code)
        kind = request.POST.get("kind", "")
        if kind not in RUN_NOW_KINDS:
            raise BackupError(_("実行できないジョブ種別です: {kind}").format(kind=kind), code="bad_kind")
        full = kind == JobKind.RESTORE_DRILL and request.POST.get("full") == "1"  # restores everything
        run = run_request(
            actor=request.user, system=system, kind=kind, detail={"sample": 0} if full else None
        )
        return HttpResponseRedirect(reverse("backups:run-detail", args=[run.pk]))


class RunDetailView(RoleRequiredMixin, BackupErrorMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "backups/run_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        run = selectors.run_get(user=self.request.user, pk=kwargs["pk"])
        role = user_role(self.request.user)
        ctx["run"] = run
        ctx["can_read_snapshots"] = role in READERS
        ctx["can_retry"] = (
            role in OFFICERS
            and run.status in RETRY_STATUSES
            and run.kind in RUN_NOW_KINDS
            and run.system.active
        )
        return ctx


class RunProgressView(RunDetailView):
    """The htmx fragment polled every second while a run is queued or running."""

    template_name = "backups/_run_progress.html"


class SnapshotListView(RoleRequiredMixin, BackupErrorMixin, TemplateView):
    allowed_roles = READERS
    template_name = "backups/snapshot_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        system = selectors.system_get(user=self.request.user, code=kwargs["code"])
        ctx.update(system=system, snapshots=browse.snapshot_list(system=system))
        return ctx


class SnapshotBrowseView(RoleRequiredMixin, BackupErrorMixin, TemplateView):
    allowed_roles = READERS
    template_name = "backups/browse.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        system = selectors.system_get(user=self.request.user, code=kwargs["code"])
        path = self.request.GET.get("path") or browse.snapshot_start_path(
            system=system, snapshot=browse.snapshot_get(system=system, ref=kwargs["ref"])
        )
        entries = Paginator(
            browse.snapshot_children(system=system, ref=kwargs["ref"], path=path), BROWSE_PAGE
        )
        page = entries.get_page(self.request.GET.get("page"))
        crumbs = []
        acc = ""
        for part in [p for p in path.split("/") if p]:
            acc = f"{acc}/{part}"
            crumbs.append((part, acc))
        ctx.update(
            system=system,
            ref=kwargs["ref"],
            path=path,
            parent=posixpath.dirname(path.rstrip("/")) or "/",
            crumbs=crumbs,
            entries=page,
            can_act=user_role(self.request.user) in OFFICERS,
        )
        return ctx


class FileDownloadView(RoleRequiredMixin, BackupErrorMixin, View):
    """Stream one file of a snapshot to the browser (officers only; every download is audited)."""

    allowed_roles = OFFICERS

    def get(self, request: HttpRequest, code: str, ref: str, path: str) -> HttpResponse:
        system = selectors.system_get(user=request.user, code=code)
        node, stream = browse.snapshot_file_open(actor=request.user, system=system, ref=ref, path=path)
        name = posixpath.basename(node.path)
        response = StreamingHttpResponse(
            stream, content_type=mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        response["Content-Length"] = str(node.size)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response


class RestoreView(RoleRequiredMixin, BackupErrorMixin, View):
    """Restore a folder or file of a snapshot to where it was or to a folder on the server (queued, audited)."""

    allowed_roles = OFFICERS
    writes = True

    def post(self, request: HttpRequest, code: str, ref: str) -> HttpResponse:
        system = selectors.system_get(user=request.user, code=code)
        run = browse.snapshot_restore(
            actor=request.user,
            system=system,
            ref=ref,
            path=request.POST.get("path", "/"),
            where=request.POST.get("where", "folder"),
            target=request.POST.get("target", ""),
            overwrite=request.POST.get("overwrite", "never"),
        )
        return HttpResponseRedirect(reverse("backups:run-detail", args=[run.pk]))


class SnapshotSearchView(RoleRequiredMixin, BackupErrorMixin, TemplateView):
    """「ファイルを探す」: a name searched across the snapshots of the last N days."""

    allowed_roles = READERS
    template_name = "backups/search.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        system = selectors.system_get(user=self.request.user, code=kwargs["code"])
        text = self.request.GET.get("q", "")
        days = SEARCH_DAYS.get(self.request.GET.get("days", ""), 30)
        ctx.update(
            system=system,
            q=text,
            days=days,
            day_choices=sorted(SEARCH_DAYS.values()),
            hits=browse.snapshot_search(system=system, text=text, days=days) if text.strip() else None,
            can_act=user_role(self.request.user) in OFFICERS,
        )
        return ctx


class AlertAcknowledgeView(RoleRequiredMixin, BackupErrorMixin, View):
    allowed_roles = OFFICERS
    writes = True

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        alert = selectors.alert_get(user=request.user, pk=pk)
        alert_acknowledge(actor=request.user, alert=alert)
        messages.success(request, _("アラートを確認済みにしました"))
        return HttpResponseRedirect(reverse("backups:systems"))
