"""Core's dashboard cards for people who act on what is asked of them: their tasks and their own record.

Officers and auditors see the program's areas (one card per app); staff and department leads see what
is asked of them and whom to contact, so no one gets a card they cannot act on.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from . import selectors
from .models import Membership, Role
from .navigation import tasks
from .permissions import user_role

#: roles whose dashboard is about themselves: they always see the task card, even when it is empty
PERSONAL_ROLES = frozenset({Role.STAFF, Role.DEPARTMENT_LEAD})


def tasks_card_context(request: HttpRequest) -> dict[str, Any] | None:
    found = tasks(request)
    if not found and user_role(request.user) not in PERSONAL_ROLES:
        return None
    today = timezone.localdate()
    overdue = [t for t in found if t.due is not None and t.due < today]
    # `tasks` lists the earliest due first: the light leads to the first thing to do
    if overdue:
        status, label, url = "red", _("期限を過ぎた依頼 {n}件").format(n=len(overdue)), overdue[0].url
    elif found:
        status, label, url = "amber", _("未完了の依頼 {n}件").format(n=len(found)), found[0].url
    else:
        status, label, url = "green", _("依頼はすべて完了しています"), ""
    return {"tasks": found, "today": today, "status": status, "status_label": label, "status_url": url}


def me_card_context(request: HttpRequest) -> dict[str, Any] | None:
    membership = (
        Membership.objects.filter(user=request.user)
        .select_related("staff__department__parent", "department__parent")
        .first()
    )
    staff = membership.staff if membership else None
    department = staff.department if staff else (membership.department if membership else None)
    return {"staff": staff, "department": department, "contacts": selectors.security_contact_list()}
