"""`mamori demo --no-serve` builds みなと台市 once; a second run changes nothing."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from mamori.apps.core.audit import audit_verify
from mamori.apps.core.management.commands import demo as demo_command
from mamori.apps.core.models import (
    AuditEvent,
    Department,
    Membership,
    PopulationRecord,
    Role,
    Staff,
    StaffTransfer,
)
from mamori.apps.core.permissions import membership_department_ids

from .plugin_app import demo as plugin_demo

pytestmark = pytest.mark.django_db


def _counts():
    return {
        "staff": Staff.objects.count(),
        "departments": Department.objects.count(),
        "transfers": StaffTransfer.objects.count(),
        "populations": PopulationRecord.objects.count(),
        "users": get_user_model().objects.count(),
        # Apps' demos may record fresh activity on each run (e.g. the backups it runs); the city's own
        # records must not change.
        "core_events": AuditEvent.objects.filter(object_type__startswith="core.").count(),
    }


def _demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    return out.getvalue()


def test_demo_is_idempotent_prints_the_logins_and_runs_every_apps_demo(monkeypatch):
    monkeypatch.delenv("MAMORI_DEMO_PASSWORD", raising=False)
    real = demo_command.installed_app_names()
    monkeypatch.setattr(demo_command, "installed_app_names", lambda: [*real, "tests.apps.core.plugin_app"])
    plugin_demo.calls.clear()
    first = _demo()
    counts = _counts()
    second = _demo()
    assert _counts() == counts
    password = re.search(r"password \(all logins\): (\S+)", first)[1]
    assert password in second and len(password) >= 12
    for username in ("admin", "officer", "lead", "staff", "auditor"):
        assert re.search(rf"^  {username} ", first, re.M)
        assert get_user_model().objects.get(username=username).check_password(password)
    assert "http://127.0.0.1:8000/" in first
    assert audit_verify().ok
    # An app's `demo` module is called on every run, with the city (its own job to be idempotent).
    assert "plugin demo data ready" in first and plugin_demo.calls == ["みなと台市", "みなと台市"]


def test_demo_city_has_the_seed_population_departments_and_staff(monkeypatch):
    monkeypatch.setenv("MAMORI_DEMO_PASSWORD", "demo-password-for-tests")
    _demo()
    first = PopulationRecord.objects.get(reference_date="2013-03-31")
    assert (first.residents, first.households, first.source) == (112_400, 47_247, "住民基本台帳")
    assert PopulationRecord.objects.count() == 2
    gyokaku = Department.objects.get(name="行政改革課")
    assert gyokaku.parent.name == "総務部"
    assert Department.objects.filter(parent__isnull=False).count() >= 30
    assert 950 <= Staff.objects.count() <= 1050
    assert set(Staff.objects.values_list("employment_category", flat=True)) == {
        "regular",
        "reemployed",
        "fiscal_year",
    }
    assert StaffTransfer.objects.filter(effective_date__month=4, effective_date__day=1).count() >= 30
    assert all(re.fullmatch(r"[ぁ-ん]+", k) for k in Staff.objects.values_list("family_name_kana", flat=True))
    lead = get_user_model().objects.get(username="lead")
    assert lead.check_password("demo-password-for-tests")
    assert lead.membership.role == Role.DEPARTMENT_LEAD and lead.membership.department.name == "総務部"
    assert gyokaku.pk in membership_department_ids(lead)
    assert Membership.objects.filter(staff__isnull=False).count() == 5


def test_demo_on_a_system_chosen_port_does_not_tell_the_user_to_open_port_0():
    out = io.StringIO()
    command = demo_command.Command(stdout=out)
    command._print_logins("pw-not-shown-here", "127.0.0.1", 0, generated=False)
    assert ":0/" not in out.getvalue() and "serving on" in out.getvalue()
