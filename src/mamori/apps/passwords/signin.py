"""Sign-in with directory credentials (`DirectoryBackend`, after Django's ModelBackend).

For each directory that allows sign-in: find the one account whose login (uid / sAMAccountName) is
exactly the typed name (escaped: no LDAP injection), bind as it with the typed password (a wrong
password counts toward the directory's own lockout, and django-axes counts it too), refuse disabled
or locked accounts, match it to a staff record still employed, and sign in that staff member's login
(created on first sign-in with the staff role). Local accounts keep working: a username that belongs
to a local login with a password is never taken over, and an administrator is never signed in
through a directory. The password is used for the bind only — never stored, logged or audited.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone

from mamori.apps.core.models import Membership, Role, StaffStatus
from mamori.apps.core.services import user_create

from . import directory as ldap
from .accounts import account_from_active_directory, account_from_openldap
from .audit import StaffIndex
from .errors import DirectoryError
from .models import Directory, DirectoryKind
from .services import attributes_for, directory_access

log = logging.getLogger(__name__)
ACTOR = "directory-sign-in"


class DirectoryBackend(BaseBackend):
    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if not username or not password:  # an empty password would be an anonymous bind, which "succeeds"
            return None
        local = get_user_model().objects.filter(username=username).first()
        if local is not None and local.has_usable_password():
            return None
        for directory in Directory.objects.filter(sign_in=True):
            try:
                user = _sign_in(directory, username, password)
            except DirectoryError as exc:
                log.warning("directory sign-in via %s failed: %s", directory.name, exc.code)
                continue
            if user is not None:
                return user
        return None

    def get_user(self, user_id: int) -> AbstractBaseUser | None:
        user = get_user_model().objects.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None


def _sign_in(directory: Directory, login: str, password: str) -> AbstractBaseUser | None:
    access = directory_access(directory)
    found = ldap.find_account(
        access,
        login_attribute=directory.login_attribute,
        login=login,
        user_filter=directory.user_filter,
        attributes=attributes_for(directory),
    )
    if found is None:
        return None
    dn, raw = found
    try:
        ldap.bind_as(access, user=dn, password=password).unbind()
    except DirectoryError as exc:
        if exc.code == "bind":
            return None
        raise
    parse = (
        account_from_active_directory
        if directory.kind == DirectoryKind.ACTIVE_DIRECTORY
        else account_from_openldap
    )
    account = parse(dn, raw, match_attribute=directory.match_attribute, now=timezone.now())
    if account.disabled or account.locked:
        return None
    staff = StaffIndex(directory.match_field).find(account.match_value)
    if staff is None or staff.status == StaffStatus.LEFT:
        return None
    membership = Membership.objects.select_related("user").filter(staff=staff).first()
    if membership is not None:
        user = membership.user
        if membership.role == Role.ADMINISTRATOR or user.is_superuser or not user.is_active:
            return None
        return user
    if get_user_model().objects.filter(username=login).exists():
        return None  # that name belongs to another login
    return user_create(
        actor=ACTOR, username=login, password=None, role=Role.STAFF, email=staff.email, staff=staff,
        department=staff.department,
    )  # fmt: skip
