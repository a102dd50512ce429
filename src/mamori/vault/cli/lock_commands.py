"""CLI commands for immutable (S3 Object Lock) repositories: extend-locks, lock-status."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mamori.vault.cli import Context

__all__ = ["register"]

EXIT_OK = 0


def register(sub: Any, parent: argparse.ArgumentParser) -> None:
    """Add this module's commands to the `mamori vault` parser."""
    p = sub.add_parser(
        "extend-locks", parents=[parent], help="extend the Object Lock of every object a snapshot needs"
    )
    p.add_argument(
        "--days", type=int, metavar="N", help="lock until now + N days (default: the repository's)"
    )
    p.set_defaults(handler=cmd_extend_locks)

    p = sub.add_parser("lock-status", parents=[parent], help="show the Object Lock read back from the server")
    p.set_defaults(handler=cmd_lock_status)


def cmd_extend_locks(ctx: Context, args: argparse.Namespace) -> int:
    """`extend-locks`: every object still needed stays locked until now + days."""
    from mamori.vault.retention import extend_locks  # loaded in its command: not for every command

    low = ctx.open_repository().low
    with low.lock():
        result = extend_locks(low, days=args.days, progress=ctx.progress)
    ctx.progress_done()
    if ctx.json:
        ctx.out_json(asdict(result))
    ctx.out(
        f"{result.objects} objects needed by the snapshots are locked until {result.until:%Y-%m-%d %H:%M} UTC "
        f"({result.extended} extended, {result.unchanged} already locked long enough)"
    )
    return EXIT_OK


def cmd_lock_status(ctx: Context, args: argparse.Namespace) -> int:
    """`lock-status`: mode, days and how long the newest snapshot is certainly kept."""
    from mamori.vault.retention import lock_status  # loaded in its command: not for every command

    low = ctx.open_repository().low
    status = lock_status(low)
    if ctx.json:
        ctx.out_json(asdict(status))
    if status.lock is None:
        ctx.out(f"{low.backend.location} has no Object Lock: its objects can be deleted")
        return EXIT_OK
    ctx.out(f"Object Lock: {status.lock.mode}, {status.lock.days} days from each upload")
    if status.latest_snapshot is None:
        ctx.out("no snapshots yet")
    elif status.latest_until is None:
        ctx.out(
            f"snapshot {status.latest_snapshot[:8]} has objects without a lock: run `mamori vault extend-locks`"
        )
    else:
        ctx.out(
            f"snapshot {status.latest_snapshot[:8]} is locked until {status.latest_until:%Y-%m-%d %H:%M} UTC "
            f"({status.objects_checked} objects read back)"
        )
    return EXIT_OK
