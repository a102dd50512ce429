"""Staff logins: the officer's bulk creation page, and the public first-password page of the mail's link."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN, PasswordResetConfirmView
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from ..audit import actor_name
from ..forms import StaffLoginsForm
from ..permissions import OFFICERS
from ..services import user_set_password
from ..staff_logins import first_password_tokens, staff_login_summary, staff_logins_create
from .base import ServiceFormView

LOGINS_DONE = _(
    "ログインを%(created)d件作成し、パスワード設定の案内メール%(invited)d通の送信を依頼しました。"
)
LOGINS_NO_EMAIL = _("メールアドレスのない職員%(n)d人にはログインを作成していません。")
LOGINS_NAME_TAKEN = _("職員番号が既に別のログイン名に使われているため作成していません: %(numbers)s")
PASSWORD_SET_DONE = _("パスワードを設定しました。新しいパスワードでログインしてください。")


class StaffLoginsView(ServiceFormView):
    """Create the 職員 logins in bulk and queue the first-password mails (officers)."""

    allowed_roles = OFFICERS
    form_class = StaffLoginsForm
    template_name = "core/staff_logins.html"
    title = _("職員のログイン")
    success_url = reverse_lazy("staff_logins")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(summary=staff_login_summary(), **kwargs)

    def perform(self, form: StaffLoginsForm) -> Any:
        result = staff_logins_create(actor=self.request.user, department=form.cleaned_data["department"])
        messages.success(
            self.request, LOGINS_DONE % {"created": len(result.created), "invited": len(result.invited)}
        )
        if result.without_email:
            messages.warning(self.request, LOGINS_NO_EMAIL % {"n": result.without_email})
        if result.name_taken:
            messages.warning(self.request, LOGINS_NAME_TAKEN % {"numbers": ", ".join(result.name_taken)})
        return result


class FirstPasswordView(PasswordResetConfirmView):
    """The mail's link: set the first password once, then sign in as usual (django-axes, Argon2).

    Public (the person has no password yet). An unknown person, an altered, used or expired link, and
    a disabled login all get the same page and status, so the page reveals nobody's existence.
    """

    public = True
    token_generator = first_password_tokens
    template_name = "registration/password_set.html"
    success_url = reverse_lazy("login")

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if not context.get("validlink"):
            kwargs["status"] = 400
        return super().render_to_response(context, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        user_set_password(
            actor=actor_name(self.user), user=self.user, password=form.cleaned_data["new_password1"]
        )
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, PASSWORD_SET_DONE)
        return super(PasswordResetConfirmView, self).form_valid(form)
