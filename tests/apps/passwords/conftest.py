"""A real OpenLDAP server for the whole session (127.0.0.1, StartTLS and LDAPS with a throwaway CA),
holding accounts in every state the audit reports, plus an Active-Directory-shaped subtree.

A missing slapd is a failure, never a skip (`make test` installs it).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mamori.apps.core.models import Department, Organisation, Staff, StaffStatus
from mamori.apps.passwords import services
from mamori.apps.passwords.models import Directory, DirectoryKind, MatchField, PolicyMode, Security
from mamori.apps.passwords.slapd import ROOT_DN, SUFFIX, Slapd, slapd_start
from tests.conftest import require_tool

BIND_PASSWORD = "slapd-root-Secret-42"
USER_PASSWORD = "correct horse battery staple"
PEOPLE = f"ou=people,{SUFFIX}"
JUKI = f"ou=juki,{PEOPLE}"
AD = f"ou=ad,{SUFFIX}"
ACCOUNTS = f"ou=accounts,{SUFFIX}"  # for sign-in tests, outside the audited base
NOW = datetime.now(UTC)


def gtime(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y%m%d%H%M%SZ")


def filetime(days_ago: float) -> int:
    return int(((NOW - timedelta(days=days_ago)).timestamp() + 11644473600) * 10**7)


def person(uid: str, ou: str, *, employee: str | None, extra: str = "", name: str = "") -> str:
    lines = [
        f"dn: uid={uid},{ou}",
        "objectClass: inetOrgPerson",
        "objectClass: shadowAccount",
        f"uid: {uid}",
        f"cn: {name or uid}",
        f"sn: {uid}",
        f"userPassword: {USER_PASSWORD}",
    ]
    if employee:
        lines.append(f"employeeNumber: {employee}")
    return "\n".join(lines) + ("\n" + extra.strip() if extra.strip() else "") + "\n"


def ad_user(sam: str, *, employee: str | None, attrs: str) -> str:
    lines = [
        f"dn: cn={sam},{AD}",
        "objectClass: inetOrgPerson",
        "objectClass: user",
        f"cn: {sam}",
        f"sn: {sam}",
        f"sAMAccountName: {sam}",
    ]
    if employee:
        lines.append(f"employeeNumber: {employee}")
    return "\n".join(lines) + "\n" + attrs.strip() + "\n"


def directory_ldif() -> str:
    """Each OpenLDAP account is in one state the audit must report (the uid says which)."""
    entries = [
        f"dn: {JUKI}\nobjectClass: organizationalUnit\nou: juki\n",
        f"dn: {AD}\nobjectClass: organizationalUnit\nou: ad\n",
        f"dn: {ACCOUNTS}\nobjectClass: organizationalUnit\nou: accounts\n",
        person("tanaka", ACCOUNTS, employee="100011", extra=f"pwdChangedTime: {gtime(3)}"),
        person("lockme", ACCOUNTS, employee="100012", extra=f"pwdChangedTime: {gtime(3)}"),
        person("gone", ACCOUNTS, employee="100003", extra=f"pwdChangedTime: {gtime(3)}"),
        person("nobody", ACCOUNTS, employee=None, extra=f"pwdChangedTime: {gtime(3)}"),
        person("off", ACCOUNTS, employee="100013", extra="pwdAccountLockedTime: 000001010000Z"),
        person("admin", ACCOUNTS, employee="100014", extra=f"pwdChangedTime: {gtime(3)}"),
        person("ok", PEOPLE, employee="100001", extra=f"pwdChangedTime: {gtime(10)}\nauthTimestamp: {gtime(1)}"),
        person("overdue", JUKI, employee="100002", extra=f"pwdChangedTime: {gtime(200)}\nauthTimestamp: {gtime(1)}"),
        person("leaver", PEOPLE, employee="100003", extra=f"pwdChangedTime: {gtime(30)}\nauthTimestamp: {gtime(40)}"),
        person("locked", PEOPLE, employee="100004", extra=f"pwdChangedTime: {gtime(5)}\npwdAccountLockedTime: {gtime(0.1)}"),
        person("disabled", PEOPLE, employee="100005", extra=f"pwdChangedTime: {gtime(5)}\npwdAccountLockedTime: 000001010000Z"),
        person("stale", PEOPLE, employee="100006", extra=f"pwdChangedTime: {gtime(20)}\nauthTimestamp: {gtime(400)}"),
        person("never", JUKI, employee="100007", extra=f"pwdChangedTime: {gtime(3)}\nshadowMax: 99999"),
        person("shadow", PEOPLE, employee="100008", extra=f"shadowLastChange: {(NOW.date() - datetime(1970, 1, 1).date()).days - 45}"),
        person("mustchange", PEOPLE, employee="100009", extra=f"pwdChangedTime: {gtime(2)}\npwdReset: TRUE"),
        person("svc-backup", PEOPLE, employee=None, extra=f"pwdChangedTime: {gtime(2)}"),
        person("hostile", PEOPLE, employee="100010", name="<script>alert(1)</script>",
               extra=f"pwdChangedTime: {gtime(4)}\ndisplayName: <img src=x onerror=alert(1)>"),
        ad_user("ad-ok", employee="100001", attrs=f"pwdLastSet: {filetime(10)}\nuserAccountControl: 512\n"
                f"lastLogonTimestamp: {filetime(2)}\naccountExpires: 9223372036854775807"),
        ad_user("ad-disabled", employee="100002", attrs=f"pwdLastSet: {filetime(10)}\nuserAccountControl: 514\naccountExpires: 0"),
        ad_user("ad-noexpire", employee="100003", attrs=f"pwdLastSet: {filetime(400)}\nuserAccountControl: 66048"),
        ad_user("ad-mustchange", employee="100004", attrs="pwdLastSet: 0\nuserAccountControl: 512"),
        ad_user("ad-1601", employee="100006", attrs="pwdLastSet: 1\nuserAccountControl: 512"),
        ad_user("ad-future", employee="100008", attrs="pwdLastSet: 9223372036854775806\nuserAccountControl: 512"),
        ad_user("ad-expired", employee="100009", attrs=f"pwdLastSet: {filetime(3)}\nuserAccountControl: 512\naccountExpires: {filetime(1)}"),
        ad_user("ad-locked", employee="100010", attrs=f"pwdLastSet: {filetime(3)}\nuserAccountControl: 512\nlockoutTime: {filetime(0.01)}"),
    ]  # fmt: skip
    return "\n".join(entries)


@pytest.fixture(scope="session")
def slapd() -> Iterator[Slapd]:
    require_tool("slapd")
    root = Path(tempfile.mkdtemp(prefix="mamori-slapd-"))
    server = slapd_start(root / "ldap", directory_ldif(), root_password=BIND_PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def staff(db) -> dict[str, Staff]:
    org = Organisation.objects.create(name="みなと台市", prefecture="神奈川県")
    dept = Department.objects.create(organisation=org, code="1004", name="情報政策課")
    people = {}
    for number in range(100001, 100015):
        status = StaffStatus.LEFT if number == 100003 else StaffStatus.ACTIVE
        people[str(number)] = Staff.objects.create(
            employee_number=str(number), family_name="市", given_name=f"職員{number}", department=dept, status=status,
            email=f"s{number}@city.example.jp",
        )  # fmt: skip
    return people


@pytest.fixture
def policies(db):
    nist = services.policy_create(
        actor="test", name="全職員", mode=PolicyMode.NIST, min_length=12, stale_days=90
    )
    juki = services.policy_create(
        actor="test", name="住基ネット操作者", mode=PolicyMode.ROTATION, max_age_days=90, min_length=8,
        stale_days=90, group_dn=JUKI, priority=10, clause="住基ネット管理要領 第8条",
    )  # fmt: skip
    return {"nist": nist, "juki": juki}


def make_directory(slapd: Slapd, **overrides) -> Directory:
    fields = {
        "name": "庁内LDAP",
        "kind": DirectoryKind.OPENLDAP,
        "host": "127.0.0.1",
        "port": slapd.port,
        "security": Security.STARTTLS,
        "ca_certificate": slapd.ca_pem,
        "bind_dn": ROOT_DN,
        "password": BIND_PASSWORD,
        "base_dn": PEOPLE,
        "user_filter": "(objectClass=inetOrgPerson)",
        "match_attribute": "employeeNumber",
        "match_field": MatchField.EMPLOYEE_NUMBER,
        "page_size": 3,  # several pages even for this small directory
    } | overrides
    return services.directory_create(actor="test", **fields)


@pytest.fixture
def directory(slapd, db) -> Directory:
    return make_directory(slapd)


@pytest.fixture
def ad_directory(slapd, db) -> Directory:
    return make_directory(
        slapd, name="AD", kind=DirectoryKind.ACTIVE_DIRECTORY, base_dn=AD, user_filter="(objectClass=user)"
    )
