"""The officer's configuration pages: systems, sources, repositories, schedules, retention.

One base class turns a service's `BackupError` or validation error into a form error, so a bad input
shows a one-line message on the same form and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView, TemplateView

from mamori.apps.core.permissions import OFFICERS, RoleRequiredMixin
from mamori.apps.core.redaction import redact_text

from . import selectors, services
from .cron import CRON, plan_from_cron
from .errors import BackupError
from .forms import (
    RepositoryEditForm,
    RepositoryForm,
    RepositoryPasswordForm,
    RetentionForm,
    ScheduleForm,
    SourceForm,
    SystemForm,
)
from .models import ProtectedSystem, Repository, Schedule, Source


class ConfigFormView(RoleRequiredMixin, FormView):
    allowed_roles = OFFICERS
    writes = True
    template_name = "backups/form.html"
    title: Any = ""
    warning = ""  # set by `perform` for a saved-but-doubtful input (a path this server cannot see)

    def system(self) -> ProtectedSystem | None:
        code = self.kwargs.get("code")
        return selectors.system_get(user=self.request.user, code=code) if code else None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(title=self.title, system=self.system())
        return ctx

    def perform(self, data: dict[str, Any]) -> ProtectedSystem:
        raise NotImplementedError

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            system = self.perform(form.cleaned_data)
        except BackupError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
            return self.form_invalid(form)
        if self.warning:
            messages.warning(self.request, self.warning)
        else:
            messages.success(self.request, _("保存しました"))
        return HttpResponseRedirect(reverse("backups:system-detail", args=[system.code]))


class SystemCreateView(ConfigFormView):
    form_class = SystemForm
    title = _("保護対象システムを追加")

    def perform(self, data: dict[str, Any]) -> ProtectedSystem:
        return services.system_create(actor=self.request.user, **data)


class SystemEditView(ConfigFormView):
    form_class = SystemForm
    title = _("保護対象システムを編集")

    def get_initial(self) -> dict[str, Any]:
        s = self.system()
        assert s is not None
        fields = ["code", "name", "network_zone", "classification", "rpo_hours", "rto_minutes", "description"]
        return {**{f: getattr(s, f) for f in fields}, "department": s.department_id}

    def get_form(self, form_class: Any = None) -> Any:
        form = super().get_form(form_class)
        form.fields["code"].disabled = True
        return form

    def perform(self, data: dict[str, Any]) -> ProtectedSystem:
        data = {k: v for k, v in data.items() if k != "code"}
        return services.system_update(actor=self.request.user, system=self.system(), **data)  # type: ignore[arg-type]


class SourceCreateView(ConfigFormView):
    form_class = SourceForm
    title = _("バックアップ元を追加")

    def perform(self, data: dict[str, Any]) -> ProtectedSystem:
        system = self.system()
        assert system is not None
        source = services.source_create(actor=self.request.user, system=system, **data)
        self.warning = services.source_path_warning(source)
        return system


class RepositoryCreateView(ConfigFormView):
    form_class = RepositoryForm
    title = _("リポジトリを追加")

    def perform(self, data: dict[str, Any]) -> ProtectedSystem:
        system = self.system()
        assert system is not None
        services.repository_create(actor=self.request.user, system=system, **data)
        return system


class RepositoryPasswordView(ConfigFormView):
    form_class = RepositoryPasswordForm
    title = _("リポジトリのパスワードを変更（リポジトリ側で変更した後に登録）")

    def perform(self, data: dict[str, Any]) -> ProtectedSystem:
        system = self.system()
        assert system is not None
        repository = get_object_or_404(Repository, pk=self.kwargs["pk"], system=system)
        services.repository_set_password(
            actor=self.request.user, repository=repository, password=data["password"]
        )
        return system


class ScheduleSetView(ConfigFormView):
    form_class = ScheduleForm
    title = _("スケジュールを設定")

    def get_initial(self) -> dict[str, Any]:
        """Editing in place: ?kind= fills the form with that job's schedule."""
        system = self.system()
        schedule = system.schedules.filter(kind=self.request.GET.get("kind", "")).first() if system else None
        if schedule is None:
            return {"kind": self.request.GET.get("kind", "")}
        plan = plan_from_cron(schedule.cron)
        initial = {"kind": schedule.kind, "cron": schedule.cron, "enabled": schedule.enabled,
                   "check_subset": schedule.check_subset, "drill_sample": schedule.drill_sample}  # fmt: skip
        if plan is None:
            return {**initial, "frequency": CRON}
        return {**initial, "frequency": plan.frequency, "at": f"{plan.hour:02}:{plan.minute:02}",
                "weekday": plan.weekday, "day": plan.day}  # fmt: skip

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        system = ctx["system"]
        ctx["schedules"] = system.schedules.all() if system else []
        return ctx

    def perform(self, data: dict[str, Any]) -> ProtectedSystem:
        system = self.system()
        assert system is not None
        services.schedule_set(actor=self.request.user, system=system, **data)
        return system


