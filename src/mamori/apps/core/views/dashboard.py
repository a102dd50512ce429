from __future__ import annotations

from typing import Any

from django.contrib.auth.views import LoginView
from django.views.generic import TemplateView

from ..navigation import visible_cards
from ..permissions import ALL_ROLES, RoleRequiredMixin, membership_department_ids, user_role
from ..selectors import organisation_summary


class MamoriLoginView(LoginView):
    """The sign-in page; django-axes locks a username + address out after repeated failures."""

    public = True
    redirect_authenticated_user = True


class DashboardView(RoleRequiredMixin, TemplateView):
    """One card per area; each app fills its card (see `navigation.register_card`)."""

    allowed_roles = ALL_ROLES
    template_name = "core/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        role = user_role(self.request.user)
        ctx["cards"] = visible_cards(self.request, role)
        ctx["summary"] = organisation_summary(department_ids=membership_department_ids(self.request.user))
        return ctx
