"""Training registers its menu entry, dashboard card, tasks, KPIs and worker tick with core."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "mamori.apps.training"
    label = "training"
    verbose_name = _("研修")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mamori.apps.core.navigation import (
            DashboardCard,
            NavItem,
            register_card,
            register_nav,
            register_tasks,
        )
        from mamori.apps.core.periodic import register_periodic
        from mamori.apps.core.permissions import ALL_ROLES, LEADS_AND_READERS

        from . import assignments, kpis
        from .views import learner, report

        register_nav(NavItem("training", _("研修"), "training:my", ALL_ROLES, order=20))
        register_card(
            DashboardCard(
                key="training",
                title=_("研修"),
                roles=LEADS_AND_READERS,
                template="training/card.html",
                context=report.dashboard_card_context,
                order=20,
            )
        )
        register_tasks("training", learner.training_tasks)
        register_periodic("training", assignments.periodic_tick)
        kpis.register()
