"""Staff and departments: list, detail with transfer history, edit, transfer, CSV import."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from .. import selectors, services
from ..errors import ApplicationError
from ..forms import (
    MAX_IMPORT_BYTES,
    DepartmentForm,
    DepartmentUpdateForm,
    StaffFilterForm,
    StaffForm,
    StaffImportForm,
    StaffTransferForm,
)
from ..models import Department, Staff
from ..pending_uploads import pending_discard, pending_load, pending_store
from ..permissions import LEADS_AND_READERS, OFFICERS, RoleRequiredMixin, membership_department_ids, user_role
from ..services import StaffData
from ..staff_import import (
    COLUMNS,
    PLAN_CHANGED,
    REQUIRED,
    StaffImportResult,
    staff_import,
    staff_import_preview,
)
from .base import ServiceFormView, paginate


class StaffListView(RoleRequiredMixin, TemplateView):
    """Search, department filter and paging; a department lead sees only their departments."""

    allowed_roles = LEADS_AND_READERS
    template_name = "core/staff_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        scope = membership_department_ids(self.request.user)
        form = StaffFilterForm(self.request.GET or None)
        form.fields["department"].queryset = selectors.department_list(department_ids=scope)
        filters = form.cleaned_data if form.is_valid() else {}
        staff = selectors.staff_list(
            department_ids=scope, query=filters.get("q", ""), department=filters.get("department")
        )
        page, query = paginate(self.request, staff)
        return super().get_context_data(form=form, page=page, query=query, **kwargs)


class StaffDetailView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "core/staff_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        scope = membership_department_ids(self.request.user)
        staff = get_object_or_404(selectors.staff_list(department_ids=scope), pk=self.kwargs["pk"])
        return super().get_context_data(
            staff=staff,
            transfers=selectors.staff_transfer_list(staff=staff),
            transfer_form=StaffTransferForm(),
            **kwargs,
        )


def _staff_data(cleaned: dict[str, Any], employee_number: str) -> StaffData:
    names = [f for f in StaffData.__dataclass_fields__ if f != "employee_number"]
    return StaffData(employee_number=employee_number, **{n: cleaned[n] for n in names})


class StaffCreateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = StaffForm
    title = _("職員の登録")
    success_message = _("職員を登録しました。")

    def perform(self, form: StaffForm) -> Staff:
        data = _staff_data(form.cleaned_data, form.cleaned_data["employee_number"])
        return services.staff_create(actor=self.request.user, data=data)

    def get_success_url(self) -> str:
        return reverse("staff_detail", kwargs={"pk": self.result.pk})


class StaffUpdateView(ServiceFormView):
    """Edit a staff record; choosing another department records a transfer."""

    allowed_roles = OFFICERS
    form_class = StaffForm
    title = _("職員情報の編集")
    success_message = _("職員情報を更新しました。")

    @cached_property
    def staff(self) -> Staff:
        return get_object_or_404(Staff, pk=self.kwargs["pk"])

    def get_form_kwargs(self) -> dict[str, Any]:
        # The form works on its own copy, so `perform` still sees the stored values as "before".
        return super().get_form_kwargs() | {"instance": Staff.objects.get(pk=self.staff.pk)}

    def perform(self, form: StaffForm) -> Staff:
        return services.staff_update(
            actor=self.request.user,
            staff=self.staff,
            data=_staff_data(form.cleaned_data, self.staff.employee_number),
            effective_date=form.cleaned_data.get("effective_date"),
        )

    def get_success_url(self) -> str:
        return reverse("staff_detail", kwargs={"pk": self.staff.pk})


class StaffTransferView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = StaffTransferForm
    title = _("人事異動の登録")
    success_message = _("異動を登録しました。")

    @cached_property
    def staff(self) -> Staff:
        return get_object_or_404(Staff, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(subject=self.staff, **kwargs)

    def perform(self, form: StaffTransferForm) -> Any:
        return services.staff_transfer(actor=self.request.user, staff=self.staff, **form.cleaned_data)

    def get_success_url(self) -> str:
        return reverse("staff_detail", kwargs={"pk": self.staff.pk})


IMPORT_DONE = _(
    "%(rows)d行を取り込みました（%(encoding)s）：新規 %(c)d人、更新 %(u)d人（うち異動 %(t)d人）、変更なし %(n)d人。"
)
IMPORT_CANCELLED = _("取込を取り消しました。何も変更していません。")
ACCEPT_WARNINGS = _("警告の内容を確かめたら「警告を確認しました」にチェックを入れてください。")


def _preview_page(
    request: HttpRequest, result: StaffImportResult, token: str, filename: str, error: Any = ""
) -> HttpResponse:
    ctx = {
        "result": result,
        "token": token,
        "filename": filename,
        "error": error,
        "title": _("取込内容の確認"),
    }
    return render(request, "core/staff_import_preview.html", ctx, status=409 if error else 200)


class StaffImportView(ServiceFormView):
    """Upload a staff CSV: a bad file shows every line-numbered problem; a good one goes to its preview."""

    allowed_roles = OFFICERS
    form_class = StaffImportForm
    template_name = "core/staff_import.html"
    title = _("職員の取込（CSV）")

    def form_valid(self, form: StaffImportForm) -> Any:
        upload = form.cleaned_data["file"]
        data = upload.read()
        result = staff_import_preview(data=data)
        if not result.ok:
            return self.render_to_response(self.get_context_data(form=StaffImportForm(), result=result))
        token = pending_store(self.request, data=data, filename=upload.name, max_bytes=MAX_IMPORT_BYTES)
        return _preview_page(self.request, result, token, upload.name)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        columns = [
            (names[0], next(n for n in names if n.isascii()), key in REQUIRED)
            for key, names in COLUMNS.items()
        ]
        return super().get_context_data(columns=columns, **kwargs)


class StaffImportConfirmView(RoleRequiredMixin, View):
    """Import the previewed file if it still does what the preview showed, or cancel it."""

    allowed_roles = OFFICERS
    writes = True

    def post(self, request: HttpRequest) -> HttpResponse:
        token = request.POST.get("token", "")
        try:
            pending = pending_load(request, token)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("staff_import")
        if "cancel" in request.POST:
            pending_discard(request, token)
            messages.info(request, IMPORT_CANCELLED)
            return redirect("staff_import")
        preview = staff_import_preview(data=pending.data)
        if preview.ok and preview.warnings and not request.POST.get("accept_warnings"):
            return _preview_page(request, preview, token, pending.filename, ACCEPT_WARNINGS)
        result = staff_import(
            actor=request.user,
            data=pending.data,
            filename=pending.filename,
            expected_digest=request.POST.get("digest", ""),
        )
        if result.stale:
            return _preview_page(request, result, token, pending.filename, PLAN_CHANGED)
        pending_discard(request, token)
        if not result.ok:  # the register changed under the file (e.g. a department removed)
            messages.error(request, "\n".join(result.errors))
            return redirect("staff_import")
        messages.success(
            request,
            IMPORT_DONE
            % {
                "rows": result.rows,
                "encoding": result.encoding,
                "c": result.created,
                "u": result.updated,
                "t": result.transferred,
                "n": result.unchanged,
            },
        )
        return redirect("staff_list")


class DepartmentListView(RoleRequiredMixin, TemplateView):
    allowed_roles = LEADS_AND_READERS
    template_name = "core/department_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        scope = membership_department_ids(self.request.user)
        return super().get_context_data(
            nodes=selectors.department_tree(department_ids=scope),
            can_edit=user_role(self.request.user) in OFFICERS,
            **kwargs,
        )


class DepartmentCreateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = DepartmentForm
    title = _("所属の追加")
    success_message = _("所属を追加しました。")

    def perform(self, form: DepartmentForm) -> Any:
        organisation = selectors.organisation_get()
        if organisation is None:
            raise ApplicationError(_("先に団体を登録してください。"), code="no_organisation")
        return services.department_create(
            actor=self.request.user, organisation=organisation, **form.cleaned_data
        )

    def get_success_url(self) -> str:
        return reverse("department_list")


class DepartmentUpdateView(ServiceFormView):
    """Rename a department or move it under another one."""

    allowed_roles = OFFICERS
    form_class = DepartmentUpdateForm
    title = _("所属の編集")
    success_message = _("所属を更新しました。")

    @cached_property
    def department(self) -> Department:
        return get_object_or_404(Department, pk=self.kwargs["pk"])

    def get_initial(self) -> dict[str, Any]:
        return {"name": self.department.name, "parent": self.department.parent_id}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            subject=f"{self.department.code} {self.department.full_name}", **kwargs
        )

    def perform(self, form: DepartmentUpdateForm) -> Any:
        return services.department_update(
            actor=self.request.user, department=self.department, **form.cleaned_data
        )

    def get_success_url(self) -> str:
        return reverse("department_list")
