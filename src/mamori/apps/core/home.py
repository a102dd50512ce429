"""MAMORI_HOME is private to the service user: the directory 0700, mamori's files in it 0600.

New files are private because every entry point sets `umask 077` (`mamori.cli.main`,
`mamori.config.wsgi`). `home_tighten` fixes what an older mamori or a careless copy left readable by
others — the database and its WAL hold live session keys — and says so once at start-up.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
OTHERS = stat.S_IRWXG | stat.S_IRWXO


def _tighten(path: Path, mode: int, what: str) -> str | None:
    """Set `mode` on `path` when group or others have any access; the warning to log, if any."""
    try:
        current = stat.S_IMODE(path.lstat().st_mode)
    except FileNotFoundError:
        return None
    if not current & OTHERS:
        return None
    try:
        os.chmod(path, mode)
    except OSError as exc:
        return (
            f"{what} {path} is readable by other users (mode {current:04o}) and cannot be changed "
            f"({exc.strerror}): run `chmod {mode:o} {path}` as its owner"
        )
    return f"{what} {path} was readable by other users (mode {current:04o}); now {mode:04o}"


def home_tighten(home: Path, database: Path | None) -> list[str]:
    """Make MAMORI_HOME 0700 and its files (and an SQLite database with its -wal / -shm) 0600.

    Subdirectories are not walked: a 0700 home already keeps everyone else out of them.
    """
    warnings = [_tighten(home, 0o700, "MAMORI_HOME")]
    files = {p for p in home.iterdir() if p.is_file() and not p.is_symlink()} if home.is_dir() else set()
    if database is not None:
        files |= {
            database,
            database.with_name(database.name + "-wal"),
            database.with_name(database.name + "-shm"),
        }
    warnings += [_tighten(p, 0o600, "the database" if p == database else "file") for p in sorted(files)]
    return [w for w in warnings if w]
