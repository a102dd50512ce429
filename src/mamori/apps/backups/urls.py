from django.urls import include, path

from . import config_views, views

app_name = "backups"

# The pages of one protected system and of its sources, repositories and schedules.
system_pages = [
    path("", views.SystemDetailView.as_view(), name="system-detail"),
    path("edit/", config_views.SystemEditView.as_view(), name="system-edit"),
    path("delete/", config_views.SystemDeleteView.as_view(), name="system-delete"),
    path("active/", config_views.SystemActiveView.as_view(), name="system-active"),
    path("sources/new/", config_views.SourceCreateView.as_view(), name="source-create"),
    path("sources/<int:pk>/", config_views.SourceEditView.as_view(), name="source-edit"),
    path("sources/<int:pk>/delete/", config_views.SourceDeleteView.as_view(), name="source-delete"),
    path("repositories/new/", config_views.RepositoryCreateView.as_view(), name="repository-create"),
    path("repositories/<int:pk>/", config_views.RepositoryEditView.as_view(), name="repository-edit"),
    path(
        "repositories/<int:pk>/delete/", config_views.RepositoryDeleteView.as_view(), name="repository-delete"
    ),
    path(
        "repositories/<int:pk>/password/",
        config_views.RepositoryPasswordView.as_view(),
        name="repository-password",
    ),
    path("schedules/", config_views.ScheduleSetView.as_view(), name="schedule-set"),
    path("schedules/<int:pk>/delete/", config_views.ScheduleDeleteView.as_view(), name="schedule-delete"),
    path("retention/", config_views.RetentionSetView.as_view(), name="retention-set"),
    path("run/", views.RunNowView.as_view(), name="run-now"),
    path("snapshots/", views.SnapshotListView.as_view(), name="snapshots"),
    path("search/", views.SnapshotSearchView.as_view(), name="search"),
    path("snapshots/<str:ref>/", views.SnapshotBrowseView.as_view(), name="browse"),
    path("snapshots/<str:ref>/file/<path:path>", views.FileDownloadView.as_view(), name="download"),
    path("snapshots/<str:ref>/restore", views.RestoreView.as_view(), name="restore"),
]

urlpatterns = [
    path("", views.SystemListView.as_view(), name="systems"),
    path("systems/new/", config_views.SystemCreateView.as_view(), name="system-create"),
    path("systems/<slug:code>/", include(system_pages)),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run-detail"),
    path("runs/<int:pk>/progress", views.RunProgressView.as_view(), name="run-progress"),
    path("alerts/<int:pk>/acknowledge", views.AlertAcknowledgeView.as_view(), name="alert-ack"),
]
