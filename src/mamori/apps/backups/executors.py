"""What each job kind does with the engine; every function returns the figures for its run record.

Sources: paths (include patterns expand to the paths given to the engine, exclude patterns go to the
engine), SQLite files (copied with SQLite's online backup API into a staging directory first, so a
live database is captured consistently), and dumps streamed into the engine's stdin backup (argv built from a server-side profile, `profiles`).
"""

from __future__ import annotations

import glob
import hashlib
import random
import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.messages import Message, message_json
from mamori.apps.core.redaction import redact_text

from . import engine, profiles
from .errors import BackupError
from .models import ProtectedSystem, Repository, RepositoryRole, Run, Source, SourceKind
from .own_files import repository_path_check, restore_target_check, source_path_check
from .selfbackup import self_backup_stage
from .services import repository_access, repository_lock_facts_record

ProgressFn = Callable[[engine.Progress], None]

SOURCE_MISSING = _("バックアップ元が見つかりません: {path}")
NO_PRIMARY = _("一次リポジトリが登録されていません")
NO_OFFSITE = _("遠隔地リポジトリが登録されていません")
NO_SOURCES = _("バックアップ元が登録されていません")
NO_SNAPSHOT = _("復元できるスナップショットがありません")
DUMP_FAILED = _("ダンプが失敗しました（終了コード {code}）: {stderr}")
NEEDS_PROFILE = _(
    "旧形式のダンプコマンドは実行しません。バックアップ元を編集してサーバ側のダンププロファイルを選んでください"
)
CHECK_ERRORS = _("整合性検査でエラーが見つかりました: {problems}")
RESTORE_FAILED = _("復元に失敗したファイルがあります: {files}")
RESTORE_FAILED_MORE = _("復元に失敗したファイルが {count} 件あります。最初の {shown} 件: {files}")
SHOWN = 5  # the failures (files, drill problems) a run's one line names
NOT_RESTORED = _("{path}: 復元されていません")
SIZE_MISMATCH = _("{path}: サイズが一致しません")
HASH_MISMATCH = _("{path}: ハッシュ値が一致しません")
LOCK_UNREADABLE = _("「{name}」の Object Lock を読み取れませんでした: {error}")
LOCKED_STAYS = _("「{name}」のスナップショット {snapshot} は Object Lock のため {until} まで残ります")
NO_IMMUTABLE = _("改ざん防止（Object Lock）のリポジトリがありません")


@dataclass
class Outcome:
    """The figures a job reports; `warnings` make a run 'warning' instead of 'succeeded'."""

    snapshot_id: str = ""
    files_total: int | None = None
    files_new: int | None = None
    bytes_total: int | None = None
    bytes_new: int | None = None
    passed: bool | None = None
    warnings: list[Any] = field(default_factory=list)  # Messages or the engine's own lines
    detail: dict[str, Any] = field(default_factory=dict)


def primary_of_system(system: ProtectedSystem) -> Repository:
    repo: Repository | None = system.repositories.filter(role=RepositoryRole.PRIMARY).first()
    if repo is None:
        raise BackupError(NO_PRIMARY, code="no_primary")
    return repo


def primary_of(run: Run) -> Repository:
    return run.repository or primary_of_system(run.system)


def offsites_of(run: Run) -> list[Repository]:
    if run.target_repository is not None:
        return [run.target_repository]
    repos = list(run.system.repositories.filter(role=RepositoryRole.OFFSITE))
    if not repos:
        raise BackupError(NO_OFFSITE, code="no_offsite")
    return repos


def writable_access(repo: Repository) -> engine.RepoAccess:
    """Access for a job that writes to `repo` (backup, copy, forget and prune). A local repository
    in or holding mamori's own places is refused again, as when it was registered: one saved before
    that rule, or a folder moved since, gets nothing; reading it (restores, drills) stays possible."""
    where = engine.location_of(repo.url)
    if not where.remote:
        repository_path_check(where.path)
    return repository_access(repo)


def staging_dir(run: Run) -> Path:
    code: str = run.system.code
    return Path(settings.MAMORI_HOME) / "staging" / code


