from django.urls import path

from . import views

app_name = "devices"

urlpatterns = [
    path("", views.DeviceListView.as_view(), name="list"),
    path("new/", views.DeviceCreateView.as_view(), name="device-create"),
    path("<int:pk>/", views.DeviceDetailView.as_view(), name="device-detail"),
    path("<int:pk>/edit/", views.DeviceUpdateView.as_view(), name="device-edit"),
    path("coverage/", views.CoverageView.as_view(), name="coverage"),
    path("failing/", views.FailingView.as_view(), name="failing"),
    path("failing.xlsx", views.FailingExportView.as_view(), name="failing-xlsx"),
    path("end-of-support/", views.EndOfSupportView.as_view(), name="end-of-support"),
    path("renewals/", views.RenewalListView.as_view(), name="renewals"),
    path("renewals/new/", views.RenewalCreateView.as_view(), name="renewal-create"),
    path("renewals/<int:pk>/edit/", views.RenewalUpdateView.as_view(), name="renewal-edit"),
    path("imports/", views.ImportListView.as_view(), name="imports"),
    path("imports/new/", views.ImportCreateView.as_view(), name="import-create"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path("wazuh/", views.WazuhSourceView.as_view(), name="wazuh"),
    path("wazuh/pull/", views.WazuhPullView.as_view(), name="wazuh-pull"),
]
