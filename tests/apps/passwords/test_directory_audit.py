"""The directory audit against a real slapd: every account state, AD semantics, and each bad input
with one clear message and the previous run kept."""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from mamori.apps.core.models import AuditEvent, Membership, Role
from mamori.apps.passwords import directory as ldap
from mamori.apps.passwords import services
from mamori.apps.passwords.errors import DirectoryError, PasswordsError
from mamori.apps.passwords.models import AuditRun, RunStatus, Security
from mamori.apps.passwords.slapd import make_ca

from .conftest import BIND_PASSWORD, NOW, PEOPLE, make_directory

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uff01-\uff60]")

pytestmark = pytest.mark.django_db


def flags(run: AuditRun) -> dict[str, dict[str, object]]:
    names = ["overdue", "must_change", "never_expires", "disabled", "locked", "stale", "unmatched",
             "leaver_enabled", "compliant"]  # fmt: skip
    return {f.login: {n: getattr(f, n) for n in names} | {"policy": f.policy_name, "age": f.password_age_days,
            "problems": f.problems} for f in run.findings.all()}  # fmt: skip


def test_connection_test_passes_over_starttls_and_is_recorded(directory):
    services.directory_test(actor="officer", directory=directory)
    directory.refresh_from_db()
    assert directory.last_test_ok is True
    assert "成功" in directory.last_test_message
    assert AuditEvent.objects.filter(action="passwords.directory.test").exists()


def test_ldaps_works_too(slapd):
    directory = make_directory(slapd, name="LDAPS", port=slapd.tls_port, security=Security.LDAPS)
    assert services.directory_test(actor="t", directory=directory).last_test_ok is True


def test_audit_reports_every_account_state(directory, policies, staff):
    # as of the fixture's clock: shadowLastChange counts whole days, so a run past midnight UTC is a day older
    run = services.audit_run(actor="officer", directory=directory, now=NOW)
    seen = flags(run)
    assert run.status == RunStatus.OK and run.accounts == len(seen) == 11  # more than one page of 3
    assert seen["ok"]["compliant"] is True and seen["ok"]["policy"] == "全職員" and seen["ok"]["age"] == 10
    assert seen["overdue"]["overdue"] is True and seen["overdue"]["policy"] == "住基ネット操作者"
    assert seen["overdue"]["age"] == 200 and not seen["overdue"]["compliant"]
    assert seen["leaver"]["leaver_enabled"] is True and not seen["leaver"]["compliant"]
    assert seen["locked"]["locked"] is True and seen["locked"]["disabled"] is False
    assert seen["disabled"]["disabled"] is True and seen["disabled"]["locked"] is False
    assert seen["stale"]["stale"] is True and not seen["stale"]["compliant"]
    assert seen["never"]["never_expires"] is True and not seen["never"]["compliant"]  # rotation unenforced
    assert seen["shadow"]["age"] == 45 and seen["shadow"]["compliant"] is True  # shadowLastChange
    assert seen["mustchange"]["must_change"] is True and not seen["mustchange"]["compliant"]
    assert seen["svc-backup"]["unmatched"] is True and not seen["svc-backup"]["compliant"]
    nist_only = {k for k, v in seen.items() if v["overdue"]}
    assert nist_only == {"overdue"}  # NIST accounts are never "overdue", however old the password
    assert (run.enabled, run.compliant, run.leavers_enabled, run.stale, run.unmatched) == (
        10,
        4,
        1,
        1,
        1,
    )  # ok, shadow, locked, hostile
    event = AuditEvent.objects.get(action="passwords.audit.run")
    assert event.after["compliant"] == 4 and event.after["leavers_enabled"] == 1


def test_active_directory_semantics_and_filetime_edges(ad_directory, policies, staff):
    run = services.audit_run(actor="officer", directory=ad_directory)
    seen = flags(run)
    assert seen["ad-ok"]["compliant"] is True and seen["ad-ok"]["age"] == 10
    assert seen["ad-disabled"]["disabled"] is True  # userAccountControl 514; accountExpires 0 = never
    assert seen["ad-noexpire"]["never_expires"] is True and seen["ad-noexpire"]["leaver_enabled"] is True
    assert (
        seen["ad-mustchange"]["must_change"] is True and seen["ad-mustchange"]["age"] is None
    )  # pwdLastSet 0
    assert seen["ad-1601"]["age"] > 150_000  # set in 1601: a real (if absurd) date
    assert "pwdLastSet" in seen["ad-future"]["problems"] and not seen["ad-future"]["compliant"]
    assert seen["ad-expired"]["disabled"] is True  # accountExpires in the past
    assert seen["ad-locked"]["locked"] is True


