from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PasswordsConfig(AppConfig):
    name = "mamori.apps.passwords"
    label = "passwords"
    verbose_name = pgettext_lazy("nav", "パスワード")
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
        from mamori.apps.core.permissions import ALL_ROLES, READERS

        from . import kpis, periodic, reminders, views

        register_nav(
            NavItem("passwords", pgettext_lazy("nav", "パスワード"), "passwords:home", READERS, order=60)
        )
        register_nav(NavItem("leak-check", _("漏えいチェック"), "passwords:leak-check", ALL_ROLES, order=65))
        register_card(
            DashboardCard(
                key="passwords",
                title=pgettext_lazy("nav", "パスワード"),
                roles=READERS,
                template="passwords/card.html",
                context=views.dashboard_card_context,
                order=40,
            )
        )
        register_tasks("passwords", reminders.password_tasks)
        register_periodic("passwords", periodic.periodic_tick)
        kpis.register()
