"""The demo city みなと台市 (Minatodai City): organisation, population, departments, ~1,000 staff, logins.

Everything is generated from a fixed seed and created through the services (so the audit log shows
it), idempotently: a second run finds what exists and changes nothing. Staff go in through the CSV
import, the same path a real city's personnel file takes.
"""

from __future__ import annotations

import csv
import io
import os
import random
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .demo_names import FAMILY_NAMES, GIVEN_NAMES_FEMALE, GIVEN_NAMES_MALE, romaji
from .errors import ApplicationError
from .models import Department, Organisation, Role, Staff, StaffTransfer
from .services import (
    department_create,
    organisation_upsert,
    population_record_set,
    staff_transfer,
    user_create,
    user_set_password,
)
from .staff_import import staff_import

ACTOR = "demo"
SEED = 20130331
STAFF_TOTAL = 1000
MAIL_DOMAIN = "city.minatodai.example.jp"

# 部 → 課, with each 課's relative size. Codes: 部 = NN00, 課 = NNxx.
DEPARTMENTS: list[tuple[str, str, list[tuple[str, str, int]]]] = [
    ("1000", "総務部", [("1001", "総務課", 3), ("1002", "行政改革課", 2), ("1003", "人事課", 3),
                       ("1004", "情報政策課", 2), ("1005", "契約検査課", 2), ("1006", "危機管理課", 2)]),
    ("2000", "企画財政部", [("2001", "企画課", 2), ("2002", "財政課", 2), ("2003", "税務課", 4),
                           ("2004", "収納課", 3)]),
    ("3000", "市民部", [("3001", "市民課", 4), ("3002", "保険年金課", 4), ("3003", "市民協働課", 2)]),
    ("4000", "福祉部", [("4001", "福祉総務課", 3), ("4002", "障がい福祉課", 3), ("4003", "高齢福祉課", 3),
                       ("4004", "子育て支援課", 4)]),
    ("5000", "健康部", [("5001", "健康推進課", 3), ("5002", "保健センター", 3)]),
    ("6000", "環境部", [("6001", "環境政策課", 2), ("6002", "ごみ対策課", 3)]),
    ("7000", "都市整備部", [("7001", "都市計画課", 2), ("7002", "道路課", 3), ("7003", "下水道課", 3),
                           ("7004", "建築指導課", 2)]),
    ("8000", "経済部", [("8001", "商工観光課", 2), ("8002", "農政課", 2)]),
    ("9000", "教育委員会事務局", [("9001", "教育総務課", 3), ("9002", "学校教育課", 4),
                                 ("9003", "生涯学習課", 3)]),
    ("9500", "行政委員会", [("9501", "選挙管理委員会事務局", 1), ("9502", "監査委員事務局", 1),
                           ("9503", "議会事務局", 2)]),
]  # fmt: skip
ENGINEERING = {"7000", "6000"}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    department_code: str  # where the login's staff record works
    position: str
    scope_code: str = ""  # a department lead's department


LOGINS = [
    DemoLogin("admin", Role.ADMINISTRATOR, "1004", "主査"),
    DemoLogin("officer", Role.SECURITY_OFFICER, "1004", "係長"),
    DemoLogin("lead", Role.DEPARTMENT_LEAD, "1000", "部長", scope_code="1000"),
    DemoLogin("staff", Role.STAFF, "1002", "主事"),
    DemoLogin("auditor", Role.AUDITOR, "9502", "主査"),
]  # fmt: skip


@dataclass(frozen=True)
class DemoCity:
    organisation: Organisation
    password: str
    password_generated: bool
    staff_created: int


def last_april_first(today: date) -> date:
    """The start of the current fiscal year (transfers and the current population use it)."""
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def _name(rng: random.Random) -> tuple[str, str, str, str]:
    family, family_kana = rng.choice(FAMILY_NAMES)
    given, given_kana = rng.choice(GIVEN_NAMES_MALE if rng.random() < 0.55 else GIVEN_NAMES_FEMALE)
    return family, given, family_kana, given_kana


def _division_sizes(rng: random.Random, total: int) -> dict[str, int]:
    divisions = [(code, weight) for _b, _n, divs in DEPARTMENTS for code, _name, weight in divs]
    weight_sum = sum(w for _c, w in divisions)
    sizes = {code: max(6, round(total * w / weight_sum * rng.uniform(0.9, 1.1))) for code, w in divisions}
    codes = sorted(sizes)
    while (diff := total - len(DEPARTMENTS) - sum(sizes.values())) != 0:
        sizes[rng.choice(codes)] += 1 if diff > 0 else -1
    return sizes


