"""URL map: each app mounts its own urls."""

from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("evaluation/", include("mamori.apps.evaluation.urls")),
    path("backups/", include("mamori.apps.backups.urls")),
    path("passwords/", include("mamori.apps.passwords.urls")),
    path("disposal/", include("mamori.apps.disposal.urls")),
    path("incidents/", include("mamori.apps.incidents.urls")),
    path("devices/", include("mamori.apps.devices.urls")),
    path("training/", include("mamori.apps.training.urls")),
    path("awareness/", include("mamori.apps.awareness.urls")),
    path("", include("mamori.apps.core.urls")),
]
