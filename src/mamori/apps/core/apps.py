from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "mamori.apps.core"
    label = "core"
    verbose_name = _("基盤")
    default_auto_field = "django.db.models.BigAutoField"
