"""The evaluation app registers its menu entry, its dashboard card and its background job with core."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "mamori.apps.evaluation"
    label = "evaluation"
    verbose_name = _("評価シート")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from mamori.apps.core.navigation import DashboardCard, NavItem, register_card, register_nav
        from mamori.apps.core.permissions import LEADS_AND_READERS
        from mamori.apps.core.progress import progress_kind_register

        from .cards import dashboard_card_context
        from .year_book import YEAR_BOOK_KIND

        register_nav(
            NavItem("evaluation", _("評価シート"), "evaluation:program_list", LEADS_AND_READERS, order=80)
        )
        register_card(
            DashboardCard(
                "evaluation",
                _("評価シート"),
                LEADS_AND_READERS,
                template="evaluation/card.html",
                context=dashboard_card_context,
                order=80,
            )
        )
        progress_kind_register(YEAR_BOOK_KIND)
