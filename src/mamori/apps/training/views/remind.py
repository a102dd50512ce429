"""「督促メールを送信」 on the overdue list: an officer mails one overdue person, or everyone the list
shows, and reads in one line what went out; the list is the page to come back to."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext
from django.views import View

from mamori.apps.core.permissions import OFFICERS, RoleRequiredMixin

from .. import assignments, selectors
from ..errors import TrainingError
from ..forms import RemindForm
from ..models import Course

STALE_FORM = _("一覧をもう一度開いてから送信してください")
NOBODY = _("メールアドレスがないか在職していないため、督促メールを送れる人がいません")
ALL_ALREADY = _(
    "この一覧を開いた後に督促メールを送信済みです（{n}人）。もう一度送るときは一覧を開き直してください"
)
ONE_SENT = _("{name}さんに督促メールを送信しました")
SENT = ngettext_lazy("督促メールを%(n)s人に送信しました", "督促メールを%(n)s人に送信しました", "n")


# who was not mailed, and why: (the Reminded field that counts them, the words)
NOT_MAILED = [
    (
        "already",
        ngettext_lazy(
            "この一覧を開いた後に送信済みの%(n)s人には送っていません",
            "この一覧を開いた後に送信済みの%(n)s人には送っていません",
            "n",
        ),
    ),
    (
        "unreachable",
        ngettext_lazy(
            "メールアドレスがないか在職していない%(n)s人には送っていません",
            "メールアドレスがないか在職していない%(n)s人には送っていません",
            "n",
        ),
    ),
    (
        "left",
        ngettext_lazy(
            "メールサーバが途中で拒否したため%(n)s人には送れませんでした（%(error)s）",
            "メールサーバが途中で拒否したため%(n)s人には送れませんでした（%(error)s）",
            "n",
        ),
    ),
]


def reminded_message(result: assignments.Reminded) -> str:
    """One line: who was mailed, then who was not and why."""
    if not result.sent:
        return ALL_ALREADY.format(n=result.already) if result.already else str(NOBODY)
    if result.name:
        parts = [ONE_SENT.format(name=result.name)]
    else:
        parts = [SENT % {"n": result.sent}]
    for field, words in NOT_MAILED:
        if n := getattr(result, field):
            parts.append(words % {"n": n, "error": result.error})
    return pgettext("sentence separator", "。").join(parts)


class OverdueRemindView(RoleRequiredMixin, View):
    allowed_roles = OFFICERS
    writes = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RemindForm(request.POST)
        valid = form.is_valid() and form.cleaned_data["shown_at"] <= timezone.now()
        course_id = form.cleaned_data.get("course") if valid else None
        back = reverse("training:overdue") + (f"?course={course_id}" if course_id else "")
        if not valid:
            messages.error(request, STALE_FORM)
            return HttpResponseRedirect(back)
        course = Course.objects.filter(pk=course_id).first() if course_id else None
        overdue = selectors.overdue_list(user=request.user, course=course)
        if form.cleaned_data["assignment"]:
            overdue = overdue.filter(pk=form.cleaned_data["assignment"])
        try:
            result = assignments.overdue_remind(
                actor=request.user, overdue=overdue, shown_at=form.cleaned_data["shown_at"]
            )
        except TrainingError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(back)
        (messages.success if result.sent else messages.warning)(request, reminded_message(result))
        return HttpResponseRedirect(back)
