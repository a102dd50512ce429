"""The officer's pages: policies (audited), a directory with its "test connection" button, the audit
run and the findings page; the KPI for the sheet with its evidence."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from mamori.apps.core.models import AuditEvent, Membership, Role
from mamori.apps.core.wareki import fiscal_year_of
from mamori.apps.passwords import services
from mamori.apps.passwords.errors import DirectoryError
from mamori.apps.passwords.models import AuditRun, Directory, Finding, PasswordPolicy
from tests.apps.lights import dashboard_light

from .conftest import BIND_PASSWORD, PEOPLE

pytestmark = pytest.mark.django_db


def login(client, role: str):
    user = get_user_model().objects.create_user(username=role, password="x" * 12)
    Membership.objects.create(user=user, role=role)
    client.force_login(user)
    return user


def policy_form(**overrides):
    return {"name": "住基ネット操作者", "mode": "rotation", "max_age_days": "90", "min_length": "8",
            "blocklist": "on", "stale_days": "90", "group_dn": "ou=juki,dc=example", "priority": "10",
            "clause": "住基ネット管理要領 第8条"} | overrides  # fmt: skip


def test_officer_adds_a_rotation_policy_and_the_change_is_audited(client):
    login(client, Role.SECURITY_OFFICER)
    response = client.post("/passwords/policies/new/", policy_form())
    assert response.status_code == 302
    policy = PasswordPolicy.objects.get()
    assert (policy.mode, policy.max_age_days, policy.clause) == ("rotation", 90, "住基ネット管理要領 第8条")
    client.post(f"/passwords/policies/{policy.pk}/edit/", policy_form(mode="nist", max_age_days=""))
    policy.refresh_from_db()
    assert policy.mode == "nist" and policy.max_age_days is None
    update = AuditEvent.objects.get(action="passwords.policy.update")
    assert update.before["mode"] == "rotation" and update.after["mode"] == "nist"


def test_rotation_without_an_interval_is_refused_with_the_reason(client):
    login(client, Role.SECURITY_OFFICER)
    response = client.post("/passwords/policies/new/", policy_form(max_age_days=""))
    assert response.status_code == 200
    assert "変更間隔（日）を1以上で指定してください" in response.content.decode()
    assert not PasswordPolicy.objects.exists()


def test_officer_configures_the_directory_tests_it_and_runs_an_audit(client, slapd, staff, policies):
    login(client, Role.SECURITY_OFFICER)
    form = {"name": "庁内LDAP", "kind": "openldap", "host": "127.0.0.1", "port": str(slapd.port),
            "security": "starttls", "ca_certificate": slapd.ca_pem, "bind_dn": f"cn=admin,{PEOPLE.split(',', 1)[1]}",
            "password": BIND_PASSWORD, "base_dn": PEOPLE, "user_filter": "(objectClass=inetOrgPerson)",
            "match_attribute": "employeeNumber", "match_field": "employee_number", "page_size": "500",
            "audit_every_hours": "24"}  # fmt: skip
    assert client.post("/passwords/directories/new/", form).status_code == 302
    directory = Directory.objects.get()
    page = client.post(f"/passwords/directories/{directory.pk}/test/", follow=True).content.decode()
    assert "接続・TLS・バインド・検索ベースの確認に成功しました" in page
    client.post(f"/passwords/directories/{directory.pk}/edit/", form | {"password": "", "port": "1"})
    page = client.post(f"/passwords/directories/{directory.pk}/test/", follow=True).content.decode()
    assert "127.0.0.1:1 に接続できません" in page  # exactly what failed
    client.post(f"/passwords/directories/{directory.pk}/edit/", form | {"password": ""})  # kept password
    response = client.post(f"/passwords/directories/{directory.pk}/audit/", follow=True)
    page = response.content.decode()
    run = AuditRun.objects.get()
    assert response.redirect_chain[-1][0] == f"/passwords/runs/{run.pk}/"
    assert "監査が完了しました（11 アカウント）" in page
    leavers = client.get(f"/passwords/runs/{run.pk}/?show=leaver_enabled").content.decode()
    assert 'data-login="leaver"' in leavers and 'data-login="ok"' not in leavers
    overdue = client.get(f"/passwords/runs/{run.pk}/?show=overdue").content.decode()
    assert 'data-login="overdue"' in overdue


def test_auditor_reads_but_cannot_run(client, directory, policies, staff):
    login(client, Role.AUDITOR)
    assert client.get("/passwords/").status_code == 200
    assert client.post(f"/passwords/directories/{directory.pk}/audit/").status_code == 403
    assert not AuditRun.objects.exists()


def test_kpis_for_the_sheet_with_the_audit_run_as_evidence(directory, policies, staff):
    run = services.audit_run(actor="officer", directory=directory)
    out = io.StringIO()
    call_command("kpi", "--fiscal-year", str(fiscal_year_of(timezone.localdate())), "--json", stdout=out)
    rows = {r["code"]: r for r in json.loads(out.getvalue())}
    assert rows["passwords.compliance"]["value"] == "40.0"  # 4 of 10 enabled accounts
    assert rows["passwords.leavers_enabled"]["value"] == "1"
    assert rows["passwords.stale_accounts"]["value"] == "1"
    assert rows["passwords.compliance"]["evidence_count"] == 1
    out = io.StringIO()
    call_command("kpi", "--fiscal-year", str(fiscal_year_of(timezone.localdate()) - 1), "--json", stdout=out)
    previous = {r["code"]: r for r in json.loads(out.getvalue())}
    assert previous["passwords.compliance"]["value"] is None and run.pk


def test_dashboard_card_shows_compliance(client, directory, policies, staff):
    services.audit_run(actor="officer", directory=directory)
    login(client, Role.SECURITY_OFFICER)
    page = client.get("/").content.decode()
    assert 'data-kpi="compliance">40.0%' in page and "退職者の有効アカウント 1 件" in page


def test_the_red_light_says_a_leaver_is_enabled_and_leads_to_that_account(client, directory, policies, staff):
    """The light was red for the leaver while its label said only '40.0%'."""
    run = services.audit_run(actor="officer", directory=directory)
    login(client, Role.SECURITY_OFFICER)
    light = dashboard_light(client, "passwords")
    assert light.status == "red" and light.label.startswith("退職者の有効アカウント 1件")
    assert light.url == f"/passwords/runs/{run.pk}/?show=leaver_enabled"
    card = client.get("/").content.decode().split('data-card="passwords"')[1].split("</section>")[0]
    assert f'href="{light.url}" data-action="leavers"' in card.replace("&amp;", "&")
    findings = client.get(light.url).content.decode()
    assert 'data-login="leaver"' in findings and 'data-login="tanaka"' not in findings
    # fixed in the directory, audited again from that page: the light turns amber (compliance 40%)
    assert f'action="/passwords/directories/{directory.pk}/audit/"' in findings
    Finding.objects.filter(run=run).delete()
    AuditRun.objects.filter(pk=run.pk).update(leavers_enabled=0)
    light = dashboard_light(client, "passwords")
    assert (light.status, light.label) == ("amber", "方針の遵守率 40.0%（目標 95%）")
    assert light.url == f"/passwords/runs/{run.pk}/?show=noncompliant"


def test_the_findings_page_marks_the_one_filter_it_shows(client, directory, policies, staff):
    """The officer sees which filter the list is under: that link, and only that one, is current;
    an unknown filter (an old bookmark) shows every account and marks 「すべて」."""
    run = services.audit_run(actor="officer", directory=directory)
    login(client, Role.SECURITY_OFFICER)

    def current(query: str) -> tuple[list[str], str]:
        html = client.get(f"/passwords/runs/{run.pk}/{query}").content.decode()
        nav = html.split('<nav class="filters"')[1].split("</nav>")[0]
        return re.findall(r'<a href="([^"]*)"[^>]*aria-current="page"', nav), html

    assert current("?show=overdue")[0] == ["?show=overdue"]
    assert current("?show=noncompliant")[0] == ["?show=noncompliant"]
    assert current("")[0] == ["?"]
    marked, html = current("?show=no-such-filter")
    assert marked == ["?"] and html.count("<tr data-login=") == run.accounts


def test_the_light_of_several_directories_leads_to_their_audits(client):
    now = timezone.now()
    for name, enabled, compliant, leavers in (("本庁AD", 10, 10, 1), ("学校AD", 10, 9, 2)):
        found = Directory.objects.create(
            name=name, kind="ad", host="dc.example", port=636, security="ldaps",
            bind_dn="cn=x", base_dn="dc=example", user_filter="(objectClass=user)",
        )  # fmt: skip
        AuditRun.objects.create(
            directory=found, started_at=now, finished_at=now, status="ok", accounts=enabled,
            enabled=enabled, compliant=compliant, leavers_enabled=leavers, actor="officer",
        )  # fmt: skip
    login(client, Role.AUDITOR)
    light = dashboard_light(client, "passwords")
    assert (light.status, light.label, light.url) == (
        "red", "退職者の有効アカウント 3件: ディレクトリで無効にしてください", "/passwords/#runs"
    )  # fmt: skip
    runs = client.get(light.url).content.decode()
    assert runs.count("?show=leaver_enabled") == 2
    run = AuditRun.objects.get(directory__name="学校AD")
    assert 'data-action="audit-again"' not in client.get(f"/passwords/runs/{run.pk}/").content.decode()


def _connection_cell(client, directory) -> str:
    page = client.get("/passwords/").content.decode()
    return page.split(f'data-directory="{directory.name}"')[1].split("</tr>")[0]


def test_an_audit_that_connected_counts_as_a_connection_test(client, slapd, directory, policies, staff):
    login(client, Role.SECURITY_OFFICER)
    assert "未実施" in _connection_cell(client, directory)
    services.audit_run(actor="officer", directory=directory)
    cell = _connection_cell(client, directory)
    assert "未実施" not in cell and 'class="light green"' in cell
    assert "監査で接続・検索に成功しました（11 アカウント）" in cell
    directory.port = 1  # the server moved: the next audit fails, and the column says so
    directory.save(update_fields=["port"])
    with pytest.raises(DirectoryError):
        services.audit_run(actor="officer", directory=directory)
    cell = _connection_cell(client, directory)
    assert 'class="light red"' in cell and "監査で失敗: 127.0.0.1:1 に接続できません" in cell


def test_recorded_audit_results_do_not_claim_a_connection(client, slapd, directory, policies, staff):
    login(client, Role.SECURITY_OFFICER)
    services.audit_run_record(actor="demo", directory=directory, entries=[], now=timezone.now())
    assert "未実施" in _connection_cell(client, directory)
