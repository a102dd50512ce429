"""CLI commands on the repository itself: init, check, cat, list, key, unlock, stats, forget, prune,
rebuild-index, copy."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from mamori.vault.api import open_repository
from mamori.vault.backend import FileType, Handle, ObjectLock
from mamori.vault.errors import InvalidArgumentError
from mamori.vault.ids import parse_id
from mamori.vault.keys import add_key, list_keys, remove_key
from mamori.vault.pack import BlobType
from mamori.vault.repository import Repository
from mamori.vault.timefmt import format_time

# The engine parts of check, forget, prune, stats and rebuild-index load in their commands: every
# command builds this parser, and a backup should not wait for them.

if TYPE_CHECKING:
    from mamori.vault.cli import Context
    from mamori.vault.prune import PruneResult

__all__ = ["register"]

EXIT_OK = 0
EXIT_ERROR = 1
_LIST_TYPES = {
    "packs": FileType.PACK,
    "index": FileType.INDEX,
    "snapshots": FileType.SNAPSHOT,
    "keys": FileType.KEY,
    "locks": FileType.LOCK,
}


def register(sub: Any, parent: argparse.ArgumentParser) -> None:
    """Add this module's commands to the `mamori vault` parser."""
    p = sub.add_parser("init", parents=[parent], help="create a new repository")
    p.add_argument("--repository-version", type=int, choices=(1, 2), default=2, help="format version (2)")
    p.add_argument(
        "--object-lock", action="store_true", help="immutable: every object under S3 Object Lock retention"
    )
    p.add_argument("--lock-days", type=int, metavar="N", help="retention in days (with --object-lock)")
    p.add_argument(
        "--lock-mode", choices=("COMPLIANCE", "GOVERNANCE"), default="COMPLIANCE", help="retention mode"
    )
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("check", parents=[parent], help="check the repository for errors")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--read-data", action="store_true", help="also read and verify every pack")
    group.add_argument("--read-data-subset", metavar="n/t|x%", help="read only a subset of the packs")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("cat", parents=[parent], help="print a repository object (decrypted)")
    p.add_argument("type", choices=("config", "index", "snapshot", "key", "lock", "blob", "tree"))
    p.add_argument("id", nargs="?", help="id or unique prefix (not for config)")
    p.set_defaults(handler=cmd_cat)

    p = sub.add_parser("list", parents=[parent], help="list ids of repository files of one type")
    p.add_argument("type", choices=sorted(_LIST_TYPES))
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("key", parents=[parent], help="manage the repository's passwords (key files)")
    p.add_argument("action", choices=("list", "add", "remove", "passwd"))
    p.add_argument("id", nargs="?", help="key id for remove")
    p.add_argument(
        "--new-password-file", help="file with the new password (else MAMORI_NEW_PASSWORD or a prompt)"
    )
    p.set_defaults(handler=cmd_key)

    p = sub.add_parser("unlock", parents=[parent], help="remove stale locks")
    p.add_argument("--remove-all", action="store_true", help="remove every lock, even fresh ones")
    p.set_defaults(handler=cmd_unlock)

    p = sub.add_parser("stats", parents=[parent], help="show repository size statistics")
    p.set_defaults(handler=cmd_stats)

    p = sub.add_parser("forget", parents=[parent], help="remove snapshots by a retention policy")
    for period in ("last", "hourly", "daily", "weekly", "monthly", "yearly"):
        p.add_argument(
            f"--keep-{period}", type=int, default=0, metavar="N", help=f"keep the newest N {period}"
        )
    p.add_argument(
        "--keep-tag", action="append", default=[], metavar="TAGS", help="keep snapshots with these tags"
    )
    p.add_argument("--keep-within", metavar="DURATION", help="keep snapshots newer than e.g. 1y2m3d4h")
    p.add_argument("--host", help="only snapshots of this host")
    p.add_argument(
        "-g",
        "--group-by",
        default="host,paths",
        metavar="FIELDS",
        help="group snapshots by host, paths, tags or a combination ('' = one group)",
    )
    p.add_argument("-n", "--dry-run", action="store_true", help="only show what would be removed")
    p.add_argument("--prune", action="store_true", help="prune afterwards")
    p.set_defaults(handler=cmd_forget)

    p = sub.add_parser("prune", parents=[parent], help="delete data no snapshot references")
    p.set_defaults(handler=cmd_prune)

    p = sub.add_parser("rebuild-index", parents=[parent], help="rebuild the index from the pack files")
    p.set_defaults(handler=cmd_rebuild_index)

    p = sub.add_parser("copy", parents=[parent], help="copy snapshots from another repository into this one")
    p.add_argument("--from-repo", required=True, help="source repository")
    p.add_argument("--from-password-file", help="source password file (else MAMORI_FROM_PASSWORD)")
    p.add_argument("snapshots", nargs="*", help="snapshot ids (default: all)")
    p.set_defaults(handler=cmd_copy)


