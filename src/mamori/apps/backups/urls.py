from django.urls import path

from . import views

app_name = "backups"

urlpatterns = [
    path("", views.SystemListView.as_view(), name="systems"),
    path("systems/<slug:code>/", views.SystemDetailView.as_view(), name="system-detail"),
    path("systems/<slug:code>/run/", views.RunNowView.as_view(), name="run-now"),
    path("systems/<slug:code>/snapshots/", views.SnapshotListView.as_view(), name="snapshots"),
    path("systems/<slug:code>/snapshots/<str:ref>/", views.SnapshotBrowseView.as_view(), name="browse"),
    path("systems/<slug:code>/snapshots/<str:ref>/file", views.FileDownloadView.as_view(), name="download"),
    path("systems/<slug:code>/snapshots/<str:ref>/restore", views.RestoreView.as_view(), name="restore"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run-detail"),
    path("runs/<int:pk>/progress", views.RunProgressView.as_view(), name="run-progress"),
    path("alerts/<int:pk>/acknowledge", views.AlertAcknowledgeView.as_view(), name="alert-ack"),
]
