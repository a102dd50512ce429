"""The demo: about 1,200 devices across the 33 課 and three zones, reports imported through the real
import path from files in each tool's format, one department behind, the firewall past its end of
support this fiscal year with a renewal plan; a second run changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from mamori.apps.core.demo_city import DEPARTMENTS
from mamori.apps.core.models import Department, Organisation
from mamori.apps.core.wareki import fiscal_year_of
from mamori.apps.devices import selectors
from mamori.apps.devices.demo import setup_demo
from mamori.apps.devices.hygiene import Rule, Thresholds
from mamori.apps.devices.models import Device, DeviceImport, ImportState, RenewalPlan

pytestmark = pytest.mark.django_db


def test_the_demo_city_has_its_devices_and_a_realistic_spread():
    org = Organisation.objects.create(name="みなと台市", prefecture="神奈川県")
    for code, name, sections in DEPARTMENTS:
        parent = Department.objects.create(organisation=org, code=code, name=name)
        for section_code, section_name, _weight in sections:
            Department.objects.create(organisation=org, code=section_code, name=section_name, parent=parent)
    setup_demo(organisation=org, stdout=io.StringIO())

    assert 1150 <= Device.objects.count() <= 1250
    assert Device.objects.values("department").distinct().count() == 33
    pcs = set(Device.objects.filter(kind="pc").values_list("maker", "model_name"))
    assert pcs == {
        ("富士通", "LIFEBOOK U9313"),
        ("NEC", "Mate MKL44"),
        ("Dell", "Latitude 5440"),
        ("Lenovo", "ThinkPad L14"),
    }
    assert set(DeviceImport.objects.values_list("kind", "state")) == {
        (kind, ImportState.SUCCEEDED) for kind in ("inventory_csv", "hygiene_csv", "osquery", "wazuh")
    }
    today = timezone.localdate()
    fleet = selectors.fleet(user=None, today=today, thresholds=Thresholds())
    coverage = selectors.coverage(fleet)
    assert {z.key for z in coverage.zones if z.total} == {"mynumber", "lgwan", "internet"}
    assert coverage.departments[0].label == "道路課" and coverage.departments[0].av_pct < 50
    assert 90 < coverage.overall.av_pct < 99
    counts = selectors.rule_counts(fleet)
    assert all(
        counts.get(rule, 0) > 0 for rule in (Rule.SILENT, Rule.SIGNATURES, Rule.PATCHES, Rule.BASELINE)
    )

    (firewall,) = selectors.past_end_of_support(user=None, today=today)
    # ended before today, within the fiscal year yesterday was in (on 1 April: last year's last day)
    ended_in = fiscal_year_of(firewall.end_of_support)
    assert firewall.kind == "firewall" and ended_in == fiscal_year_of(today - timedelta(days=1))
    assert firewall.renewal_plans.get().fiscal_year == fiscal_year_of(today)
    assert RenewalPlan.objects.filter(devices__kind="mail_gateway").exists()
    assert RenewalPlan.objects.filter(devices__kind="internet_gateway").exists()

    setup_demo(organisation=org, stdout=io.StringIO())
    assert DeviceImport.objects.count() == 5
