"""The officer's configuration pages: systems, sources, repositories, schedules, retention.

One base class turns a service's `BackupError` or validation error into a form error, so a bad input
shows a one-line message on the same form and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView

from mamori.apps.core.permissions import OFFICERS, RoleRequiredMixin

from . import selectors, services
from .errors import BackupError
from .forms import RepositoryForm, RepositoryPasswordForm, RetentionForm, ScheduleForm, SourceForm, SystemForm
from .models import ProtectedSystem, Repository


class ConfigFormView(RoleRequiredMixin, FormView):
    allowed_roles = OFFICERS
    writes = True
    template_name = "backups/form.html"
    title: Any = ""

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
        services.source_create(actor=self.request.user, system=system, **data)
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
