from django.urls import path

from . import views

app_name = "passwords"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("policies/new/", views.PolicyCreateView.as_view(), name="policy-create"),
    path("policies/<int:pk>/edit/", views.PolicyEditView.as_view(), name="policy-edit"),
    path("directories/new/", views.DirectoryCreateView.as_view(), name="directory-create"),
    path("directories/<int:pk>/edit/", views.DirectoryEditView.as_view(), name="directory-edit"),
    path("directories/<int:pk>/test/", views.DirectoryTestView.as_view(), name="directory-test"),
    path("directories/<int:pk>/audit/", views.AuditRunView.as_view(), name="audit-run"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run-detail"),
    path("leak-check/", views.LeakCheckView.as_view(), name="leak-check"),
    path("range/<str:prefix>", views.RangeView.as_view(), name="range"),
]
