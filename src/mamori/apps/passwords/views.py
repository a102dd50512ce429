"""Passwords pages. Views parse, call one selector or service, render; officers act, auditors read,
everyone may check a password on the leak page (which never receives the password)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.permissions import ALL_ROLES, OFFICERS, READERS, RoleRequiredMixin, user_role
from mamori.apps.core.views.base import ServiceFormView

from . import breached, selectors, services
from .forms import DirectoryForm, PolicyForm
from .models import AuditRun, RunStatus

POLICY_FIELDS = list(PolicyForm.base_fields)
DIRECTORY_FIELDS = [f for f in DirectoryForm.base_fields if f != "password"]


COMPLIANCE_TARGET = 95  # % of enabled accounts within their policy: the card's green


def dashboard_card_context(request: HttpRequest) -> dict[str, Any]:
    runs = selectors.latest_runs()
    enabled = sum(r.enabled for r in runs)
    compliant = sum(r.compliant for r in runs)
    leavers = sum(r.leavers_enabled for r in runs)
    rate = round(100 * compliant / enabled, 1) if enabled else None
    status, label, url = _card_light(runs, rate, leavers)
    return {
        "runs": runs,
        "rate": rate,
        "overdue": sum(r.overdue for r in runs),
        "stale": sum(r.stale for r in runs),
        "leavers": leavers,
        "leavers_url": _findings_url([r for r in runs if r.leavers_enabled], "leaver_enabled"),
        "policies": selectors.policy_list().count(),
        "status": status,
        "status_label": label,
        "status_url": url,
    }


def _card_light(runs: list[AuditRun], rate: float | None, leavers: int) -> tuple[str, str, str]:
    """The light, why it has that colour, and the findings where the officer sees what to fix."""
    if not runs:
        return "", "", ""
    if leavers:
        label = _("退職者の有効アカウント {n}件: ディレクトリで無効にしてください").format(n=leavers)
        return "red", label, _findings_url([r for r in runs if r.leavers_enabled], "leaver_enabled")
    if rate is None:
        return "amber", str(_("監査で有効なアカウントが見つかりませんでした")), reverse("passwords:home")
    if rate < COMPLIANCE_TARGET:
        label = _("方針の遵守率 {rate}%（目標 {target}%）").format(rate=rate, target=COMPLIANCE_TARGET)
        below = [r for r in runs if r.compliant < r.enabled]
        return "amber", label, _findings_url(below, "noncompliant")
    return "green", _("方針の遵守率 {rate}%").format(rate=rate), ""


def _findings_url(runs: list[AuditRun], show: str) -> str:
    """One directory's findings, filtered; several directories: the list of audits."""
    if not runs:
        return ""
    if len(runs) > 1:
        return reverse("passwords:home") + "#runs"
    return reverse("passwords:run-detail", args=[runs[0].pk]) + f"?show={show}"


class HomeView(RoleRequiredMixin, TemplateView):
    allowed_roles = READERS
    template_name = "passwords/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            policies=selectors.policy_list(),
            directories=selectors.directory_list(),
            runs=selectors.run_list(limit=20),
            corpus_size=breached.corpus_size(),
            can_act=user_role(self.request.user) in OFFICERS,
            active_nav="passwords",
            **kwargs,
        )


class PolicyCreateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = PolicyForm
    title = _("パスワード方針を追加")
    success_message = _("パスワード方針を保存しました。")
    success_url = reverse_lazy("passwords:home")

    def perform(self, form: PolicyForm) -> Any:
        return services.policy_create(actor=self.request.user, **form.cleaned_data)


class PolicyEditView(PolicyCreateView):
    title = _("パスワード方針を編集")

    def get_initial(self) -> dict[str, Any]:
        policy = selectors.policy_get(self.kwargs["pk"])
        return {f: getattr(policy, f) for f in POLICY_FIELDS}

    def perform(self, form: PolicyForm) -> Any:
        policy = selectors.policy_get(self.kwargs["pk"])
        return services.policy_update(actor=self.request.user, policy=policy, **form.cleaned_data)


class DirectoryCreateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = DirectoryForm
    title = _("ディレクトリを追加")
    success_message = _("ディレクトリを保存しました。「接続テスト」で確認してください。")
    success_url = reverse_lazy("passwords:home")

    def perform(self, form: DirectoryForm) -> Any:
        return services.directory_create(actor=self.request.user, **form.cleaned_data)


class DirectoryEditView(DirectoryCreateView):
    title = _("ディレクトリを編集")

    def get_initial(self) -> dict[str, Any]:
        directory = selectors.directory_get(self.kwargs["pk"])
        return {f: getattr(directory, f) for f in DIRECTORY_FIELDS}

    def perform(self, form: DirectoryForm) -> Any:
        directory = selectors.directory_get(self.kwargs["pk"])
        return services.directory_update(actor=self.request.user, directory=directory, **form.cleaned_data)


class DirectoryTestView(RoleRequiredMixin, View):
    """The "test connection" button: the outcome (which step failed) is shown on the passwords page."""

    allowed_roles = OFFICERS
    writes = True

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        directory = services.directory_test(actor=request.user, directory=selectors.directory_get(pk))
        level = messages.success if directory.last_test_ok else messages.error
        level(request, f"{directory.name}: {directory.last_test}")
        return HttpResponseRedirect(reverse("passwords:home"))


class AuditRunView(RoleRequiredMixin, View):
    allowed_roles = OFFICERS
    writes = True

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        directory = selectors.directory_get(pk)
        try:
            run = services.audit_run(actor=request.user, directory=directory)
        except ApplicationError as exc:
            messages.error(request, _("監査できませんでした: %(error)s") % {"error": exc.message})
            return HttpResponseRedirect(reverse("passwords:home"))
        messages.success(request, _("監査が完了しました（%(n)s アカウント）。") % {"n": run.accounts})
        return HttpResponseRedirect(reverse("passwords:run-detail", args=[run.pk]))


class RunDetailView(RoleRequiredMixin, TemplateView):
    allowed_roles = READERS
    template_name = "passwords/run_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        run = selectors.run_get(kwargs["pk"])
        show = self.request.GET.get("show", "")
        show = show if show in selectors.FILTERS else ""  # an unknown filter shows all, and says so
        findings = selectors.finding_list(run=run, show=show) if run.status == RunStatus.OK else []
        return super().get_context_data(
            run=run,
            findings=findings,
            show=show,
            filters=list(selectors.FILTERS),
            can_act=user_role(self.request.user) in OFFICERS,  # audit again once the accounts are fixed
            active_nav="passwords",
            **kwargs,
        )


class LeakCheckView(RoleRequiredMixin, TemplateView):
    """The browser hashes the password (Web Crypto) and asks only for its 5-character SHA-1 prefix."""

    allowed_roles = ALL_ROLES
    template_name = "passwords/leak_check.html"


class RangeView(RoleRequiredMixin, View):
    """`SUFFIX:COUNT` lines for a 5-hex-digit SHA-1 prefix, like the Pwned Passwords range API."""

    allowed_roles = ALL_ROLES

    def get(self, request: HttpRequest, prefix: str) -> HttpResponse:
        try:
            suffixes = breached.range_suffixes(prefix)
        except ValueError as exc:
            raise Http404 from exc
        response = HttpResponse("".join(f"{s}:1\r\n" for s in suffixes), content_type="text/plain")
        response["Cache-Control"] = "private, max-age=3600"
        return response
