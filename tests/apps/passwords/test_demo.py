"""The demo: policies, three leavers and a real audit of a demo slapd holding every staff member."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from mamori.apps.core.demo_city import demo_city_setup
from mamori.apps.core.models import AuditEvent, Role
from mamori.apps.passwords import services
from mamori.apps.passwords.demo import demo_directory_stop, demo_sign_in_example, setup_demo
from mamori.apps.passwords.models import AuditRun, PasswordPolicy, RunStatus
from tests.conftest import require_tool

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_audits_a_real_directory_once_and_keeps_it_reachable():
    require_tool("slapd")
    city = demo_city_setup()
    out = io.StringIO()
    setup_demo(organisation=city.organisation, stdout=out)
    run = AuditRun.objects.get(status=RunStatus.OK)
    assert run.accounts >= 1000 and run.leavers_enabled == 3
    assert run.overdue > 0 and run.stale > 0 and run.unmatched == 3
    assert 50 < 100 * run.compliant / run.enabled < 100
    assert PasswordPolicy.objects.count() == 3
    assert "slapd" in out.getvalue() and "監査" in out.getvalue()
    events = AuditEvent.objects.count()
    setup_demo(organisation=city.organisation, stdout=io.StringIO())  # a second time changes nothing
    assert AuditEvent.objects.count() == events and AuditRun.objects.count() == 1
    tested = services.directory_test(actor="officer", directory=run.directory)  # the server still answers
    assert tested.last_test_ok is True, tested.last_test_message

    pid = int((Path(settings.MAMORI_HOME) / "demo-ldap" / "slapd.pid").read_text())
    demo_directory_stop()  # what `mamori demo` does at exit and every app test at its end
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert services.directory_test(actor="officer", directory=run.directory).last_test_ok is False


def test_demo_staff_sign_in_with_their_directory_account(client):
    require_tool("slapd")
    city = demo_city_setup()
    setup_demo(organisation=city.organisation, stdout=io.StringIO())
    login = demo_sign_in_example()
    assert login and client.post("/login/", {"username": login, "password": city.password}).status_code == 302
    user = get_user_model().objects.get(username=login)
    assert user.membership.role == Role.STAFF and user.membership.staff.email.startswith(login)
