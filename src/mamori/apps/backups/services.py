"""Configuration writes: protected systems, sources, repositories, retention and schedules.

Each service is one transaction with one audit event; repository passwords are encrypted before they
touch the database and never appear in the audit log (only `password_set: true`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.audit import Actor, audit_record, snapshot_of
from mamori.apps.core.models import Classification, Department, NetworkZone
from mamori.apps.core.redaction import redact_text

from . import engine, profiles, remote
from .cron import cron_next, cron_validate
from .errors import BackupError
from .models import (
    JobKind,
    Medium,
    ProtectedSystem,
    Repository,
    RepositoryRole,
    RetentionPolicy,
    Schedule,
    Source,
    SourceKind,
)
from .own_files import repository_path_check, source_path_check
from .passwords import decrypt_password, decrypt_secrets, encrypt_password, encrypt_secrets

BUILTIN_FIXED = _("組み込みのシステム（mamori 自身のデータ）のこの設定は変更・削除できません")
PATH_NOT_FOUND = _(
    "保存しました。ただし {path} はこのサーバから見て存在しません。ワーカーが別のホストで動く場合はそちらで確認してください。このままではバックアップが失敗します"
)

REPOSITORY_FIELDS = [
    "id",
    "system_id",
    "name",
    "url",
    "role",
    "medium",
    "immutable_days",
    "known_hosts",
    "engine_id",
]
EXTEND_LOCKS_WEEKLY = "0 3 * * 0"
EXTEND_LOCKS_DAILY = "0 3 * * *"
LOCK_FIELDS = ["lock_mode", "lock_snapshot", "lock_until", "lock_read_at"]


def _name_unique(system: ProtectedSystem) -> None:
    """Two systems of one organisation may not share a name (the dashboard could not tell them apart)."""
    same = ProtectedSystem.objects.filter(
        name=system.name, department__organisation_id=system.department.organisation_id
    ).exclude(pk=system.pk)
    if same.exists():
        raise BackupError(
            _("同じ名前のシステム「{name}」が既にあります。別の名前にしてください").format(name=system.name),
            code="duplicate_name",
        )


def system_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    department: Department,
    network_zone: str = NetworkZone.LGWAN,
    classification: str = Classification.CONFIDENTIAL_2,
    rpo_hours: int = 24,
    rto_minutes: int = 240,
    description: str = "",
    builtin: bool = False,
) -> ProtectedSystem:
    system = ProtectedSystem(
        builtin=builtin,
        code=code,
        name=name,
        department=department,
        network_zone=network_zone,
        classification=classification,
        rpo_hours=rpo_hours,
        rto_minutes=rto_minutes,
        description=description,
    )
    system.full_clean()
    _name_unique(system)
    with transaction.atomic():
        system.save()
        RetentionPolicy.objects.create(system=system)
        audit_record(actor=actor, action="backups.system.create", obj=system, after=snapshot_of(system))
    return system


def _source_fill(
    source: Source, *, kind: str, path: str, profile: str, parameters: dict[str, Any] | None
) -> None:
    """Check and set what a source backs up. A dump names a server-side profile and fills its
    parameters (each checked against the profile's pattern); no command line is accepted here."""
    if kind == SourceKind.MAMORI and not source.system.builtin:
        raise BackupError(
            _("mamori 自身のデータは組み込みのシステムだけがバックアップします"), code="builtin_only"
        )
    if kind in (SourceKind.PATH, SourceKind.SQLITE) and not path.startswith("/"):
        raise BackupError(_("バックアップ元のパスは絶対パスで指定してください"), code="relative_path")
    if kind in (SourceKind.PATH, SourceKind.SQLITE):
        source_path_check(path, source.exclude_patterns)
    source.kind, source.path = kind, path
    source.profile, source.parameters, source.stdin_filename = "", {}, ""
    if kind == SourceKind.DUMP:
        chosen = profiles.profile_get(profile)
        source.path, source.profile = "", chosen.name
        source.parameters = profiles.parameters_clean(chosen, parameters or {})
        source.stdin_filename = profiles.dump_filename(chosen, source.parameters)
        source.legacy_command = ""


def source_create(
    *,
    actor: Actor,
    system: ProtectedSystem,
    kind: str = SourceKind.PATH,
    path: str = "",
    profile: str = "",
    parameters: dict[str, Any] | None = None,
    includes: str = "",
    excludes: str = "",
) -> Source:
    """Add a source (a path, an SQLite file, a dump by a server-side profile)."""
    source = Source(system=system, includes=includes, excludes=excludes)
    _source_fill(source, kind=kind, path=path, profile=profile, parameters=parameters)
    source.full_clean()
    with transaction.atomic():
        source.save()
        audit_record(actor=actor, action="backups.source.create", obj=source, after=snapshot_of(source))
    return source


def source_update(
    *,
    actor: Actor,
    source: Source,
    kind: str,
    path: str = "",
    profile: str = "",
    parameters: dict[str, Any] | None = None,
    includes: str = "",
    excludes: str = "",
) -> Source:
    """Correct a source (a mistyped path, another profile); the next backup uses it."""
    with transaction.atomic():
        source = Source.objects.select_for_update(of=("self",)).select_related("system").get(pk=source.pk)
        if source.kind == SourceKind.MAMORI:
            raise BackupError(BUILTIN_FIXED, code="builtin")
        before = snapshot_of(source)
        source.includes, source.excludes = includes, excludes
        _source_fill(source, kind=kind, path=path, profile=profile, parameters=parameters)
        source.full_clean()
        source.save()
        audit_record(
            actor=actor, action="backups.source.update", obj=source, before=before, after=snapshot_of(source)
        )
    return source


def source_delete(*, actor: Actor, source: Source) -> None:
    """Remove a source; snapshots already taken stay in the repositories."""
    if source.kind == SourceKind.MAMORI:
        raise BackupError(BUILTIN_FIXED, code="builtin")
    with transaction.atomic():
        before = snapshot_of(source)
        audit_record(actor=actor, action="backups.source.delete", obj=source, before=before)
        source.delete()


def source_path_warning(source: Source) -> str:
    """A warning (not a refusal) when a path source does not exist as seen from this server."""
    if source.kind in (SourceKind.PATH, SourceKind.SQLITE) and not os.path.exists(source.path):
        return str(PATH_NOT_FOUND.format(path=source.path))
    return ""


def _remote_settings(
    url: str, secrets: dict[str, str] | None, known_hosts: str
) -> tuple[str, str, dict[str, str], str]:
    """(url to store, scheme, secrets, host keys): the location checked, a REST password moved out of
    the URL into the secrets, secrets of another kind of location refused."""
    scheme = remote.location(url).scheme
    given = dict(secrets or {})
    if scheme == "rest":
        url, user, rest_password = engine.rest_credentials_split(url)
        given = {
            "rest_username": user,
            "rest_password": rest_password,
            **{k: v for k, v in given.items() if v},
        }
    given = remote.secrets_check(scheme, given)
    known_hosts = remote.known_hosts_clean(known_hosts) if scheme == "sftp" else ""
    if scheme == "sftp" and not known_hosts:
        raise BackupError(remote.HOST_KEY_NEEDED, code="host_key")
    return url, scheme, given, known_hosts


def repository_create(
    *,
    actor: Actor,
    system: ProtectedSystem,
    name: str,
    url: str,
    password: str,
    role: str = RepositoryRole.PRIMARY,
    medium: str = Medium.DISK,
    immutable_days: int = 0,
    lock_mode: str = "COMPLIANCE",
    initialize: bool = False,
    secrets: dict[str, str] | None = None,
    known_hosts: str = "",
) -> Repository:
    """Register a repository: local, sftp:, s3: or rest:. With `initialize` create it in the engine
    first (a new, empty one; with `immutable_days`, under Object Lock); a remote one is opened before
    anything is saved, so a wrong host key, credential or bucket is refused here."""
    if not password:
        raise BackupError(_("リポジトリのパスワードを指定してください"), code="password_required")
    url, scheme, given, known_hosts = _remote_settings(url, secrets, known_hosts)
    if scheme == "local":
        repository_path_check(remote.location(url).path)
    repository = Repository(
        system=system,
        name=name,
        url=url,
        role=role,
        medium=medium,
        immutable_days=immutable_days,
        password_encrypted=encrypt_password(password),
        secrets_encrypted=encrypt_secrets(given),
        known_hosts=known_hosts,
    )
    repository.full_clean()
    lock_days = immutable_days if initialize else 0
    access = remote.access_for(
        url, password, given, known_hosts, lock_days=lock_days, lock_mode=lock_mode or "COMPLIANCE"
    )
    repository.engine_id = remote.verify(access, initialize=initialize, immutable_days=immutable_days)
    with transaction.atomic():
        repository.save()
        after = snapshot_of(repository, REPOSITORY_FIELDS) | {
            "credential_stored": True,
            "secrets_stored": sorted(given),
            "initialized": initialize,
        }
        audit_record(actor=actor, action="backups.repository.create", obj=repository, after=after)
        _extend_locks_scheduled(actor=actor, repository=repository)
    return repository


def _extend_locks_scheduled(*, actor: Actor, repository: Repository) -> None:
    """An immutable repository gets an extend-locks schedule (weekly; daily when the retention is a
    week or less), unless its system has one: kept snapshots stay locked however old they get."""
    if not repository.immutable_days or not repository.url.startswith("s3:"):
        return
    if repository.system.schedules.filter(kind=JobKind.EXTEND_LOCKS).exists():
        return
    cron = EXTEND_LOCKS_WEEKLY if repository.immutable_days > 7 else EXTEND_LOCKS_DAILY
    schedule_set(actor=actor, system=repository.system, kind=JobKind.EXTEND_LOCKS, cron=cron)


def repository_access(repository: Repository) -> engine.RepoAccess:
    """The URL, decrypted password and secrets to open a repository with; keep it out of logs."""
    return remote.access_for(
        repository.url,
        decrypt_password(repository.password_encrypted),
        decrypt_secrets(repository.secrets_encrypted),
        repository.known_hosts,
    )


def repository_set_password(*, actor: Actor, repository: Repository, password: str) -> Repository:
    """Store a new password (after the key was changed in the repository itself)."""
    if not password:
        raise BackupError(_("リポジトリのパスワードを指定してください"), code="password_required")
    with transaction.atomic():
        repository.password_encrypted = encrypt_password(password)
        repository.save(update_fields=["password_encrypted"])
        audit_record(
            actor=actor,
            action="backups.repository.password",
            obj=repository,
            after={"credential_stored": True},
        )
    return repository


def repository_lock_facts_record(
    *, repository: Repository, facts: engine.LockFacts, read_at: datetime
) -> Repository:
    """Store the Object Lock as read back from the server, with when it was read: the only source of the
    3-2-1-1-0 "immutable" flag."""
    with transaction.atomic():
        repository = Repository.objects.select_for_update().get(pk=repository.pk)
        before = {f: str(getattr(repository, f)) for f in LOCK_FIELDS}
        repository.lock_mode = facts.mode or ""
        repository.lock_snapshot = facts.latest_snapshot or ""
        repository.lock_until = facts.latest_until
        repository.lock_read_at = read_at
        repository.save(update_fields=LOCK_FIELDS)
        audit_record(
            actor="system", action="backups.repository.lock_facts", obj=repository,
            before=before, after={f: str(getattr(repository, f)) for f in LOCK_FIELDS},
        )  # fmt: skip
    return repository


def retention_set(
    *,
    actor: Actor,
    system: ProtectedSystem,
    keep_last: int = 0,
    keep_daily: int = 14,
    keep_weekly: int = 8,
    keep_monthly: int = 12,
    keep_yearly: int = 5,
    prune: bool = True,
) -> RetentionPolicy:
    if not any((keep_last, keep_daily, keep_weekly, keep_monthly, keep_yearly)):
        raise BackupError(
            _("保持ルールが空です：少なくとも1つの世代数を指定してください"), code="empty_policy"
        )
    with transaction.atomic():
        policy, _created = RetentionPolicy.objects.select_for_update().get_or_create(system=system)
        before = snapshot_of(policy)
        policy.keep_last, policy.keep_daily, policy.keep_weekly = keep_last, keep_daily, keep_weekly
        policy.keep_monthly, policy.keep_yearly, policy.prune = keep_monthly, keep_yearly, prune
        policy.full_clean()
        policy.save()
        audit_record(
            actor=actor, action="backups.retention.set", obj=policy, before=before, after=snapshot_of(policy)
        )
    return policy


def schedule_set(
    *,
    actor: Actor,
    system: ProtectedSystem,
    kind: str,
    cron: str,
    enabled: bool = True,
    check_subset: str = "10%",
    drill_sample: int = 20,
    now: datetime | None = None,
) -> Schedule:
    """Create or change the schedule of one job kind; the next due time is computed from `now`."""
    if kind == JobKind.RESTORE:
        raise BackupError(_("復元はスケジュールできません"), code="not_schedulable")
    cron_validate(cron)
    now = now or timezone.now()
    with transaction.atomic():
        schedule = Schedule.objects.select_for_update().filter(system=system, kind=kind).first()
        before = snapshot_of(schedule) if schedule else None
        schedule = schedule or Schedule(system=system, kind=kind)
        schedule.cron, schedule.enabled = cron, enabled
        schedule.check_subset, schedule.drill_sample = check_subset, drill_sample
        schedule.next_due_at = cron_next(cron, now) if enabled else None
        schedule.full_clean()
        schedule.save()
        audit_record(
            actor=actor,
            action="backups.schedule.set",
            obj=schedule,
            before=before,
            after=snapshot_of(schedule),
        )
    return schedule


def system_update(*, actor: Actor, system: ProtectedSystem, **fields: object) -> ProtectedSystem:
    """Change a system's description fields (name, department, zone, classification, RPO, RTO, ...)."""
    allowed = {
        "name",
        "department",
        "network_zone",
        "classification",
        "rpo_hours",
        "rto_minutes",
        "description",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise BackupError(
            _("変更できない項目です: {fields}").format(fields=", ".join(sorted(unknown))), code="field"
        )
    with transaction.atomic():
        system = ProtectedSystem.objects.select_for_update().get(pk=system.pk)
        before = snapshot_of(system)
        for name, value in fields.items():
            setattr(system, name, value)
        system.full_clean()
        _name_unique(system)
        system.save(update_fields=list(fields))
        audit_record(
            actor=actor, action="backups.system.update", obj=system, before=before, after=snapshot_of(system)
        )
    return system


def system_set_active(*, actor: Actor, system: ProtectedSystem, active: bool) -> ProtectedSystem:
    """Deactivate (schedules stop, the system leaves the dashboard; runs and repositories stay) or
    reactivate a system."""
    with transaction.atomic():
        system = ProtectedSystem.objects.select_for_update().get(pk=system.pk)
        before = {"active": system.active}
        system.active = active
        system.save(update_fields=["active"])
        if active:
            now = timezone.now()
            for schedule in system.schedules.filter(enabled=True):
                schedule.next_due_at = cron_next(schedule.cron, now)
                schedule.save(update_fields=["next_due_at"])
        audit_record(
            actor=actor, action="backups.system.activate" if active else "backups.system.deactivate",
            obj=system, before=before, after={"active": active},
        )  # fmt: skip
    return system


@dataclass(frozen=True)
class DeletionImpact:
    """What deleting a system or repository removes, and what it leaves; shown on the confirm page."""

    runs: int
    sources: int
    schedules: int
    repositories: list[str]


def system_deletion_impact(system: ProtectedSystem) -> DeletionImpact:
    return DeletionImpact(
        runs=system.runs.count(),
        sources=system.sources.count(),
        schedules=system.schedules.count(),
        repositories=[redact_text(r.url) for r in system.repositories.all()],
    )


def system_delete(*, actor: Actor, system: ProtectedSystem, confirm_code: str) -> DeletionImpact:
    """Delete a system with its sources, schedules, repository records and run history. The data in
    its repositories is never deleted by mamori. The officer types the system's code to confirm."""
    if system.builtin:
        raise BackupError(BUILTIN_FIXED, code="builtin")
    if confirm_code != system.code:
        raise BackupError(_("確認のため、システムのコードを正しく入力してください"), code="confirm")
    with transaction.atomic():
        impact = system_deletion_impact(system)
        audit_record(
            actor=actor,
            action="backups.system.delete",
            obj=system,
            before=snapshot_of(system),
            after={"runs_deleted": impact.runs, "repositories_kept_data": impact.repositories},
        )
        system.delete()
    return impact


def repository_update(
    *,
    actor: Actor,
    repository: Repository,
    name: str,
    role: str,
    medium: str,
    immutable_days: int = 0,
    secrets: dict[str, str] | None = None,
    known_hosts: str = "",
) -> Repository:
    """Change how a repository is described (name, role, medium, the retention extend-locks keeps) and
    its remote settings: a secret left blank keeps the stored one; changed settings must open the
    repository before they are saved. Its URL is fixed: another URL is another repository."""
    repository = Repository.objects.get(pk=repository.pk)
    _url, scheme, given, known_hosts = _remote_settings(
        repository.url, secrets, known_hosts or repository.known_hosts
    )
    stored = decrypt_secrets(repository.secrets_encrypted)
    merged = {**stored, **given}
    changed = merged != stored or known_hosts != repository.known_hosts
    if immutable_days and scheme != "s3":
        raise BackupError(remote.IMMUTABLE_S3_ONLY, code="immutable_s3")
    if changed or immutable_days > repository.immutable_days:
        access = remote.access_for(
            repository.url, decrypt_password(repository.password_encrypted), merged, known_hosts
        )
        remote.verify(access, initialize=False, immutable_days=immutable_days)
    with transaction.atomic():
        repository = Repository.objects.select_for_update().get(pk=repository.pk)
        before = snapshot_of(repository, REPOSITORY_FIELDS)
        repository.name, repository.role, repository.medium = name, role, medium
        repository.immutable_days, repository.known_hosts = immutable_days, known_hosts
        repository.secrets_encrypted = encrypt_secrets(merged)
        repository.full_clean()
        repository.save(
            update_fields=["name", "role", "medium", "immutable_days", "known_hosts", "secrets_encrypted"]
        )
        audit_record(
            actor=actor, action="backups.repository.update", obj=repository, before=before,
            after=snapshot_of(repository, REPOSITORY_FIELDS) | {"secrets_changed": sorted(given)},
        )  # fmt: skip
        _extend_locks_scheduled(actor=actor, repository=repository)
    return repository


def repository_delete(*, actor: Actor, repository: Repository) -> None:
    """Forget a repository: mamori stops using it; its snapshots stay where they are (never deleted by
    mamori) and past runs keep their record without the link."""
    if repository.system.builtin:
        raise BackupError(BUILTIN_FIXED, code="builtin")
    with transaction.atomic():
        audit_record(
            actor=actor, action="backups.repository.delete", obj=repository,
            before=snapshot_of(repository, REPOSITORY_FIELDS), after={"data_deleted": False},
        )  # fmt: skip
        repository.delete()


def schedule_delete(*, actor: Actor, schedule: Schedule) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor, action="backups.schedule.delete", obj=schedule, before=snapshot_of(schedule)
        )
        schedule.delete()
