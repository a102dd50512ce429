"""CLI commands that write or read snapshots: backup, snapshots, ls, find, diff, restore."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mamori.vault.api import BackupProgress, BackupResult, NodeInfo, SnapshotInfo
from mamori.vault.cli.allocator import tune_allocator
from mamori.vault.errors import InvalidArgumentError, VaultError
from mamori.vault.freespace import KeepFree
from mamori.vault.fsmeta import posix_mode_bits
from mamori.vault.pathfilter import PathFilter, read_pattern_file
from mamori.vault.restorer import OVERWRITE

if TYPE_CHECKING:
    from mamori.vault.cli import Context

__all__ = ["register"]

EXIT_PARTIAL = 3


def register(sub: Any, parent: argparse.ArgumentParser) -> None:
    """Add this module's commands to the `mamori vault` parser."""
    p = sub.add_parser("backup", parents=[parent], help="back up files or stdin into a new snapshot")
    p.add_argument("paths", nargs="*", help="files and directories to back up")
    p.add_argument("--stdin", action="store_true", help="back up what is read from standard input")
    p.add_argument("--stdin-filename", default="stdin", help="file name for --stdin (default: stdin)")
    p.add_argument("-e", "--exclude", action="append", default=[], metavar="PATTERN", help="exclude a glob")
    p.add_argument("--exclude-file", action="append", default=[], metavar="FILE", help="patterns from FILE")
    p.add_argument("-x", "--one-file-system", action="store_true", help="stay on the paths' file systems")
    p.add_argument("--tag", action="append", default=[], help="tag the snapshot (repeatable, a,b allowed)")
    p.add_argument("-H", "--host", help="host name to record (default: this host)")
    p.add_argument("--time", help="snapshot time, e.g. '2026-04-01 09:00:00' (default: now)")
    p.add_argument("--parent", help="compare with this snapshot instead of the latest of host+paths")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("snapshots", parents=[parent], help="list snapshots")
    p.add_argument("--host", help="only snapshots of this host")
    p.add_argument("--tag", action="append", default=[], help="only snapshots with this tag")
    p.set_defaults(handler=cmd_snapshots)

    p = sub.add_parser("ls", parents=[parent], help="list files in a snapshot")
    p.add_argument("snapshot", help="snapshot id, prefix or latest")
    p.add_argument("path", nargs="?", default="/", help="directory or file inside the snapshot")
    p.add_argument("-l", "--long", action="store_true", help="show mode, size and time")
    p.set_defaults(handler=cmd_ls)

    p = sub.add_parser("find", parents=[parent], help="find files by pattern in snapshots")
    p.add_argument(
        "pattern",
        help="restic pattern: a relative one matches at any depth, a directory includes its content",
    )
    p.add_argument("-s", "--snapshot", action="append", default=[], help="search only these snapshots")
    p.set_defaults(handler=cmd_find)

    p = sub.add_parser("diff", parents=[parent], help="show what changed between two snapshots")
    p.add_argument("first")
    p.add_argument("second")
    p.set_defaults(handler=cmd_diff)

    p = sub.add_parser("restore", parents=[parent], help="restore a snapshot to a directory")
    p.add_argument("snapshot", help="snapshot id, prefix or latest")
    p.add_argument("-t", "--target", required=True, help="directory to restore into")
    p.add_argument("-i", "--include", action="append", default=[], metavar="PATTERN")
    p.add_argument("-e", "--exclude", action="append", default=[], metavar="PATTERN")
    p.add_argument("--verify", action="store_true", help="re-read restored files and check their hashes")
    p.add_argument(
        "--overwrite",
        choices=OVERWRITE,
        default="always",
        help="a file already at the target: replace it (always, the default) or keep it (never)",
    )
    p.add_argument(
        "--keep-free",
        type=_percent,
        default=0.0,
        metavar="PERCENT",
        help="stop before the target's file system has less than PERCENT of its space or of its inodes"
        " free (default 0: no reserve, as restic; mamori's drills and web restores keep 5)",
    )
    p.set_defaults(handler=cmd_restore)


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 up to (not including) 100")
    return value


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgumentError(f"invalid --time {text!r}: use e.g. '2026-04-01 09:00:00'") from exc
    return value if value.tzinfo is not None else value.astimezone()


def _tags(values: list[str]) -> list[str]:
    return [t for v in values for t in v.split(",") if t]


