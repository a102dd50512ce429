"""Demo data: three policies, and a real audit of みなと台市's directory.

The directory is a throwaway slapd under MAMORI_HOME/demo-ldap holding every demo staff member as an
account with a realistic spread of states (rotation overdue in the 住基ネット group, stale, locked,
disabled, forced change, service accounts with no staff record) and three leavers (退職) whose accounts
are still enabled. It runs while the demo runs (stopped at exit) so "接続テスト" and "監査を実行" work.
Without slapd the same entries are judged as a recorded audit, and the demo says so. Idempotent.
"""

from __future__ import annotations

import atexit
import random
import secrets
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.utils import timezone

from mamori.apps.core.demo_city import demo_city_setup
from mamori.apps.core.models import Organisation, Staff, StaffStatus
from mamori.apps.core.services import StaffData, staff_update

from . import services
from .accounts import Raw
from .models import AuditRun, Directory, DirectoryKind, PasswordPolicy, PolicyMode, RunStatus, Security
from .slapd import ROOT_DN, SUFFIX, Slapd, ldif_line, slapd_available, slapd_prepare, slapd_run

ACTOR = "demo"
DIRECTORY_NAME = "みなと台市 庁内ディレクトリ（デモ）"
PEOPLE = f"ou=people,{SUFFIX}"
JUKI = f"ou=juki,{PEOPLE}"
ADMINS = f"ou=admins,{PEOPLE}"
JUKI_DEPARTMENT = "3001"  # 市民課: the 住基ネット operators
ADMIN_DEPARTMENT = "1004"  # 情報政策課
LEAVERS = 3

POLICIES = [
    dict(name="全職員（NIST SP 800-63B）", mode=PolicyMode.NIST, min_length=12, stale_days=90, priority=100,
         clause="みなと台市情報セキュリティ対策基準 2-5-4（パスワードの管理）"),
    dict(name="住基ネット操作者", mode=PolicyMode.ROTATION, max_age_days=90, min_length=8, stale_days=90,
         group_dn=JUKI, priority=10, clause="住民基本台帳ネットワークシステム管理要領 第8条（90日ごとの変更）"),
    dict(name="システム管理者", mode=PolicyMode.NIST, min_length=15, stale_days=30, group_dn=ADMINS,
         priority=20, clause="みなと台市情報セキュリティ対策基準 2-5-4(3)（特権ID）"),
]  # fmt: skip


_running: list[Slapd] = []  # the demo directories this process runs, until it exits


def demo_directory_stop() -> None:
    """Stop the demo directories this process runs: at exit (`mamori demo`), or when a test that
    ran the demo in-process ends, so no slapd outlives its test."""
    while _running:
        _running.pop().stop()


atexit.register(demo_directory_stop)


def _gtime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def demo_entries(now: datetime) -> list[tuple[str, Raw]]:
    """(DN, attributes) for every staff member and a few service accounts, deterministic per day."""
    rng = random.Random(1379)
    entries: list[tuple[str, Raw]] = []
    used: set[str] = set()
    staff = Staff.objects.select_related("department").order_by("employee_number")
    for n, person in enumerate(staff):
        ou = {JUKI_DEPARTMENT: JUKI, ADMIN_DEPARTMENT: ADMINS}.get(person.department.code, PEOPLE)
        uid = (person.email.split("@")[0] or f"u{person.employee_number}")[:64]
        uid = uid if uid not in used else f"u{person.employee_number}"  # the demo city repeats a few mails
        used.add(uid)
        changed_days = rng.randint(0, 150) if ou == JUKI else rng.randint(0, 900)
        logon_days = rng.choice([rng.randint(0, 14)] * 48 + [rng.randint(120, 400)])
        if person.status == StaffStatus.LEAVE:
            logon_days = rng.randint(100, 300)
        attrs: dict[str, str] = {
            "uid": uid,
            "cn": person.full_name,
            "sn": person.family_name,
            "mail": person.email,
            "employeeNumber": person.employee_number,
            "pwdChangedTime": _gtime(now - timedelta(days=changed_days, hours=rng.randint(0, 23))),
            "authTimestamp": _gtime(now - timedelta(days=logon_days, hours=rng.randint(0, 23))),
        }
        if n % 211 == 7:
            attrs["pwdReset"] = "TRUE"  # evidence of compromise: a forced change is outstanding
        if n % 293 == 11:
            attrs["pwdAccountLockedTime"] = _gtime(now - timedelta(hours=2))
        if n % 347 == 5:
            attrs["pwdAccountLockedTime"] = "000001010000Z"  # disabled by an administrator
        if ou == JUKI and n % 9 == 0:
            attrs["shadowMax"] = "99999"  # never expires: the rotation rule is not enforced
        entries.append((f"uid={uid},{ou}", {k: [v.encode()] for k, v in attrs.items()}))
    for uid, days in [("svc-backup", 700), ("svc-scanner", 1200), ("temp-2019", 2100)]:
        attrs = {"uid": uid, "cn": uid, "sn": uid, "pwdChangedTime": _gtime(now - timedelta(days=days)),
                 "shadowMax": "99999"}  # fmt: skip
        entries.append((f"uid={uid},{PEOPLE}", {k: [v.encode()] for k, v in attrs.items()}))
    return entries


