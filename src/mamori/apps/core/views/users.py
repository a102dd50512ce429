"""Logins and roles (administrators only)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from .. import selectors, services
from ..forms import UserCreateForm, UserUpdateForm
from ..models import Membership, Role
from ..permissions import RoleRequiredMixin
from .base import ServiceFormView

ADMINISTRATORS = frozenset({Role.ADMINISTRATOR})


class UserListView(RoleRequiredMixin, TemplateView):
    allowed_roles = ADMINISTRATORS
    template_name = "core/user_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(users=selectors.user_list(), **kwargs)


class UserCreateView(ServiceFormView):
    allowed_roles = ADMINISTRATORS
    form_class = UserCreateForm
    title = _("ログインの追加")
    success_message = _("ログインを追加しました。")
    success_url = reverse_lazy("user_list")

    def perform(self, form: UserCreateForm) -> Any:
        data = form.cleaned_data
        return services.user_create(
            actor=self.request.user,
            username=data["username"],
            email=data["email"],
            password=data["password"] or None,
            role=data["role"],
            staff=data["employee_number"],
            department=data["department"],
        )


class UserUpdateView(ServiceFormView):
    allowed_roles = ADMINISTRATORS
    form_class = UserUpdateForm
    title = _("ロールとログインの変更")
    success_message = _("ログインを更新しました。")
    success_url = reverse_lazy("user_list")

    @cached_property
    def user(self) -> Any:
        return get_object_or_404(get_user_model(), pk=self.kwargs["pk"])

    def get_initial(self) -> dict[str, Any]:
        membership = Membership.objects.filter(user=self.user).select_related("staff").first()
        return {
            "role": membership.role if membership else Role.STAFF,
            "department": membership.department_id if membership else None,
            "employee_number": membership.staff.employee_number if membership and membership.staff else "",
            "is_active": self.user.is_active,
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(subject=self.user, **kwargs)

    def perform(self, form: UserUpdateForm) -> Any:
        data = form.cleaned_data
        return services.membership_set(
            actor=self.request.user,
            user=self.user,
            role=data["role"],
            staff=data["employee_number"],
            department=data["department"],
            is_active=data["is_active"],
            new_password=data["password"] or None,
        )