def _show_backup(ctx: Context, result: BackupResult) -> None:
    if ctx.json:
        doc = asdict(result)
        doc["message_type"] = "summary"
        ctx.out_json(doc)
        return
    for e in result.errors:
        ctx.warn(f"error: {e.path}: {e.message}")
    files = result.files_new + result.files_changed + result.files_unmodified
    ctx.out(
        f"Files: {result.files_new} new, {result.files_changed} changed, {result.files_unmodified} unmodified"
    )
    ctx.out(f"Dirs: {result.dirs}; added to the repository: {_size(result.bytes_added)}")
    ctx.out(f"processed {files} files, {_size(result.bytes_processed)} in {result.duration_s:.2f}s")
    ctx.out(f"snapshot {result.snapshot_id[:8]} saved")


def cmd_backup(ctx: Context, args: argparse.Namespace) -> int:
    """Back up paths (or stdin) into a new snapshot; exit 3 if some files could not be read."""
    tags = _tags(args.tag)
    when = _parse_time(args.time) if args.time else None
    excludes = list(args.exclude)
    for f in args.exclude_file:
        excludes.extend(read_pattern_file(Path(f)))

    def progress(p: BackupProgress) -> None:
        ctx.progress(f"{p.files_done} files, {_size(p.bytes_done)}  {p.current or ''}")

    tune_allocator()  # before the repository's threads start
    with ctx.open_repository() as repo:
        if args.stdin:
            if args.paths:
                raise InvalidArgumentError("--stdin takes no paths: name the file with --stdin-filename")
            result = repo.backup_stream(
                sys.stdin.buffer, args.stdin_filename, host=args.host, tags=tags, time=when, progress=progress
            )
        else:
            if not args.paths:
                raise InvalidArgumentError("nothing to back up: give at least one path (or --stdin)")
            result = repo.backup(
                [Path(p) for p in args.paths],
                host=args.host,
                tags=tags,
                excludes=excludes,
                one_file_system=args.one_file_system,
                parent=args.parent,
                time=when,
                progress=progress,
            )
    ctx.progress_done()
    _show_backup(ctx, result)
    return EXIT_PARTIAL if result.errors else 0


def _text(value: str) -> str:
    """A file name for JSON as Go writes it: bytes that are not UTF-8 become U+FFFD (a lone surrogate
    would be rejected by strict JSON parsers)."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _snapshot_json(s: SnapshotInfo) -> dict[str, Any]:
    """restic's snapshot JSON: the stored time to the nanosecond with its offset, uid, gid, excludes."""
    doc: dict[str, Any] = {
        "time": s.time_text or s.time.isoformat(),
        "tree": s.tree,
        "paths": [_text(p) for p in s.paths],
        "hostname": s.hostname,
        "username": s.username,
    }
    if s.uid:
        doc["uid"] = s.uid
    if s.gid:
        doc["gid"] = s.gid
    if s.excludes:
        doc["excludes"] = s.excludes
    doc["id"] = s.id
    doc["short_id"] = s.short_id
    if s.parent:
        doc["parent"] = s.parent
    if s.tags:
        doc["tags"] = s.tags
    if s.original:
        doc["original"] = s.original
    return doc


def cmd_snapshots(ctx: Context, args: argparse.Namespace) -> int:
    """List snapshots oldest first; name any snapshot file that cannot be read."""
    tags = set(_tags(args.tag))
    with ctx.open_repository() as repo:
        snaps = [
            s
            for s in repo.snapshots()
            if (args.host is None or s.hostname == args.host) and tags <= set(s.tags)
        ]
        for snap_id, problem in repo.snapshot_errors:
            ctx.warn(f"warning: snapshot {snap_id[:8]} skipped: {problem}")
    if ctx.json:
        ctx.out_json([_snapshot_json(s) for s in snaps])
        return 0
    ctx.out(f"{'ID':<10}{'Time':<21}{'Host':<16}{'Tags':<16}Paths")
    for s in snaps:
        when = s.time.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        ctx.out(f"{s.short_id:<10}{when:<21}{s.hostname:<16}{','.join(s.tags):<16}{', '.join(s.paths)}")
    ctx.out(f"{len(snaps)} snapshots")
    return 0


def _node_json(n: NodeInfo) -> dict[str, Any]:
    return {
        "name": _text(os.path.basename(n.path)),
        "type": n.type,
        "path": _text(n.path),
        "uid": n.uid,
        "gid": n.gid,
        "size": n.size,
        "mode": n.mode,
        "mtime": n.mtime.isoformat(),
        "struct_type": "node",
    }


def _node_line(n: NodeInfo, long: bool) -> str:
    """A path, or with -l: type, permissions with setuid/setgid/sticky, owner, size, time, path, link target."""
    if not long:
        return n.path
    when = n.mtime.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    owner = f"{n.user or n.uid}:{n.group or n.gid}"
    target = f" -> {n.linktarget}" if n.type == "symlink" else ""
    return f"{n.type:<8}{posix_mode_bits(n.mode):04o} {owner:<17} {n.size:>12} {when} {n.path}{target}"