def _positions(size: int, engineering: bool) -> list[tuple[str, str]]:
    """(position, employment category label) for a 課 of `size` people, the 課長 first."""
    junior = "技師" if engineering else "主事"
    fixed = [("課長", "正職員"), ("課長補佐", "正職員")] + [("係長", "正職員")] * max(1, size // 10)
    rest = size - len(fixed)
    fiscal = round(rest * 0.2)
    reemployed = max(0, round(rest * 0.06))
    middle = round((rest - fiscal - reemployed) * 0.4)
    juniors = rest - fiscal - reemployed - middle
    return (
        fixed
        + [("主査", "正職員")] * (middle // 2)
        + [("主任", "正職員")] * (middle - middle // 2)
        + [(junior, "正職員")] * juniors
        + [("主任", "再任用")] * reemployed
        + [("会計年度任用職員", "会計年度任用")] * fiscal
    )


def _joined(rng: random.Random, position: str, category: str, this_year: int) -> date:
    if category == "会計年度任用":
        return date(rng.randint(this_year - 4, this_year), 4, 1)
    first, last = {
        "部長": (1988, 1995),
        "課長": (1990, 2001),
        "課長補佐": (1994, 2005),
        "係長": (1998, 2012),
        "主査": (2003, 2016),
    }.get(position, (2010, this_year))
    if category == "再任用":
        first, last = 1984, 1990
    return date(rng.randint(first, min(last, this_year)), 4, 1)


def demo_staff_csv(this_year: int) -> bytes:
    """The demo's personnel file as UTF-8 CSV with the documented Japanese header."""
    rng = random.Random(SEED)
    sizes = _division_sizes(rng, STAFF_TOTAL)
    people: list[list[str]] = []
    for bureau_code, _bureau, divisions in DEPARTMENTS:
        engineering = bureau_code in ENGINEERING
        plan = [(bureau_code, "部長", "正職員")] + [
            (code, position, category)
            for code, _n, _w in divisions
            for position, category in _positions(sizes[code], engineering)
        ]
        for code, position, category in plan:
            joined = _joined(rng, position, category, this_year)
            status = (
                "休職" if category == "正職員" and position != "部長" and rng.random() < 0.012 else "在職"
            )
            people.append([code, position, category, joined.isoformat(), status, *_name(rng)])
    people.sort(key=lambda p: (p[3], p[7], p[8]))
    per_year: dict[str, int] = {}
    rows = []
    used_mail: set[str] = set()
    for code, position, category, joined, status, family, given, family_kana, given_kana in people:
        year = joined[:4]
        per_year[year] = per_year.get(year, 0) + 1
        number = f"{int(year) % 100:02d}{per_year[year]:04d}"
        mail = f"{romaji(given_kana)[0]}-{romaji(family_kana)}"
        mail = mail if mail not in used_mail else f"{mail}{number[-3:]}"
        used_mail.add(mail)
        rows.append(
            [
                number,
                family,
                given,
                family_kana,
                given_kana,
                f"{mail}@{MAIL_DOMAIN}",
                code,
                position,
                category,
                status,
                joined.replace("-", "/"),
            ]
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "職員番号",
            "姓",
            "名",
            "姓かな",
            "名かな",
            "メール",
            "所属コード",
            "職名",
            "任用区分",
            "状態",
            "採用日",
        ]
    )
    writer.writerows(sorted(rows))
    return out.getvalue().encode("utf-8")


def _departments(organisation: Organisation) -> None:
    for bureau_code, bureau_name, divisions in DEPARTMENTS:
        bureau = Department.objects.filter(code=bureau_code).first() or department_create(
            actor=ACTOR, organisation=organisation, code=bureau_code, name=bureau_name
        )
        for code, name, _weight in divisions:
            if not Department.objects.filter(code=code).exists():
                department_create(actor=ACTOR, organisation=organisation, code=code, name=name, parent=bureau)


def _transfers(effective: date) -> None:
    """The April personnel transfers (定期人事異動): some regular staff move to another 課."""
    rng = random.Random(SEED + 1)
    divisions = list(Department.objects.filter(parent__isnull=False).order_by("code"))
    movers = list(
        Staff.objects.filter(employment_category="regular", position__in=["主事", "主任", "主査", "技師"])
        .exclude(department__code="1002")
        .order_by("employee_number")
    )
    for staff in rng.sample(movers, k=min(60, len(movers))):
        target = rng.choice([d for d in divisions if d.pk != staff.department_id])
        staff_transfer(
            actor=ACTOR, staff=staff, to_department=target, effective_date=effective, note="定期人事異動"
        )


def _password() -> tuple[str, bool]:
    """MAMORI_DEMO_PASSWORD, else one generated on the first run and kept (mode 600) in MAMORI_HOME."""
    if given := os.environ.get("MAMORI_DEMO_PASSWORD"):
        return given, False
    path = Path(settings.MAMORI_HOME) / "demo-password"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(12))
    return path.read_text().strip(), True


def _logins(password: str) -> None:
    user_model = get_user_model()
    for login in LOGINS:
        user = user_model.objects.filter(username=login.username).first()
        if user is None:
            staff = (
                Staff.objects.filter(
                    department__code=login.department_code,
                    position=login.position,
                    status="active",
                    membership__isnull=True,
                )
                .order_by("employee_number")
                .first()
            )
            scope = Department.objects.get(code=login.scope_code or login.department_code)
            user_create(
                actor=ACTOR,
                username=login.username,
                password=password,
                role=login.role,
                email=staff.email if staff else "",
                staff=staff,
                department=scope,
            )
        elif not user.check_password(password):
            user_set_password(actor=ACTOR, user=user, password=password)


def demo_city_setup(*, today: date | None = None) -> DemoCity:
    """Create (or find) みなと台市 with its people and one login per role."""
    today = today or timezone.localdate()
    april = last_april_first(today)
    with transaction.atomic():
        org = Organisation.objects.order_by("pk").first() or organisation_upsert(
            actor=ACTOR, name="みなと台市", name_en="Minatodai City", prefecture="神奈川県", code="149999"
        )
        population_record_set(
            actor=ACTOR,
            organisation=org,
            reference_date=date(2013, 3, 31),
            residents=112_400,
            households=47_247,
            source="住民基本台帳",
        )
        population_record_set(
            actor=ACTOR,
            organisation=org,
            reference_date=april,
            residents=109_215,
            households=49_862,
            source="住民基本台帳",
        )
        _departments(org)
        created = 0
        if not Staff.objects.exists():
            result = staff_import(actor=ACTOR, data=demo_staff_csv(april.year - 1), filename="demo-staff.csv")
            if not result.ok:
                raise ApplicationError("; ".join(result.errors[:5]), code="demo_staff")
            created = result.created
            if not StaffTransfer.objects.exists():
                _transfers(april)
        password, generated = _password()
        _logins(password)
    return DemoCity(org, password, generated, created)
