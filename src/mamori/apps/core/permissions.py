"""Per-role access: every view declares the roles it admits; `RoleRequiredMixin` enforces it.

Department leads are additionally scoped to their department subtree by the selectors they call
(`membership_department_ids`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import Membership, Role

ALL_ROLES = frozenset(Role.values)
OFFICERS = frozenset({Role.ADMINISTRATOR, Role.SECURITY_OFFICER})
READERS = frozenset({Role.ADMINISTRATOR, Role.SECURITY_OFFICER, Role.AUDITOR})
LEADS_AND_READERS = READERS | {Role.DEPARTMENT_LEAD}


def user_role(user) -> str | None:  # type: ignore[no-untyped-def]
    if not user.is_authenticated:
        return None
    try:
        return user.membership.role
    except Membership.DoesNotExist:
        return Role.ADMINISTRATOR if user.is_superuser else None


def has_role(user, roles: Iterable[str]) -> bool:  # type: ignore[no-untyped-def]
    role = user_role(user)
    return role is not None and role in set(roles)


def membership_department_ids(user) -> set[int] | None:  # type: ignore[no-untyped-def]
    """Department ids a user's data views are limited to; None means every department."""
    role = user_role(user)
    if role in READERS:
        return None
    membership = getattr(user, "membership", None)
    if membership is None or membership.department is None:
        return set()
    return membership.department.descendant_ids()


class RoleRequiredMixin(LoginRequiredMixin):
    """Anonymous → login page; signed in without one of `allowed_roles` → 403."""

    allowed_roles: frozenset[str] = frozenset()
    #: write views set this; auditors never pass it even when they may read the page
    writes = False

    def dispatch(self, request: HttpRequest, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.allowed_roles):
            raise PermissionDenied
        if self.writes and user_role(request.user) == Role.AUDITOR:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
