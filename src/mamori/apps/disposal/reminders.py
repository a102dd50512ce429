"""The overdue-certificate alert mail: media handed over more than N days ago without a certificate."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from .selectors import certificate_due_days, overdue_media


def overdue_certificate_mail(now: datetime) -> tuple[str, str] | None:
    """(subject, body) listing every overdue medium, or None when there is none."""
    media = list(overdue_media(now=now))
    if not media:
        return None
    lines = [
        f"- {m.label}（{m.department.full_name}）{m.batch.contractor} "  # type: ignore[union-attr]
        f"{timezone.localtime(m.batch.handed_over_at):%Y-%m-%d}"  # type: ignore[union-attr]
        for m in media
    ]
    subject = _("[mamori] 廃棄証明書が届いていない媒体: {n}件").format(n=len(media))
    body = _(
        "引渡しから{days}日を過ぎても廃棄証明書が届いていない媒体があります。委託業者に確認してください。"
    ).format(days=certificate_due_days())
    return subject, body + "\n\n" + "\n".join(lines) + "\n"