def _sqlite_copy(source: Source, staging: Path) -> Path:
    src = Path(source.path)
    if not src.is_file():
        raise BackupError(Message(SOURCE_MISSING, path=source.path), code="source_missing")
    staging.mkdir(parents=True, exist_ok=True)
    dest = staging / src.name
    tmp = dest.with_suffix(dest.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    live = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    copy = sqlite3.connect(tmp)
    try:
        live.backup(copy)
    finally:
        copy.close()
        live.close()
    tmp.replace(dest)
    return dest


def _expand(source: Source) -> list[Path]:
    base = Path(source.path)
    if not base.exists():
        raise BackupError(Message(SOURCE_MISSING, path=source.path), code="source_missing")
    if not source.include_patterns:
        return [base]
    found = sorted(
        {Path(p) for pat in source.include_patterns for p in glob.glob(str(base / pat), recursive=True)}
    )
    if not found:
        raise BackupError(
            Message(SOURCE_MISSING, path=f"{source.path} ({source.includes.strip()})"), code="source_missing"
        )
    return found


def _tags(run: Run) -> list[str]:
    return ["mamori", f"system:{run.system.code}"]


def backup(run: Run, progress: ProgressFn) -> Outcome:
    access = writable_access(primary_of(run))
    sources = list(run.system.sources.all())
    if not sources:
        raise BackupError(NO_SOURCES, code="no_sources")
    if any(s.needs_profile for s in sources):  # before anything runs: a legacy command line never does
        raise BackupError(NEEDS_PROFILE, code="needs_profile")
    paths: list[Path] = []
    excludes: list[str] = []
    staging = staging_dir(run)
    host = socket.gethostname()
    results: list[engine.BackupOutcome] = []
    try:
        for source in sources:
            if source.kind == SourceKind.PATH:
                expanded = _expand(source)
                for path in expanded:  # again: saved before the rule, or grown by an include glob
                    source_path_check(str(path), source.exclude_patterns)
                paths.extend(expanded)
                excludes.extend(source.exclude_patterns)
            elif source.kind == SourceKind.SQLITE:
                source_path_check(source.path, [])
                paths.append(_sqlite_copy(source, staging))
            elif source.kind == SourceKind.MAMORI:
                paths.append(self_backup_stage(staging))
        if paths:
            results.append(
                engine.backup_paths(
                    access, paths, excludes=excludes, tags=_tags(run), host=host, progress=progress
                )
            )
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # no plaintext copy of a database is left lying around
    for source in sources:
        if source.kind == SourceKind.DUMP:
            results.append(_backup_dump(access, source, run, host, progress))
    out = Outcome(
        snapshot_id=results[0].snapshot_id,
        files_total=sum(r.files_total for r in results),
        files_new=sum(r.files_new + r.files_changed for r in results),
        bytes_total=sum(r.bytes_total for r in results),
        bytes_new=sum(r.bytes_added for r in results),
        warnings=[e for r in results for e in r.errors],
    )
    out.detail["snapshots"] = [r.snapshot_id for r in results]
    if warning := lock_facts_read(primary_of(run)):
        out.warnings.append(warning)
    return out


def _backup_dump(
    access: engine.RepoAccess, source: Source, run: Run, host: str, progress: ProgressFn
) -> engine.BackupOutcome:
    """Stream a profile's dump into the engine: argv from the server-side profile, no shell."""
    if source.needs_profile:
        raise BackupError(NEEDS_PROFILE, code="needs_profile")
    dump = profiles.dump_command(source.profile, source.parameters)
    try:
        proc = subprocess.Popen(
            dump.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=dump.env
        )
    except OSError as exc:
        raise BackupError(Message(DUMP_FAILED, code="-", stderr=str(exc)), code="dump_failed") from exc
    assert proc.stdout is not None and proc.stderr is not None
    try:
        result = engine.backup_stream(
            access,
            proc.stdout,
            dump.filename,
            tags=[*_tags(run), "dump"],
            host=host,
            progress=progress,
        )
    finally:
        proc.stdout.close()
        stderr = proc.stderr.read().decode(errors="replace").strip()
        code = proc.wait()
    if code != 0:
        tail = redact_text(stderr.splitlines()[-1] if stderr else "")
        raise BackupError(Message(DUMP_FAILED, code=code, stderr=tail), code="dump_failed")
    return result


def offsite_copy(run: Run, progress: ProgressFn) -> Outcome:
    source = repository_access(primary_of(run))
    copied: list[list[str]] = []
    total = 0
    for dest in offsites_of(run):
        result = engine.copy(source, writable_access(dest))
        copied.extend([a, b] for a, b in result.copied)
        total += result.bytes_copied
    latest = copied[-1][1] if copied else ""
    warnings = [w for dest in offsites_of(run) if (w := lock_facts_read(dest))]
    return Outcome(snapshot_id=latest, bytes_new=total, warnings=warnings, detail={"copied": copied})


def check_subset(run: Run, progress: ProgressFn) -> Outcome:
    subset = run.schedule.check_subset if run.schedule else "10%"
    problems: list[str] = []
    checked: dict[str, Any] = {}
    for repo in [primary_of(run), *run.system.repositories.filter(role=RepositoryRole.OFFSITE)]:
        result = engine.check(repository_access(repo), read_data_subset=subset or None)
        checked[repo.name] = {"ok": result.ok, "packs": result.packs_checked, "bytes_read": result.bytes_read}
        problems.extend(f"{repo.name}: {p}" for p in result.problems)
    if problems:
        raise BackupError(Message(CHECK_ERRORS, problems=problems[:5]), code="check_errors")
    return Outcome(
        passed=True,
        bytes_total=sum(c["bytes_read"] for c in checked.values()),
        detail={"checked": checked, "subset": subset},
    )


def lock_facts_read(repo: Repository) -> Message | None:
    """Read an S3 repository's Object Lock back from the server and store it (the fact behind the
    "immutable" flag); a warning when it cannot be read, None otherwise (and for other backends)."""
    if not repo.url.startswith("s3:"):
        return None
    try:
        facts = engine.lock_facts(repository_access(repo))
    except BackupError as exc:
        return Message(LOCK_UNREADABLE, name=repo.name, error=exc.stored)
    repository_lock_facts_record(repository=repo, facts=facts, read_at=timezone.now())
    return None


def forget_prune(run: Run, progress: ProgressFn) -> Outcome:
    """Forget by the system's policy and prune, in every repository. Under Object Lock the engine
    leaves locked snapshots and data alone: the run says which snapshots stay until when."""
    policy = run.system.retention
    removed: list[str] = []
    freed = 0
    locked: dict[str, str] = {}
    notes: list[Any] = []  # stored messages, shown in the reader's language
    for repo in run.system.repositories.all():
        r = engine.forget(
            writable_access(repo),
            keep_last=policy.keep_last,
            keep_daily=policy.keep_daily,
            keep_weekly=policy.keep_weekly,
            keep_monthly=policy.keep_monthly,
            keep_yearly=policy.keep_yearly,
            prune=policy.prune,
        )
        removed.extend(r.removed)
        freed += r.bytes_freed
        for snap, until in sorted(r.locked.items(), key=lambda kv: kv[1]):
            locked[snap] = until.isoformat()
            when = f"{localtime(until):%Y-%m-%d %H:%M}"
            notes.append(message_json(Message(LOCKED_STAYS, name=repo.name, snapshot=snap[:8], until=when)))
    return Outcome(detail={"removed": removed, "bytes_freed": freed, "locked": locked, "notes": notes})


def extend_locks(run: Run, progress: ProgressFn) -> Outcome:
    """Keep every object the kept snapshots need locked for the repository's retention days, from
    now; then read the lock back (the "immutable" flag's fact)."""
    extended: dict[str, Any] = {}
    warnings: list[Message | str] = []
    for repo in immutable_repositories(run.system):
        r = engine.extend_locks(repository_access(repo), days=repo.immutable_days)
        extended[repo.name] = {"objects": r.objects, "extended": r.extended, "until": r.until.isoformat()}
        if warning := lock_facts_read(repo):
            warnings.append(warning)
    if not extended:
        raise BackupError(NO_IMMUTABLE, code="no_immutable")
    return Outcome(warnings=warnings, detail={"extended": extended})


def immutable_repositories(system: ProtectedSystem) -> list[Repository]:
    return [r for r in system.repositories.filter(immutable_days__gt=0) if r.url.startswith("s3:")]


def _latest_per_paths(snapshots: list[engine.Snapshot]) -> list[engine.Snapshot]:
    latest: dict[tuple[str, ...], engine.Snapshot] = {}
    for s in snapshots:  # sorted by time: later ones replace earlier ones
        latest[tuple(sorted(s.paths))] = s
    return list(latest.values())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(repo: engine.Reader, node: engine.Node, target: Path) -> Message | None:
    """Compare one restored file with the snapshot: size, and SHA-256 against the content blob ids."""
    restored = target / node.path.lstrip("/")
    if not restored.is_file():
        return Message(NOT_RESTORED, path=node.path)
    if restored.stat().st_size != node.size:
        return Message(SIZE_MISMATCH, path=node.path)
    content = node.content or []
    digest = _sha256(restored)
    if len(content) == 1:
        expected = content[0]  # one blob: its id is the SHA-256 of the whole file
    elif not content:
        expected = hashlib.sha256(b"").hexdigest()
    else:
        h = hashlib.sha256()
        for chunk in repo.content(node):
            h.update(chunk)
        expected = h.hexdigest()
    return None if digest == expected else Message(HASH_MISMATCH, path=node.path)


class _Sample:
    """A uniform random sample of `size` of the files offered, of a count not known ahead (reservoir
    sampling): a drill keeps its sample, not the snapshot's list. Size 0 (a full drill) keeps no
    file: each snapshot is restored whole and walked again to verify it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.seen = 0
        self.bytes = 0
        self.chosen: list[tuple[engine.Snapshot, engine.Node]] = []

    def offer(self, snap: engine.Snapshot, node: engine.Node) -> None:
        self.seen += 1
        self.bytes += node.size or 0
        if not self.size:
            return
        if len(self.chosen) < self.size:
            self.chosen.append((snap, node))
        elif (slot := random.randrange(self.seen)) < self.size:
            self.chosen[slot] = (snap, node)

    @property
    def drilled(self) -> int:
        """The files the drill restores and verifies."""
        return len(self.chosen) if self.size else self.seen


PROBLEMS_KEPT = 50  # a drill that fails every file of millions keeps this many reasons, not all


class _Problems:
    """What a drill found wrong: the first `PROBLEMS_KEPT` with their reasons, and how many in all."""

    def __init__(self) -> None:
        self.kept: list[Message | str] = []
        self.count = 0

    def note(self, found: Iterable[Message | str], count: int | None = None) -> None:
        """Keep what there is room for of `found`; `count`: how many it stands for (a restore
        names only its first failures), else as many as it holds."""
        seen = 0
        for problem in found:
            seen += 1
            if len(self.kept) < PROBLEMS_KEPT:
                self.kept.append(problem)
        self.count += seen if count is None else max(count, seen)


def _drill_chosen(
    repo: engine.Reader,
    snap: engine.Snapshot,
    nodes: list[engine.Node],
    scratch: Path,
    problems: _Problems,
) -> int:
    """Restore the sampled files of one snapshot and verify each; the bytes restored."""
    # what its trees cannot give, the listing counted (once): not again here
    result = repo.restore(snap.id, scratch, paths=[n.path for n in nodes], verify=True, tree_errors=False)
    problems.note(result.failed, result.failed_count)
    problems.note(p for n in nodes if (p := _verify(repo, n, scratch)))
    return result.bytes_restored


def _drill_whole(repo: engine.Reader, snap: engine.Snapshot, scratch: Path, problems: _Problems) -> int:
    """Restore every file of one snapshot, then walk the snapshot again and verify each file as the
    walk finds it: nothing is held per file, so a file server of millions costs what one of ten
    does. The bytes restored."""
    result = repo.restore(snap.id, scratch, paths=["/"], verify=True, files_only=True, tree_errors=False)
    problems.note(result.failed, result.failed_count)

    def verify(node: engine.Node) -> None:
        if problem := _verify(repo, node, scratch):
            problems.note([problem])

    repo.snapshot_files(snap.id, verify, max_entries=settings.MAMORI_DRILL_MAX_ENTRIES)
    return result.bytes_restored


def restore_drill(run: Run, progress: ProgressFn) -> Outcome:
    """Restore a random sample or everything (the full-restore drill: the only one that judges the RTO),
    verify it against the snapshot, time it, clean up. The repository is opened once for all of it."""
    started = time.monotonic()
    with engine.reader(repository_access(primary_of(run))) as repo:
        return _drill(run, repo, progress, started)


def _drill(run: Run, repo: engine.Reader, progress: ProgressFn, started: float) -> Outcome:
    snaps = _latest_per_paths(repo.snapshots())
    if not snaps:
        raise BackupError(NO_SNAPSHOT, code="no_snapshot")
    sample = _Sample(run.schedule.drill_sample if run.schedule else int(run.detail.get("sample", 20)))
    # an entry a restore would refuse (e.g. "..") fails the drill by itself
    problems = _Problems()
    files: dict[str, int] = {}
    for snap in snaps:  # first the count, the bytes and the sample; past the cap nothing is restored
        seen = sample.seen
        unsafe, unsafe_count = repo.snapshot_files(
            snap.id,
            lambda node, snap=snap: sample.offer(snap, node),  # type: ignore[misc]
            max_entries=settings.MAMORI_DRILL_MAX_ENTRIES,
        )
        files[snap.id] = sample.seen - seen
        problems.note((f"{snap.short_id} {p}" for p in unsafe), unsafe_count)
    scratch = Path(settings.MAMORI_HOME) / "scratch" / f"drill-{run.pk}"
    shutil.rmtree(scratch, ignore_errors=True)
    restored_bytes = 0
    try:
        for snap in snaps:
            if sample.size:
                mine = [n for s, n in sample.chosen if s.id == snap.id]
                if not mine:
                    continue
                restored_bytes += _drill_chosen(repo, snap, mine, scratch, problems)
                done = len(mine)
            elif files[snap.id]:
                restored_bytes += _drill_whole(repo, snap, scratch, problems)
                done = files[snap.id]
            else:
                continue
            progress(engine.Progress(done, restored_bytes, sample.drilled, None, snap.short_id))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.monotonic() - started
    passed = not problems.count
    full = sample.drilled == sample.seen
    available_bytes = sample.bytes
    estimate = {}
    if not full and restored_bytes:  # a sample says nothing certain about the RTO: an estimate, labelled
        estimate = {"extrapolated_seconds": round(seconds * available_bytes / restored_bytes, 1)}
    return Outcome(
        snapshot_id=snaps[-1].id,
        files_total=sample.drilled,
        bytes_total=restored_bytes,
        passed=passed,
        warnings=[],
        detail={
            "seconds": round(seconds, 3),
            "rto_seconds": run.system.rto_minutes * 60,
            "sampled": sample.drilled,
            "available": sample.seen,
            "full": full,
            "bytes_available": available_bytes,
            **estimate,
            "problems": message_json(problems.kept),
            "problems_count": problems.count,
            "snapshots": [s.id for s in snaps],
        },
    )


def restore(run: Run, progress: ProgressFn) -> Outcome:
    """A person's restore of a folder or file of a snapshot, into its original folder or a chosen one."""
    repo = run.repository or primary_of(run)
    target = restore_target_check(run.detail["target"])  # again: a symlink may have changed since
    with engine.reader(repository_access(repo)) as reader:
        result = reader.restore(
            run.detail["snapshot"],
            target,
            paths=[run.detail["path"]],
            base=run.detail.get("base", "/"),
            overwrite=run.detail.get("overwrite", "always"),
            verify=True,
        )
    if result.failed_count > SHOWN:
        failed = Message(
            RESTORE_FAILED_MORE, count=f"{result.failed_count:,}", shown=SHOWN, files=result.failed[:SHOWN]
        )
        raise BackupError(failed, code="restore_failed")
    if result.failed:
        raise BackupError(Message(RESTORE_FAILED, files=result.failed), code="restore_failed")
    return Outcome(
        snapshot_id=run.detail["snapshot"],
        files_total=result.files_restored,
        bytes_total=result.bytes_restored,
        detail={"files_skipped": result.files_skipped},
    )


EXECUTORS: dict[str, Callable[[Run, ProgressFn], Outcome]] = {
    "backup": backup,
    "offsite_copy": offsite_copy,
    "check_subset": check_subset,
    "forget_prune": forget_prune,
    "restore_drill": restore_drill,
    "restore": restore,
    "extend_locks": extend_locks,
}
