"""The adapter to the backup engine: the only module of mamori that imports `mamori.vault`.

It opens repositories with their decrypted password, calls the engine, and turns engine results into
the app's plain dataclasses and engine errors into `EngineError` (a `BackupError` with a one-line
Japanese message and a stable code), so the rest of the app never sees an engine type.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mamori.apps.core.messages import Message
from mamori.vault import api as vault
from mamori.vault import errors as vault_errors
from mamori.vault.backend import ObjectLock
from mamori.vault.backend import location as vault_location
from mamori.vault.crypto import KDFParams
from mamori.vault.freespace import KeepFree
from mamori.vault.model import TreeFormatError
from mamori.vault.pathfilter import PathFilter

from .errors import BackupError

DAMAGED = "damaged"  # the type of a tree entry that cannot be decoded
WITH_DETAIL = "{message}: {detail}"  # the app's message, then the engine's own (English) one-liner
SNAPSHOT_TOO_LARGE = _(
    "スナップショット {snapshot} には {limit} 個を超える項目があるため、一覧を止めました。"
    "本当にこの大きさなら設定 MAMORI_DRILL_MAX_ENTRIES を増やし、そうでなければリポジトリを書いた者を確かめてください"
)


class EngineError(BackupError):
    """An engine failure, with the engine's own one-line message kept in `detail`."""

    def __init__(self, message: object, *, code: str, detail: str = "", http_status: int = 400) -> None:
        text = Message(WITH_DETAIL, message=message, detail=detail) if detail else message
        super().__init__(text, code=code, http_status=http_status)
        self.detail = detail


@dataclass(frozen=True)
class RepoAccess:
    """Where a repository is and how to open it; never logged (the password and secrets are in it).

    `secrets` are the remote backend's, decrypted (`REMOTE_SECRETS` names them); `lock_days` and
    `lock_mode` only matter when the repository is created (an immutable S3 repository)."""

    url: str
    password: str
    secrets: Mapping[str, str] = field(default_factory=dict)
    lock_days: int = 0
    lock_mode: str = "COMPLIANCE"
    retry_seconds: float | None = None
    """At most this long retrying a failing server (None: the engine's default, minutes): a form that
    checks a new repository answers within seconds."""

    def __repr__(self) -> str:
        return f"RepoAccess(url={self.url!r}, password='***', secrets={sorted(self.secrets)!r})"

    def options(self) -> vault.BackendOptions:
        """The engine's backend options: the secrets, plus known hosts kept under MAMORI_HOME."""
        unknown = set(self.secrets) - set(REMOTE_SECRETS)
        if unknown:
            raise ValueError(f"unknown repository secrets: {sorted(unknown)}")
        options = vault.BackendOptions(**{k: v for k, v in self.secrets.items() if v})
        if self.lock_days:
            options = options.with_lock(ObjectLock(self.lock_mode, self.lock_days))
        if self.retry_seconds is not None:
            options = replace(options, retry_max_elapsed=self.retry_seconds)
        return options


REMOTE_SECRETS = (
    "sftp_key",
    "sftp_key_passphrase",
    "sftp_known_hosts",
    "s3_access_key",
    "s3_secret_key",
    "s3_region",
    "rest_username",
    "rest_password",
)
"""The settings a remote repository may carry besides its URL (kept encrypted like the password)."""


@dataclass(frozen=True)
class LockFacts:
    """An immutable repository's Object Lock as read back from the server (not as configured)."""

    mode: str | None
    days: int
    latest_snapshot: str | None
    latest_until: datetime | None
    """Until when every object of the newest snapshot is locked; None: not locked (or no snapshot)."""


@dataclass(frozen=True)
class ExtendOutcome:
    objects: int
    extended: int
    until: datetime


@dataclass(frozen=True)
class Progress:
    files_done: int
    bytes_done: int
    files_total: int | None
    bytes_total: int | None
    current: str | None


@dataclass(frozen=True)
class BackupOutcome:
    snapshot_id: str
    files_new: int
    files_changed: int
    files_total: int
    bytes_total: int
    bytes_added: int
    errors: list[str]
    duration_s: float


@dataclass(frozen=True)
class Snapshot:
    id: str
    short_id: str
    time: datetime
    hostname: str
    paths: list[str]
    tags: list[str]
    original: str | None


