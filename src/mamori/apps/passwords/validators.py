"""mamori's own accounts: the whole password checked against the common and leaked-password lists."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .breached import is_breached, is_common

MSG_COMMON = gettext_lazy(
    "よく使われるパスワードの一覧にあるため使えません。推測されにくい長い文を選んでください。"
)
MSG_BREACHED = gettext_lazy(
    "過去に漏えいしたパスワードの一覧にあるため使えません。別のパスワードを選んでください。"
)


class BreachedPasswordValidator:
    """Refuses a password found in Django's common list or the loaded Pwned Passwords corpus, saying which."""

    def validate(self, password: str, user: Any = None) -> None:
        if is_common(password):
            raise ValidationError(MSG_COMMON, code="password_common")
        if is_breached(password):
            raise ValidationError(MSG_BREACHED, code="password_breached")

    def get_help_text(self) -> str:
        return _("よく使われるパスワードや、過去に漏えいしたパスワードは使えません。")
