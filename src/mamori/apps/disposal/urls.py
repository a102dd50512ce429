from django.urls import path

from . import views

app_name = "disposal"

urlpatterns = [
    path("", views.MediumListView.as_view(), name="media"),
    path("media/new/", views.MediumCreateView.as_view(), name="medium-create"),
    path("media/<int:pk>/", views.MediumDetailView.as_view(), name="medium-detail"),
    path("media/<int:pk>/store/", views.MediumStoreView.as_view(), name="medium-store"),
    path("batches/new/", views.BatchCreateView.as_view(), name="batch-create"),
    path("batches/<int:pk>/", views.BatchDetailView.as_view(), name="batch-detail"),
    path("batches/<int:pk>/certificate/", views.CertificateUploadView.as_view(), name="certificate-upload"),
    path("certificates/<int:pk>/file", views.CertificateDownloadView.as_view(), name="certificate-download"),
    path("evidence/", views.EvidenceView.as_view(), name="evidence"),
    path("evidence.<str:fmt>", views.EvidenceFileView.as_view(), name="evidence-file"),
]