def _low(ctx: Context) -> Repository:
    repo: Repository = ctx.open_repository().low
    return repo


def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    """`init`: create the repository (immutable with --object-lock)."""
    lock = None
    if args.object_lock:
        if not args.lock_days or args.lock_days < 1:
            raise InvalidArgumentError("--object-lock needs --lock-days N (N >= 1), e.g. --lock-days 30")
        lock = ObjectLock(args.lock_mode, args.lock_days)
    elif args.lock_days:
        raise InvalidArgumentError("--lock-days only applies with --object-lock")
    repo = ctx.init_repository(version=args.repository_version, lock=lock)
    low: Repository = repo.low
    if ctx.json:
        ctx.out_json({"message_type": "initialized", "id": repo.id, "repository": low.backend.location})
    ctx.out(
        f"created repository {repo.id[:10]} (format version {low.config.version}) at {low.backend.location}"
    )
    if lock is not None:
        ctx.out(f"every object is kept under {lock.mode} Object Lock for {lock.days} days from its upload")
    ctx.out("Please note that knowledge of your password is required to access the repository.")
    repo.close()
    return EXIT_OK


def cmd_check(ctx: Context, args: argparse.Namespace) -> int:
    """`check`: structure, and data with --read-data / --read-data-subset."""
    from mamori.vault.checker import check_repository

    low = _low(ctx)
    with low.lock():
        result = check_repository(
            low, read_data=args.read_data, read_data_subset=args.read_data_subset, progress=ctx.progress
        )
    ctx.progress_done()
    if ctx.json:
        ctx.out_json(asdict(result))
    for warning in result.warnings:
        ctx.out(f"warning: {warning.message}")
    for problem in result.errors:
        ctx.warn(f"error: {problem.message}")
        for path in problem.files:
            ctx.warn(f"  used by {path}")
    if result.ok:
        ctx.out(f"no errors were found ({result.packs_checked} packs, {result.blobs_checked} blobs read)")
        return EXIT_OK
    ctx.warn(f"{len(result.errors)} errors found: restore affected files from another copy, then run prune")
    return EXIT_ERROR


def _write_raw(ctx: Context, data: bytes) -> None:
    buffer = getattr(ctx.stdout, "buffer", None)
    if buffer is not None:
        ctx.stdout.flush()
        buffer.write(data)
        buffer.flush()
    else:
        ctx.stdout.write(data.decode("utf-8", "replace"))


def _pretty(data: bytes) -> bytes:
    try:
        return json.dumps(json.loads(data), indent=2, ensure_ascii=False).encode() + b"\n"
    except ValueError:
        return data


def cmd_cat(ctx: Context, args: argparse.Namespace) -> int:
    """`cat`: print a decrypted object; blobs and trees raw, JSON documents indented."""
    low = _low(ctx)
    if args.type == "config":
        _write_raw(ctx, _pretty(low.config.to_json()))
        return EXIT_OK
    if not args.id:
        raise InvalidArgumentError(f"cat {args.type} needs an id: find one with `mamori vault list`")
    if args.type in ("blob", "tree"):
        blob_type = BlobType.DATA if args.type == "blob" else BlobType.TREE
        low.load_index()
        data = low.load_blob(blob_type, parse_id(args.id))
        _write_raw(ctx, data if blob_type is BlobType.DATA else _pretty(data))
        return EXIT_OK
    file_type = {
        "index": FileType.INDEX,
        "snapshot": FileType.SNAPSHOT,
        "key": FileType.KEY,
        "lock": FileType.LOCK,
    }[args.type]
    file_id = low.find_file_id(file_type, args.id)
    if file_type is FileType.KEY:
        data = low.backend.load(Handle(FileType.KEY, file_id))  # key files are plain JSON
    else:
        data = low.load_unpacked(file_type, file_id)
    _write_raw(ctx, _pretty(data))
    return EXIT_OK


def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    """`list`: file ids of one type, one per line."""
    low = _low(ctx)
    names = sorted(low.list_files(_LIST_TYPES[args.type]))
    if ctx.json:
        ctx.out_json(names)
    else:
        for name in names:
            print(name, file=ctx.stdout)
    return EXIT_OK