class RetentionSetView(ConfigFormView):
    form_class = RetentionForm
    title = _("世代管理（保持ルール）を設定")

    def get_initial(self) -> dict[str, Any]:
        system = self.system()
        policy = getattr(system, "retention", None)
        fields = ["keep_last", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly", "prune"]
        return {f: getattr(policy, f) for f in fields} if policy else {}

    def perform(self, data: dict[str, Any]) -> ProtectedSystem:
        system = self.system()
        assert system is not None
        services.retention_set(actor=self.request.user, system=system, **data)
        return system


class SourceEditView(ConfigFormView):
    form_class = SourceForm
    title = _("バックアップ元を編集")

    def source(self) -> Source:
        return get_object_or_404(Source, pk=self.kwargs["pk"], system=self.system())

    def get_initial(self) -> dict[str, Any]:
        s = self.source()
        params = {f"param_{k}": v for k, v in s.parameters.items()}
        return {"kind": s.kind, "path": s.path, "profile": s.profile, "includes": s.includes,
                "excludes": s.excludes, **params}  # fmt: skip

    def perform(self, data: dict[str, Any]) -> ProtectedSystem:
        source = services.source_update(actor=self.request.user, source=self.source(), **data)
        self.warning = services.source_path_warning(source)
        return source.system


class RepositoryEditView(ConfigFormView):
    form_class = RepositoryEditForm
    title = _("リポジトリを編集")

    def repository(self) -> Repository:
        return get_object_or_404(Repository, pk=self.kwargs["pk"], system=self.system())

    def get_initial(self) -> dict[str, Any]:
        r = self.repository()
        return {f: getattr(r, f) for f in ("name", "role", "medium", "immutable_days", "known_hosts")}

    def perform(self, data: dict[str, Any]) -> ProtectedSystem:
        return services.repository_update(
            actor=self.request.user, repository=self.repository(), **data
        ).system


class DeleteView(RoleRequiredMixin, TemplateView):
    """GET: a confirm page that says plainly what goes and what stays; POST: delete, audited."""

    allowed_roles = OFFICERS
    writes = True
    template_name = "backups/confirm_delete.html"
    title: Any = ""

    def system(self) -> ProtectedSystem:
        return selectors.system_get(user=self.request.user, code=self.kwargs["code"])

    def consequences(self) -> list[Any]:
        raise NotImplementedError

    def delete(self) -> None:
        raise NotImplementedError

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx.update(title=self.title, system=self.system(), consequences=self.consequences())
        return ctx

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        system = self.system()
        try:
            self.delete()
        except BackupError as exc:
            ctx = self.get_context_data(**kwargs) | {"error": exc.message}
            return self.render_to_response(ctx, status=exc.http_status)
        messages.success(request, _("削除しました"))
        if ProtectedSystem.objects.filter(pk=system.pk).exists():
            return HttpResponseRedirect(reverse("backups:system-detail", args=[system.code]))
        return HttpResponseRedirect(reverse("backups:systems"))


KEPT_DATA = _(
    "リポジトリのデータ（スナップショット）は mamori が削除することはありません。不要なら保管先で管理者が削除してください。"
)


class SystemDeleteView(DeleteView):
    title = _("保護対象システムを削除")
    confirm_code = True

    def consequences(self) -> list[Any]:
        impact = services.system_deletion_impact(self.system())
        return [
            _(
                "実行履歴 {runs} 件が削除され、評価シートの実績（成功率など）から外れます。記録を残すなら「停止」を選んでください。"
            ).format(runs=impact.runs),
            _(
                "バックアップ元 {sources} 件、スケジュール {schedules} 件、リポジトリの登録 {repos} 件が削除されます。"
            ).format(sources=impact.sources, schedules=impact.schedules, repos=len(impact.repositories)),
            KEPT_DATA,
            *[_("データが残る場所: {url}").format(url=url) for url in impact.repositories],
        ]

    def delete(self) -> None:
        services.system_delete(
            actor=self.request.user,
            system=self.system(),
            confirm_code=self.request.POST.get("confirm_code", ""),
        )


class SourceDeleteView(DeleteView):
    title = _("バックアップ元を削除")

    def source(self) -> Source:
        return get_object_or_404(Source, pk=self.kwargs["pk"], system=self.system())

    def consequences(self) -> list[Any]:
        return [
            _("「{source}」は次回からバックアップされません。").format(source=self.source()),
            _("既に取得したスナップショットはリポジトリに残り、復元できます。"),
        ]

    def delete(self) -> None:
        services.source_delete(actor=self.request.user, source=self.source())


class RepositoryDeleteView(DeleteView):
    title = _("リポジトリの登録を削除")

    def repository(self) -> Repository:
        return get_object_or_404(Repository, pk=self.kwargs["pk"], system=self.system())

    def consequences(self) -> list[Any]:
        return [
            _("mamori はこのリポジトリ（{url}）を使わなくなります。過去の実行履歴は残ります。").format(
                url=redact_text(self.repository().url)
            ),
            KEPT_DATA,
        ]

    def delete(self) -> None:
        services.repository_delete(actor=self.request.user, repository=self.repository())


class ScheduleDeleteView(DeleteView):
    title = _("スケジュールを削除")

    def schedule(self) -> Schedule:
        return get_object_or_404(Schedule, pk=self.kwargs["pk"], system=self.system())

    def consequences(self) -> list[Any]:
        return [
            _("「{kind}」は自動では実行されなくなります。過去の実行履歴は残ります。").format(
                kind=self.schedule().get_kind_display()
            )
        ]

    def delete(self) -> None:
        services.schedule_delete(actor=self.request.user, schedule=self.schedule())


class SystemActiveView(RoleRequiredMixin, View):
    """停止 / 再開: a deactivated system runs no schedule and leaves the dashboard; nothing is deleted."""

    allowed_roles = OFFICERS
    writes = True

    def post(self, request: HttpRequest, code: str) -> HttpResponse:
        system = selectors.system_get(user=request.user, code=code)
        active = request.POST.get("active") == "1"
        services.system_set_active(actor=request.user, system=system, active=active)
        messages.success(
            request, _("再開しました") if active else _("停止しました（履歴とリポジトリは残ります）")
        )
        return HttpResponseRedirect(reverse("backups:system-detail", args=[code]))
