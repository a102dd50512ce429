"""Media disposal registers its menu entry, dashboard card and KPIs with core."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisposalConfig(AppConfig):
    name = "mamori.apps.disposal"
    label = "disposal"
    verbose_name = _("媒体廃棄")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mamori.apps.core.navigation import DashboardCard, NavItem, register_card, register_nav
        from mamori.apps.core.permissions import LEADS_AND_READERS

        from . import kpis, views

        register_nav(NavItem("disposal", _("媒体廃棄"), "disposal:media", LEADS_AND_READERS, order=60))
        register_card(
            DashboardCard(
                key="disposal",
                title=_("媒体廃棄"),
                roles=LEADS_AND_READERS,
                template="disposal/card.html",
                context=views.dashboard_card_context,
                order=60,
            )
        )
        kpis.register()
