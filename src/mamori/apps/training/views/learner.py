"""The learner's pages: my courses, reading a course (resumes where left), the quiz, the result with
explanations, the certificate, classroom sessions. Everyone signed in may learn; each sees their own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from mamori.apps.core.errors import ApplicationError
from mamori.apps.core.navigation import Task
from mamori.apps.core.permissions import ALL_ROLES, OFFICERS, READERS, RoleRequiredMixin, user_role

from .. import certificate, quiz, selectors, services, sessions
from ..models import Attempt, ClassroomSession, Course, CourseImage, QuestionKind, Registration
from ..rendering import sections

NO_STAFF_RECORD = _(
    "このログインには職員の記録が結び付いていないため受講できません。管理者に連絡してください。"
)


def training_tasks(request: HttpRequest) -> list[Task]:
    """The courses asked of the signed-in person and not yet passed (core's 「あなたへの依頼」 card)."""
    staff = selectors.staff_of(request.user)
    return [
        Task(
            title=_("研修「{title}」を受講").format(title=a.course.title),
            url=reverse("training:course", args=[a.course_id]),
            due=a.due_on,
        )
        for a in selectors.my_courses(staff)
        if a.completion_id is None
    ]


def image_resolver(course: Course):  # type: ignore[no-untyped-def]
    ids = set(course.images.values_list("pk", flat=True))
    return lambda pk: reverse("training:image", args=[pk]) if pk in ids else None


class MyCoursesView(RoleRequiredMixin, TemplateView):
    allowed_roles = ALL_ROLES
    template_name = "training/my_courses.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        staff = selectors.staff_of(self.request.user)
        role = user_role(self.request.user)
        return super().get_context_data(
            staff=staff,
            assignments=selectors.my_courses(staff),
            completions=selectors.my_completions(staff),
            today=timezone.localdate(),
            can_manage=role in READERS,
            can_report=role in READERS or role == "department_lead",
            **kwargs,
        )


class CourseReadView(RoleRequiredMixin, TemplateView):
    """One section (page) of the course's current version; without ?section, where the person left."""

    allowed_roles = ALL_ROLES
    template_name = "training/course.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        course = selectors.course_for_reader(user=self.request.user, pk=self.kwargs["pk"])
        version = course.current_version
        if version is None:
            raise Http404
        staff = selectors.staff_of(self.request.user)
        parts = sections(version.body, image_resolver(course))
        raw = self.request.GET.get("section", "")
        index = int(raw) if raw.isdigit() else selectors.progress_section(staff, course)
        index = min(index, len(parts) - 1)
        if staff is not None and raw.isdigit():
            services.progress_save(staff=staff, course=course, section=index)
        attempts = list(Attempt.objects.filter(staff=staff, course=course)) if staff else []
        used = sum(1 for a in attempts if a.submitted_at)
        passed = next((a for a in attempts if a.passed and a.version_id == version.pk), None)
        return super().get_context_data(
            course=course,
            version=version,
            section=parts[index],
            index=index,
            toc=[(i, p.title or course.title) for i, p in enumerate(parts)],
            last=index == len(parts) - 1,
            staff=staff,
            open_attempt=next((a for a in attempts if not a.submitted_at), None),
            passed=passed,
            used=used,
            left=(course.max_attempts - used) if course.max_attempts else None,
            **kwargs,
        )


class AttemptStartView(RoleRequiredMixin, View):
    allowed_roles = ALL_ROLES
    writes = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        course = selectors.course_for_reader(user=request.user, pk=pk)
        staff = selectors.staff_of(request.user)
        if staff is None:
            messages.error(request, NO_STAFF_RECORD)
            return HttpResponseRedirect(reverse("training:course", args=[pk]))
        try:
            attempt = quiz.attempt_start(actor=request.user, staff=staff, course=course)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(reverse("training:course", args=[pk]))
        return HttpResponseRedirect(reverse("training:attempt", args=[attempt.pk]))


def parse_answers(post: Any) -> dict[int, list[int]] | None:
    """`q<question id>` → chosen choice ids; None when a field is not of that shape (a forged form)."""
    answers: dict[int, list[int]] = {}
    for key in post:
        if key in {"csrfmiddlewaretoken"}:
            continue
        values = post.getlist(key)
        if not (key.startswith("q") and key[1:].isdigit() and all(v.isdigit() for v in values)):
            return None
        answers[int(key[1:])] = [int(v) for v in values]
    return answers


class AttemptView(RoleRequiredMixin, View):
    """The drawn questions in their order; POST grades them once."""

    allowed_roles = ALL_ROLES
    writes = True

    def attempt(self) -> Attempt:
        staff = selectors.staff_of(self.request.user)
        return get_object_or_404(
            Attempt.objects.select_related("course", "version"), pk=self.kwargs["pk"], staff=staff
        )

    def render_form(self, attempt: Attempt, error: Any = None, status: int = 200) -> HttpResponse:
        items = list(attempt.items.select_related("question").prefetch_related("question__choices"))
        shown = []
        for item in items:
            by_id = {c.pk: c for c in item.question.choices.all()}
            shown.append((item, [by_id[pk] for pk in item.choice_order if pk in by_id]))
        return render(
            self.request,
            "training/attempt.html",
            {"attempt": attempt, "items": shown, "error": error, "multiple": QuestionKind.MULTIPLE},
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The questions for their owner; anyone else who may see the attempt gets its result page."""
        attempt = selectors.attempt_get(user=request.user, pk=pk)
        staff = selectors.staff_of(request.user)
        if attempt.submitted_at or staff is None or attempt.staff_id != staff.pk:
            return HttpResponseRedirect(reverse("training:attempt-result", args=[pk]))
        return self.render_form(attempt)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        attempt = self.attempt()
        answers = parse_answers(request.POST)
        try:
            if answers is None:
                raise ApplicationError(quiz.NOT_DRAWN, code="not_drawn")
            quiz.attempt_submit(
                actor=request.user, staff=attempt.staff, attempt_id=attempt.pk, answers=answers
            )
        except ApplicationError as exc:
            return self.render_form(attempt, exc.message, exc.http_status)
        return HttpResponseRedirect(reverse("training:attempt-result", args=[pk]))


class AttemptResultView(RoleRequiredMixin, TemplateView):
    """The score and, for each question, the answer given, the right one and the explanation."""

    allowed_roles = ALL_ROLES
    template_name = "training/attempt_result.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        context = self.get_context_data(**kwargs)
        if context.get("in_progress") and context["own"]:
            return HttpResponseRedirect(reverse("training:attempt", args=[kwargs["pk"]]))
        return self.render_to_response(context)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        attempt = selectors.attempt_get(user=self.request.user, pk=self.kwargs["pk"])
        own = attempt.staff_id == getattr(selectors.staff_of(self.request.user), "pk", None)
        if attempt.submitted_at is None:  # no answers shown before submission, to anyone
            return super().get_context_data(attempt=attempt, rows=[], own=own, in_progress=True, **kwargs)
        rows = []
        for item in attempt.items.select_related("question").prefetch_related("question__choices"):
            by_id = {c.pk: c for c in item.question.choices.all()}
            rows.append((item, [by_id[pk] for pk in item.choice_order if pk in by_id]))
        completion = getattr(attempt, "completion", None) if attempt.passed else None
        return super().get_context_data(attempt=attempt, rows=rows, completion=completion, own=own, **kwargs)


class CertificateView(RoleRequiredMixin, View):
    allowed_roles = ALL_ROLES

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        completion = selectors.completion_get(user=request.user, pk=pk)
        response = HttpResponse(certificate.certificate_pdf(completion), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="certificate-{completion.pk}.pdf"'
        return response


class ImageView(RoleRequiredMixin, View):
    """A course image, to those who may read its course; never sniffed as anything but its checked type."""

    allowed_roles = ALL_ROLES

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        image = get_object_or_404(CourseImage, pk=pk)
        selectors.course_for_reader(user=request.user, pk=image.course_id)
        response = HttpResponse(bytes(image.content), content_type=image.content_type)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'"
        return response


class SessionListView(RoleRequiredMixin, TemplateView):
    allowed_roles = ALL_ROLES
    template_name = "training/sessions.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        staff = selectors.staff_of(self.request.user)
        mine = set(staff.training_registrations.values_list("session_id", flat=True)) if staff else set()
        return super().get_context_data(
            sessions=selectors.session_list().filter(starts_at__gte=timezone.now() - timedelta(days=365)),
            mine=mine,
            staff=staff,
            now=timezone.now(),
            can_manage=user_role(self.request.user) in OFFICERS,
            can_read=user_role(self.request.user) in READERS,
            **kwargs,
        )


class SessionRegisterView(RoleRequiredMixin, View):
    allowed_roles = ALL_ROLES
    writes = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = get_object_or_404(ClassroomSession, pk=pk)
        staff = selectors.staff_of(request.user)
        try:
            if staff is None:
                raise ApplicationError(NO_STAFF_RECORD)
            sessions.registration_add(actor=request.user, session=session, staff=staff)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("「{title}」に申し込みました。").format(title=session.title))
        return HttpResponseRedirect(reverse("training:sessions"))


def confirm_page(
    request: HttpRequest, *, title: Any, lines: list[Any], button: Any, back: str, refused: Any = None
) -> HttpResponse:
    """A page that asks before a withdrawal, POSTing back to itself (`refused`: why it cannot be done)."""
    context = {"title": title, "lines": lines, "button": button, "back": back, "refused": refused}
    return render(request, "training/confirm.html", context)


def session_lines(session: ClassroomSession) -> list[Any]:
    when = timezone.localtime(session.starts_at)
    return [
        _("{title}（{when:%Y-%m-%d %H:%M}、{place}）").format(
            title=session.title, when=when, place=session.place
        ),
        _("取り消すと席が空き、ほかの人が申し込めるようになります。"),
    ]


class SessionCancelView(RoleRequiredMixin, View):
    """Withdraw one's own registration, after a confirmation page; another person's cannot even be
    named (the URL names the session, and only one's own registration to it is found)."""

    allowed_roles = ALL_ROLES
    writes = True

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = get_object_or_404(ClassroomSession, pk=pk)
        staff = selectors.staff_of(request.user)
        if staff is None or not session.registrations.filter(staff=staff).exists():
            messages.error(request, sessions.NOT_MINE)
            return HttpResponseRedirect(reverse("training:sessions"))
        return confirm_page(
            request,
            title=_("集合研修の申込を取り消しますか"),
            lines=session_lines(session),
            button=_("申込を取り消す"),
            back=reverse("training:sessions"),
            refused=sessions.STARTED if session.starts_at <= timezone.now() else None,
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        staff = selectors.staff_of(request.user)
        if staff is None:
            raise Http404
        registration = get_object_or_404(
            Registration.objects.select_related("session"), session=pk, staff=staff
        )
        session = registration.session
        try:
            sessions.registration_cancel(actor=request.user, session=session, staff=staff)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("「{title}」の申込を取り消しました。").format(title=session.title))
        return HttpResponseRedirect(reverse("training:sessions"))