def _new_password(ctx: Context, args: argparse.Namespace) -> str:
    if args.new_password_file:
        try:
            with open(args.new_password_file, encoding="utf-8") as f:
                password = f.readline().rstrip("\r\n")
        except OSError as exc:
            raise InvalidArgumentError(f"cannot read {args.new_password_file}: {exc.strerror}") from exc
    elif "MAMORI_NEW_PASSWORD" in os.environ:
        password = os.environ["MAMORI_NEW_PASSWORD"]
    elif sys.stdin.isatty():
        password = getpass.getpass("enter new password: ")
        if getpass.getpass("enter password again: ") != password:
            raise InvalidArgumentError("the passwords do not match: try again")
    else:
        raise InvalidArgumentError("no new password: use --new-password-file or MAMORI_NEW_PASSWORD")
    if not password:
        raise InvalidArgumentError("an empty password is not allowed: choose a password")
    return password


def cmd_key(ctx: Context, args: argparse.Namespace) -> int:
    """`key list|add|remove|passwd`."""
    low = _low(ctx)
    if args.action == "list":
        keys, malformed = list_keys(low.backend)
        for exc in malformed:
            ctx.warn(f"warning: {exc}")
        rows = [
            {
                "current": k.id == low.key_id,
                "id": k.id[:8],
                "userName": k.username,
                "hostName": k.hostname,
                "created": format_time(k.created),
            }
            for k in keys
        ]
        if ctx.json:
            ctx.out_json(rows)
        for row in rows:
            mark = "*" if row["current"] else " "
            ctx.out(f"{mark}{row['id']}  {row['userName']}@{row['hostName']}  {row['created']}")
        return EXIT_OK
    if args.action == "remove":
        if not args.id:
            raise InvalidArgumentError("key remove needs the key id: see `mamori vault key list`")
        key_id = low.find_file_id(FileType.KEY, args.id)
        with low.lock(exclusive=True):
            remove_key(low.backend, key_id, current=low.key_id)
        ctx.out(f"removed key {key_id[:8]}")
        return EXIT_OK
    password = _new_password(ctx, args)
    with low.lock(exclusive=args.action == "passwd"):
        new_id = add_key(low.backend, low.key, password)
        if args.action == "passwd":
            low.backend.remove(Handle(FileType.KEY, low.key_id))
    ctx.out(f"{'saved new key' if args.action == 'add' else 'changed password, new key'} {new_id[:8]}")
    return EXIT_OK


def cmd_unlock(ctx: Context, args: argparse.Namespace) -> int:
    """`unlock`: remove stale locks."""
    low = _low(ctx)
    removed = low.unlock(remove_all=args.remove_all)
    if ctx.json:
        ctx.out_json({"removed": removed})
    ctx.out(f"removed {len(removed)} lock(s)" if removed else "no stale locks")
    return EXIT_OK


def cmd_stats(ctx: Context, args: argparse.Namespace) -> int:
    """`stats`: counts and sizes."""
    from mamori.vault.stats import repository_stats

    low = _low(ctx)
    low.load_index()
    stats = repository_stats(low)
    if ctx.json:
        ctx.out_json({**asdict(stats), "compression_ratio": round(stats.compression_ratio, 3)})
    ctx.out(f"snapshots:          {stats.snapshots}")
    ctx.out(f"packs:              {stats.packs}")
    ctx.out(f"blobs:              {stats.blobs}")
    ctx.out(f"stored size:        {stats.total_size} bytes")
    ctx.out(f"uncompressed size:  {stats.uncompressed_size} bytes")
    ctx.out(f"compression ratio:  {stats.compression_ratio:.2f}x")
    return EXIT_OK


