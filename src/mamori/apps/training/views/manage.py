"""The officers' pages: courses (versions, question pool, images, assignment rules) and classroom
sessions (attendance typed in or imported). Auditors read them; only officers change anything."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.permissions import OFFICERS, READERS, RoleRequiredMixin, user_role
from mamori.apps.core.views.base import ServiceFormView

from .. import assignments, images, selectors, services, sessions
from ..forms import AttendanceImportForm, CourseForm, ImageForm, QuestionForm, RuleForm, SessionForm
from ..models import ClassroomSession, Course, Question, Registration
from ..rendering import markdown_html
from .learner import confirm_page, image_resolver, session_lines


class CourseListView(RoleRequiredMixin, TemplateView):
    allowed_roles = READERS
    template_name = "training/course_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            courses=selectors.course_list(), can_edit=user_role(self.request.user) in OFFICERS, **kwargs
        )


class CourseDetailView(RoleRequiredMixin, TemplateView):
    allowed_roles = READERS
    template_name = "training/course_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        course = get_object_or_404(Course, pk=self.kwargs["pk"])
        version = course.current_version
        return super().get_context_data(
            course=course,
            versions=course.versions.all(),
            preview=markdown_html(version.body, image_resolver(course)) if version else "",
            questions=course.questions.prefetch_related("choices"),
            rules=course.rules.select_related("department"),
            images=course.images.defer("content"),
            can_edit=user_role(self.request.user) in OFFICERS,
            **kwargs,
        )


class CourseCreateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = CourseForm
    title = _("研修の作成")
    success_message = _("研修を作成しました。設問を追加してください。")

    def perform(self, form: CourseForm) -> Course:
        return services.course_create(actor=self.request.user, **form.cleaned_data)

    def get_success_url(self) -> str:
        return reverse("training:course-detail", args=[self.result.pk])


class CourseScopedForm(ServiceFormView):
    allowed_roles = OFFICERS

    @cached_property
    def course(self) -> Course:
        return get_object_or_404(Course, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(subject=self.course.title, **kwargs)

    def get_success_url(self) -> str:
        return reverse("training:course-detail", args=[self.course.pk])


class CourseEditView(CourseScopedForm):
    form_class = CourseForm
    title = _("研修の編集（本文を変えると新しい版になります）")
    success_message = _("保存しました。")

    def get_initial(self) -> dict[str, Any]:
        version = self.course.current_version
        return {
            "title": self.course.title,
            "body": version.body if version else "",
            "pass_mark": self.course.pass_mark,
            "questions_per_attempt": self.course.questions_per_attempt,
            "max_attempts": self.course.max_attempts,
        }

    def perform(self, form: CourseForm) -> Any:
        return services.course_revise(actor=self.request.user, course=self.course, **form.cleaned_data)


class QuestionCreateView(CourseScopedForm):
    form_class = QuestionForm
    title = _("設問の追加")
    success_message = _("設問を追加しました。")

    def perform(self, form: QuestionForm) -> Question:
        data = form.cleaned_data
        return services.question_create(
            actor=self.request.user, course=self.course, text=data["text"], kind=data["kind"],
            explanation=data["explanation"], choices=form.choices(),
        )  # fmt: skip


class QuestionToggleView(RoleRequiredMixin, View):
    allowed_roles = OFFICERS
    writes = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        question = get_object_or_404(Question, pk=pk)
        services.question_set_active(actor=request.user, question=question, active=not question.active)
        return HttpResponseRedirect(reverse("training:course-detail", args=[question.course_id]))


class ImageUploadView(CourseScopedForm):
    form_class = ImageForm
    title = _("画像の登録")
    success_message = _("画像を登録しました。本文に ![説明](image:番号) と書くと表示されます。")

    def perform(self, form: ImageForm) -> Any:
        upload = form.cleaned_data["file"]
        checked = images.image_check(upload, name=upload.name)
        return services.image_add(actor=self.request.user, course=self.course, checked=checked)


class RuleCreateView(CourseScopedForm):
    form_class = RuleForm
    title = _("受講対象の割当て")
    success_message = _("割り当てました。")

    def perform(self, form: RuleForm) -> Any:
        return assignments.rule_create(actor=self.request.user, course=self.course, **form.cleaned_data)


class SessionCreateView(ServiceFormView):
    allowed_roles = OFFICERS
    form_class = SessionForm
    title = _("集合研修の登録")
    success_message = _("集合研修を登録しました。")

    def perform(self, form: SessionForm) -> ClassroomSession:
        return sessions.session_create(actor=self.request.user, **form.cleaned_data)

    def get_success_url(self) -> str:
        return reverse("training:session-detail", args=[self.result.pk])


class SessionDetailView(RoleRequiredMixin, TemplateView):
    allowed_roles = READERS
    template_name = "training/session_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        session = get_object_or_404(selectors.session_list(), pk=self.kwargs["pk"])
        return super().get_context_data(
            session=session,
            registrations=session.registrations.select_related("staff__department"),
            can_edit=user_role(self.request.user) in OFFICERS,
            can_remove=user_role(self.request.user) in OFFICERS and session.starts_at > timezone.now(),
            **kwargs,
        )


class SessionAttendanceView(RoleRequiredMixin, View):
    """Tick who attended; unticked registrations are recorded as absent."""

    allowed_roles = OFFICERS
    writes = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = get_object_or_404(ClassroomSession, pk=pk)
        present = {int(v) for v in request.POST.getlist("attended") if v.isdigit()}
        ids = list(session.registrations.values_list("pk", flat=True))
        # every registration of the page, plus any forged id (the service refuses those)
        attended = {reg: reg in present for reg in ids} | dict.fromkeys(present - set(ids), True)
        try:
            sessions.attendance_set(actor=request.user, session=session, attended=attended)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("出欠を記録しました。"))
        return HttpResponseRedirect(reverse("training:session-detail", args=[pk]))


class SessionRegistrationRemoveView(RoleRequiredMixin, View):
    """The officer takes one person off a session before it starts, after a confirmation page."""

    allowed_roles = OFFICERS
    writes = True

    def registration(self, pk: int, registration: int) -> Registration:
        return get_object_or_404(
            Registration.objects.select_related("session", "staff__department"), session=pk, pk=registration
        )

    def get(self, request: HttpRequest, pk: int, registration: int) -> HttpResponse:
        found = self.registration(pk, registration)
        session, staff = found.session, found.staff
        return confirm_page(
            request,
            title=_("{name} さんの申込を取り消しますか").format(name=staff.full_name),
            lines=[
                _("{number} {name}（{department}）").format(
                    number=staff.employee_number, name=staff.full_name, department=staff.department.full_name
                ),
                *session_lines(session),
            ],
            button=_("申込を取り消す"),
            back=reverse("training:session-detail", args=[pk]),
            refused=sessions.STARTED if session.starts_at <= timezone.now() else None,
        )

    def post(self, request: HttpRequest, pk: int, registration: int) -> HttpResponse:
        session = self.registration(pk, registration).session
        try:
            staff = sessions.registration_remove(
                actor=request.user, session=session, registration_id=registration
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("{name} さんの申込を取り消しました。").format(name=staff.full_name))
        return HttpResponseRedirect(reverse("training:session-detail", args=[pk]))


class AttendanceImportView(RoleRequiredMixin, View):
    allowed_roles = OFFICERS
    writes = True

    def page(
        self, request: HttpRequest, session: ClassroomSession, form: Any, result: Any = None
    ) -> HttpResponse:
        return render(
            request, "training/attendance_import.html", {"session": session, "form": form, "result": result}
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.page(request, get_object_or_404(ClassroomSession, pk=pk), AttendanceImportForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = get_object_or_404(ClassroomSession, pk=pk)
        form = AttendanceImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(request, session, form)
        upload = form.cleaned_data["file"]
        result = sessions.attendance_import(
            actor=request.user, session=session, data=upload.read(sessions.MAX_BYTES + 1)
        )
        if result.error_count:
            return self.page(request, session, form, result)
        messages.success(
            request,
            _("{n}人の出欠を取り込みました（{encoding}）。").format(
                n=result.recorded, encoding=result.encoding
            ),
        )
        return HttpResponseRedirect(reverse("training:session-detail", args=[pk]))
