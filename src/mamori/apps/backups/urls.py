from django.urls import path

from . import config_views, views

app_name = "backups"

urlpatterns = [
    path("", views.SystemListView.as_view(), name="systems"),
    path("systems/new/", config_views.SystemCreateView.as_view(), name="system-create"),
    path("systems/<slug:code>/", views.SystemDetailView.as_view(), name="system-detail"),
    path("systems/<slug:code>/edit/", config_views.SystemEditView.as_view(), name="system-edit"),
    path("systems/<slug:code>/sources/new/", config_views.SourceCreateView.as_view(), name="source-create"),
    path(
        "systems/<slug:code>/repositories/new/",
        config_views.RepositoryCreateView.as_view(),
        name="repository-create",
    ),
    path(
        "systems/<slug:code>/repositories/<int:pk>/password/",
        config_views.RepositoryPasswordView.as_view(),
        name="repository-password",
    ),
    path("systems/<slug:code>/schedules/", config_views.ScheduleSetView.as_view(), name="schedule-set"),
    path("systems/<slug:code>/delete/", config_views.SystemDeleteView.as_view(), name="system-delete"),
    path("systems/<slug:code>/active/", config_views.SystemActiveView.as_view(), name="system-active"),
    path("systems/<slug:code>/sources/<int:pk>/", config_views.SourceEditView.as_view(), name="source-edit"),
    path(
        "systems/<slug:code>/sources/<int:pk>/delete/",
        config_views.SourceDeleteView.as_view(),
        name="source-delete",
    ),
    path(
        "systems/<slug:code>/repositories/<int:pk>/",
        config_views.RepositoryEditView.as_view(),
        name="repository-edit",
    ),
    path(
        "systems/<slug:code>/repositories/<int:pk>/delete/",
        config_views.RepositoryDeleteView.as_view(),
        name="repository-delete",
    ),
    path(
        "systems/<slug:code>/schedules/<int:pk>/delete/",
        config_views.ScheduleDeleteView.as_view(),
        name="schedule-delete",
    ),
    path("systems/<slug:code>/retention/", config_views.RetentionSetView.as_view(), name="retention-set"),
    path("systems/<slug:code>/run/", views.RunNowView.as_view(), name="run-now"),
    path("systems/<slug:code>/snapshots/", views.SnapshotListView.as_view(), name="snapshots"),
    path("systems/<slug:code>/search/", views.SnapshotSearchView.as_view(), name="search"),
    path("systems/<slug:code>/snapshots/<str:ref>/", views.SnapshotBrowseView.as_view(), name="browse"),
    path(
        "systems/<slug:code>/snapshots/<str:ref>/file/<path:path>",
        views.FileDownloadView.as_view(),
        name="download",
    ),
    path("systems/<slug:code>/snapshots/<str:ref>/restore", views.RestoreView.as_view(), name="restore"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run-detail"),
    path("runs/<int:pk>/progress", views.RunProgressView.as_view(), name="run-progress"),
    path("alerts/<int:pk>/acknowledge", views.AlertAcknowledgeView.as_view(), name="alert-ack"),
]
