import logging
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .home import home_tighten

logger = logging.getLogger("mamori.security")


class CoreConfig(AppConfig):
    name = "mamori.apps.core"
    label = "core"
    verbose_name = _("基盤")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .menus import register_core_menus  # models are ready only now

        register_core_menus()
        database = settings.DATABASES["default"]
        sqlite = Path(database["NAME"]) if database["ENGINE"].endswith("sqlite3") else None
        for warning in home_tighten(Path(settings.MAMORI_HOME), sqlite):
            logger.warning(warning)
