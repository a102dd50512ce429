from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "mamori.apps.core"
    label = "core"
    verbose_name = _("基盤")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .menus import register_core_menus  # models are ready only now

        register_core_menus()