def _ldif(entries: list[tuple[str, Raw]], password: str) -> str:
    blocks = [
        f"dn: {ou}\nobjectClass: organizationalUnit\nou: {ou.split(',')[0].split('=')[1]}\n"
        for ou in (JUKI, ADMINS)
    ]
    for dn, raw in entries:
        lines = [
            f"dn: {dn}",
            "objectClass: inetOrgPerson",
            "objectClass: shadowAccount",
            ldif_line("userPassword", password),
        ]
        lines += [ldif_line(k, v[0].decode()) for k, v in raw.items()]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def _mark_leavers(stdout: IO[str]) -> None:
    """Three staff who retired at the end of last fiscal year (their accounts are never disabled)."""
    if Staff.objects.filter(status=StaffStatus.LEFT).exists():
        return
    today = timezone.localdate()
    left_on = date(today.year if today.month >= 4 else today.year - 1, 3, 31)
    for person in (
        Staff.objects.filter(status=StaffStatus.ACTIVE)
        .exclude(position="部長")
        .order_by("joined_on")[:LEAVERS]
    ):
        fields = {f: getattr(person, f) for f in StaffData.__dataclass_fields__}
        data = replace(StaffData(**fields), status=StaffStatus.LEFT, left_on=left_on)
        staff_update(actor=ACTOR, staff=person, data=data, note="定年退職")
    stdout.write(f"パスワード: 退職者 {LEAVERS} 人（{left_on:%Y-%m-%d} 退職）\n")


def _policies() -> None:
    for spec in POLICIES:
        if not PasswordPolicy.objects.filter(name=spec["name"]).exists():
            services.policy_create(actor=ACTOR, **spec)


def _start_directory(root: Path, stdout: IO[str]) -> Directory:
    directory = Directory.objects.filter(name=DIRECTORY_NAME).first()
    if not (root / "slapd.conf").exists():
        password = secrets.token_urlsafe(12)
        # every account's password is the demo logins' one, so staff can sign in with the directory
        user_password = demo_city_setup().password
        slapd_prepare(root, _ldif(demo_entries(timezone.now()), user_password), root_password=password)
        (root / "bind-password").write_text(password)
    password = (root / "bind-password").read_text()
    server = slapd_run(root, port=directory.port if directory else 0)
    _running.append(server)
    fields = dict(
        name=DIRECTORY_NAME, kind=DirectoryKind.OPENLDAP, host="127.0.0.1", port=server.port,
        security=Security.STARTTLS, ca_certificate=server.ca_pem, bind_dn=ROOT_DN, base_dn=PEOPLE,
        user_filter="(objectClass=inetOrgPerson)", match_attribute="employeeNumber", sign_in=True,
    )  # fmt: skip
    if directory is None:
        directory = services.directory_create(actor=ACTOR, password=password, **fields)
    elif directory.port != server.port or directory.ca_certificate != server.ca_pem.strip():
        directory = services.directory_update(actor=ACTOR, directory=directory, password=password, **fields)
    stdout.write(
        f"パスワード: デモ用ディレクトリ slapd を ldap://127.0.0.1:{server.port}/ で起動（終了時に停止）\n"
    )
    if example := demo_sign_in_example():
        stdout.write(
            f"パスワード: 職員はディレクトリのアカウントでもサインインできます（例: {example}、パスワードは上と同じ）\n"
        )
    return directory


def demo_sign_in_example() -> str:
    """A directory login of an active staff member without a mamori login (the demo's first)."""
    staff = Staff.objects.filter(status=StaffStatus.ACTIVE, membership__isnull=True).order_by(
        "employee_number"
    )
    person = staff.exclude(email="").first()
    return person.email.split("@")[0] if person else ""


def _recorded_directory() -> Directory:
    directory = Directory.objects.filter(name=DIRECTORY_NAME).first()
    return directory or services.directory_create(
        actor=ACTOR, password=secrets.token_urlsafe(12), name=DIRECTORY_NAME, kind=DirectoryKind.OPENLDAP,
        host="127.0.0.1", port=389, security=Security.STARTTLS, bind_dn=ROOT_DN, base_dn=PEOPLE,
        user_filter="(objectClass=inetOrgPerson)",
    )  # fmt: skip


def setup_demo(*, organisation: Organisation, stdout: IO[str]) -> None:
    _policies()
    _mark_leavers(stdout)
    root = Path(settings.MAMORI_HOME) / "demo-ldap"
    if slapd_available():
        directory = _start_directory(root, stdout)
        if not AuditRun.objects.filter(directory=directory, status=RunStatus.OK).exists():
            run = services.audit_run(actor=ACTOR, directory=directory)
            stdout.write(
                f"パスワード: ディレクトリを監査（{run.accounts} アカウント、遵守 {run.compliant}/{run.enabled}）\n"
            )
        return
    directory = _recorded_directory()
    if not AuditRun.objects.filter(directory=directory, status=RunStatus.OK).exists():
        now = timezone.now()
        run = services.audit_run_record(actor=ACTOR, directory=directory, entries=demo_entries(now), now=now)
        stdout.write(f"パスワード: 記録済みの監査結果を登録（{run.accounts} アカウント）\n")
    stdout.write(
        "パスワード: slapd がないためデモ用ディレクトリは起動していません（apt-get install slapd）\n"
    )
