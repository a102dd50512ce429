"""The 3-2-1-1-0 checklist from facts, not labels, with the reason for every ✗.

- copies: the production data plus every repository that holds a backup or an offsite copy;
- media: distinct places holding those copies — a remote host or service, or a local filesystem
  (`st_dev`): a local path on the primary's filesystem is the same medium, whatever it is labelled;
- offsite: a copy on another host or service (sftp:, s3:, rest:), never a local path;
- immutable: a copy whose Object Lock mamori read back from the server and whose newest snapshot's
  objects are locked past now (`Repository.lock_*`, stored with the time they were read);
- 0 errors: the latest integrity check passed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.models import Classification

from . import engine
from .errors import BackupError
from .models import OK_STATUSES, ProtectedSystem, Repository, RepositoryRole, Run

CHECK_MAX_DAYS = {
    Classification.CONFIDENTIAL_3: 7,
    Classification.CONFIDENTIAL_2: 31,
    Classification.CONFIDENTIAL_1: 92,
}
IMMUTABLE_REQUIRED = {Classification.CONFIDENTIAL_3}

LOCAL_NOT_OFFSITE = _(
    "遠隔地リポジトリ「{name}」は同じサーバ上のパスのため遠隔地とみなしません（別のホストかサービス sftp: / s3: / rest: を指定してください）"
)
NO_OFFSITE_REPOSITORY = _("遠隔地リポジトリがありません")
NO_OFFSITE_COPY = _("遠隔地コピーがまだありません（「今すぐ遠隔地コピー」で実行できます）")
TOO_FEW_COPIES = _("コピーが3つありません（本番を含めて {copies} つ）")
ONE_MEDIUM = _("2種類目の媒体（別のホストかサービス、または別のファイルシステム）にコピーがありません")
NO_IMMUTABLE = _("{classification}のシステムには改ざん防止（イミュータブル）のコピーが必要です")
NO_LOCKED_REPOSITORY = _(
    "Object Lock を読み取れたコピーがありません（Object Lock 付きの S3 バケットに改ざん防止のリポジトリを作成してください）"
)
LOCK_NOT_READ = _("「{name}」の Object Lock はまだ読み取っていません（次の遠隔地コピーの後に読み取ります）")
LOCK_MISSING = _("「{name}」の最新スナップショットはロックされていません（{read} に確認）")
LOCK_EXPIRED = _("「{name}」のロックは {until} に切れています（{read} に確認）")
NO_CHECK = _("整合性検査がまだありません（「今すぐ検査」で実行できます）")
CHECK_FAILED = _("最新の整合性検査でエラーが見つかりました")
OLD_CHECK = _("整合性検査が{days}日以上行われていません（{classification}は{days}日ごと）")


@dataclass
class Checklist:
    """3-2-1-1-0: copies (production + repositories holding data), media, offsite, immutable, errors;
    `reasons` says, for each flag that is not met, why."""

    copies: int
    media: int
    offsite: bool
    immutable: bool
    check_clean: bool
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def flags(self) -> dict[str, bool]:
        return {
            "three_copies": self.copies >= 3,
            "two_media": self.media >= 2,
            "one_offsite": self.offsite,
            "one_immutable": self.immutable,
            "zero_errors": self.check_clean,
        }

    @property
    def complete(self) -> bool:
        return all(self.flags.values())

    @property
    def items(self) -> list[tuple[str, bool, str]]:
        """(flag, met, why not) in the checklist's order."""
        return [(key, ok, "" if ok else self.reasons.get(key, "")) for key, ok in self.flags.items()]


def _where(repo: Repository) -> engine.Where | None:
    try:
        return engine.location_of(repo.url)
    except BackupError:
        return None


def repository_is_remote(repo: Repository) -> bool:
    """Offsite and a second medium count only for another host or service (the design rule)."""
    where = _where(repo)
    return where is not None and where.remote


def _filesystem(path: str) -> int | None:
    """The device of the filesystem holding `path` (or its nearest existing parent)."""
    current = os.path.abspath(path)
    while True:
        try:
            return os.stat(current).st_dev
        except OSError:
            parent = os.path.dirname(current)
            if parent == current:
                return None
            current = parent


