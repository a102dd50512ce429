"""URLs of the evaluation sheet, mounted at /evaluation/."""

from django.urls import path

from . import views
from .year_book_view import YearBookStartView

app_name = "evaluation"
urlpatterns = [
    path("", views.ProgramListView.as_view(), name="program_list"),
    path("programs/new/", views.ProgramCreateView.as_view(), name="program_create"),
    path("settings/", views.SheetSettingsView.as_view(), name="sheet_settings"),
    path("import/", views.ImportView.as_view(), name="import"),
    path("programs/<int:pk>/", views.ProgramDetailView.as_view(), name="program_detail"),
    path("programs/<int:pk>/edit/", views.ProgramEditView.as_view(), name="program_edit"),
    path(
        "programs/<int:pk>/sub-programs/new/", views.SubProgramCreateView.as_view(), name="sub_program_create"
    ),
    path("programs/<int:pk>/indicators/new/", views.IndicatorCreateView.as_view(), name="indicator_create"),
    path(
        "programs/<int:pk>/<int:fy>/sheet.<str:fmt>", views.SheetDownloadView.as_view(), name="sheet_download"
    ),
    path("programs/<int:pk>/<int:fy>/money/", views.MoneyView.as_view(), name="money"),
    path("programs/<int:pk>/<int:fy>/staffing/", views.StaffingView.as_view(), name="staffing"),
    path("programs/<int:pk>/<int:fy>/unit-costs/", views.UnitCostView.as_view(), name="unit_costs"),
    path("programs/<int:pk>/<int:fy>/texts/", views.TextsView.as_view(), name="texts"),
    path("programs/<int:pk>/<int:fy>/rating/", views.RatingView.as_view(), name="rating"),
    path("indicators/<int:indicator>/edit/", views.IndicatorEditView.as_view(), name="indicator_edit"),
    path("indicators/<int:indicator>/<int:fy>/", views.IndicatorYearView.as_view(), name="indicator_year"),
    path("export.<str:fmt>", views.ExportView.as_view(), name="export"),
    path("year-book/", YearBookStartView.as_view(), name="year_book"),
]