def cmd_forget(ctx: Context, args: argparse.Namespace) -> int:
    """`forget`: apply a retention policy per host and paths."""
    from mamori.vault.forget import Duration, RetentionPolicy, forget_snapshots, parse_group_by, restic_json
    from mamori.vault.prune import prune_repository

    policy = RetentionPolicy(
        keep_last=args.keep_last,
        keep_hourly=args.keep_hourly,
        keep_daily=args.keep_daily,
        keep_weekly=args.keep_weekly,
        keep_monthly=args.keep_monthly,
        keep_yearly=args.keep_yearly,
        keep_tags=tuple(args.keep_tag),
        keep_within=Duration.parse(args.keep_within) if args.keep_within else None,
    )
    if policy.empty:
        raise InvalidArgumentError("no policy given: add e.g. --keep-daily 7 --keep-monthly 12")
    group_by = parse_group_by(args.group_by)
    repo = ctx.open_repository()
    low = repo.low
    with low.lock(exclusive=not args.dry_run):
        result = forget_snapshots(low, policy, dry_run=args.dry_run, host=args.host, group_by=group_by)
        if args.prune and not args.dry_run:
            pruned = prune_repository(low, progress=ctx.progress)
            ctx.progress_done()
            ctx.out(f"pruned: {pruned.packs_removed} packs removed, {pruned.bytes_freed} bytes freed")
            _say_locked(ctx, pruned)
    if ctx.json:  # restic's shape, so scripts written for restic read it unchanged
        ctx.out_json(restic_json(result.groups))
        for snap_id, until in result.locked.items():
            ctx.warn(f"snapshot {snap_id[:8]} stays until {until:%Y-%m-%d %H:%M} UTC (Object Lock)")
    verb = "would remove" if args.dry_run else "removed"
    ctx.out(f"keep {len(result.kept)} snapshots, {verb} {len(result.removed)}")
    for snap_id in result.removed:
        ctx.out(f"  {verb} {snap_id[:8]}")
    for snap_id, until in sorted(result.locked.items(), key=lambda item: item[1]):
        ctx.out(f"  snapshot {snap_id[:8]} stays until {until:%Y-%m-%d %H:%M} UTC (Object Lock)")
    return EXIT_OK


def cmd_prune(ctx: Context, args: argparse.Namespace) -> int:
    """`prune`: remove unreferenced data."""
    from mamori.vault.prune import prune_repository

    low = _low(ctx)
    with low.lock(exclusive=True):
        result = prune_repository(low, progress=ctx.progress)
    ctx.progress_done()
    if ctx.json:
        ctx.out_json(asdict(result))
    ctx.out(
        f"removed {result.packs_removed} packs ({result.packs_rewritten} rewritten), "
        f"freed {result.bytes_freed} bytes"
    )
    _say_locked(ctx, result)
    return EXIT_OK


def _say_locked(ctx: Context, result: PruneResult) -> None:
    if result.locked and result.locked_until is not None:
        ctx.out(
            f"{result.locked} unused files stay under Object Lock until "
            f"{result.locked_until:%Y-%m-%d %H:%M} UTC; a prune after that date removes them"
        )


def cmd_copy(ctx: Context, args: argparse.Namespace) -> int:
    """`copy --from-repo SRC`: copy snapshots into the -r repository."""
    if args.from_password_file:
        try:
            with open(args.from_password_file, encoding="utf-8") as f:
                from_password = f.readline().rstrip("\r\n")
        except OSError as exc:
            raise InvalidArgumentError(f"cannot read {args.from_password_file}: {exc.strerror}") from exc
    elif "MAMORI_FROM_PASSWORD" in os.environ:
        from_password = os.environ["MAMORI_FROM_PASSWORD"]
    else:
        raise InvalidArgumentError("no source password: use --from-password-file or MAMORI_FROM_PASSWORD")
    target = ctx.open_repository()
    with open_repository(args.from_repo, from_password, options=ctx.backend_options()) as source:
        result = source.copy_to(target, snapshot_ids=args.snapshots or None)
    if ctx.json:
        ctx.out_json(asdict(result))
    for src, new in result.copied:
        ctx.out(f"copied snapshot {src[:8]} as {new[:8]}")
    ctx.out(
        f"{len(result.copied)} copied, {len(result.skipped)} already present, {result.bytes_copied} bytes"
    )
    return EXIT_OK


def cmd_rebuild_index(ctx: Context, args: argparse.Namespace) -> int:
    """`rebuild-index`: new index files from the pack headers."""
    from mamori.vault.repair import rebuild_index

    low = _low(ctx)
    with low.lock(exclusive=True):
        result = rebuild_index(low, progress=ctx.progress)
    ctx.progress_done()
    if ctx.json:
        ctx.out_json(asdict(result))
    ctx.out(
        f"indexed {result.blobs} blobs in {result.packs} packs, replaced {result.index_files_removed} index files"
    )
    for pack_id in result.unreadable_packs:
        ctx.warn(
            f"pack {pack_id[:8]} has a damaged header and was left out: run `mamori vault check --read-data`"
        )
    return EXIT_ERROR if result.unreadable_packs else EXIT_OK