def test_hostile_display_names_are_kept_as_text(directory, policies, staff, client, django_user_model):
    run = services.audit_run(actor="officer", directory=directory)
    hostile = run.findings.get(login="hostile")
    assert hostile.display_name == "<img src=x onerror=alert(1)>"
    user = django_user_model.objects.create_user(username="auditor", password="x" * 12)
    Membership.objects.create(user=user, role=Role.AUDITOR)
    client.force_login(user)
    html = client.get(f"/passwords/runs/{run.pk}/").content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def _failure(directory, code: str, words: str) -> None:
    previous = AuditRun.objects.filter(status=RunStatus.OK).count()
    with pytest.raises(DirectoryError) as info:
        services.audit_run(actor="officer", directory=directory)
    assert info.value.code == code, info.value.message
    assert words in str(info.value.message)
    failed = AuditRun.objects.filter(directory=directory).first()
    assert failed.status == RunStatus.FAILED and words in failed.error
    assert AuditRun.objects.filter(status=RunStatus.OK).count() == previous  # earlier runs kept
    tested = services.directory_test(actor="officer", directory=directory)
    assert tested.last_test_ok is False and words in tested.last_test_message
    assert failed.error_text == failed.error and tested.last_test == tested.last_test_message
    with translation.override("en"):  # stored in Japanese by the audit, read in English
        assert not JAPANESE.search(failed.error_text) and not JAPANESE.search(tested.last_test)
        assert failed.error_text == tested.last_test


def test_bad_inputs_each_give_one_clear_message(slapd, directory, policies, staff):
    services.audit_run(actor="officer", directory=directory)  # a good run first: it must survive
    with tempfile.TemporaryDirectory() as other:
        stranger = make_ca(Path(other)).ca_pem
    _failure(
        make_directory(slapd, name="証明書", ca_certificate=stranger), "tls", "サーバ証明書を検証できません"
    )
    _failure(make_directory(slapd, name="パスワード", password="wrong"), "bind", "パスワードが違います")
    _failure(
        make_directory(slapd, name="ベース", base_dn="ou=nowhere,dc=minatodai,dc=example"),
        "base_missing",
        "ou=nowhere",
    )
    _failure(make_directory(slapd, name="ポート", port=1), "unreachable", "127.0.0.1:1 に接続できません")
    _failure(make_directory(slapd, name="LDAPS違い", security=Security.LDAPS), "tls", "TLSで接続できません")
    assert AuditRun.objects.filter(status=RunStatus.OK).count() == 1


def test_plain_ldap_is_refused_unless_allowed_for_a_test_directory(slapd):
    with pytest.raises(PasswordsError) as info:
        make_directory(slapd, name="平文", security=Security.PLAIN)
    assert info.value.code == "plain_refused"
    plain = make_directory(slapd, name="平文（検証用）", security=Security.PLAIN, allow_plain=True)
    assert services.directory_test(actor="t", directory=plain).last_test_ok is True


def test_a_filter_that_does_not_parse_is_refused_before_saving(slapd):
    with pytest.raises(PasswordsError) as info:
        make_directory(slapd, user_filter="(objectClass=*")
    assert info.value.code == "filter_invalid"


def test_bind_password_never_in_database_audit_log_pages_or_logs(directory, policies, staff, client, caplog):
    caplog.set_level(logging.DEBUG)
    services.directory_test(actor="officer", directory=directory)
    services.audit_run(actor="officer", directory=directory)
    services.directory_update(actor="officer", directory=directory, password=BIND_PASSWORD + "2")
    assert BIND_PASSWORD not in directory.bind_password_encrypted
    for event in AuditEvent.objects.all():
        assert BIND_PASSWORD not in f"{event.before} {event.after}"
    assert BIND_PASSWORD not in caplog.text
    user = get_user_model().objects.create_user(username="officer", password="x" * 12)
    Membership.objects.create(user=user, role=Role.SECURITY_OFFICER)
    client.force_login(user)
    for url in ["/passwords/", f"/passwords/directories/{directory.pk}/edit/"]:
        assert BIND_PASSWORD not in client.get(url).content.decode()


@pytest.mark.parametrize(
    "login",
    ["*", "ok)(uid=*", "*)(|(uid=*", "ok)(objectClass=*", "o*", "ok\x00", "\\2a", "ok))(|(uid=leaver"],
)
def test_ldap_injection_in_the_login_finds_nobody(directory, login):
    access = services.directory_access(directory)
    args = {"login_attribute": "uid", "user_filter": directory.user_filter, "attributes": []}
    assert ldap.find_account(access, login=login, **args) is None
    assert ldap.find_account(access, login="ok", **args)[0] == f"uid=ok,{PEOPLE}"


def test_the_login_is_escaped_in_the_filter():
    assert ldap.user_search_filter("uid", "a*)(uid=*", "(objectClass=person)") == (
        r"(&(objectClass=person)(uid=a\2a\29\28uid=\2a))"
    )
