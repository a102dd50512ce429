"""Writes: policies, directories, connection tests and audit runs — one transaction, one audit event each.

The bind password is encrypted (core.secretbox) before it touches the database and never reaches
the audit log (only `password_set: true`), a message or a page.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.backups.alerts import alert_recipients
from mamori.apps.core.audit import Actor, actor_name, audit_record, snapshot_of
from mamori.apps.core.messages import Message, message_json, server_text
from mamori.apps.core.secretbox import secret_decrypt, secret_encrypt
from mamori.apps.core.services import validated

from . import corpus, reminders
from . import directory as ldap
from .accounts import Raw
from .audit import judge_entries
from .corpus import Progress
from .errors import DirectoryError, PasswordsError
from .models import (
    AuditRun,
    Directory,
    DirectoryKind,
    Finding,
    PasswordPolicy,
    PolicyMode,
    RunStatus,
    Security,
)

NIST_MIN_LENGTH = 8
POLICY_FIELDS = [
    "name", "mode", "max_age_days", "min_length", "blocklist", "stale_days", "group_dn", "priority", "clause",
]  # fmt: skip
DIRECTORY_FIELDS = [
    "name", "kind", "host", "port", "security", "allow_plain", "bind_dn", "base_dn", "user_filter",
    "match_attribute", "match_field", "page_size", "audit_every_hours", "sign_in",
]  # fmt: skip

MSG_ROTATION_DAYS = _("定期変更の方式では変更間隔（日）を1以上で指定してください")
MSG_MIN_LENGTH = _("最小文字数は8文字以上にしてください（NIST SP 800-63B）")
MSG_PLAIN = _("暗号化なしの接続を選ぶには「暗号化なしの接続を許可（検証用）」にチェックしてください")
MSG_FILTER = _("アカウントの検索フィルタを解釈できません（例: (objectClass=inetOrgPerson)）")
MSG_ATTRIBUTE = _("照合する属性名は英数字とハイフンで指定してください（例: employeeNumber）")
MSG_PASSWORD = _("バインドパスワードを指定してください")
CONNECTED = _("接続・TLS・バインド・検索ベースの確認に成功しました")
AUDIT_FAILED = _("監査で失敗: {error}")
AUDIT_CONNECTED = _("監査で接続・検索に成功しました（{n} アカウント）")

logger = logging.getLogger(__name__)


def _check_policy(policy: PasswordPolicy) -> None:
    if policy.mode == PolicyMode.ROTATION and not policy.max_age_days:
        raise PasswordsError(MSG_ROTATION_DAYS, code="rotation_days")
    if policy.mode == PolicyMode.NIST:
        policy.max_age_days = None
    if policy.min_length < NIST_MIN_LENGTH:
        raise PasswordsError(MSG_MIN_LENGTH, code="min_length")
    validated(policy, error=PasswordsError)


def policy_create(*, actor: Actor, **fields: Any) -> PasswordPolicy:
    policy = PasswordPolicy(**{k: v for k, v in fields.items() if k in POLICY_FIELDS})
    _check_policy(policy)
    with transaction.atomic():
        policy.save()
        audit_record(actor=actor, action="passwords.policy.create", obj=policy, after=snapshot_of(policy))
    return policy


def policy_update(*, actor: Actor, policy: PasswordPolicy, **fields: Any) -> PasswordPolicy:
    before = snapshot_of(policy)
    for name in POLICY_FIELDS:
        if name in fields:
            setattr(policy, name, fields[name])
    _check_policy(policy)
    with transaction.atomic():
        policy.save()
        audit_record(
            actor=actor,
            action="passwords.policy.update",
            obj=policy,
            before=before,
            after=snapshot_of(policy),
        )
    return policy


def _check_directory(directory: Directory) -> None:
    if directory.security == Security.PLAIN and not directory.allow_plain:
        raise PasswordsError(MSG_PLAIN, code="plain_refused")
    if not ldap.user_filter_valid(directory.user_filter):
        raise PasswordsError(MSG_FILTER, code="filter_invalid")
    if not ldap.attribute_name_valid(directory.match_attribute):
        raise PasswordsError(MSG_ATTRIBUTE, code="attribute_invalid")
    validated(directory, error=PasswordsError)


def _directory_snapshot(directory: Directory) -> dict[str, Any]:
    return snapshot_of(directory, ["id", *DIRECTORY_FIELDS]) | {
        "ca_certificate_set": bool(directory.ca_certificate),
        "credential_stored": bool(directory.bind_password_encrypted),
    }


def directory_create(*, actor: Actor, password: str, ca_certificate: str = "", **fields: Any) -> Directory:
    if not password:
        raise PasswordsError(MSG_PASSWORD, code="password_required")
    directory = Directory(
        **{k: v for k, v in fields.items() if k in DIRECTORY_FIELDS},
        ca_certificate=ca_certificate.strip(),
        bind_password_encrypted=secret_encrypt(password),
    )
    _check_directory(directory)
    with transaction.atomic():
        directory.save()
        audit_record(
            actor=actor,
            action="passwords.directory.create",
            obj=directory,
            after=_directory_snapshot(directory),
        )
    return directory


def directory_update(
    *,
    actor: Actor,
    directory: Directory,
    password: str = "",
    ca_certificate: str | None = None,
    **fields: Any,
) -> Directory:
    """Change the settings; an empty `password` keeps the stored one (the form never shows it)."""
    before = _directory_snapshot(directory)
    for name in DIRECTORY_FIELDS:
        if name in fields:
            setattr(directory, name, fields[name])
    if ca_certificate is not None:
        directory.ca_certificate = ca_certificate.strip()
    if password:
        directory.bind_password_encrypted = secret_encrypt(password)
    _check_directory(directory)
    with transaction.atomic():
        directory.save()
        after = _directory_snapshot(directory) | {"password_changed": bool(password)}
        audit_record(
            actor=actor, action="passwords.directory.update", obj=directory, before=before, after=after
        )
    return directory


def directory_access(directory: Directory) -> ldap.DirectoryAccess:
    return ldap.DirectoryAccess(
        host=directory.host,
        port=directory.port,
        security=directory.security,
        bind_dn=directory.bind_dn,
        password=secret_decrypt(directory.bind_password_encrypted),
        base_dn=directory.base_dn,
        ca_pem=directory.ca_certificate,
        allow_plain=directory.allow_plain,
    )


def _connection_record(directory: Directory, *, ok: bool, stored: Any) -> None:
    """The directory's last connection, from the 「接続テスト」 button or an audit that connected:
    `stored` (`message_json`) is read in each reader's language, its server-language text audited."""
    directory.last_test_ok, directory.last_test_stored = ok, stored
    directory.last_test_message = server_text(stored)[:500]
    directory.last_tested_at = timezone.now()
    directory.save(update_fields=["last_test_ok", "last_test_message", "last_test_stored", "last_tested_at"])


