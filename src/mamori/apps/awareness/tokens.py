"""The personal acknowledgement link: a signed, expiring token naming one recipient row.

Signed with the installation's secret under this module's salt (`django.core.signing`), so it cannot
be forged or altered; it expires `MAMORI_ACK_LINK_DAYS` after it was made (each reminder carries a
fresh one); it is spent by the acknowledgement it records; and it works only for the person it was
sent to, signed in as themselves. A forged, altered or someone else's link gets one and the same
refusal, which names nobody.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.models import Membership

from .errors import AwarenessError
from .models import Recipient

SALT = "mamori.apps.awareness.tokens.ack"
MSG_INVALID = _(
    "このリンクは使えません。メールのリンクをそのまま開いたか、ご本人のログインでサインインしているか確かめてください。"
)
MSG_EXPIRED = _("このリンクは有効期限が切れています。mamori の「注意喚起」から確認できます。")


def link_lifetime() -> timedelta:
    return timedelta(days=settings.MAMORI_ACK_LINK_DAYS)


def ack_token(recipient: Recipient) -> str:
    return signing.dumps({"r": recipient.pk}, salt=SALT)


def ack_link(recipient: Recipient) -> str:
    return f"{settings.MAMORI_BASE_URL}{reverse('awareness:ack', kwargs={'token': ack_token(recipient)})}"


def recipient_from_token(token: str, user: AbstractBaseUser) -> Recipient:
    """The signed-in user's own recipient row the token names, or AwarenessError."""
    try:
        data = signing.loads(token, salt=SALT, max_age=link_lifetime())
        expired = False
    except signing.SignatureExpired:
        data = signing.loads(token, salt=SALT)  # authentic but old: tell its owner, nobody else
        expired = True
    except signing.BadSignature as exc:
        raise AwarenessError(MSG_INVALID, code="invalid_link", http_status=404) from exc
    staff_id = Membership.objects.filter(user_id=user.pk).values_list("staff_id", flat=True).first()
    pk = data.get("r") if isinstance(data, dict) else None
    recipient = (
        Recipient.objects.select_related("campaign", "staff").filter(pk=pk, staff_id=staff_id).first()
        if isinstance(pk, int) and staff_id is not None
        else None
    )
    if recipient is None:
        raise AwarenessError(MSG_INVALID, code="invalid_link", http_status=404)
    if expired:
        raise AwarenessError(MSG_EXPIRED, code="expired_link", http_status=410)
    return recipient
