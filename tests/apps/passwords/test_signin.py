"""Sign-in with directory credentials against the real slapd: right password, wrong password (counted
by the directory's lockout and by axes), disabled account, no staff match, a leaver, and the
attacks: injection in the username, an empty password, a directory name equal to a local login."""

from __future__ import annotations

import ldap3
import pytest
from django.contrib.auth import get_user_model

from mamori.apps.core.models import AuditEvent, Membership, Role
from mamori.apps.passwords.slapd import ROOT_DN

from .conftest import ACCOUNTS, BIND_PASSWORD, USER_PASSWORD, make_directory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sign_in_directory(slapd, staff):
    return make_directory(slapd, name="サインイン", base_dn=ACCOUNTS, sign_in=True)


def sign_in(client, username: str, password: str) -> int:
    return client.post("/login/", {"username": username, "password": password}).status_code


def directory_attribute(slapd, uid: str, attribute: str) -> list[str]:
    server = ldap3.Server("127.0.0.1", port=slapd.port, get_info=ldap3.NONE)
    with ldap3.Connection(server, ROOT_DN, BIND_PASSWORD, auto_bind=True) as conn:
        conn.search(
            f"uid={uid},{ACCOUNTS}", "(objectClass=*)", search_scope=ldap3.BASE, attributes=[attribute]
        )
        return [str(v) for v in conn.entries[0][attribute].values] if conn.entries else []


def test_right_password_signs_in_the_matched_staff_member(client, sign_in_directory, staff):
    assert sign_in(client, "tanaka", USER_PASSWORD) == 302
    user = get_user_model().objects.get(username="tanaka")
    assert user.membership.staff == staff["100011"] and user.membership.role == Role.STAFF
    assert not user.has_usable_password()  # the directory password is never stored
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()
    for event in AuditEvent.objects.all():
        assert USER_PASSWORD not in f"{event.before} {event.after}"
    client.logout()
    assert sign_in(client, "tanaka", USER_PASSWORD) == 302  # the second time: the same login
    assert get_user_model().objects.filter(username="tanaka").count() == 1


def test_an_existing_login_of_the_staff_member_is_used(client, sign_in_directory, staff):
    officer = get_user_model().objects.create_user(username="officer", password="local-password-1379")
    Membership.objects.create(user=officer, role=Role.SECURITY_OFFICER, staff=staff["100011"])
    assert sign_in(client, "tanaka", USER_PASSWORD) == 302
    assert client.get("/").context["user"] == officer


def test_wrong_password_counts_toward_the_directory_lockout(client, sign_in_directory, slapd):
    statuses = [sign_in(client, "lockme", "wrong password") for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # axes locks the fifth failure out as well
    assert len(directory_attribute(slapd, "lockme", "pwdFailureTime")) == 5
    assert directory_attribute(slapd, "lockme", "pwdAccountLockedTime")  # ppolicy locked it
    assert not get_user_model().objects.filter(username="lockme").exists()


@pytest.mark.parametrize(
    ("username", "why"),
    [
        ("off", "disabled in the directory"),
        ("nobody", "no staff match"),
        ("gone", "the staff member has left"),
    ],
)
def test_refused_accounts(client, sign_in_directory, username, why):
    assert sign_in(client, username, USER_PASSWORD) == 200, why
    assert not get_user_model().objects.filter(username=username).exists()


@pytest.mark.parametrize("username", ["*", "tan*", "tanaka)(uid=*", "*)(|(uid=*", "tanaka\x00"])
def test_injection_in_the_username_signs_in_nobody(client, sign_in_directory, username):
    assert sign_in(client, username, USER_PASSWORD) == 200
    assert not get_user_model().objects.exclude(username="").exists()


def test_empty_password_is_not_an_anonymous_bind(client, sign_in_directory):
    assert sign_in(client, "tanaka", "") == 200
    assert not get_user_model().objects.filter(username="tanaka").exists()


def test_a_directory_account_never_takes_over_a_local_login(client, sign_in_directory, staff):
    admin = get_user_model().objects.create_user(username="admin", password="local-admin-password-1379")
    Membership.objects.create(user=admin, role=Role.ADMINISTRATOR)
    assert sign_in(client, "admin", USER_PASSWORD) == 200  # the directory's "admin" with its password
    assert sign_in(client, "admin", "local-admin-password-1379") == 302  # the local account still works


def test_an_administrator_is_never_signed_in_through_the_directory(client, sign_in_directory, staff):
    boss = get_user_model().objects.create_user(username="boss", password="local-password-1379")
    Membership.objects.create(user=boss, role=Role.ADMINISTRATOR, staff=staff["100011"])
    assert sign_in(client, "tanaka", USER_PASSWORD) == 200


def test_sign_in_is_off_unless_the_directory_allows_it(client, slapd, staff):
    make_directory(slapd, name="監査のみ", base_dn=ACCOUNTS)
    assert sign_in(client, "tanaka", USER_PASSWORD) == 200