def directory_test(*, actor: Actor, directory: Directory) -> Directory:
    """Try connect → TLS → bind → search base; record the outcome (its message names the failed step)."""
    try:
        ldap.test_connection(directory_access(directory))
        ok, stored = True, message_json(CONNECTED)
    except DirectoryError as exc:
        ok, stored = False, message_json(exc.message)
    with transaction.atomic():
        _connection_record(directory, ok=ok, stored=stored)
        audit_record(
            actor=actor,
            action="passwords.directory.test",
            obj=directory,
            after={"ok": ok, "message": directory.last_test_message},
        )
    return directory


def attributes_for(directory: Directory) -> list[str]:
    base = (
        ldap.AD_ATTRIBUTES if directory.kind == DirectoryKind.ACTIVE_DIRECTORY else ldap.OPENLDAP_ATTRIBUTES
    )
    return list(dict.fromkeys([*base, directory.match_attribute]))


def audit_run(*, actor: Actor, directory: Directory, now: datetime | None = None) -> AuditRun:
    """Audit the directory now. A failure is stored as a failed run (earlier runs untouched) and raised.

    The audit's connection counts as a connection test, failed or successful: the directory's
    「接続テスト」 column then tells what the last contact with the server showed."""
    started = now or timezone.now()
    try:
        entries = list(
            ldap.search_accounts(
                directory_access(directory),
                user_filter=directory.user_filter,
                attributes=attributes_for(directory),
                page_size=directory.page_size,
            )
        )
    except DirectoryError as exc:
        with transaction.atomic():
            _connection_record(
                directory, ok=False, stored=message_json(Message(AUDIT_FAILED, error=exc.message))
            )
            run = AuditRun.objects.create(
                directory=directory,
                started_at=started,
                finished_at=timezone.now(),
                status=RunStatus.FAILED,
                error_message=(stored := message_json(exc.message)),
                error=server_text(stored)[:500],
                actor=actor_name(actor),
            )
            audit_record(
                actor=actor,
                action="passwords.audit.fail",
                obj=run,
                after={"directory": directory.name, "error": run.error},
            )
        raise
    return audit_run_record(actor=actor, directory=directory, entries=entries, now=started, connected=True)