def cmd_ls(ctx: Context, args: argparse.Namespace) -> int:
    """List the files of a snapshot (below PATH)."""
    with ctx.open_repository() as repo:
        if ctx.json:  # restic's first line: the snapshot
            ctx.out_json({**_snapshot_json(repo.find_snapshot(args.snapshot)), "struct_type": "snapshot"})
        for node in repo.ls(args.snapshot, args.path):
            if ctx.json:
                ctx.out_json(_node_json(node))
            else:
                ctx.out(_node_line(node, args.long))
        for where, problem in repo.tree_errors:
            ctx.warn(f"warning: {where}: {problem} (left out)")
        if repo.tree_error_count > len(repo.tree_errors):
            ctx.warn(f"warning: {repo.tree_error_count - len(repo.tree_errors)} more entries left out")
    return 1 if repo.tree_errors else 0


def cmd_find(ctx: Context, args: argparse.Namespace) -> int:
    """Find paths matching a restic pattern (a relative one at any depth; a matching directory with
    everything below it), in all or given snapshots; an unreadable snapshot is named, the rest searched."""
    pattern = PathFilter([args.pattern])
    found: list[dict[str, Any]] = []
    broken = 0
    with ctx.open_repository() as repo:
        snaps = [repo.find_snapshot(s) for s in args.snapshot] if args.snapshot else repo.snapshots()
        for snap_id, problem in repo.snapshot_errors:
            ctx.warn(f"warning: snapshot {snap_id[:8]} skipped: {problem}")
            broken += 1
        for snap in snaps:
            try:
                for node in repo.ls(snap.id):
                    if pattern.matches(node.path):
                        found.append({"snapshot": snap.short_id, **_node_json(node)})
                        ctx.out(f"{snap.short_id} {_node_line(node, True)}")
            except VaultError as exc:
                ctx.warn(f"error: snapshot {snap.short_id} cannot be searched: {exc}")
                broken += 1
    ctx.out_json(found)
    return 1 if broken else 0


def cmd_diff(ctx: Context, args: argparse.Namespace) -> int:
    """Like restic 0.14: added (+), removed (-), changed type (T), changed file content (M); folders end
    in /; a change of mode or times alone is not shown."""
    with ctx.open_repository() as repo:
        a = {n.path: n for n in repo.ls(args.first)}
        b = {n.path: n for n in repo.ls(args.second)}
    changes: list[tuple[str, str]] = []
    for path in sorted(a.keys() | b.keys()):
        old, new = a.get(path), b.get(path)
        shown = path + "/" if (new or old).type == "dir" else path  # type: ignore[union-attr]
        if old is None:
            changes.append(("+", shown))
        elif new is None:
            changes.append(("-", shown))
        elif old.type != new.type:
            changes.append(("T", shown))
        elif old.type == "file" and old.content != new.content:
            changes.append(("M", shown))
    for change, path in changes:
        ctx.out(f"{change}    {path}")
    ctx.out_json([{"modifier": c, "path": p} for c, p in changes])
    return 0


def cmd_restore(ctx: Context, args: argparse.Namespace) -> int:
    """Restore a snapshot below --target; exit 1 and list the files that could not be restored."""
    keep = args.keep_free
    with ctx.open_repository() as repo:
        result = repo.restore(
            args.snapshot,
            Path(args.target),
            include=args.include,
            exclude=args.exclude,
            overwrite=args.overwrite,
            verify=args.verify,
            keep_free=KeepFree.percent(args.target, keep, keep) if keep else None,
        )
    for index_id, problem in repo.index_errors:
        ctx.warn(f"warning: index {index_id[:8]} skipped: {problem}")
    for f in result.failed:
        ctx.warn(f"error: not restored: {f.path}: {f.message}")
    if result.failed_count > len(result.failed):
        ctx.warn(f"error: {result.failed_count - len(result.failed)} more not restored")
    if ctx.json:
        doc = asdict(result)
        doc["message_type"] = "summary"
        ctx.out_json(doc)
    else:
        verified = ", verified" if result.verified else ""
        kept = f", {result.files_skipped} already there and kept" if result.files_skipped else ""
        ctx.out(
            f"restored {result.files_restored} files, {_size(result.bytes_restored)} "
            f"in {result.duration_s:.2f}s{verified}{kept}"
        )
    return 1 if result.failed else 0


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3f} {unit}"
        n /= 1024
    return f"{n} B"
