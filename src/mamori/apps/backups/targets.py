"""Where a web restore may write: any folder of the server except mamori's own.

A restore writes whatever the snapshot holds, and an officer may restore from a repository someone
else wrote. Into MAMORI_HOME that would replace the database, the keys or the dump profiles (and so
run programs as the service user); into the Python environment or mamori's own code it would run
code at the next start; into the service user's home, ~/.ssh or ~/.bashrc. So a target may be none
of these, lie inside none of them (the demo's fictional server folders in MAMORI_HOME excepted), and
hold none of them below it. Paths are compared after resolving symlinks, when the restore is
requested and again when the worker starts it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .errors import BackupError

PROTECTED_TARGET = _(
    "{target} には復元できません（mamori 自身のデータかプログラムの場所 {protected} に重なります）。"
    "別のフォルダ（例: /srv/restore）を指定してください"
)


def _protected() -> list[tuple[Path, bool]]:
    """(path, whether a restore may write below it into a folder that is not hidden)."""
    home = Path.home()
    places = [
        (Path(settings.MAMORI_HOME), False),
        (Path(settings.MAMORI_AUDIT_CHECKPOINT_DIR), False),
        (Path(sys.prefix), False),
        (Path(__file__).resolve().parents[2], False),  # the mamori package itself
        (home, True),  # ~/restored is fine, ~/.ssh and ~/.bashrc are not
    ]
    profiles = getattr(settings, "MAMORI_DUMP_PROFILES", None) or os.environ.get("MAMORI_DUMP_PROFILES")
    if profiles:
        places.append((Path(profiles), False))
    return [(Path(os.path.realpath(p)), open_below) for p, open_below in places]


def demo_data_dir() -> Path:
    """The demo's fictional server folders: inside MAMORI_HOME, and a place a restore may write
    (the demo's "back to where it was")."""
    return Path(settings.MAMORI_HOME) / "demo-data"


def restore_target_check(folder: str) -> Path:
    """`folder` with its symlinks resolved (restore into that, not through the symlinks again);
    `BackupError` when it would overlap mamori's own files."""
    target = Path(os.path.realpath(folder))
    demo = Path(os.path.realpath(demo_data_dir()))
    for place, open_below in _protected():
        if place == target or place.is_relative_to(target):
            raise _refused(folder, place)
        if target.is_relative_to(place):
            first = target.relative_to(place).parts[0]
            if (open_below and not first.startswith(".")) or target.is_relative_to(demo):
                continue
            raise _refused(folder, place)
    return target


def _refused(folder: str, place: Path) -> BackupError:
    return BackupError(PROTECTED_TARGET.format(target=folder, protected=place), code="protected_target")
