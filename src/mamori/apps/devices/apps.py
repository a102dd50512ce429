"""Devices register their menu entry, dashboard card, KPIs, the end-of-support alert, the import
job and the `mamori import devices...` commands with core."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "mamori.apps.devices"
    label = "devices"
    verbose_name = _("機器")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mamori.apps.core.navigation import DashboardCard, NavItem, register_card, register_nav
        from mamori.apps.core.periodic import register_periodic
        from mamori.apps.core.permissions import LEADS_AND_READERS
        from mamori.apps.core.progress import progress_kind_register

        from . import alerts, import_commands, kpis, tasks, views, wazuh_pull

        register_nav(NavItem("devices", _("機器"), "devices:coverage", LEADS_AND_READERS, order=50))
        register_card(
            DashboardCard(
                key="devices",
                title=_("機器"),
                roles=LEADS_AND_READERS,
                template="devices/card.html",
                context=views.dashboard_card_context,
                order=50,
            )
        )
        register_periodic("devices", alerts.periodic_tick)
        kpis.register()
        progress_kind_register(tasks.IMPORT_KIND)
        progress_kind_register(wazuh_pull.PULL_KIND)
        import_commands.register()