@dataclass(frozen=True)
class Node:
    """An entry of a snapshot's tree; one that cannot be decoded (written to harm, e.g. a negative
    size) is of type "damaged", with the engine's reason in `problem` and nothing else known."""

    path: str
    type: str
    size: int
    mtime: datetime | None
    content: list[str] | None
    problem: str = ""


@dataclass(frozen=True)
class RestoreOutcome:
    files_restored: int
    bytes_restored: int
    failed: list[str]
    verified: bool
    duration_s: float
    files_skipped: int = 0
    failed_count: int = 0  # everything not restored; `failed` names the first hundred


@dataclass(frozen=True)
class Found:
    """A search hit: a path and the newest snapshot (of those searched) that holds it."""

    snapshot_id: str
    short_id: str
    time: datetime
    path: str
    type: str
    size: int
    mtime: datetime


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    problems: list[str]
    packs_checked: int
    bytes_read: int


@dataclass(frozen=True)
class CopyOutcome:
    copied: list[tuple[str, str]]
    bytes_copied: int


@dataclass(frozen=True)
class ForgetOutcome:
    """`locked`: snapshots the policy would remove that stay under Object Lock, with until when;
    `packs_locked_until`: the last date of the unused data prune had to leave locked (None: none)."""

    kept: list[str]
    removed: list[str]
    bytes_freed: int
    locked: dict[str, datetime] = field(default_factory=dict)
    packs_locked_until: datetime | None = None


# Order matters: the first matching class wins (subclasses before their parents).
_ERRORS: list[tuple[type[Exception], str, Any]] = [
    (
        vault_errors.UnsupportedBackendError,
        "location",
        _("この種類のリポジトリには対応していません（ローカルパス・sftp:・s3:・rest: が使えます）"),
    ),
    (vault_errors.InvalidArgumentError, "location", _("リポジトリの場所の書き方が正しくありません")),
    (vault_errors.RepositoryNotFoundError, "repository_not_found", _("リポジトリが見つかりません")),
    (vault_errors.WrongPasswordError, "wrong_password", _("リポジトリのパスワードが違います")),
    (
        vault_errors.NoUsableKeyError,
        "no_usable_key",
        _("リポジトリの鍵ファイルがすべて壊れています（パスワードの誤りではありません）"),
    ),
    (vault_errors.RepositoryLockedError, "repository_locked", _("リポジトリが他の処理でロックされています")),
    (vault_errors.RepositoryExistsError, "repository_exists", _("リポジトリは既に存在します")),
    (vault_errors.SnapshotNotFoundError, "snapshot_not_found", _("スナップショットが見つかりません")),
    (vault_errors.NotFoundError, "not_found", _("スナップショット内に見つかりません")),
    (vault_errors.IntegrityError, "integrity", _("リポジトリのデータに整合性の問題があります")),
    (TreeFormatError, "integrity", _("リポジトリのデータに整合性の問題があります")),
    (
        vault_errors.RestoreStoppedError,
        "restore_stopped",
        _("復元先の空き容量が、残しておく量を下回るため復元を止めました"),
    ),
    (
        vault_errors.BackendAccessError,
        "backend_access",
        _("リポジトリのサーバに拒否されました（ホスト鍵・認証情報・バケットを確認してください）"),
    ),
    (
        vault_errors.AppendOnlyError,
        "append_only",
        _("追記専用のサーバのため削除できません（世代整理は削除できるサーバで実行してください）"),
    ),
    (vault_errors.ObjectLockedError, "object_locked", _("改ざん防止の保持期間中のため削除できません")),
    (vault_errors.BackendError, "backend", _("リポジトリに接続できません")),
    (vault_errors.VaultError, "engine", _("バックアップエンジンのエラー")),
    (OSError, "os", _("ファイルの読み書きに失敗しました")),
]


def _translate(exc: Exception) -> EngineError:
    for cls, code, message in _ERRORS:
        if isinstance(exc, cls):
            status = 404 if code in ("snapshot_not_found", "not_found") else 400
            return EngineError(message, code=code, detail=str(exc), http_status=status)
    raise exc


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except EngineError:
        raise
    except (vault_errors.VaultError, OSError, TreeFormatError) as exc:
        raise _translate(exc) from exc


