from django.contrib.auth import views as auth_views
from django.urls import path

from .views import audit, dashboard, organisation, progress, staff, staff_logins, users

urlpatterns = [
    path("", dashboard.DashboardView.as_view(), name="dashboard"),
    path("login/", dashboard.MamoriLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("staff/", staff.StaffListView.as_view(), name="staff_list"),
    path("staff/new/", staff.StaffCreateView.as_view(), name="staff_create"),
    path("staff/logins/", staff_logins.StaffLoginsView.as_view(), name="staff_logins"),
    path("password/set/<uidb64>/<token>/", staff_logins.FirstPasswordView.as_view(), name="password_set"),
    path("staff/import/", staff.StaffImportView.as_view(), name="staff_import"),
    path("staff/import/confirm/", staff.StaffImportConfirmView.as_view(), name="staff_import_confirm"),
    path("staff/<int:pk>/", staff.StaffDetailView.as_view(), name="staff_detail"),
    path("staff/<int:pk>/edit/", staff.StaffUpdateView.as_view(), name="staff_update"),
    path("staff/<int:pk>/transfer/", staff.StaffTransferView.as_view(), name="staff_transfer"),
    path("departments/", staff.DepartmentListView.as_view(), name="department_list"),
    path("departments/new/", staff.DepartmentCreateView.as_view(), name="department_create"),
    path("departments/<int:pk>/edit/", staff.DepartmentUpdateView.as_view(), name="department_update"),
    path("organisation/", organisation.OrganisationDetailView.as_view(), name="organisation"),
    path("organisation/edit/", organisation.OrganisationUpdateView.as_view(), name="organisation_update"),
    path(
        "organisation/population/new/",
        organisation.PopulationRecordCreateView.as_view(),
        name="population_create",
    ),
    path("audit/", audit.AuditEventListView.as_view(), name="audit_list"),
    path("users/", users.UserListView.as_view(), name="user_list"),
    path("users/new/", users.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", users.UserUpdateView.as_view(), name="user_update"),
    path("progress/<int:pk>/", progress.ProgressDetailView.as_view(), name="progress_detail"),
    path("progress/<int:pk>/partial/", progress.ProgressPartialView.as_view(), name="progress_partial"),
    path("progress/<int:pk>/download/", progress.ProgressDownloadView.as_view(), name="progress_download"),
]
