"""Core views: sign-in and the dashboard. Views parse, call a selector or service, render."""

from __future__ import annotations

from django.views.generic import TemplateView

from .navigation import cards
from .permissions import ALL_ROLES, RoleRequiredMixin, user_role


class DashboardView(RoleRequiredMixin, TemplateView):
    allowed_roles = ALL_ROLES
    template_name = "core/dashboard.html"

    def get_context_data(self, **kwargs):  # type: ignore[no-untyped-def]
        ctx = super().get_context_data(**kwargs)
        role = user_role(self.request.user)
        ctx["cards"] = [(c, c.context(self.request)) for c in cards(role)]
        return ctx
