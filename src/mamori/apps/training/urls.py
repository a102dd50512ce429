from django.urls import path

from .views import learner, manage, remind, report

app_name = "training"

urlpatterns = [
    path("", learner.MyCoursesView.as_view(), name="my"),
    path("courses/<int:pk>/", learner.CourseReadView.as_view(), name="course"),
    path("courses/<int:pk>/start/", learner.AttemptStartView.as_view(), name="attempt-start"),
    path("attempts/<int:pk>/", learner.AttemptView.as_view(), name="attempt"),
    path("attempts/<int:pk>/result/", learner.AttemptResultView.as_view(), name="attempt-result"),
    path("completions/<int:pk>/certificate.pdf", learner.CertificateView.as_view(), name="certificate"),
    path("images/<int:pk>/", learner.ImageView.as_view(), name="image"),
    path("sessions/", learner.SessionListView.as_view(), name="sessions"),
    path("sessions/<int:pk>/register/", learner.SessionRegisterView.as_view(), name="session-register"),
    path("sessions/<int:pk>/cancel/", learner.SessionCancelView.as_view(), name="session-cancel"),
    path("manage/", manage.CourseListView.as_view(), name="courses"),
    path("manage/new/", manage.CourseCreateView.as_view(), name="course-create"),
    path("manage/<int:pk>/", manage.CourseDetailView.as_view(), name="course-detail"),
    path("manage/<int:pk>/edit/", manage.CourseEditView.as_view(), name="course-edit"),
    path("manage/<int:pk>/questions/new/", manage.QuestionCreateView.as_view(), name="question-create"),
    path("manage/<int:pk>/images/new/", manage.ImageUploadView.as_view(), name="image-upload"),
    path("manage/<int:pk>/rules/new/", manage.RuleCreateView.as_view(), name="rule-create"),
    path("questions/<int:pk>/toggle/", manage.QuestionToggleView.as_view(), name="question-toggle"),
    path("sessions/new/", manage.SessionCreateView.as_view(), name="session-create"),
    path("sessions/<int:pk>/", manage.SessionDetailView.as_view(), name="session-detail"),
    path("sessions/<int:pk>/attendance/", manage.SessionAttendanceView.as_view(), name="session-attendance"),
    path(
        "sessions/<int:pk>/registrations/<int:registration>/remove/",
        manage.SessionRegistrationRemoveView.as_view(),
        name="session-registration-remove",
    ),
    path(
        "sessions/<int:pk>/attendance/import/",
        manage.AttendanceImportView.as_view(),
        name="attendance-import",
    ),
    path("report/", report.ReportView.as_view(), name="report"),
    path("report/departments/<int:pk>/", report.DepartmentReportView.as_view(), name="report-department"),
    path("report/overdue/", report.OverdueView.as_view(), name="overdue"),
    path("report/overdue/remind/", remind.OverdueRemindView.as_view(), name="overdue-remind"),
    path("report.xlsx", report.ReportExportView.as_view(), name="report-export"),
]