def audit_run_record(
    *,
    actor: Actor,
    directory: Directory,
    entries: Iterable[tuple[str, Raw]],
    now: datetime,
    connected: bool = False,
) -> AuditRun:
    """Judge entries read from the directory (`connected`: just now) or recorded from it, and store
    the run with its findings; recorded entries say nothing about the server being reachable."""
    outcome = judge_entries(directory=directory, entries=entries, now=now)
    with transaction.atomic():
        if connected:
            _connection_record(
                directory,
                ok=True,
                stored=message_json(Message(AUDIT_CONNECTED, n=len(outcome.findings))),
            )
        run = AuditRun.objects.create(
            directory=directory,
            started_at=now,
            finished_at=max(now, timezone.now()),
            status=RunStatus.OK,
            accounts=len(outcome.findings),
            enabled=outcome.enabled,
            compliant=outcome.count("compliant"),
            overdue=outcome.count("overdue"),
            stale=outcome.count("stale"),
            leavers_enabled=outcome.count("leaver_enabled"),
            unmatched=outcome.count("unmatched"),
            actor=actor_name(actor),
        )
        for finding in outcome.findings:
            finding.run = run
        Finding.objects.bulk_create(outcome.findings, batch_size=500)
        counts = snapshot_of(
            run, ["accounts", "enabled", "compliant", "overdue", "stale", "leavers_enabled", "unmatched"]
        )
        audit_record(
            actor=actor, action="passwords.audit.run", obj=run, after={"directory": directory.name, **counts}
        )
    return run


def corpus_load(*, actor: Actor, source: Path, progress: Progress) -> int:
    """Load (or resume loading) a downloaded Pwned Passwords file; the finished load is audited."""
    if not source.is_file():
        raise PasswordsError(
            _("ファイル %(path)s が見つかりません") % {"path": source}, code="corpus_missing"
        )
    records = corpus.corpus_load(source=source, progress=progress)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="passwords.corpus.load",
            object_type="passwords.corpus",
            after={"file": source.name, "bytes": source.stat().st_size, "hashes": records},
        )
    return records


def _mail(subject: str, body: str, recipients: list[str]) -> bool | None:
    """True when sent, False when refused, None when the mail server cannot be reached at all."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except smtplib.SMTPException as exc:
        logger.warning("password reminder not sent: %s", exc)
        return False
    except OSError as exc:
        logger.warning("password reminders not sent, the mail server is unreachable: %s", exc)
        return None
    return True


def reminders_send(*, actor: Actor) -> dict[str, int]:
    """Mail each staff member who must change a password now, and the officers their list; audited.

    A mail the server refuses is counted as failed (and logged), never fatal: the rest still go; an
    unreachable server stops the round (every remaining mail counts as failed).
    """
    findings = reminders.due_findings()
    mails = reminders.staff_mails(findings)
    results: list[bool] = []
    for address, subject, body in mails:
        outcome = _mail(subject, body, [address])
        if outcome is None:
            break
        results.append(outcome)
    sent = sum(results)
    officer = reminders.officer_mail(findings)
    recipients = alert_recipients()
    officer_sent = (
        officer is not None and bool(recipients) and bool(_mail(officer[0], officer[1], recipients))
    )
    counts = {
        "due": len(findings),
        "staff_mails": sent,
        "failed": len(mails) - sent,
        "officer_mail": int(officer_sent),
    }
    with transaction.atomic():
        audit_record(
            actor=actor, action="passwords.reminders.send", object_type="passwords.reminders", after=counts
        )
    return counts
