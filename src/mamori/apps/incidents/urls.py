from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.IncidentListView.as_view(), name="list"),
    path("new/", views.IncidentReportView.as_view(), name="report"),
    path("<int:pk>/", views.IncidentDetailView.as_view(), name="detail"),
    path("<int:pk>/triage/", views.IncidentTriageView.as_view(), name="triage"),
    path("<int:pk>/dates/", views.IncidentDatesView.as_view(), name="dates"),
    path("<int:pk>/filing/", views.IncidentFilingView.as_view(), name="filing"),
    path("<int:pk>/timeline/", views.IncidentEntryView.as_view(), name="entry"),
    path("<int:pk>/close", views.IncidentCloseView.as_view(), name="close"),
    path("<int:pk>/reopen/", views.IncidentReopenView.as_view(), name="reopen"),
]