@dataclass(frozen=True)
class Where:
    """Where a repository location points: the scheme (local, sftp, s3, rest), the host and port of a
    remote one, the local directory or remote path, the bucket of an S3 one."""

    scheme: str
    host: str
    port: int | None
    user: str
    path: str
    bucket: str

    @property
    def remote(self) -> bool:
        return self.scheme != "local"


def location_of(url: str) -> Where:
    """The parsed location; a malformed one is an `EngineError` (code "location") saying how to write it."""
    with _errors():
        loc = vault_location.parse(url)
    return Where(loc.scheme, loc.host, loc.port, loc.user, loc.path, loc.bucket)


def rest_credentials_split(url: str) -> tuple[str, str, str]:
    """A `rest:` URL without its user-info, and the user and password it carried (kept apart, encrypted)."""
    scheme, _sep, rest = url.partition(":")
    parts = urlsplit(rest)
    if scheme != "rest" or not (parts.username or parts.password):
        return url, "", ""
    netloc = parts.netloc.rpartition("@")[2]
    bare = "rest:" + urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return bare, unquote(parts.username or ""), unquote(parts.password or "")


@contextmanager
def _open(access: RepoAccess) -> Iterator[Any]:
    with _errors():
        repo = vault.open_repository(access.url, access.password, options=access.options())
        try:
            yield repo
        finally:
            repo.close()


def _progress(callback: Callable[[Progress], None] | None) -> Callable[[Any], None] | None:
    if callback is None:
        return None

    def relay(p: Any) -> None:
        callback(Progress(p.files_done, p.bytes_done, p.files_total, p.bytes_total, p.current))

    return relay


def _backup_outcome(r: Any) -> BackupOutcome:
    return BackupOutcome(
        snapshot_id=r.snapshot_id,
        files_new=r.files_new,
        files_changed=r.files_changed,
        files_total=r.files_new + r.files_changed + r.files_unmodified,
        bytes_total=r.bytes_processed,
        bytes_added=r.bytes_added,
        errors=[f"{e.path}: {e.message}" for e in r.errors],
        duration_s=r.duration_s,
    )


TEST_KDF = KDFParams(n=1024, r=8, p=1)  # what the engine's own tests use; never in production


def _kdf_params() -> KDFParams | None:
    """The scrypt cost of a new repository's key: restic's default, except under the test settings
    (`MAMORI_TEST_FAST_KDF`, set only in settings/test.py), where every later open of the tests'
    hundreds of repositories would otherwise spend 0.1 s of CPU deriving the key."""
    return TEST_KDF if getattr(settings, "MAMORI_TEST_FAST_KDF", False) else None


def repository_init(access: RepoAccess) -> str:
    """Create a new repository (format v2) and return its id."""
    with _errors():
        repo = vault.init_repository(
            access.url, access.password, options=access.options(), kdf_params=_kdf_params()
        )
        try:
            return str(repo.id)
        finally:
            repo.close()


def repository_id(access: RepoAccess) -> str:
    """Open the repository (checks it is reachable and the password is right) and return its id."""
    with _open(access) as repo:
        return str(repo.id)


def excluded_by(patterns: Sequence[str], path: str) -> bool:
    """Whether a backup with these exclude patterns leaves `path` (and all below it) out."""
    with _errors():
        return bool(patterns) and PathFilter(patterns).matches(path)


