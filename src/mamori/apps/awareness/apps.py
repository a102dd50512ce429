"""Awareness registers its menu entries, dashboard card, banner, tasks, periodic work and KPIs with core."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AwarenessConfig(AppConfig):
    name = "mamori.apps.awareness"
    label = "awareness"
    verbose_name = _("注意喚起")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mamori.apps.core.models import Role
        from mamori.apps.core.navigation import (
            DashboardCard,
            NavItem,
            register_banners,
            register_card,
            register_nav,
            register_tasks,
        )
        from mamori.apps.core.periodic import register_periodic
        from mamori.apps.core.permissions import LEADS_AND_READERS

        from . import kpis, periodic, views

        register_nav(NavItem("awareness", _("注意喚起"), "awareness:list", LEADS_AND_READERS, order=45))
        register_nav(
            NavItem("awareness-mine", _("注意喚起"), "awareness:mine", frozenset({Role.STAFF}), order=45)
        )
        register_card(
            DashboardCard(
                key="awareness",
                title=_("注意喚起"),
                roles=LEADS_AND_READERS,
                template="awareness/card.html",
                context=views.dashboard_card_context,
                order=30,
            )
        )
        register_banners("awareness", views.pending_banners)
        register_tasks("awareness", views.pending_tasks)
        register_periodic("awareness", periodic.periodic_tick)
        kpis.register()
