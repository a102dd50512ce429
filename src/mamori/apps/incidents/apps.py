"""Incidents register their menu entry, dashboard card and KPIs with core."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "mamori.apps.incidents"
    label = "incidents"
    verbose_name = _("事故")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mamori.apps.core.navigation import (
            DashboardCard,
            NavItem,
            register_card,
            register_nav,
            register_tasks,
        )
        from mamori.apps.core.permissions import ALL_ROLES

        from . import kpis, views

        register_nav(NavItem("incidents", _("事故"), "incidents:list", ALL_ROLES, order=70))
        register_card(
            DashboardCard(
                key="incidents",
                title=_("事故"),
                roles=ALL_ROLES,
                template="incidents/card.html",
                context=views.dashboard_card_context,
                order=70,
            )
        )
        register_tasks("incidents", views.report_tasks)
        kpis.register()