def medium_of(repo: Repository) -> tuple[str, object]:
    """Which place holds a repository's copy: a remote host (and port), or a local filesystem."""
    where = _where(repo)
    if where is None:
        return ("unknown", repo.pk)
    if where.remote:
        return ("host", (where.host, where.port))
    return ("filesystem", _filesystem(where.path))


def lock_holds(repo: Repository, now: datetime) -> bool:
    """The Object Lock was read back and the newest snapshot's objects stay locked past now."""
    return bool(repo.lock_read_at and repo.lock_mode and repo.lock_until and repo.lock_until > now)


def _immutable_reason(repos: list[Repository], now: datetime) -> str:
    asked = [r for r in repos if r.immutable_days or r.lock_read_at]
    if not asked:
        return str(NO_LOCKED_REPOSITORY)
    repo = asked[0]
    if repo.lock_read_at is None:
        return str(LOCK_NOT_READ.format(name=repo.name))
    read = f"{localtime(repo.lock_read_at):%Y-%m-%d %H:%M}"
    if not repo.lock_mode or repo.lock_until is None:
        return str(LOCK_MISSING.format(name=repo.name, read=read))
    return str(
        LOCK_EXPIRED.format(name=repo.name, until=f"{localtime(repo.lock_until):%Y-%m-%d %H:%M}", read=read)
    )


def _offsite_reason(repos: list[Repository]) -> str:
    offsite = [r for r in repos if r.role == RepositoryRole.OFFSITE]
    local = [r for r in offsite if not repository_is_remote(r)]
    if not offsite:
        return str(NO_OFFSITE_REPOSITORY)
    if local and len(local) == len(offsite):
        return str(LOCAL_NOT_OFFSITE.format(name=local[0].name))
    return str(NO_OFFSITE_COPY)


def checklist_of(
    repos: list[Repository], holding: list[Repository], last_check: Run | None, now: datetime
) -> Checklist:
    """The checklist of a system whose repositories are `repos`, of which `holding` hold data."""
    media = {medium_of(r) for r in holding}
    checklist = Checklist(
        copies=1 + len(holding),
        media=len(media),
        offsite=any(r.role == RepositoryRole.OFFSITE and repository_is_remote(r) for r in holding),
        immutable=any(lock_holds(r, now) for r in holding),
        check_clean=last_check is not None and last_check.status in OK_STATUSES,
    )
    flags = checklist.flags
    reasons = {
        "three_copies": str(TOO_FEW_COPIES.format(copies=checklist.copies)),
        "two_media": str(ONE_MEDIUM),
        "one_offsite": _offsite_reason(repos),
        "one_immutable": _immutable_reason(repos, now),
        "zero_errors": str(NO_CHECK if last_check is None else CHECK_FAILED),
    }
    checklist.reasons = {k: v for k, v in reasons.items() if not flags[k]}
    return checklist


def protection_gaps(
    system: ProtectedSystem, checklist: Checklist, last_check: Run | None, now: datetime
) -> list[str]:
    """Why a system is not yet protected as its classification requires: the 3-2-1-0 part of the rule
    for every system, an immutable copy for 機密性3, and a clean check within the classification's days."""
    reasons = checklist.reasons
    gaps = [reasons[k] for k in ("one_offsite", "three_copies") if k in reasons]
    if "two_media" in reasons and checklist.offsite:  # both copies on one remote medium
        gaps.append(reasons["two_media"])
    label = system.get_classification_display()
    if system.classification in IMMUTABLE_REQUIRED and not checklist.immutable:
        gaps.append(str(NO_IMMUTABLE.format(classification=label)))
    days = CHECK_MAX_DAYS.get(system.classification)
    if last_check is None or last_check.status not in OK_STATUSES:
        gaps.append(str(NO_CHECK))
    elif days and last_check.finished_at and now - last_check.finished_at > timedelta(days=days):
        gaps.append(str(OLD_CHECK.format(days=days, classification=label)))
    return gaps
