from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "mamori.apps.backups"
    label = "backups"
    verbose_name = _("バックアップ")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mamori.apps.core.navigation import DashboardCard, NavItem, register_card, register_nav
        from mamori.apps.core.permissions import LEADS_AND_READERS

        from . import kpis, views

        register_nav(NavItem("backups", _("バックアップ"), "backups:systems", LEADS_AND_READERS, order=50))
        register_card(
            DashboardCard(
                key="backups",
                title=_("バックアップ"),
                roles=LEADS_AND_READERS,  # a lead's card shows their departments' systems only
                template="backups/card.html",
                context=views.dashboard_card_context,
                order=10,
            )
        )
        kpis.register()