def backup_paths(
    access: RepoAccess,
    paths: Sequence[Path],
    *,
    excludes: Sequence[str] = (),
    tags: Sequence[str] = (),
    host: str | None = None,
    time: datetime | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> BackupOutcome:
    with _open(access) as repo:
        result = repo.backup(
            list(paths),
            host=host,
            tags=list(tags),
            excludes=list(excludes),
            time=time,
            progress=_progress(progress),
        )
        return _backup_outcome(result)


def backup_stream(
    access: RepoAccess,
    stream: IO[bytes],
    filename: str,
    *,
    tags: Sequence[str] = (),
    host: str | None = None,
    time: datetime | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> BackupOutcome:
    with _open(access) as repo:
        result = repo.backup_stream(
            stream, filename, host=host, tags=list(tags), time=time, progress=_progress(progress)
        )
        return _backup_outcome(result)


class Reader:
    """One open repository for several reads: a drill lists, restores and checks every file of its
    snapshots through one, a download finds its file and streams it through one (each open derives
    the key; each listing or restore loads the index). Use it inside `reader(access)`, whose `with`
    turns engine errors into `EngineError`."""

    def __init__(self, repo: Any) -> None:
        self._repo = repo
        self._content: Any = None

    def snapshots(self) -> list[Snapshot]:
        return [
            Snapshot(s.id, s.short_id, s.time, s.hostname, list(s.paths), list(s.tags), s.original)
            for s in self._repo.snapshots()
        ]

    def ls(self, ref: str, path: str = "/") -> list[Node]:
        return [_node(n) for n in self._repo.ls(ref, path)]

    def list_dir(self, ref: str, path: str = "/") -> list[Node]:
        """One folder of a snapshot (its direct children), reading only the trees along `path`;
        its entries that cannot be decoded come last, as "damaged" nodes."""
        nodes = [_node(n) for n in self._repo.list_dir(ref, path)]
        return nodes + [Node(p, DAMAGED, 0, None, None, why) for p, why in self._repo.damaged]

    def snapshot_files(
        self, ref: str, on_file: Callable[[Node], None], *, max_entries: int
    ) -> tuple[list[str], int]:
        """Hand every file of a snapshot to `on_file` as the walk finds it (nothing is kept here) and
        return the first hundred tree entries left out as unsafe or damaged ("/data: invalid child
        node name") with the count of them all. A walk past
        `max_entries` entries of any kind stops (code "snapshot_too_large"): trees written to harm
        name one subtree twice per level, 2^31 folders from 31 trees, days of walking."""
        repo = self._repo
        for count, n in enumerate(repo.ls(ref), 1):
            if count > max_entries:
                raise BackupError(
                    Message(SNAPSHOT_TOO_LARGE, snapshot=ref[:8], limit=f"{max_entries:,}"),
                    code="snapshot_too_large",
                )
            if n.type == "file":
                on_file(_node(n))
        return [f"{where}: {problem}" for where, problem in repo.tree_errors], repo.tree_error_count

    def _reader(self) -> Any:
        if self._content is None:
            self._content = self._repo.content_reader()
        return self._content

    def content(self, node: Node) -> Iterator[bytes]:
        """A file's content as the repository holds it, by the blob ids its listing gave."""
        with _errors():
            yield from self._reader().open(node.content or [])

    def content_length(self, node: Node) -> int:
        """The bytes `content` streams: the content's own length, not the size the snapshot's tree
        claims (a repository written by someone else may lie)."""
        return int(self._reader().length(node.content or []))

    def restore(
        self,
        ref: str,
        target: Path,
        *,
        paths: Sequence[str],
        base: str = "/",
        overwrite: str = "always",
        verify: bool = True,
        files_only: bool = False,
        tree_errors: bool = True,
    ) -> RestoreOutcome:
        """Restore exactly `paths` of a snapshot (names taken literally; `/` is everything); the
        snapshot folder `base` becomes `target`; `overwrite="never"` keeps files already there;
        `files_only` makes folders and files only; `tree_errors=False` leaves the entries a tree
        cannot give (refused names, unreadable trees) out without failing them — a drill's listing
        (`snapshot_files`) has reported them. It stops (code "restore_stopped") before the
        target's file system has less free than the settings keep."""
        keep_free = KeepFree.percent(
            target,
            settings.MAMORI_RESTORE_KEEP_FREE_PERCENT,
            settings.MAMORI_RESTORE_KEEP_FREE_INODES_PERCENT,
        )
        r = self._repo.restore(
            ref,
            target,
            paths=list(paths),
            base=base,
            overwrite=overwrite,
            verify=verify,
            keep_free=keep_free,
            files_only=files_only,
            tree_errors=tree_errors,
        )
        return RestoreOutcome(
            r.files_restored,
            r.bytes_restored,
            [f"{e.path}: {e.message}" for e in r.failed],
            r.verified,
            r.duration_s,
            r.files_skipped,
            r.failed_count,
        )


@contextmanager
def reader(access: RepoAccess) -> Iterator[Reader]:
    """The repository opened once for the reads done inside the `with`."""
    with _open(access) as repo:
        yield Reader(repo)


def _node(n: Any) -> Node:
    return Node(n.path, n.type, n.size, n.mtime, n.content)


def snapshots(access: RepoAccess) -> list[Snapshot]:
    with reader(access) as repo:
        return repo.snapshots()


def ls(access: RepoAccess, ref: str, path: str = "/") -> list[Node]:
    with reader(access) as repo:
        return repo.ls(ref, path)


def list_dir(access: RepoAccess, ref: str, path: str = "/") -> list[Node]:
    """`Reader.list_dir` in a repository of its own."""
    with reader(access) as repo:
        return repo.list_dir(ref, path)


class Stream(Iterator[bytes]):
    """A file's content that holds its repository open until it is exhausted or closed, and closes
    it also when closed before its first piece (closing a generator that never started runs none of
    its `with`: the repository would stay open)."""

    def __init__(self, pieces: Iterator[bytes], stack: ExitStack) -> None:
        self._pieces = pieces
        self._stack = stack

    def __next__(self) -> bytes:
        try:
            return next(self._pieces)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        with self._stack:
            getattr(self._pieces, "close", lambda: None)()


def file_open(access: RepoAccess, ref: str, path: str) -> tuple[Node | None, Stream]:
    """The entry at `path` of a snapshot (None: not there) and, for a file, its content, through one
    open of the repository held until the stream is exhausted or closed (nothing is held for
    anything else). A file's `size` is its content's own length, not the size the snapshot's tree
    claims (a repository written by someone else may lie)."""
    stack = ExitStack()
    try:
        with _errors():
            repo = stack.enter_context(reader(access))
            parent = posixpath.dirname(path)
            node = next((n for n in repo.list_dir(ref, parent) if n.path == path), None)
            if node is None or node.type != "file":
                stack.close()
                return node, Stream(iter(()), stack)
            node = replace(node, size=repo.content_length(node))
    except BaseException:
        stack.close()
        raise
    return node, Stream(repo.content(node), stack)


def find(access: RepoAccess, pattern: str, *, since: datetime | None = None) -> list[Found]:
    """Files and folders whose name matches the glob `pattern` in the snapshots since `since`."""
    with _open(access) as repo:
        return [
            Found(
                h.snapshot.id,
                h.snapshot.short_id,
                h.snapshot.time,
                h.node.path,
                h.node.type,
                h.node.size,
                h.node.mtime,
            )
            for h in repo.find(pattern, since=since)
        ]


def check(
    access: RepoAccess, *, read_data_subset: str | None = None, read_data: bool = False
) -> CheckOutcome:
    with _open(access) as repo:
        r = repo.check(read_data=read_data, read_data_subset=read_data_subset or None)
        return CheckOutcome(r.ok, [p.message for p in r.errors], r.packs_checked, r.bytes_read)


def copy(source: RepoAccess, dest: RepoAccess) -> CopyOutcome:
    """Copy every snapshot the destination lacks (restic `copy`): the offsite copy."""
    with _open(source) as src, _open(dest) as dst:
        r = src.copy_to(dst)
        return CopyOutcome([(a, b) for a, b in r.copied], r.bytes_copied)


def forget(
    access: RepoAccess,
    *,
    keep_last: int,
    keep_daily: int,
    keep_weekly: int,
    keep_monthly: int,
    keep_yearly: int,
    prune: bool,
) -> ForgetOutcome:
    policy = vault.RetentionPolicy(
        keep_last=keep_last,
        keep_daily=keep_daily,
        keep_weekly=keep_weekly,
        keep_monthly=keep_monthly,
        keep_yearly=keep_yearly,
    )
    with _open(access) as repo:
        r = repo.forget(policy, prune=False)
        pruned = repo.prune() if prune and r.removed else None
        return ForgetOutcome(
            list(r.kept),
            list(r.removed),
            pruned.bytes_freed if pruned else 0,
            dict(r.locked),
            pruned.locked_until if pruned and pruned.locked else None,
        )


def lock_facts(access: RepoAccess) -> LockFacts:
    """Read back the Object Lock and the retention of the newest snapshot's objects (the fact behind
    the 3-2-1-1-0 "immutable" flag)."""
    with _open(access) as repo:
        status = repo.lock_status()
        lock = status.lock
        return LockFacts(
            lock.mode if lock else None,
            lock.days if lock else 0,
            status.latest_snapshot,
            status.latest_until,
        )


def extend_locks(access: RepoAccess, *, days: int | None = None) -> ExtendOutcome:
    """Keep every object a snapshot still needs locked until now + days (scheduled for immutable repositories)."""
    with _open(access) as repo:
        r = repo.extend_locks(days=days)
        return ExtendOutcome(r.objects, r.extended, r.until)
