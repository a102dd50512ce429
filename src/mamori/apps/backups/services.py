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

from . import engine, profiles
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
from .passwords import decrypt_password, encrypt_password

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
    "immutable",
    "immutable_days",
    "engine_id",
]


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
        source = Source.objects.select_for_update().select_related("system").get(pk=source.pk)
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


def repository_create(
    *,
    actor: Actor,
    system: ProtectedSystem,
    name: str,
    url: str,
    password: str,
    role: str = RepositoryRole.PRIMARY,
    medium: str = Medium.DISK,
    immutable: bool = False,
    immutable_days: int = 0,
    initialize: bool = False,
) -> Repository:
    """Register a repository; with `initialize` create it in the engine first (a new, empty one)."""
    if not password:
        raise BackupError(_("リポジトリのパスワードを指定してください"), code="password_required")
    if immutable and immutable_days <= 0:
        raise BackupError(
            _("イミュータブルなリポジトリには保持期間（日）を指定してください"), code="immutable_days"
        )
    repository = Repository(
        system=system,
        name=name,
        url=url,
        role=role,
        medium=medium,
        immutable=immutable,
        immutable_days=immutable_days,
        password_encrypted=encrypt_password(password),
    )
    repository.full_clean()
    access = engine.RepoAccess(url, password)
    repository.engine_id = engine.repository_init(access) if initialize else ""
    with transaction.atomic():
        repository.save()
        after = snapshot_of(repository, REPOSITORY_FIELDS) | {
            "credential_stored": True,
            "initialized": initialize,
        }
        audit_record(actor=actor, action="backups.repository.create", obj=repository, after=after)
    return repository


def repository_access(repository: Repository) -> engine.RepoAccess:
    """The URL and decrypted password to open a repository with; keep it out of logs."""
    return engine.RepoAccess(repository.url, decrypt_password(repository.password_encrypted))


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
    immutable: bool = False,
    immutable_days: int = 0,
) -> Repository:
    """Change how a repository is described (name, role, medium, immutability); its URL is fixed:
    another URL is another repository."""
    if immutable and immutable_days <= 0:
        raise BackupError(
            _("イミュータブルなリポジトリには保持期間（日）を指定してください"), code="immutable_days"
        )
    with transaction.atomic():
        repository = Repository.objects.select_for_update().get(pk=repository.pk)
        before = snapshot_of(repository, REPOSITORY_FIELDS)
        repository.name, repository.role, repository.medium = name, role, medium
        repository.immutable, repository.immutable_days = immutable, immutable_days
        repository.full_clean()
        repository.save(update_fields=["name", "role", "medium", "immutable", "immutable_days"])
        audit_record(
            actor=actor, action="backups.repository.update", obj=repository,
            before=before, after=snapshot_of(repository, REPOSITORY_FIELDS),
        )  # fmt: skip
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
